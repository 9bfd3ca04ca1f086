/*
 * constraints.c -- the A-side constraints local to a node (paper eq 26b-e, 28-31) and the
 * batch-level class step (eq 26d,e, 32, 33; RRRclass_fp).  The engine (engine.c) knows no
 * kinds: it calls lwl_project_node for every (item, node) and lwl_class_step once per
 * iteration.  Adding a kind means adding a case here.
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
 */
#include <math.h>
#include <stdlib.h>
#include "lwl_internal.h"

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
    case LWL_NODE_LINEAR:
        piece(&p, 0.0, 0.0, 1.0, 1.0, -inf, inf, a, c, x1, z1);
        break;
    case LWL_NODE_RELU:
        piece(&p, 0.0, 0.0, 0.0, -1.0, 0.0, inf, a, c, x1, z1);
        piece(&p, 0.0, 0.0, 1.0, 1.0, 0.0, inf, a, c, x1, z1);
        break;
    case LWL_NODE_STEP:
        piece(&p, 0.0, -h, 0.0, -1.0, 0.0, inf, a, c, x1, z1);
        piece(&p, 1.0, h, 0.0, 1.0, 0.0, inf, a, c, x1, z1);
        break;
    case LWL_NODE_ZIGMOID:
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
    case LWL_NODE_LINEAR:
        return v;
    case LWL_NODE_RELU:
        return v > 0.0 ? v : (z < 0.0 ? z : 0.0);
    case LWL_NODE_STEP: /* a value other than 0 or 1 goes to the nearer of the two */
        return v >= 0.5 ? (z > h ? z : h) : (z < -h ? z : -h);
    case LWL_NODE_ZIGMOID:
        if (v <= 0.0)
            return z < -h ? z : -h;
        if (v >= 1.0)
            return z > h ? z : h;
        return -h + delta * v;
    default: /* INPUT, CLASS: y - b is not constrained by a clamp */
        return z;
    }
}

void lwl_project_node(int kind, double delta, double wx, double g2, double c,
                      double *x, double *y, double *b)
{
    if (kind == LWL_NODE_CLASS)
        return;
    double z = *y - *b, zp = z;
    if (!isnan(c)) {
        *x = c;
        if (g2 > 0.0)
            zp = clamp_z(kind, delta, c, z);
    } else if (kind == LWL_NODE_INPUT) {
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

/* ---- class step ---------------------------------------------------------------------- */

/* Index of (item k, node n) in the node arrays: blocks of LWL_LANES items (lwl.h). */
static long node_at(const lwl_net_ws *ws, int k, int n)
{
    return ((long)(k / LWL_LANES) * ws->n_nodes + n) * LWL_LANES + k % LWL_LANES;
}

/* Metric distance^2 of projecting item k's class nodes to "class c" (c = -1: none). */
static double class_cost(const lwl_net_ws *ws, int k, int c)
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

static void class_apply(lwl_net_ws *ws, int k, int c)
{
    for (int m = 0; m < ws->n_class; m++) {
        int n = ws->class_nodes[m];
        long i = node_at(ws, k, n);
        lwl_project_margin(m == c, ws->delta[n], ws->ya + i, ws->ba + i);
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
static int nearest_class(const lwl_net_ws *ws, int k, int label, double *dist)
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

void lwl_class_step(lwl_net_ws *ws, double *sel)
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
