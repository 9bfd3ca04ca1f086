/*
 * engine.c -- the RRR iteration on a network (paper section 5, 6; eq 26, 27, 42).
 *
 * One iteration: a = P_A(s), b = P_B(2a - s), s += beta (b - a)  (section 1), where s is
 * the whole state (x, w per item and edge; y, b per item and node).  The engine knows no
 * node kinds: the node side constraints are lwl_node_step, the class constraints
 * lwl_class_step and the forward pass's activations lwl_node_activation (constraints.c).
 *
 * Layout (lwl.h): items in blocks of LWL_LANES, each block's values of one edge (or node)
 * side by side, so every step below is the same arithmetic in LWL_LANES lanes, which the
 * compiler turns into vector instructions; each block's arrays are contiguous, so a pass
 * streams through memory.
 *
 * Passes per iteration (|K| items, |E| edges, |N| nodes):
 *   1. w_A from the item sums of w (kept from the previous update), rescaled per node.  O(|E|)
 *   2. node step: x_A = (out-edge sum of x) / outdeg, side constraint, class step.  O(|K||N|)
 *   3. biases: b_B = mean over items of the reflected b, b updated.                   O(|K||N|)
 *   4. edge pass: per (block of items, node with in-edges) reflect and sum, find the roots
 *      of the bilinear projections (several nodes at once), project and update x, w, y, and
 *      accumulate the sums that steps 1 and 2 of the next iteration need.          O(|K||E|)
 * So the O(|K||E|) arrays are read and written once per iteration (step 4 reads a node's
 * edges twice, the second time from cache, and prefetches the next group's edges while it
 * updates this one's, so that the reads from memory overlap the arithmetic).
 *
 * Sums over items are formed per chunk of CHUNK_BLOCKS blocks and the chunks added in
 * order, so the results do not depend on how many threads (OpenMP) share the chunks.
 *
 * Precision.  This file is compiled twice (real.h): the state (x, w, y, b, their A copies
 * and the consensus parameters w_A, b_B) is stored as lwl_real, double or float, and the
 * O(|K||E|) arithmetic of an edge (reflection, projection from the root, update) runs in
 * lwl_real, so the float build moves half the bytes and uses vectors of 16 floats.  What
 * stays double in both builds:
 *   - the sums over items beyond one block (w and b consensus) and the sums of squares
 *     over a node's edges (the A and B of the bilinear problem, the squared error): in
 *     float a sum of |K| = 1000 terms, or of a node's 784 squares, would lose several
 *     digits, and A, B fix the root that the whole projection rests on.  (A block's 16
 *     terms of the w sum, the out-edge sums of x, at most outdeg terms of one item, and
 *     runs of 8 squares (SQUARES_RUN) are lwl_real: they carry the rounding of the stored
 *     values themselves, and converting every term would cost the float build's edge loop
 *     a third of its instructions);
 *   - the norms (w_A to the sphere of radius omega) and the means (x_A, b_B), formed from
 *     those sums and rounded to lwl_real once;
 *   - the root search (lanes.h) and the multipliers it starts from, the y update and the
 *     node and class constraints: O(|K||N|), so double costs nothing there, and the root's
 *     e and 1 / (e (2 - e)) are rounded to lwl_real once per node and item.
 * In the double build lwl_real is double, so every one of these is computed in double.
 */
#include <math.h>
#include <string.h>
#include "lwl_internal.h"
#include "real.h"
#include "lanes.h"
#include "fpmode.h"

#define L LWL_LANES
#define CHUNK_BLOCKS 4
#define GROUP_NODES (LWL_ROOT_BLOCK / LWL_LANES)

static int max_indeg(const LWL_NET_WS *ws)
{
    int m = 0;
    for (int n = 0; n < ws->n_nodes; n++) {
        int d = ws->in_start[n + 1] - ws->in_start[n];
        if (d > m)
            m = d;
    }
    return m;
}

static int n_blocks(int n_items)
{
    return (n_items + L - 1) / L;
}

static int n_chunks(int n_items)
{
    return (n_blocks(n_items) + CHUNK_BLOCKS - 1) / CHUNK_BLOCKS;
}

/* n doubles rounded up to whole cache lines: each part of the scratch starts on a line, as
 * the scratch itself does (the caller allocates it so), so that no vector of lanes is split
 * across two lines. */
static long lines(long n)
{
    return (n + 7) / 8 * 8;
}

/* Where the parts of the scratch start (in doubles), defined here alone:
 *   wsum[E + 1] item sums of w and the squared error, bsum[N], xsum[blocks][N][L] out-edge sums of x (lwl_real),
 *   sel[2K] class-step selection, then per chunk of blocks: the chunk's item sums of w [E]
 *   and its error, at degenerate, the degenerate lanes [2][indeg][L] and their gather
 *   buffer [2][indeg]. */
typedef struct {
    long bsum, xsum, sel, chunks, per_chunk, degenerate, total;
} scratch_layout;

static scratch_layout layout_of(int n_items, int n_nodes, int n_edges, int max_indegree)
{
    scratch_layout s;
    s.bsum = lines(n_edges + 1);
    s.xsum = s.bsum + lines(n_nodes);
    s.sel = s.xsum + lines((long)n_blocks(n_items) * L * n_nodes);
    s.chunks = s.sel + lines(2L * n_items);
    s.degenerate = lines(n_edges + 1);
    s.per_chunk = s.degenerate + lines(2L * max_indegree * (L + 1));
    s.total = s.chunks + (long)n_chunks(n_items) * s.per_chunk;
    return s;
}

#ifndef LWL_F32
long lwl_net_scratch_doubles(int n_items, int n_nodes, int n_edges, int max_indegree)
{
    return layout_of(n_items, n_nodes, n_edges, max_indegree).total;
}
#endif

long LWL_NAME(lwl_net_scratch_size)(const LWL_NET_WS *ws)
{
    return lwl_net_scratch_doubles(ws->n_items, ws->n_nodes, ws->n_edges, max_indeg(ws));
}

/* Lane weights of block bk: 1 for the items of the batch, 0 for the padding of the last. */
LWL_INLINE void lane_weights(int n_items, int bk, double *lw)
{
    for (int l = 0; l < L; l++)
        lw[l] = bk * L + l < n_items ? 1.0 : 0.0;
}

LWL_INLINE void lane_weights_real(int n_items, int bk, lwl_real *lw)
{
    for (int l = 0; l < L; l++)
        lw[l] = bk * L + l < n_items ? 1 : 0;
}

/* Sum of the L lanes in a fixed order. */
LWL_INLINE double lane_sum(const double *v)
{
    double s[L / 2];
    for (int l = 0; l < L / 2; l++)
        s[l] = v[l] + v[l + L / 2];
    for (int h = L / 4; h > 0; h /= 2)
        for (int l = 0; l < h; l++)
            s[l] += s[l + h];
    return s[0];
}

/* The sum over the items of one block of a value of lwl_real (16 terms, which carry
 * lwl_real's own rounding; the sums over blocks are then formed in double).  In double it is
 * lane_sum.  In float the same additions in the same order, written with GCC's vector
 * types: GCC 12 turns the loops of lane_sum on floats into 15 scalar additions and their
 * shuffles, which would make this sum, once per edge and block, half the edge pass's time. */
#if defined(LWL_F32) && defined(__GNUC__)
typedef float lwl_v8f __attribute__((vector_size(32)));
typedef float lwl_v4f __attribute__((vector_size(16)));

LWL_INLINE float lane_sum_real(const float *v)
{
    lwl_v8f lo, hi;
    lwl_v4f a, b;
    memcpy(&lo, v, sizeof lo);
    memcpy(&hi, v + L / 2, sizeof hi);
    lo = lo + hi;                          /* s8[l] = v[l] + v[l + 8] */
    memcpy(&a, &lo, sizeof a);
    memcpy(&b, (const float *)&lo + 4, sizeof b);
    a = a + b;                             /* s4[l] = s8[l] + s8[l + 4] */
    return (a[0] + a[2]) + (a[1] + a[3]);  /* s2[l] = s4[l] + s4[l + 2], s2[0] + s2[1] */
}
#elif defined(LWL_F32)
LWL_INLINE float lane_sum_real(const float *v)
{
    float s8[L / 2], s4[L / 4];
    for (int l = 0; l < L / 2; l++)
        s8[l] = v[l] + v[l + L / 2];
    for (int l = 0; l < L / 4; l++)
        s4[l] = s8[l] + s8[l + L / 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}
#else
#define lane_sum_real lane_sum
#endif

/* The lane sums of SUM_EDGES consecutive edges' block values (v: [SUM_EDGES][L]), added to
 * out[0 .. SUM_EDGES-1].  Each sum is lane_sum_real's, the same additions of the same
 * operands, but the eight edges are reduced together: after the first halving (v[l] +
 * v[l + 8]) two edges share a vector at each further halving, so the 8 sums cost 15 vector
 * additions and 14 shuffles instead of 8 reductions inside vectors and 8 scalar
 * read-modify-writes of out (with GCC's vector extensions; elsewhere lane_sum_real per
 * edge).  Done once per edge and block, 8 separate reductions cost a quarter of the edge
 * pass's time. */
#define SUM_EDGES 8
typedef char lwl_sums_take_16_lanes[L == 16 ? 1 : -1];  /* the halvings below */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 9
typedef lwl_real lwl_v8r __attribute__((vector_size(8 * sizeof(lwl_real))));
typedef double lwl_v8d __attribute__((vector_size(64)));
#ifdef LWL_F32
typedef int lwl_v8i __attribute__((vector_size(32)));
#else
typedef long long lwl_v8i __attribute__((vector_size(64)));
#endif

LWL_INLINE void add_lane_sums(const lwl_real *restrict v, double *restrict out)
{
    const lwl_v8i take4 = {0, 1, 2, 3, 8, 9, 10, 11}, drop4 = {4, 5, 6, 7, 12, 13, 14, 15};
    const lwl_v8i take2 = {0, 1, 4, 5, 8, 9, 12, 13}, drop2 = {2, 3, 6, 7, 10, 11, 14, 15};
    const lwl_v8i even = {0, 2, 4, 6, 8, 10, 12, 14}, odd = {1, 3, 5, 7, 9, 11, 13, 15};
    lwl_v8r h[SUM_EDGES], q[SUM_EDGES / 2], r[SUM_EDGES / 4], s;
    for (int e = 0; e < SUM_EDGES; e++) {  /* s[l] = v[l] + v[l + 8], one edge per vector */
        lwl_v8r lo, hi;
        memcpy(&lo, v + (long)e * L, sizeof lo);
        memcpy(&hi, v + (long)e * L + L / 2, sizeof hi);
        h[e] = lo + hi;
    }
    for (int i = 0; i < SUM_EDGES / 2; i++)  /* s[l] += s[l + 4]: edges 2i, 2i+1 per vector */
        q[i] = __builtin_shuffle(h[2 * i], h[2 * i + 1], take4)
               + __builtin_shuffle(h[2 * i], h[2 * i + 1], drop4);
    for (int i = 0; i < SUM_EDGES / 4; i++)  /* s[l] += s[l + 2]: four edges per vector */
        r[i] = __builtin_shuffle(q[2 * i], q[2 * i + 1], take2)
               + __builtin_shuffle(q[2 * i], q[2 * i + 1], drop2);
    s = __builtin_shuffle(r[0], r[1], even) + __builtin_shuffle(r[0], r[1], odd);
    lwl_v8d o;  /* out[e] += s[e] as one vector addition (GCC 12 makes 8 scalar ones of a loop) */
    memcpy(&o, out, sizeof o);
    o += __builtin_convertvector(s, lwl_v8d);
    memcpy(out, &o, sizeof o);
}
#else
LWL_INLINE void add_lane_sums(const lwl_real *restrict v, double *restrict out)
{
    for (int e = 0; e < SUM_EDGES; e++)
        out[e] += lane_sum_real(v + (long)e * L);
}
#endif

/* Item sums of w per edge and out-edge sums of x per (item, node), from the state, added in
 * the order of the edge pass, so that iterating in one call or several gives the same bits.
 * part: E doubles.  The out-edge sums of x (a node's outdeg terms, within one item) and the
 * sums of w over the L items of a block are formed in lwl_real (as the edge loop forms
 * them), the sums of w over blocks in double. */
LWL_INLINE void consensus_sums(const LWL_NET_WS *ws, double *wsum, lwl_real *xsum, double *part)
{
    int K = ws->n_items, N = ws->n_nodes, E = ws->n_edges, nb = n_blocks(K);
    memset(wsum, 0, sizeof(double) * E);
    memset(xsum, 0, sizeof(lwl_real) * (size_t)nb * N * L);
    for (int b0 = 0; b0 < nb; b0 += CHUNK_BLOCKS) {
        int b1 = b0 + CHUNK_BLOCKS < nb ? b0 + CHUNK_BLOCKS : nb;
        memset(part, 0, sizeof(double) * E);
        for (int bk = b0; bk < b1; bk++) {
            const lwl_real *xk = ws->x + (long)bk * E * L, *wk = ws->w + (long)bk * E * L;
            lwl_real *xs = xsum + (long)bk * N * L, lw[L], wl[L];
            lane_weights_real(K, bk, lw);
            for (int e = 0; e < E; e++) {
                lwl_real *restrict xse = xs + (long)ws->src[e] * L;
                const lwl_real *restrict xe = xk + (long)e * L, *restrict we = wk + (long)e * L;
                LWL_IVDEP
                LWL_NO_UNROLL
                for (int l = 0; l < L; l++) {
                    xse[l] += xe[l];
                    wl[l] = lw[l] * we[l];
                }
                part[e] += lane_sum_real(wl);
            }
        }
        for (int e = 0; e < E; e++)
            wsum[e] += part[e];
    }
}

/* Weight A step (eq 26f,g): mean over items, each node's incoming weights to norm omega
 * (mean and norm in double, each weight rounded to lwl_real once).  An all-zero incoming
 * vector (any point of the sphere is nearest) becomes omega / sqrt(indeg) on every edge. */
LWL_INLINE void project_weights(LWL_NET_WS *ws, const double *wsum)
{
    double inv_k = 1.0 / lwl_batch_items(&ws->processes, ws->n_items);
    for (int n = 0; n < ws->n_nodes; n++) {
        int lo = ws->in_start[n], hi = ws->in_start[n + 1];
        if (hi == lo)
            continue;
        double norm2 = 0.0;
        for (int e = lo; e < hi; e++) {
            double v = wsum[e] * inv_k;
            norm2 += v * v;
        }
        if (norm2 > 0.0) {
            double s = ws->omega / sqrt(norm2);
            for (int e = lo; e < hi; e++)
                ws->wa[e] = (lwl_real)(wsum[e] * inv_k * s);
        } else {
            double v = ws->omega / sqrt((double)(hi - lo));
            for (int e = lo; e < hi; e++)
                ws->wa[e] = v;
        }
    }
}

/* Bias B step (eq 26i) on the reflected biases and the b update; returns the error part.
 * bsum: N doubles (the sums over items, in double). */
LWL_INLINE double biases(LWL_NET_WS *ws, double *bsum)
{
    int K = ws->n_items, N = ws->n_nodes, nb = n_blocks(K);
    double beta = ws->beta, err2 = 0.0;
    for (int n = 0; n < N; n++)
        bsum[n] = 0.0;
    for (int bk = 0; bk < nb; bk++) {
        double lw[L], r[L];
        lane_weights(K, bk, lw);
        for (int n = 0; n < N; n++) {
            long o = ((long)bk * N + n) * L;
            for (int l = 0; l < L; l++)
                r[l] = lw[l] * (2.0 * ws->ba[o + l] - ws->b[o + l]);
            bsum[n] += lane_sum(r);
        }
    }
    lwl_sum_over_processes(&ws->processes, bsum, N);
    for (int n = 0; n < N; n++)
        ws->bb[n] = (lwl_real)(bsum[n] / lwl_batch_items(&ws->processes, ws->n_items));
    for (int bk = 0; bk < nb; bk++) {
        double lw[L], r[L];
        lane_weights(K, bk, lw);
        for (int n = 0; n < N; n++) {
            if (ws->in_start[n + 1] == ws->in_start[n])
                continue;
            long o = ((long)bk * N + n) * L;
            for (int l = 0; l < L; l++) {
                double db = (double)ws->bb[n] - ws->ba[o + l];
                r[l] = lw[l] * (db * db);
                ws->b[o + l] = (lwl_real)(ws->b[o + l] + beta * db);
            }
            err2 += ws->g2[n] * lane_sum(r);
        }
    }
    return err2;
}

/* Staged edges per root group: a group's edges are read twice (reflect and sum, then
 * project and update) and should still be in cache the second time. */
#define GROUP_EDGES 512

/* In the float build, squares are summed per lane in float over runs of SQUARES_RUN edges,
 * and the runs in double: converting every term to double would be a third of the edge
 * loop's instructions, and a float sum of 8 squares adds at most 7 roundings of 2^-24
 * (relative) to the two or three each term carries from its own float arithmetic.  The
 * double build sums in double term by term.  (One loop with a run as long as a node's edges
 * in the double build gives the same bits, but GCC 12 compiles the whole edge pass about 7 %
 * slower so.) */
#ifdef LWL_F32
#define SQUARES_RUN SUM_EDGES  /* update_edges ends its runs where it sums w */

/* A per-lane sum of squares: the terms added in float over a run, the runs in double. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 9
/* In GCC's vector types, so that the run and the totals stay in vector registers: with
 * arrays, GCC 12 makes sixteen scalar conversions and additions of each flush, a sixth of
 * the float edge loop's instructions.  (16 lanes: lwl_sums_take_16_lanes.) */
typedef float lwl_v16f __attribute__((vector_size(64)));
typedef struct {
    lwl_v16f run;
    lwl_v8d lo, hi;
} lwl_squares;

LWL_INLINE void squares_start(lwl_squares *q, const double *total)
{
    q->run = (lwl_v16f){0};
    memcpy(&q->lo, total, sizeof q->lo);
    memcpy(&q->hi, total + 8, sizeof q->hi);
}

LWL_INLINE void squares_add(lwl_squares *q, const float *terms)
{
    lwl_v16f v;
    memcpy(&v, terms, sizeof v);
    q->run += v;
}

LWL_INLINE void squares_flush(lwl_squares *q)
{
    lwl_v8f a, b;
    memcpy(&a, &q->run, sizeof a);
    memcpy(&b, (const float *)&q->run + 8, sizeof b);
    q->lo += __builtin_convertvector(a, lwl_v8d);
    q->hi += __builtin_convertvector(b, lwl_v8d);
    q->run = (lwl_v16f){0};
}

LWL_INLINE void squares_end(lwl_squares *q, double *total)
{
    squares_flush(q);
    memcpy(total, &q->lo, sizeof q->lo);
    memcpy(total + 8, &q->hi, sizeof q->hi);
}
#else
typedef struct {
    float run[L];
    double total[L];
} lwl_squares;

LWL_INLINE void squares_start(lwl_squares *q, const double *total)
{
    for (int l = 0; l < L; l++) {
        q->run[l] = 0.0f;
        q->total[l] = total[l];
    }
}

LWL_INLINE void squares_add(lwl_squares *q, const float *terms)
{
    for (int l = 0; l < L; l++)
        q->run[l] += terms[l];
}

LWL_INLINE void squares_flush(lwl_squares *q)
{
    for (int l = 0; l < L; l++) {
        q->total[l] += q->run[l];
        q->run[l] = 0.0f;
    }
}

LWL_INLINE void squares_end(lwl_squares *q, double *total)
{
    squares_flush(q);
    for (int l = 0; l < L; l++)
        total[l] = q->total[l];
}
#endif
#endif

/* Reflect node n's edges (lanes of one block) and form A = |x + w|^2 / 4, B = |x - w|^2 / 4
 * of the bilinear problem (bilinear.c): the reflection in lwl_real, as update_edges forms
 * it, the sums in double (from runs of SQUARES_RUN edges in float, in the float build). */
LWL_INLINE void reflect_sums(const LWL_NET_WS *ws, int lo, int hi, const lwl_real *restrict xk,
                             const lwl_real *restrict wk, const lwl_real *restrict xak,
                             double *restrict A, double *restrict B)
{
    const lwl_real two = 2;
    for (int l = 0; l < L; l++)
        A[l] = B[l] = 0.0;
#ifdef LWL_F32
    lwl_squares As, Bs;
    squares_start(&As, A);
    squares_start(&Bs, B);
#endif
    for (int t = lo; t < hi; t++) {
        const lwl_real *restrict xa_s = xak + (long)ws->src[t] * L;
        const lwl_real *restrict xt = xk + (long)t * L, *restrict wt = wk + (long)t * L;
        lwl_real wat = ws->wa[t];
#ifdef LWL_F32
        LWL_ALIGNED float ss[L], dd[L];
#endif
        for (int l = 0; l < L; l++) {
            lwl_real xr = two * xa_s[l] - xt[l], wr = two * wat - wt[l];
            lwl_real s = xr + wr, d = xr - wr;
#ifdef LWL_F32
            ss[l] = s * s;
            dd[l] = d * d;
#else
            A[l] += s * s;
            B[l] += d * d;
#endif
        }
#ifdef LWL_F32
        squares_add(&As, ss);
        squares_add(&Bs, dd);
        if ((t - lo) % SQUARES_RUN == SQUARES_RUN - 1) {
            squares_flush(&As);
            squares_flush(&Bs);
        }
#endif
    }
#ifdef LWL_F32
    squares_end(&As, A);
    squares_end(&Bs, B);
#endif
    for (int l = 0; l < L; l++) {
        A[l] *= 0.25;
        B[l] *= 0.25;
    }
}

/* Lane l of node n is degenerate (the root search returned e = 0: x = sgn w, eq 18 fails):
 * its projection by the scalar code of bilinear.c, written to lane l of dx, dw [indeg][L].
 * g: 2 indeg doubles of scratch. */
static void degenerate_lane(const LWL_NET_WS *ws, int lo, int hi, const lwl_real *xk,
                            const lwl_real *wk, const lwl_real *xak, int l, double sgn,
                            double yr, double inv_g2, double *g, double *dx, double *dw)
{
    const lwl_real two = 2;
    int m = hi - lo;
    double *gx = g, *gw = g + m;
    for (int t = 0; t < m; t++) { /* the reflection as update_edges forms it */
        gx[t] = (lwl_real)(two * xak[(long)ws->src[lo + t] * L + l] - xk[(long)(lo + t) * L + l]);
        gw[t] = (lwl_real)(two * ws->wa[lo + t] - wk[(long)(lo + t) * L + l]);
    }
    lwl_bilinear_apply(m, gx, gw, &yr, ws->omega, inv_g2, 0.0, sgn);
    for (int t = 0; t < m; t++) {
        dx[(long)t * L + l] = gx[t];
        dw[(long)t * L + l] = gw[t];
    }
}

/* What the edge pass of one block works on: its x and w [n_edges][L] (updated), its x_A
 * [n_nodes][L], the lane weights (0 in padding lanes), and what it accumulates: the out-edge
 * sums of x [n_nodes][L], the item sums of w [n_edges] and the squared error per lane. */
typedef struct {
    lwl_real *x, *w;
    const lwl_real *xa, *lw;
    lwl_real *xs;
    double *part, *errv;
} block_pass;

/* One node's roots in the L lanes of a block (appendix B): e, sgn and f = 1 / (e (2 - e));
 * deg[l] = 1 in degenerate lanes (e = 0), whose projections are then in dgx, dgw
 * [indeg][L] (NULL when no lane is degenerate). */
typedef struct {
    const double *e, *sgn, *f, *deg, *dgx, *dgw;
} node_roots;

/* The edge part of project_update: the projection of every in-edge of node n (lanes of
 * one block) from its reflection, and the updates, in lwl_real (the root's e, sgn and
 * f = 1 / (e (2 - e)) rounded to it once); the error and the sums of w over items in
 * double, from runs of SUM_EDGES edges in lwl_real (add_lane_sums; SQUARES_RUN in float).
 * with_degenerate: take the lanes with deg[l] = 1 from the roots' dgx, dgw (a separate
 * instance of the loop, so the common case pays nothing for them).  Edge t prefetches the
 * x and w of edge t + ahead (the next group's, whose reflection comes next). */
LWL_INLINE void update_edges(const LWL_NET_WS *ws, int lo, int hi, long ahead,
                             const block_pass *bp, const node_roots *roots,
                             int with_degenerate)
{
    /* the fields as restrict locals: the loop below is vectorised on that promise */
    lwl_real *restrict xk = bp->x, *restrict wk = bp->w, *restrict xs = bp->xs;
    const lwl_real *restrict xak = bp->xa, *restrict lw = bp->lw;
    double *restrict part = bp->part, *restrict errv = bp->errv;
    const double *restrict e = roots->e, *restrict sgn = roots->sgn, *restrict f = roots->f;
    const double *restrict deg = roots->deg, *restrict dgx = roots->dgx;
    const double *restrict dgw = roots->dgw;
    const lwl_real *restrict wa = ws->wa;
    const int *restrict src = ws->src;
    const lwl_real two = 2, beta = (lwl_real)ws->beta;
    lwl_real er[L], sr[L], fr[L];
    for (int l = 0; l < L; l++) {
        er[l] = (lwl_real)e[l];
        sr[l] = (lwl_real)sgn[l];
        fr[l] = (lwl_real)f[l];
    }
    LWL_ALIGNED lwl_real wbuf[SUM_EDGES][L];  /* the weighted w of the edges not yet summed */
#ifdef LWL_F32
    lwl_squares errs;  /* the squared error: in float since the last SUM_EDGES-th edge, and
                          the double totals, which squares_end writes back to errv */
    squares_start(&errs, errv);
#endif
    for (int t = lo; t < hi; t++) {
        const lwl_real *restrict xa_s = xak + (long)src[t] * L;
        lwl_real *restrict xt = xk + (long)t * L, *restrict wt = wk + (long)t * L;
        lwl_real *restrict xse = xs + (long)src[t] * L;
        lwl_real wat = wa[t], *wl = wbuf[(t - lo) % SUM_EDGES];
#ifdef LWL_F32
        LWL_ALIGNED float err_terms[L];
#endif
        for (int c = 0; c < (int)(sizeof(lwl_real) * L / 64); c++) {
            __builtin_prefetch(xt + ahead * L + c * (64 / sizeof(lwl_real)));
            __builtin_prefetch(wt + ahead * L + c * (64 / sizeof(lwl_real)));
        }
        LWL_IVDEP
        for (int l = 0; l < L; l++) {
            lwl_real xr = two * xa_s[l] - xt[l], wr = two * wat - wt[l];
            /* flipped frame (bilinear.c): ws = sgn w, r = x - ws, u = sgn (e - 1) */
            lwl_real wsg = sr[l] * wr, r = xr - wsg;
            lwl_real xb = (r + er[l] * wsg) * fr[l], wb = sr[l] * ((er[l] * xr - r) * fr[l]);
            if (with_degenerate) {
                lwl_real gxl = (lwl_real)dgx[(long)(t - lo) * L + l];
                lwl_real gwl = (lwl_real)dgw[(long)(t - lo) * L + l];
                xb = deg[l] != 0.0 ? gxl : xb;
                wb = deg[l] != 0.0 ? gwl : wb;
            }
            lwl_real dx = xb - xa_s[l], dw = wb - wat;
#ifdef LWL_F32
            err_terms[l] = dx * dx + dw * dw;
#else
            errv[l] += dx * dx + dw * dw;
#endif
            lwl_real xn = lwl_flush(xt[l] + beta * dx), wn = lwl_flush(wt[l] + beta * dw);
            xt[l] = xn;
            wt[l] = wn;
            xse[l] += xn;
            wl[l] = lw[l] * wn;
        }
#ifdef LWL_F32
        squares_add(&errs, err_terms);
#endif
        if ((t - lo) % SUM_EDGES == SUM_EDGES - 1) {
            add_lane_sums(wbuf[0], part + t - (SUM_EDGES - 1));
#ifdef LWL_F32
            squares_flush(&errs);
#endif
        }
    }
    for (int t = hi - (hi - lo) % SUM_EDGES; t < hi; t++)
        part[t] += lane_sum_real(wbuf[(t - lo) % SUM_EDGES]);
#ifdef LWL_F32
    squares_end(&errs, errv);
#endif
}

/* Project node n (lanes of block bk) given its roots e, sgn and reflected y (yr), and update
 * x, w, y, mult; accumulate the out-edge sums of x, the item sums of w and the squared error
 * per lane (padding lanes included: the caller weights them out) into bp.  ahead: the
 * prefetch distance (update_edges).  dg: scratch for degenerate lanes. */
LWL_INLINE void project_update(LWL_NET_WS *ws, int n, long noff, long ahead,
                               const block_pass *bp, const double *restrict e,
                               const double *restrict sgn, const double *restrict yr,
                               double *dg)
{
    int lo = ws->in_start[n], hi = ws->in_start[n + 1];
    long o = noff + (long)n * L;
    double *restrict errv = bp->errv;
    double beta = ws->beta, g2 = ws->g2[n], inv_g2 = 1.0 / g2, omega = ws->omega;
    double f[L], u[L], deg[L]; /* deg: 1 in degenerate lanes */
    int any_deg = 0;
    for (int l = 0; l < L; l++) {
        deg[l] = e[l] == 0.0 ? 1.0 : 0.0;
        any_deg |= e[l] == 0.0;
        f[l] = e[l] == 0.0 ? 0.0 : 1.0 / (e[l] * (2.0 - e[l]));
        u[l] = e[l] == 0.0 ? -sgn[l] : sgn[l] * (e[l] - 1.0);
        double dy = (yr[l] - u[l] * omega * inv_g2) - ws->ya[o + l];
        errv[l] += g2 * dy * dy;
        ws->y[o + l] = (lwl_real)(ws->y[o + l] + beta * dy);
        ws->mult[o + l] = u[l];
    }
    if (!any_deg) {
        node_roots roots = {e, sgn, f, deg, NULL, NULL};
        update_edges(ws, lo, hi, ahead, bp, &roots, 0);
        return;
    }
    double *dgx = dg, *dgw = dg + (long)(hi - lo) * L;
    for (int l = 0; l < L; l++)
        if (deg[l] != 0.0)
            degenerate_lane(ws, lo, hi, bp->x, bp->w, bp->xa, l, sgn[l], yr[l], inv_g2,
                            dg + 2L * (hi - lo) * L, dgx, dgw);
    node_roots roots = {e, sgn, f, deg, dgx, dgw};
    update_edges(ws, lo, hi, ahead, bp, &roots, 1);
}

/* Edge pass over the items of block bk (eq 26h, the B step of the edges): nodes are taken
 * in groups whose roots are found together (GROUP_NODES x L problems in lockstep).  Adds
 * the block's item sums of w to part[E]; returns the block's squared error. */
LWL_INLINE double edge_block(LWL_NET_WS *ws, int bk, lwl_real *restrict xsum,
                             double *restrict part, double *dg)
{
    int N = ws->n_nodes, E = ws->n_edges;
    const int *in_start = ws->in_start;
    long noff = (long)bk * N * L;
    lwl_real *xk = ws->x + (long)bk * E * L, *wk = ws->w + (long)bk * E * L;
    lwl_real *xs = xsum + noff;
    double A[LWL_ROOT_BLOCK], B[LWL_ROOT_BLOCK], T[LWL_ROOT_BLOCK], c[LWL_ROOT_BLOCK];
    double yr[LWL_ROOT_BLOCK], e[LWL_ROOT_BLOCK], sgn[LWL_ROOT_BLOCK];
    double lw[L], errv[L];
    lwl_real lwr[L];
    lane_weights(ws->n_items, bk, lw);
    lane_weights_real(ws->n_items, bk, lwr);
    for (int l = 0; l < L; l++)
        errv[l] = 0.0;
    memset(xs, 0, sizeof(lwl_real) * N * L);
    block_pass bp = {xk, wk, ws->xa + noff, lwr, xs, part, errv};
    int n0 = 0;
    while (n0 < N) {
        /* Group [n0, n1): at most GROUP_NODES nodes with in-edges, GROUP_EDGES edges
         * unless one node has more. */
        int n1 = n0, g = 0;
        while (n1 < N && g < GROUP_NODES
               && (g == 0 || in_start[n1 + 1] - in_start[n0] <= GROUP_EDGES)) {
            g += in_start[n1 + 1] > in_start[n1];
            n1++;
        }
        int p = 0;
        for (int n = n0; n < n1; n++) {
            if (in_start[n + 1] == in_start[n])
                continue;
            long o = noff + (long)n * L;
            reflect_sums(ws, in_start[n], in_start[n + 1], xk, wk, ws->xa + noff, A + p * L,
                         B + p * L);
            double omega = ws->omega, cn = omega * omega / ws->g2[n];
            /* (pointers to the node's lanes: with the index p * L + l, GCC 12 stores these
             * lanes by scatter instructions, which cost several percent of the edge pass) */
            double *restrict yrn = yr + p * L, *restrict Tn = T + p * L, *restrict cnl = c + p * L;
            double *restrict en = e + p * L;
            for (int l = 0; l < L; l++) {
                double y = 2.0 * ws->ya[o + l] - ws->y[o + l];
                yrn[l] = y;
                Tn[l] = omega * y;
                cnl[l] = cn;
                en[l] = ws->mult[o + l]; /* warm start in, root out */
            }
            p++;
        }
        lwl_roots_lockstep(p * L, A, B, T, c, e, e, sgn);
        p = 0;
        for (int n = n0; n < n1; n++) {
            if (in_start[n + 1] == in_start[n])
                continue;
            project_update(ws, n, noff, in_start[n1] - in_start[n0], &bp, e + p * L,
                           sgn + p * L, yr + p * L, dg);
            p++;
        }
        n0 = n1;
    }
    for (int l = 0; l < L; l++)
        errv[l] *= lw[l];
    return lane_sum(errv);
}

/* The iterations; each parallel region sets the IEEE default mode in every thread it runs
 * on (a thread's mode is its own) and ors the flags they met into *flags (fpmode.h). */
static LWL_HOT LWL_NOINLINE int net_iterate(LWL_NET_WS *ws, int max_iter, double tol,
                                            double *err_out, int *flags)
{
    int K = ws->n_items, N = ws->n_nodes, E = ws->n_edges;
    int nb = n_blocks(K), nch = n_chunks(K);
    scratch_layout at = layout_of(K, N, E, max_indeg(ws));
    double *restrict wsum = ws->scratch;
    double *restrict bsum = ws->scratch + at.bsum;
    lwl_real *restrict xsum = (lwl_real *)(ws->scratch + at.xsum);
    double *restrict sel = ws->scratch + at.sel;
    double *restrict chunks = ws->scratch + at.chunks;
    int fl = 0;
    if (!ws->sums_ready) {  /* else the last call's final edge pass left them in scratch */
        consensus_sums(ws, wsum, xsum, chunks);
        lwl_sum_over_processes(&ws->processes, wsum, E);
    }
    int it = 0;
    while (it < max_iter) {
        project_weights(ws, wsum);
#ifdef _OPENMP
#pragma omp parallel num_threads(ws->n_threads) if (nb * N > 4096) reduction(| : fl)
#endif
        {
            lwl_fp_saved fp = lwl_fp_enter();
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
            for (int bk = 0; bk < nb; bk++)
                LWL_NAME(lwl_node_step)(ws, xsum, bk);
            fl |= lwl_fp_leave(fp);
        }
        LWL_NAME(lwl_class_step)(ws, sel);
        double err2 = biases(ws, bsum);

#ifdef _OPENMP
#pragma omp parallel num_threads(ws->n_threads) reduction(| : fl)
#endif
        {
            lwl_fp_saved fp = lwl_fp_enter();
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
            for (int ch = 0; ch < nch; ch++) {
                double *part = chunks + ch * at.per_chunk;
                int b1 = (ch + 1) * CHUNK_BLOCKS < nb ? (ch + 1) * CHUNK_BLOCKS : nb;
                double err = 0.0;
                memset(part, 0, sizeof(double) * E);
                for (int bk = ch * CHUNK_BLOCKS; bk < b1; bk++)
                    err += edge_block(ws, bk, xsum, part, part + at.degenerate);
                part[E] = err;
            }
            fl |= lwl_fp_leave(fp);
        }
        memset(wsum, 0, sizeof(double) * E);
        for (int ch = 0; ch < nch; ch++) {
            const double *part = chunks + ch * at.per_chunk;
            for (int e = 0; e < E; e++)
                wsum[e] += part[e];
            err2 += part[E];
        }
        wsum[E] = err2;
        lwl_sum_over_processes(&ws->processes, wsum, E + 1L);
        double err = sqrt(wsum[E] / lwl_batch_items(&ws->processes, ws->n_items));
        err_out[it++] = err;
        if (err < tol)
            break;
    }
    ws->sums_ready = 1;
    *flags = fl;
    return it;
}

int LWL_NAME(lwl_net_iterate)(LWL_NET_WS *ws, int max_iter, double tol, double *err_out)
{
    int flags;
    lwl_fp_saved fp = lwl_fp_enter(); /* IEEE default mode, the caller's restored (fpmode.h) */
    int it = net_iterate(ws, max_iter, tol, err_out, &flags);
    ws->fp_flags = flags | lwl_fp_leave(fp);
    return it;
}

void LWL_NAME(lwl_net_start_batch)(LWL_NET_WS *ws, const lwl_real *v, const lwl_real *y)
{
    int K = ws->n_items, N = ws->n_nodes, E = ws->n_edges, nb = n_blocks(K);
    ws->sums_ready = 0;
    for (int bk = 0; bk < nb; bk++) {
        const lwl_real *vk[L], *yk[L];
        for (int l = 0; l < L; l++) {  /* padding lanes copy the last item */
            int k = bk * L + l < K ? bk * L + l : K - 1;
            vk[l] = v + (long)k * N;
            yk[l] = y + (long)k * N;
        }
        lwl_real *restrict xb = ws->x + (long)bk * E * L, *restrict wb = ws->w + (long)bk * E * L;
        for (int e = 0; e < E; e++) {  /* in memory order: one pass over the state */
            int i = ws->src[e];
            for (int l = 0; l < L; l++) {
                xb[(long)e * L + l] = vk[l][i];
                wb[(long)e * L + l] = ws->wa[e];
            }
        }
        lwl_real *restrict yb = ws->y + (long)bk * N * L, *restrict bb = ws->b + (long)bk * N * L;
        double *restrict mb = ws->mult + (long)bk * N * L;
        for (int n = 0; n < N; n++)
            for (int l = 0; l < L; l++) {
                yb[(long)n * L + l] = yk[l][n];
                bb[(long)n * L + l] = ws->bb[n];
                mb[(long)n * L + l] = 0.0;
            }
    }
}

/* Where an item's forward pass starts (ck: its clamp row, or NULL): at its first clamped
 * node of the order (its clamped layer), going round a cyclic order from there (a code item
 * of the autoencoder runs decoder, then encoder); at 0 if none is clamped. */
static int forward_start(const LWL_NET_WS *ws, const lwl_real *ck)
{
    int N = ws->n_nodes, start = 0;
    while (ck && start < N && isnan(ck[ws->order[start]]))
        start++;
    return start == N ? 0 : start;
}

/* Node n's input y = v.w / omega in the lanes of a block (vt: [n_nodes][L]), each lane's
 * sum in double in the order of the in-edges, as one item's alone would be. */
LWL_INLINE void node_inputs(const LWL_NET_WS *ws, int n, const lwl_real *restrict vt,
                            const lwl_real *restrict w, double *restrict s)
{
    for (int l = 0; l < L; l++)
        s[l] = 0.0;
    for (int e = ws->in_start[n]; e < ws->in_start[n + 1]; e++) {
        const lwl_real *restrict vs = vt + (long)ws->src[e] * L;
        double we = w[e];
        for (int l = 0; l < L; l++)
            s[l] += (double)vs[l] * we;
    }
    for (int l = 0; l < L; l++)
        s[l] /= ws->omega;
}

/* The forward pass of nl <= L items that start at the same node, side by side in the lanes
 * of vt, yt, ct ([n_nodes][L] each; lanes beyond nl repeat the last item): the items' rows
 * of clamp (NULL: none), v, y, fv start at the first item's. */
LWL_INLINE void forward_block(const LWL_NET_WS *ws, int nl, int start, const lwl_real *clamp,
                              const lwl_real *w, const lwl_real *bias, lwl_real *v,
                              lwl_real *y, lwl_real *fv, lwl_real *restrict vt,
                              lwl_real *restrict yt, lwl_real *restrict ct)
{
    int N = ws->n_nodes;
    double s[L];
    memset(vt, 0, sizeof(lwl_real) * N * L);
    memset(yt, 0, sizeof(lwl_real) * N * L);
    if (clamp)
        for (int l = 0; l < L; l++) {
            const lwl_real *ck = clamp + (long)(l < nl ? l : nl - 1) * N;
            for (int n = 0; n < N; n++)
                ct[(long)n * L + l] = ck[n];
        }
    for (int i = 0; i < N; i++) {
        int n = ws->order[(start + i) % N];
        lwl_real *vn = vt + (long)n * L, *yn = yt + (long)n * L;
        if (ws->in_start[n + 1] > ws->in_start[n]) {
            node_inputs(ws, n, vt, w, s);
            for (int l = 0; l < L; l++) {
                yn[l] = (lwl_real)s[l];
                vn[l] = (lwl_real)lwl_node_activation(ws->kind[n], ws->delta[n],
                                                      (double)yn[l] - bias[n]);
            }
        }
        if (clamp)
            for (int l = 0; l < L; l++)
                if (!isnan(ct[(long)n * L + l]))
                    vn[l] = ct[(long)n * L + l];
    }
    /* Feed-around: a clamped node with in-edges (e.g. the code layer of a code item) may
     * come first in the order; its y is computed from the final values. */
    if (clamp)
        for (int n = 0; n < N; n++) {
            const lwl_real *cn = ct + (long)n * L;
            int any = 0;
            for (int l = 0; l < L; l++)
                any |= !isnan(cn[l]);
            if (!any || ws->in_start[n + 1] == ws->in_start[n])
                continue;
            node_inputs(ws, n, vt, w, s);
            for (int l = 0; l < L; l++)
                if (!isnan(cn[l]))
                    yt[(long)n * L + l] = (lwl_real)s[l];
        }
    for (int l = 0; l < nl; l++)
        for (int n = 0; n < N; n++) {
            long o = (long)l * N + n, t = (long)n * L + l;
            v[o] = vt[t];
            y[o] = yt[t];
            if (fv)
                fv[o] = ws->in_start[n + 1] > ws->in_start[n]
                    ? (lwl_real)lwl_node_activation(ws->kind[n], ws->delta[n],
                                                    (double)yt[t] - bias[n]) : vt[t];
        }
}

/* Items in blocks of up to L consecutive ones that start at the same node (callers keep
 * the items of one start together: an autoencoder batch has its data items first, then its
 * code items). */
static LWL_HOT LWL_NOINLINE void net_forward(const LWL_NET_WS *ws, int n_items,
                                             const lwl_real *clamp, const lwl_real *w,
                                             const lwl_real *bias, lwl_real *v, lwl_real *y,
                                             lwl_real *fv, lwl_real *scratch)
{
    long N = ws->n_nodes;
    lwl_real *vt = scratch, *yt = scratch + N * L, *ct = scratch + 2 * N * L;
    for (int k = 0; k < n_items;) {
        const lwl_real *ck = clamp ? clamp + k * N : NULL;
        int start = forward_start(ws, ck);
        int nl = 1;
        while (nl < L && k + nl < n_items
               && (!clamp || forward_start(ws, clamp + (k + nl) * N) == start))
            nl++;
        forward_block(ws, nl, start, ck, w, bias, v + k * N, y + k * N,
                      fv ? fv + k * N : NULL, vt, yt, ct);
        k += nl;
    }
}

void LWL_NAME(lwl_net_forward)(const LWL_NET_WS *ws, int n_items, const lwl_real *clamp,
                               const lwl_real *w, const lwl_real *bias, lwl_real *v,
                               lwl_real *y, lwl_real *fv, lwl_real *scratch)
{
    lwl_fp_saved fp = lwl_fp_enter(); /* IEEE default mode, the caller's restored (fpmode.h) */
    net_forward(ws, n_items, clamp, w, bias, v, y, fv, scratch);
    lwl_fp_leave(fp);
}

#ifndef LWL_F32
const char *lwl_vector_path(void)
{
#ifdef LWL_CLONES
    /* the features the loader's choice among the LWL_HOT versions rests on (lanes.h) */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512cd"))
        return "x86-64-v4 (AVX-512)";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
        && __builtin_cpu_supports("bmi2"))
        return "x86-64-v3 (AVX2, FMA)";
    return "x86-64 baseline (SSE2)";
#else
    return "one version, as compiled (no target clones on this compiler or platform)";
#endif
}
#endif
