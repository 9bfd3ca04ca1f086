/*
 * nmf.c -- the RRR iteration for non-negative matrix factorisation (paper section 4).
 *
 * One iteration: a = P_A(x), b = P_B(2a - x), x += beta (b - a)   (section 1, appendix A).
 * P_A needs only the consensus sums of x over data nodes and of w over items.  Those sums
 * are accumulated while the previous iteration writes its update, so an iteration makes a
 * single pass over the [n_items][n_code][n_data] arrays: read x and w, project, write x and w.
 *
 * Lanes: data nodes j of one item are taken in blocks of L (j0 = 0, 16, 32, ...), and
 * every step is the same arithmetic on the lanes of a block, contiguous in memory, which
 * the compiler turns into vector instructions.  The bilinear problems (eq 14d) of as many
 * consecutive blocks as LWL_ROOT_BLOCK takes, of one item or several, share one lockstep
 * root search (lanes.h), so it runs full even when n_data is small.  Per group of blocks:
 * reflect and sum, find the roots, project and update (the group's x and w are then still
 * in cache).
 *
 * Sums over data nodes are kept per lane (j % L) and the lanes added in order in P_A,
 * so results do not depend on how blocks are grouped.
 *
 * Precision: as engine.c, compiled twice (real.h).  x, w, the codes, the features and the
 * data are lwl_real, and so is the arithmetic of the reflection, projection and update of
 * each (item, code, data) value; the consensus sums (over items and over data nodes), the
 * features' norms, the sums A and B, the error and the root search stay double.
 */
#include <math.h>
#include <string.h>
#include "lwl_internal.h"
#include "real.h"
#include "lanes.h"
#include "fpmode.h"

#define L LWL_LANES  /* one vector of floats, as in the engine */
_Static_assert(LWL_ROOT_BLOCK >= L, "a root search must take at least one block of L problems");

/* Features (eq 14b,c): mean over items, clamp at 0, rescale each feature to norm omega
 * (mean and norm in double, each entry rounded to lwl_real once).  A feature whose
 * consensus is all <= 0 becomes omega on its largest entry.  wsum[i][j] holds the sum over
 * items. */
LWL_INLINE void project_features(const LWL_NMF_WS *ws, const double *wsum)
{
    int D = ws->n_data, C = ws->n_code;
    double inv_k = 1.0 / lwl_batch_items(&ws->processes, ws->n_items);
    for (int i = 0; i < C; i++) {
        const double *s = wsum + (long)i * D;
        lwl_real *feat = ws->feature + (long)i * D;
        double norm2 = 0.0;
        for (int j = 0; j < D; j++) {
            double v = s[j] * inv_k;
            v = v > 0.0 ? v : 0.0;
            feat[j] = (lwl_real)v;
            norm2 += v * v;
        }
        if (norm2 > 0.0) {
            double f = ws->omega / sqrt(norm2);
            for (int j = 0; j < D; j++) {
                double v = s[j] * inv_k;
                feat[j] = (lwl_real)((v > 0.0 ? v : 0.0) * f);
            }
        } else {
            int best = 0;
            for (int j = 1; j < D; j++)
                if (s[j] > s[best])
                    best = j;
            feat[best] = ws->omega;
        }
    }
}

/* Codes (eq 14a): mean over data nodes, clamp at 0.  xpart[k][i][L]: the sums per lane. */
LWL_INLINE void project_codes(const LWL_NMF_WS *ws, const double *xpart)
{
    int n = ws->n_items * ws->n_code;
    double inv_d = 1.0 / ws->n_data;
    for (int t = 0; t < n; t++) {
        double v = 0.0;
        for (int l = 0; l < L; l++)
            v += xpart[(long)t * L + l];
        v *= inv_d;
        ws->code[t] = (lwl_real)(v > 0.0 ? v : 0.0);
    }
}

/* Consensus sums of the current iterate: xpart[k][i][j % L] over j, wsum[i][j] over k. */
static void consensus_sums(const LWL_NMF_WS *ws, double *xpart, double *wsum)
{
    int K = ws->n_items, D = ws->n_data, C = ws->n_code;
    memset(xpart, 0, sizeof(double) * K * C * L);
    memset(wsum, 0, sizeof(double) * D * C);
    for (int k = 0; k < K; k++)
        for (int i = 0; i < C; i++) {
            long row = ((long)k * C + i) * D;
            for (int j = 0; j < D; j++) {
                xpart[((long)k * C + i) * L + j % L] += ws->x[row + j];
                wsum[(long)i * D + j] += ws->w[row + j];
            }
        }
}

#ifndef LWL_F32
long lwl_nmf_scratch_size(int n_items, int n_data, int n_code)
{
    return (long)n_items * n_code * L + (long)n_data * n_code + 2L * n_code;
}
#endif

/* Block (item k, data nodes j0 .. j0+n-1): reflect x and w through the A point and form the
 * sums A = |x + w|^2 / 4, B = |x - w|^2 / 4 of each lane's bilinear problem (bilinear.c):
 * the reflection in lwl_real, as apply_update forms it, the sums in double. */
LWL_INLINE void reflect_sums(const LWL_NMF_WS *ws, int k, int j0, int n, double *restrict A,
                             double *restrict B)
{
    int D = ws->n_data, C = ws->n_code;
    const lwl_real two = 2;
    double a[L] = {0.0}, b[L] = {0.0};
    for (int i = 0; i < C; i++) {
        long row = ((long)k * C + i) * D + j0;
        const lwl_real *restrict x = ws->x + row, *restrict w = ws->w + row;
        const lwl_real *restrict wa = ws->feature + (long)i * D + j0;
        lwl_real xa2 = two * ws->code[k * C + i];
        for (int l = 0; l < n; l++) {
            lwl_real xr = xa2 - x[l], wr = two * wa[l] - w[l];
            double s = (double)xr + wr, d = (double)xr - wr;
            a[l] += s * s;
            b[l] += d * d;
        }
    }
    for (int l = 0; l < n; l++) {
        A[l] = 0.25 * a[l];
        B[l] = 0.25 * b[l];
    }
}

/* The data values (T of the bilinear problem, omega = 1) and warm starts of a block's root
 * searches.  The warm start is the multiplier extrapolated from the last two iterations,
 * u + (u - u_prev): RRR moves the iterate smoothly, and this saves about one Newton pass per
 * root search (the root does not depend on the start beyond rounding). */
LWL_INLINE void root_inputs(const LWL_NMF_WS *ws, int k, int j0, int n, double *restrict T,
                            double *restrict u0)
{
    long o = (long)k * ws->n_data + j0;
    double *restrict u = ws->mult + o, *restrict u_prev = u + (long)ws->n_items * ws->n_data;
    LWL_IVDEP
    LWL_NO_UNROLL
    for (int l = 0; l < n; l++) {
        T[l] = ws->data[o + l];
        u0[l] = u[l] + (u[l] - u_prev[l]);
        u_prev[l] = u[l];
    }
}

/* Block update from the roots e, sgn of its lanes (none degenerate): the projection of the
 * reflected point in the flipped frame (bilinear.c: ws = sgn w, r = x - ws, eq 19 with
 * u = sgn (e - 1), 1 - u^2 = e (2 - e)), then x, w += beta (P_B - P_A), in lwl_real (e, sgn,
 * f rounded to it once); adds to the sums of the next P_A and to the squared error per
 * lane, in double. */
LWL_INLINE void apply_update(const LWL_NMF_WS *ws, int k, int j0, int n,
                             const double *restrict e, const double *restrict sgn,
                             double *restrict xpart, double *restrict wsum,
                             double *restrict errv)
{
    int D = ws->n_data, C = ws->n_code;
    const lwl_real two = 2, beta = (lwl_real)ws->beta;
    lwl_real er[L], sr[L], f[L], sf[L];
    double ev[L] = {0.0};
    for (int l = 0; l < n; l++) {
        double fd = 1.0 / (e[l] * (2.0 - e[l]));
        er[l] = (lwl_real)e[l];
        sr[l] = (lwl_real)sgn[l];
        f[l] = (lwl_real)fd;
        sf[l] = (lwl_real)(sgn[l] * fd);
        ws->mult[(long)k * D + j0 + l] = sgn[l] * (e[l] - 1.0);
    }
    for (int i = 0; i < C; i++) {
        long row = ((long)k * C + i) * D + j0;
        lwl_real *restrict x = ws->x + row, *restrict w = ws->w + row;
        const lwl_real *restrict wa = ws->feature + (long)i * D + j0;
        double *restrict xp = xpart + ((long)k * C + i) * L + j0 % L;
        double *restrict wsm = wsum + (long)i * D + j0;
        lwl_real xa = ws->code[k * C + i], xa2 = two * xa;
        LWL_IVDEP
        for (int l = 0; l < n; l++) {
            lwl_real xr = xa2 - x[l], wr = two * wa[l] - w[l];
            lwl_real wsg = sr[l] * wr, r = xr - wsg;
            lwl_real xb = (r + er[l] * wsg) * f[l], wb = (er[l] * xr - r) * sf[l];
            lwl_real dx = xb - xa, dw = wb - wa[l];
            ev[l] += (double)dx * dx + (double)dw * dw;
            lwl_real xn = lwl_flush(x[l] + beta * dx), wn = lwl_flush(w[l] + beta * dw);
            x[l] = xn;
            w[l] = wn;
            xp[l] += xn;
            wsm[l] += wn;
        }
    }
    for (int l = 0; l < n; l++)
        errv[l] += ev[l];
}

/* The same for a block with a degenerate lane (e = 0: x = sgn w, eq 18 fails; rare), lane
 * by lane through the scalar projection of bilinear.c (in double, from the reflection in
 * lwl_real), in the same order of operations.  g: 2 n_code doubles of scratch. */
static void apply_update_scalar(const LWL_NMF_WS *ws, int k, int j0, int n, const double *e,
                                const double *sgn, double *xpart, double *wsum, double *errv,
                                double *g)
{
    int D = ws->n_data, C = ws->n_code;
    const lwl_real two = 2;
    double beta = ws->beta, *gx = g, *gw = g + C;
    for (int l = 0; l < n; l++) {
        int j = j0 + l;
        for (int i = 0; i < C; i++) {
            long t = ((long)k * C + i) * D + j;
            gx[i] = (lwl_real)(two * ws->code[k * C + i] - ws->x[t]);
            gw[i] = (lwl_real)(two * ws->feature[(long)i * D + j] - ws->w[t]);
        }
        double y = ws->data[(long)k * D + j], ev = 0.0;
        ws->mult[(long)k * D + j] = lwl_bilinear_apply(C, gx, gw, &y, 1.0, 0.0, e[l], sgn[l]);
        for (int i = 0; i < C; i++) {
            long t = ((long)k * C + i) * D + j;
            double dx = gx[i] - ws->code[k * C + i], dw = gw[i] - ws->feature[(long)i * D + j];
            ev += dx * dx + dw * dw;
            lwl_real xn = lwl_flush((lwl_real)(ws->x[t] + beta * dx));
            lwl_real wn = lwl_flush((lwl_real)(ws->w[t] + beta * dw));
            ws->x[t] = xn;
            ws->w[t] = wn;
            xpart[((long)k * C + i) * L + j % L] += xn;
            wsum[(long)i * D + j] += wn;
        }
        errv[l] += ev;
    }
}

/* From block (item k, data nodes j0 ..) to the next (blocks in memory order). */
LWL_INLINE void next_block(int n_data, int *k, int *j0)
{
    *j0 += L;
    if (*j0 >= n_data) {
        *j0 = 0;
        ++*k;
    }
}

static LWL_HOT LWL_NOINLINE int nmf_iterate(LWL_NMF_WS *ws, int max_iter, double tol,
                                             double *err_out)
{
    int K = ws->n_items, D = ws->n_data, C = ws->n_code;
    int per_item = (D + L - 1) / L, n_blk = K * per_item;
    double *restrict xpart = ws->scratch;                   /* [K][C][L] */
    double *restrict wsum = xpart + (long)K * C * L;    /* [C][D]        */
    double *g = wsum + (long)C * D;                         /* [2][C] degenerate lanes */
    double A[LWL_ROOT_BLOCK], B[LWL_ROOT_BLOCK], T[LWL_ROOT_BLOCK], e[LWL_ROOT_BLOCK];
    double sgn[LWL_ROOT_BLOCK];
    static const double no_y_metric[LWL_ROOT_BLOCK]; /* c = 0: y fixed by the data */
    double norm_err = 1.0 / (lwl_batch_items(&ws->processes, K) * D * C);

    consensus_sums(ws, xpart, wsum);
    lwl_sum_over_processes(&ws->processes, wsum, (long)C * D);
    int it = 0;
    while (it < max_iter) {
        project_features(ws, wsum);
        project_codes(ws, xpart);
        memset(xpart, 0, sizeof(double) * K * C * L);
        memset(wsum, 0, sizeof(double) * D * C);

        double errv[L] = {0.0};
        int k_b0 = 0, j0_b0 = 0; /* block b0 is data nodes j0_b0 .. of item k_b0 */
        for (int b0 = 0, b1; b0 < n_blk; b0 = b1) {
            /* Blocks [b0, b1) with at most LWL_ROOT_BLOCK problems: reflect and sum.  (Full
             * blocks are passed n = L as a constant, so that loop is fully unrolled.) */
            int p = 0, k = k_b0, j0 = j0_b0;
            for (b1 = b0; b1 < n_blk; b1++, next_block(D, &k, &j0)) {
                int n = D - j0 < L ? D - j0 : L;
                if (p + n > LWL_ROOT_BLOCK)
                    break;
                if (n == L) {
                    reflect_sums(ws, k, j0, L, A + p, B + p);
                    root_inputs(ws, k, j0, L, T + p, e + p);
                } else {
                    reflect_sums(ws, k, j0, n, A + p, B + p);
                    root_inputs(ws, k, j0, n, T + p, e + p);
                }
                p += n;
            }
            lwl_roots_lockstep(p, A, B, T, no_y_metric, e, e, sgn);
            p = 0, k = k_b0, j0 = j0_b0;
            for (int bk = b0; bk < b1; bk++, next_block(D, &k, &j0)) {
                int n = D - j0 < L ? D - j0 : L, deg = 0;
                for (int l = 0; l < n; l++)
                    deg |= e[p + l] == 0.0;
                if (deg)
                    apply_update_scalar(ws, k, j0, n, e + p, sgn + p, xpart, wsum, errv, g);
                else if (n == L)
                    apply_update(ws, k, j0, L, e + p, sgn + p, xpart, wsum, errv);
                else
                    apply_update(ws, k, j0, n, e + p, sgn + p, xpart, wsum, errv);
                p += n;
            }
            k_b0 = k; /* block b1 */
            j0_b0 = j0;
        }
        double err2 = 0.0;
        for (int l = 0; l < L; l++)
            err2 += errv[l];
        lwl_sum_over_processes(&ws->processes, wsum, (long)C * D);
        lwl_sum_over_processes(&ws->processes, &err2, 1);
        double err = sqrt(err2 * norm_err);
        err_out[it++] = err;
        if (err < tol)
            break;
    }
    return it;
}

int LWL_NAME(lwl_nmf_iterate)(LWL_NMF_WS *ws, int max_iter, double tol, double *err_out)
{
    lwl_fp_saved fp = lwl_fp_enter(); /* IEEE default mode, the caller's restored (fpmode.h) */
    int it = nmf_iterate(ws, max_iter, tol, err_out);
    ws->fp_flags = lwl_fp_leave(fp);
    return it;
}
