/*
 * engine.c -- the RRR iteration on a network (paper section 5, 6; eq 26, 27, 42).
 *
 * One iteration: a = P_A(s), b = P_B(2a - s), s += beta (b - a)  (section 1), where s is
 * the whole state (x, w per item and edge; y, b per item and node).  The engine knows no
 * constraint kinds: node side constraints go through lwl_project_node and the class
 * constraints through lwl_class_step (constraints.c).
 *
 * Passes per iteration (|K| items, |E| edges, |N| nodes):
 *   1. w_A from the item sums of w (kept from the previous update), rescaled per node.  O(|E|)
 *   2. node step: x_A = (out-edge sum of x) / outdeg, side constraint, class step.  O(|K||N|)
 *   3. biases: b_B = mean over items of the reflected b, b updated.                   O(|K||N|)
 *   4. edge pass: per (item, node with in-edges) reflect, bilinear projection, update
 *      x, w, y, and accumulate the sums that step 1 and 2 of the next iteration need.  O(|K||E|)
 * So the O(|K||E|) arrays are read and written once per iteration, as in nmf.c.
 */
#include <math.h>
#include <string.h>
#include "lwl.h"

static int max_indeg(const lwl_net_ws *ws)
{
    int m = 0;
    for (int n = 0; n < ws->n_nodes; n++) {
        int d = ws->in_start[n + 1] - ws->in_start[n];
        if (d > m)
            m = d;
    }
    return m;
}

/* Items are processed in fixed blocks of ITEM_BLOCK: each block keeps its own partial sums
 * of w and of the error, and the partials are added in block order.  The result therefore
 * does not depend on how many threads (OpenMP, when compiled with it) share the blocks. */
#define ITEM_BLOCK 32

/* Edges staged at once by edge_block (a few tens of kB of scratch, cache resident). */
#define GROUP_EDGES 1024

static int n_blocks(int n_items)
{
    return (n_items + ITEM_BLOCK - 1) / ITEM_BLOCK;
}

/* Edge values staged per group of nodes in edge_block: at least the largest in-degree. */
static long capacity_for(int max_indegree)
{
    return max_indegree > GROUP_EDGES ? max_indegree : GROUP_EDGES;
}

static long group_capacity(const lwl_net_ws *ws)
{
    return capacity_for(max_indeg(ws));
}

long lwl_net_scratch_doubles(int n_items, int n_nodes, int n_edges, int max_indegree)
{
    /* wsum[E] + xsum[K][N] + sel[2K] + per block: wsum[E], err, xg, xr, wr [group capacity] */
    long nb = n_blocks(n_items);
    return (long)n_edges + (long)n_items * n_nodes + 2L * n_items
           + nb * ((long)n_edges + 1 + 3L * capacity_for(max_indegree));
}

long lwl_net_scratch_size(const lwl_net_ws *ws)
{
    return lwl_net_scratch_doubles(ws->n_items, ws->n_nodes, ws->n_edges, max_indeg(ws));
}

/* Item sums of w per edge and out-edge sums of x per (item, node), from the state, added
 * in the same order as the edge pass does (block partials in block order), so that
 * iterating in one call or in several gives the same bits.  wblk: E doubles. */
static void consensus_sums(const lwl_net_ws *ws, double *wsum, double *xsum, double *wblk)
{
    int K = ws->n_items, N = ws->n_nodes, E = ws->n_edges;
    memset(wsum, 0, sizeof(double) * E);
    memset(xsum, 0, sizeof(double) * (size_t)K * N);
    for (int k0 = 0; k0 < K; k0 += ITEM_BLOCK) {
        int k1 = k0 + ITEM_BLOCK < K ? k0 + ITEM_BLOCK : K;
        memset(wblk, 0, sizeof(double) * E);
        for (int k = k0; k < k1; k++) {
            const double *xk = ws->x + (long)k * E, *wk = ws->w + (long)k * E;
            double *xs = xsum + (long)k * N;
            for (int e = 0; e < E; e++) {
                wblk[e] += wk[e];
                xs[ws->src[e]] += xk[e];
            }
        }
        for (int e = 0; e < E; e++)
            wsum[e] += wblk[e];
    }
}

/* Weight A step (eq 26f,g): mean over items, each node's incoming weights to norm omega.
 * An all-zero incoming vector (any point of the sphere is nearest) becomes
 * omega / sqrt(indeg) on every edge. */
static void project_weights(lwl_net_ws *ws, const double *wsum)
{
    double inv_k = 1.0 / ws->n_items;
    for (int n = 0; n < ws->n_nodes; n++) {
        int lo = ws->in_start[n], hi = ws->in_start[n + 1];
        if (hi == lo)
            continue;
        double norm2 = 0.0;
        for (int e = lo; e < hi; e++) {
            double v = wsum[e] * inv_k;
            ws->wa[e] = v;
            norm2 += v * v;
        }
        if (norm2 > 0.0) {
            double s = ws->omega / sqrt(norm2);
            for (int e = lo; e < hi; e++)
                ws->wa[e] *= s;
        } else {
            double v = ws->omega / sqrt((double)(hi - lo));
            for (int e = lo; e < hi; e++)
                ws->wa[e] = v;
        }
    }
}

/* Node A step (eq 26a-c): x consensus and side constraint for every (item, node). */
static void project_nodes(lwl_net_ws *ws, const double *xsum)
{
    int K = ws->n_items, N = ws->n_nodes;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(ws->n_threads) if (K * N > 4096)
#endif
    for (int k = 0; k < K; k++) {
        long off = (long)k * N;
        for (int n = 0; n < N; n++) {
            int od = ws->outdeg[n], has_y = ws->in_start[n + 1] > ws->in_start[n];
            double x = od > 0 ? xsum[off + n] / od : 0.0;
            double y = has_y ? ws->y[off + n] : 0.0, b = has_y ? ws->b[off + n] : 0.0;
            double c = ws->clamp ? ws->clamp[off + n] : NAN;
            lwl_project_node(ws->kind[n], ws->delta[n], (double)od, has_y ? ws->g2[n] : 0.0, c,
                             &x, &y, &b);
            ws->xa[off + n] = x;
            ws->ya[off + n] = y;
            ws->ba[off + n] = b;
        }
    }
}

/* Bias B step (eq 26i) on the reflected biases and the b update; returns the error part. */
static double biases(lwl_net_ws *ws)
{
    int K = ws->n_items, N = ws->n_nodes;
    double beta = ws->beta, err2 = 0.0;
    for (int n = 0; n < N; n++)
        ws->bb[n] = 0.0;
    for (int k = 0; k < K; k++) {
        long off = (long)k * N;
        for (int n = 0; n < N; n++)
            ws->bb[n] += 2.0 * ws->ba[off + n] - ws->b[off + n];
    }
    for (int n = 0; n < N; n++)
        ws->bb[n] /= K;
    for (int k = 0; k < K; k++) {
        long off = (long)k * N;
        for (int n = 0; n < N; n++) {
            if (ws->in_start[n + 1] == ws->in_start[n])
                continue;
            double db = ws->bb[n] - ws->ba[off + n];
            err2 += ws->g2[n] * db * db;
            ws->b[off + n] += beta * db;
        }
    }
    return err2;
}

/* Edge pass over the items k0 .. k1-1 of one block: reflect, bilinear projection, update
 * x, w, y; accumulate the out-edge sums of x (xsum, rows of these items) and the block's
 * item sum of w (wblk).  For each item, consecutive nodes (whose in-edges are adjacent in
 * memory) are taken in groups: reflected together, their roots found in lockstep
 * (lwl_bilinear_roots), then projected and updated.  xg, xr, wr: [group_capacity].
 * Returns the block's share of the squared error. */
static double edge_block(lwl_net_ws *ws, int k0, int k1, double *restrict xsum,
                         double *restrict wblk, double *restrict xg, double *restrict xr,
                         double *restrict wr)
{
    int N = ws->n_nodes, E = ws->n_edges;
    long cap = group_capacity(ws);
    const int *restrict src = ws->src;
    const int *restrict in_start = ws->in_start;
    const double *restrict wa = ws->wa;
    double beta = ws->beta, omega = ws->omega, err2 = 0.0;
    double A[LWL_ROOT_BLOCK], B[LWL_ROOT_BLOCK], T[LWL_ROOT_BLOCK], c[LWL_ROOT_BLOCK];
    double yr[LWL_ROOT_BLOCK], e[LWL_ROOT_BLOCK], sgn[LWL_ROOT_BLOCK];
    memset(wblk, 0, sizeof(double) * E);
    for (int k = k0; k < k1; k++) {
        long off = (long)k * N;
        const double *restrict xak = ws->xa + off;
        double *restrict xk = ws->x + (long)k * E;
        double *restrict wk = ws->w + (long)k * E;
        double *restrict xs = xsum + off;
        memset(xs, 0, sizeof(double) * N);
        int n0 = 0;
        while (n0 < N) {
            /* Group [n0, n1): at most LWL_ROOT_BLOCK nodes and cap staged edges. */
            int n1 = n0, g = 0;
            while (n1 < N && g < LWL_ROOT_BLOCK && in_start[n1 + 1] - in_start[n0] <= cap) {
                if (in_start[n1 + 1] > in_start[n1])
                    g++;
                n1++;
            }
            int lo0 = in_start[n0];
            int p = 0;
            for (int n = n0; n < n1; n++) {
                int lo = in_start[n], m = in_start[n + 1] - lo;
                if (m == 0)
                    continue;
                for (int t = lo; t < lo + m; t++) {
                    double v = xak[src[t]];
                    xg[t - lo0] = v;
                    xr[t - lo0] = 2.0 * v - xk[t];
                    wr[t - lo0] = 2.0 * wa[t] - wk[t];
                }
                lwl_bilinear_sums(m, xr + (lo - lo0), wr + (lo - lo0), A + p, B + p);
                yr[p] = 2.0 * ws->ya[off + n] - ws->y[off + n];
                T[p] = omega * yr[p];
                c[p] = omega * omega / ws->g2[n];
                e[p] = ws->mult[off + n]; /* warm start in, root out */
                p++;
            }
            lwl_bilinear_roots(p, A, B, T, c, e, e, sgn);
            p = 0;
            for (int n = n0; n < n1; n++) {
                int lo = in_start[n], m = in_start[n + 1] - lo;
                if (m == 0)
                    continue;
                double g2 = ws->g2[n];
                double *restrict xb = xr + (lo - lo0), *restrict wb = wr + (lo - lo0);
                ws->mult[off + n] = lwl_bilinear_apply(m, xb, wb, yr + p, omega, 1.0 / g2,
                                                       e[p], sgn[p]);
                double dy = yr[p] - ws->ya[off + n];
                err2 += g2 * dy * dy;
                ws->y[off + n] += beta * dy;
                const double *restrict xa_e = xg + (lo - lo0);
                for (int t = 0; t < m; t++) {
                    double dx = xb[t] - xa_e[t], dw = wb[t] - wa[lo + t];
                    err2 += dx * dx + dw * dw;
                    double xn = xk[lo + t] + beta * dx, wn = wk[lo + t] + beta * dw;
                    xk[lo + t] = xn;
                    wk[lo + t] = wn;
                    xs[src[lo + t]] += xn;
                    wblk[lo + t] += wn;
                }
                p++;
            }
            n0 = n1;
        }
    }
    return err2;
}

int lwl_net_iterate(lwl_net_ws *ws, int max_iter, double tol, double *err_out)
{
    int K = ws->n_items, N = ws->n_nodes, E = ws->n_edges;
    int nb = n_blocks(K);
    long pm = group_capacity(ws), per_block = (long)E + 1 + 3L * pm;
    double *restrict wsum = ws->scratch;              /* [E]       */
    double *restrict xsum = wsum + E;                 /* [K][N]    */
    double *restrict sel = xsum + (long)K * N;        /* [2K]      class-step selection      */
    double *restrict blk = sel + 2L * K;              /* [nb][per_block] wsum, err, xg, xr, wr */

    consensus_sums(ws, wsum, xsum, blk);
    int it = 0;
    while (it < max_iter) {
        project_weights(ws, wsum);
        project_nodes(ws, xsum);
        lwl_class_step(ws, sel);
        double err2 = biases(ws);

#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(ws->n_threads)
#endif
        for (int ib = 0; ib < nb; ib++) {
            double *p = blk + ib * per_block;
            int k0 = ib * ITEM_BLOCK, k1 = k0 + ITEM_BLOCK < K ? k0 + ITEM_BLOCK : K;
            p[E] = edge_block(ws, k0, k1, xsum, p, p + E + 1, p + E + 1 + pm, p + E + 1 + 2 * pm);
        }
        memset(wsum, 0, sizeof(double) * E);
        for (int ib = 0; ib < nb; ib++) {
            const double *p = blk + ib * per_block;
            for (int e = 0; e < E; e++)
                wsum[e] += p[e];
            err2 += p[E];
        }
        double err = sqrt(err2 / K);
        err_out[it++] = err;
        if (err < tol)
            break;
    }
    return it;
}

/* Activation f(z) of a node kind (the forward pass).  In the step's gap z >= 0 gives 1. */
static double activation(int kind, double delta, double z)
{
    switch (kind) {
    case LWL_NODE_RELU:
        return z > 0.0 ? z : 0.0;
    case LWL_NODE_STEP:
        return z >= 0.0 ? 1.0 : 0.0;
    case LWL_NODE_ZIGMOID:
        if (delta <= 0.0)
            return z >= 0.0 ? 1.0 : 0.0;
        z = (z + 0.5 * delta) / delta;
        return z < 0.0 ? 0.0 : (z > 1.0 ? 1.0 : z);
    default: /* LINEAR, CLASS, INPUT with in-edges: y - b */
        return z;
    }
}

static double node_input(const lwl_net_ws *ws, int n, const double *v, const double *w)
{
    double s = 0.0;
    for (int e = ws->in_start[n]; e < ws->in_start[n + 1]; e++)
        s += v[ws->src[e]] * w[e];
    return s / ws->omega;
}

void lwl_net_forward(const lwl_net_ws *ws, int n_items, const double *clamp, const double *w,
                     const double *bias, double *v, double *y)
{
    int N = ws->n_nodes;
    for (int k = 0; k < n_items; k++) {
        long off = (long)k * N;
        double *vk = v + off, *yk = y + off;
        const double *ck = clamp ? clamp + off : NULL;
        for (int n = 0; n < N; n++)
            vk[n] = yk[n] = 0.0;
        for (int i = 0; i < N; i++) {
            int n = ws->order[i];
            if (ws->in_start[n + 1] > ws->in_start[n]) {
                yk[n] = node_input(ws, n, vk, w);
                vk[n] = activation(ws->kind[n], ws->delta[n], yk[n] - bias[n]);
            }
            if (ck && !isnan(ck[n]))
                vk[n] = ck[n];
        }
        /* Feed-around: a clamped node with in-edges (e.g. the code layer of a code item)
         * may come first in the order; its y is computed from the final values. */
        if (ck)
            for (int n = 0; n < N; n++)
                if (!isnan(ck[n]) && ws->in_start[n + 1] > ws->in_start[n])
                    yk[n] = node_input(ws, n, vk, w);
    }
}
