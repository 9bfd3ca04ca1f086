/*
 * constraints.c -- the node kinds: the A-side constraints local to a node (paper eq 26b-e,
 * 28-31) and the activations of the forward pass; and the batch-level class step (eq 26d,e,
 * 32, 33; RRRclass_fp).
 *
 * Everything that makes a kind is in this file: its code and name (kind_names), the set its
 * side constraint projects to (project_activation), the rule for a clamped node (clamp_z)
 * and its activation f(z) (lwl_node_activation).  The engine (engine.c) knows no kinds: it
 * calls lwl_node_step for every block of items and lwl_class_step once per iteration, and
 * lwl_node_activation in the forward pass.  Adding a kind means adding its name and cases
 * here and its row in the kind table of lwl/graph.py.
 *
 * Metric of a node side constraint (eq 28): wx (x'-x)^2 + g2 ((y'-y)^2 + (b'-b)^2), with
 * wx = outdeg (x_A is the consensus of outdeg edge values, Lemma 4.1).  Activation sets
 * constrain only x and z = y - b.  For a given change dz of z the cheapest (y, b) move is
 * y' = y + dz/2, b' = b - dz/2, costing g2 dz^2 / 2.  So in the (x, z) plane the metric is
 *     wx dx^2 + (g2 / 2) dz^2,
 * anisotropic by the factor 1/2 even when g2 = wx = outdeg (the paper's "isotropic" refers
 * to (x, y, b)).  Every activation set is a union of rays and segments in that plane; each
 * piece is projected to in closed form and the nearest piece is kept (ties: the first piece
 * listed, i.e. the x = 0 branch).
 *
 * The node step and the class step read and write the state, so they are compiled twice
 * (real.h: lwl_real = double, and float with the suffix _f32); the kinds themselves once.
 * Both steps compute in double whatever the storage and round each value they write to
 * lwl_real once: they are O(|K||N|), so double costs nothing, and a float z = y - b would
 * lose the digits where y and b are large and nearly equal.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lwl_internal.h"
#include "real.h"
#include "lanes.h"

#define L LWL_LANES

/* The node kinds; a kind's code is its index here, and delta its parameter (lwl.h). */
enum { NODE_INPUT, NODE_LINEAR, NODE_RELU, NODE_STEP, NODE_ZIGMOID, NODE_CLASS, N_KINDS };

#ifndef LWL_F32
static const char *const kind_names[N_KINDS] = {
    [NODE_INPUT] = "input",     /* data node, no activation: x_A free unless clamped      */
    [NODE_LINEAR] = "linear",   /* x = z                                                   */
    [NODE_RELU] = "relu",       /* {x = 0, z <= 0} u {x = z >= 0}                          */
    [NODE_STEP] = "step",       /* {x = 0, z <= -delta/2} u {x = 1, z >= delta/2}          */
    [NODE_ZIGMOID] = "zigmoid", /* x = 0 below -delta/2, 1 above delta/2, linear between   */
    [NODE_CLASS] = "class",     /* left alone by the node step; constrained by the class
                                   step                                                    */
};

int lwl_node_kind(const char *name)
{
    for (int k = 0; k < N_KINDS; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}

/* Best point found so far over the pieces of a set. */
typedef struct {
    double d, x, z;
} best_pt;

/* Nearest point of the piece {(x0 + s dx, z0 + s dz): s in [s0, s1]} to (x, z) in the metric
 * a dx^2 + c dz^2; kept in *best if strictly nearer than what it holds. */
static void piece(best_pt *best, double x0, double z0, double dx, double dz, double s0,
                  double s1, double a, double c, double x, double z)
{
    double den = a * dx * dx + c * dz * dz;
    double s = den > 0.0 ? (a * dx * (x - x0) + c * dz * (z - z0)) / den : s0;
    if (s < s0)
        s = s0;
    if (s > s1)
        s = s1;
    double xp = x0 + s * dx, zp = z0 + s * dz;
    double ex = xp - x, ez = zp - z;
    double d = a * ex * ex + c * ez * ez;
    if (d < best->d) {
        best->d = d;
        best->x = xp;
        best->z = zp;
    }
}

/* Projection of (x, z) to the graph of the activation of kind, metric a dx^2 + c dz^2. */
static void project_activation(int kind, double delta, double a, double c, double *x, double *z)
{
    double h = 0.5 * delta, inf = HUGE_VAL, x1 = *x, z1 = *z;
    best_pt p = {inf, x1, z1};
    switch (kind) {
    case NODE_LINEAR:
        piece(&p, 0.0, 0.0, 1.0, 1.0, -inf, inf, a, c, x1, z1);
        break;
    case NODE_RELU:
        piece(&p, 0.0, 0.0, 0.0, -1.0, 0.0, inf, a, c, x1, z1);
        piece(&p, 0.0, 0.0, 1.0, 1.0, 0.0, inf, a, c, x1, z1);
        break;
    case NODE_STEP:
        piece(&p, 0.0, -h, 0.0, -1.0, 0.0, inf, a, c, x1, z1);
        piece(&p, 1.0, h, 0.0, 1.0, 0.0, inf, a, c, x1, z1);
        break;
    case NODE_ZIGMOID:
        piece(&p, 0.0, -h, 0.0, -1.0, 0.0, inf, a, c, x1, z1);
        piece(&p, 0.0, -h, 1.0, delta, 0.0, 1.0, a, c, x1, z1);
        piece(&p, 1.0, h, 0.0, 1.0, 0.0, inf, a, c, x1, z1);
        break;
    default:
        return;
    }
    *x = p.x;
    *z = p.z;
}

/* Nearest z with f(z) = v (the clamp of a node with in-edges, e.g. a code node). */
static double clamp_z(int kind, double delta, double v, double z)
{
    double h = 0.5 * delta;
    switch (kind) {
    case NODE_LINEAR:
        return v;
    case NODE_RELU:
        return v > 0.0 ? v : (z < 0.0 ? z : 0.0);
    case NODE_STEP: /* a value other than 0 or 1 goes to the nearer of the two */
        return v >= 0.5 ? (z > h ? z : h) : (z < -h ? z : -h);
    case NODE_ZIGMOID:
        if (v <= 0.0)
            return z < -h ? z : -h;
        if (v >= 1.0)
            return z > h ? z : h;
        return -h + delta * v;
    default: /* INPUT, CLASS: y - b is not constrained by a clamp */
        return z;
    }
}

/* The forward pass's f(z) (lwl.h).  In the step's gap z >= 0 gives 1, the branch nearer in
 * z (z = 0, a tie, takes the upper one). */
double lwl_node_activation(int kind, double delta, double z)
{
    switch (kind) {
    case NODE_RELU:
        return z > 0.0 ? z : 0.0;
    case NODE_STEP:
        return z >= 0.0 ? 1.0 : 0.0;
    case NODE_ZIGMOID:
        if (delta <= 0.0)
            return z >= 0.0 ? 1.0 : 0.0;
        z = (z + 0.5 * delta) / delta;
        return z < 0.0 ? 0.0 : (z > 1.0 ? 1.0 : z);
    default: /* LINEAR, CLASS, INPUT with in-edges: y - b */
        return z;
    }
}

void lwl_project_node(int kind, double delta, double wx, double g2, double c,
                      double *x, double *y, double *b)
{
    if (kind == NODE_CLASS)
        return;
    double z = *y - *b, zp = z;
    if (!isnan(c)) {
        *x = c;
        if (g2 > 0.0)
            zp = clamp_z(kind, delta, c, z);
    } else if (kind == NODE_INPUT) {
        return;
    } else {
        project_activation(kind, delta, wx, 0.5 * g2, x, &zp);
    }
    if (g2 > 0.0) {
        double half = 0.5 * (zp - z);
        *y += half;
        *b -= half;
    }
}

#endif /* the kinds, compiled once */

/* ---- node step ----------------------------------------------------------------------- */

/* ReLU node of one block without clamps (eq 28): nearer of the ray x = 0,
 * z <= 0 and the ray x = z >= 0 in the metric a dx^2 + c dz^2, a = outdeg, c = g2 / 2;
 * the arithmetic of lwl_project_node, in lanes, except that the two divisions per lane
 * (x = xs / a and the ray's (a x + c z) / (a + c)) are multiplications by the node's
 * reciprocals inv_a = 1 / a (0 when a = 0) and inv_ac = 1 / (a + c): a vector division
 * costs as much as a dozen multiplications or more. */
LWL_INLINE void relu_lanes(double a, double c, double inv_a, double inv_ac,
                           const lwl_real *restrict xs, const lwl_real *y, const lwl_real *b,
                           lwl_real *restrict xa, lwl_real *restrict ya, lwl_real *restrict ba)
{
    for (int l = 0; l < L; l++) {
        double yl = y[l], bl = b[l];
        double x = xs[l] * inv_a, z = yl - bl;
        double z1 = z < 0.0 ? z : 0.0, ez = z1 - z;
        double d1 = a * (x * x) + c * (ez * ez);
        double t = (a * x + c * z) * inv_ac;
        t = t > 0.0 ? t : 0.0;
        double ex = t - x, et = t - z;
        double d2 = a * (ex * ex) + c * (et * et);
        int first = d1 <= d2;
        double xp = first ? 0.0 : t, zp = first ? z1 : t;
        double half = 0.5 * (zp - z);
        xa[l] = (lwl_real)xp;
        ya[l] = (lwl_real)(yl + half);
        ba[l] = (lwl_real)(bl - half);
    }
}

/* The same for every node of block bk, with x_A the out-edge mean (the ReLU of a block
 * without clamps in lanes, the common case of a classifier's hidden layer). */
LWL_HOT void LWL_NAME(lwl_node_step)(const LWL_NET_WS *ws, const lwl_real *xsum, int bk)
{
    int N = ws->n_nodes;
    long off = (long)bk * N * L;
    for (int n = 0; n < N; n++) {
        long o = off + (long)n * L;
        int od = ws->outdeg[n], has_y = ws->in_start[n + 1] > ws->in_start[n];
        double inv_od = od > 0 ? 1.0 / od : 0.0; /* x_A = xs / od as xs * inv_od */
        const lwl_real *xs = xsum + o;
        const lwl_real *cl = ws->clamp ? ws->clamp + o : NULL;
        lwl_real *xa = ws->xa + o, *ya = ws->ya + o, *ba = ws->ba + o;
        const lwl_real *y = ws->y + o, *b = ws->b + o;
        int kind = ws->kind[n], clamped = 0;
        if (cl)
            for (int l = 0; l < L; l++)
                clamped |= cl[l] == cl[l];
        if (kind == NODE_INPUT || kind == NODE_CLASS) {
            /* x free (or the clamp value of an input), y - b unconstrained by the node */
            int input = kind == NODE_INPUT;
            for (int l = 0; l < L; l++) {
                double x = xs[l] * inv_od;
                xa[l] = (input && cl && cl[l] == cl[l]) ? cl[l] : (lwl_real)x;
                ya[l] = has_y ? y[l] : 0;
                ba[l] = has_y ? b[l] : 0;
            }
        } else if (kind == NODE_RELU && !clamped && has_y) {
            double c = 0.5 * ws->g2[n];
            relu_lanes((double)od, c, inv_od, 1.0 / (od + c), xs, y, b, xa, ya, ba);
        } else {
            for (int l = 0; l < L; l++) {
                double x = xs[l] * inv_od, yy = has_y ? y[l] : 0.0, bb = has_y ? b[l] : 0.0;
                lwl_project_node(kind, ws->delta[n], (double)od, has_y ? ws->g2[n] : 0.0,
                                 cl ? (double)cl[l] : NAN, &x, &yy, &bb);
                xa[l] = (lwl_real)x;
                ya[l] = (lwl_real)yy;
                ba[l] = (lwl_real)bb;
            }
        }
    }
}

#ifndef LWL_F32
double lwl_project_margin(int labelled, double delta, double *y, double *b)
{
    double z = *y - *b, dz = 0.0;
    if (labelled) {
        if (z < delta)
            dz = delta - z;
    } else if (z > 0.0) {
        dz = -z;
    }
    *y += 0.5 * dz;
    *b -= 0.5 * dz;
    return 0.5 * dz * dz;
}
#endif

/* ---- class step ---------------------------------------------------------------------- */

/* Index of (item k, node n) in the node arrays: blocks of LWL_LANES items (lwl.h). */
static long node_at(const LWL_NET_WS *ws, int k, int n)
{
    return ((long)(k / LWL_LANES) * ws->n_nodes + n) * LWL_LANES + k % LWL_LANES;
}

/* Metric distance^2 of projecting item k's class nodes to "class c" (c = -1: none). */
static double class_cost(const LWL_NET_WS *ws, int k, int c)
{
    double d = 0.0;
    for (int m = 0; m < ws->n_class; m++) {
        int n = ws->class_nodes[m];
        long i = node_at(ws, k, n);
        double y = ws->ya[i], b = ws->ba[i];
        d += ws->g2[n] * lwl_project_margin(m == c, ws->delta[n], &y, &b);
    }
    return d;
}

static void class_apply(LWL_NET_WS *ws, int k, int c)
{
    for (int m = 0; m < ws->n_class; m++) {
        int n = ws->class_nodes[m];
        long i = node_at(ws, k, n);
        double y = ws->ya[i], b = ws->ba[i];
        lwl_project_margin(m == c, ws->delta[n], &y, &b);
        ws->ya[i] = (lwl_real)y;
        ws->ba[i] = (lwl_real)b;
    }
}

/* Pairs (key, item) sorted by key descending, item ascending (deterministic ties). */
static int by_key_desc(const void *pa, const void *pb)
{
    const double *a = pa, *b = pb;
    if (a[0] != b[0])
        return a[0] > b[0] ? -1 : 1;
    return (a[1] > b[1]) - (a[1] < b[1]);
}

/* The class nearest to item k (ties: the label, then the lowest index). */
static int nearest_class(const LWL_NET_WS *ws, int k, int label, double *dist)
{
    int best = label;
    double dbest = class_cost(ws, k, label);
    for (int c = 0; c < ws->n_class; c++) {
        double d = class_cost(ws, k, c);
        if (d < dbest) {
            dbest = d;
            best = c;
        }
    }
    *dist = dbest;
    return best;
}

void LWL_NAME(lwl_class_step)(LWL_NET_WS *ws, double *sel)
{
    int K = ws->n_items, mode = ws->class_mode;
    int active = ws->n_class > 0 && ws->label;
    for (int k = 0; k < K; k++) {
        int c = active ? ws->label[k] : -1;
        ws->exempt[k] = 0;
        ws->assigned[k] = c;
        ws->class_dist[k] = c >= 0 ? class_cost(ws, k, c) : 0.0;
    }
    if (!active)
        return;

    /* Select: sel holds (key, item) for the candidates; the first `take` after sorting
     * are exempted (EE) or reassigned (RELABEL, FPA). */
    int n_cand = 0, take = 0;
    if (mode == LWL_CLASS_EE && ws->ee > 0) {
        for (int k = 0; k < K; k++) {
            if (ws->label[k] < 0)
                continue;
            double d = ws->class_dist[k];
            if (d > 0.0) {
                sel[2 * n_cand] = d;
                sel[2 * n_cand + 1] = k;
                n_cand++;
            }
        }
        take = ws->ee;
    } else if (mode == LWL_CLASS_RELABEL && ws->ee > 0) {
        for (int k = 0; k < K; k++) {
            if (ws->label[k] < 0)
                continue;
            double dbest, dl = ws->class_dist[k];
            nearest_class(ws, k, ws->label[k], &dbest);
            if (dl - dbest > 0.0) {
                sel[2 * n_cand] = dl - dbest;
                sel[2 * n_cand + 1] = k;
                n_cand++;
            }
        }
        take = ws->ee;
    } else if (mode == LWL_CLASS_FPA && ws->n_class == 2) {
        int n_fake = 0;
        for (int k = 0; k < K; k++) {
            if (ws->label[k] != 0)
                continue;
            n_fake++;
            double d0 = ws->class_dist[k], d1 = class_cost(ws, k, 1);
            if (d1 < d0) {
                sel[2 * n_cand] = d0 - d1;
                sel[2 * n_cand + 1] = k;
                n_cand++;
            }
        }
        take = (int)floor(ws->fpa * n_fake);
    }
    if (take > n_cand)
        take = n_cand;
    if (take > 0) {
        qsort(sel, (size_t)n_cand, 2 * sizeof(double), by_key_desc);
        for (int i = 0; i < take; i++) {
            int k = (int)sel[2 * i + 1];
            if (mode == LWL_CLASS_EE) {
                ws->exempt[k] = 1;
                ws->assigned[k] = -1;
            } else if (mode == LWL_CLASS_RELABEL) {
                double d;
                ws->assigned[k] = nearest_class(ws, k, ws->label[k], &d);
            } else {
                ws->assigned[k] = 1;
            }
        }
    }
    for (int k = 0; k < K; k++) {
        if (ws->exempt[k] || ws->assigned[k] < 0)
            continue;
        class_apply(ws, k, ws->assigned[k]);
    }
}
