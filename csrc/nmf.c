/*
 * nmf.c -- the RRR iteration for non-negative matrix factorisation (paper section 4).
 *
 * One iteration: a = P_A(x), b = P_B(2a - x), x += beta (b - a)   (section 1, appendix A).
 * P_A needs only the consensus sums of x over data nodes and of w over items.  Those sums
 * are accumulated while the previous iteration writes its update, so an iteration makes a
 * single pass over the [n_items][n_data][n_code] arrays: read x and w, project, write x and w.
 */
#include <math.h>
#include <string.h>
#include "lwl.h"
#include "lanes.h"

/* Features (eq 14b,c): mean over items, clamp at 0, rescale each feature to norm omega.
 * A feature whose consensus is all <= 0 becomes omega on its largest entry.
 * wsum[j][i] holds the sum over items; norm2 is scratch of length n_code. */
static void project_features(const lwl_nmf_ws *ws, const double *wsum, double *norm2)
{
    int D = ws->n_data, C = ws->n_code;
    double inv_k = 1.0 / ws->n_items;
    double *feat = ws->feature;
    for (int i = 0; i < C; i++)
        norm2[i] = 0.0;
    for (int j = 0; j < D; j++)
        for (int i = 0; i < C; i++) {
            double v = wsum[j * C + i] * inv_k;
            v = v > 0.0 ? v : 0.0;
            feat[j * C + i] = v;
            norm2[i] += v * v;
        }
    for (int i = 0; i < C; i++) {
        if (norm2[i] > 0.0) {
            double s = ws->omega / sqrt(norm2[i]);
            for (int j = 0; j < D; j++)
                feat[j * C + i] *= s;
        } else {
            int best = 0;
            for (int j = 1; j < D; j++)
                if (wsum[j * C + i] > wsum[best * C + i])
                    best = j;
            feat[best * C + i] = ws->omega;
        }
    }
}

/* Codes (eq 14a): mean over data nodes, clamp at 0. */
static void project_codes(const lwl_nmf_ws *ws, const double *xsum)
{
    int n = ws->n_items * ws->n_code;
    double inv_d = 1.0 / ws->n_data;
    for (int t = 0; t < n; t++) {
        double v = xsum[t] * inv_d;
        ws->code[t] = v > 0.0 ? v : 0.0;
    }
}

/* Consensus sums of the current iterate: xsum[k][i] over j, wsum[j][i] over k. */
static void consensus_sums(const lwl_nmf_ws *ws, double *xsum, double *wsum)
{
    int K = ws->n_items, D = ws->n_data, C = ws->n_code;
    memset(xsum, 0, sizeof(double) * K * C);
    memset(wsum, 0, sizeof(double) * D * C);
    for (int k = 0; k < K; k++)
        for (int j = 0; j < D; j++) {
            const double *xr = ws->x + ((long)k * D + j) * C;
            const double *wr = ws->w + ((long)k * D + j) * C;
            for (int i = 0; i < C; i++) {
                xsum[k * C + i] += xr[i];
                wsum[j * C + i] += wr[i];
            }
        }
}

int lwl_nmf_scratch_size(int n_items, int n_data, int n_code)
{
    return n_items * n_code + n_data * n_code + 2 * LWL_ROOT_BLOCK * n_code;
}

LWL_HOT int lwl_nmf_iterate(lwl_nmf_ws *ws, int max_iter, double tol, double *err_out)
{
    int K = ws->n_items, D = ws->n_data, C = ws->n_code;
    double beta = ws->beta;
    double *restrict xsum = ws->scratch;   /* [K][C] */
    double *restrict wsum = xsum + K * C;  /* [D][C] */
    double *restrict xr = wsum + D * C;    /* [LWL_ROOT_BLOCK][C] reflected x, then P_B of it */
    double *restrict wr = xr + LWL_ROOT_BLOCK * C;
    double A[LWL_ROOT_BLOCK], B[LWL_ROOT_BLOCK], e[LWL_ROOT_BLOCK], sgn[LWL_ROOT_BLOCK];
    static const double no_y_metric[LWL_ROOT_BLOCK]; /* c = 0: y fixed by the data */
    double norm_err = 1.0 / ((double)K * D * C);

    consensus_sums(ws, xsum, wsum);
    int it = 0;
    while (it < max_iter) {
        project_features(ws, wsum, xr); /* xr doubles as the norm scratch here */
        project_codes(ws, xsum);
        memset(xsum, 0, sizeof(double) * K * C);
        memset(wsum, 0, sizeof(double) * D * C);

        double err2 = 0.0;
        for (int k = 0; k < K; k++) {
            const double *restrict xa = ws->code + k * C;
            const double *y = ws->data + (long)k * D;
            double *mult = ws->mult + (long)k * D;
            /* Data nodes in blocks: reflect and sum, solve the roots together, update. */
            for (int j0 = 0; j0 < D; j0 += LWL_ROOT_BLOCK) {
                int m = D - j0 < LWL_ROOT_BLOCK ? D - j0 : LWL_ROOT_BLOCK;
                for (int p = 0; p < m; p++) {
                    const double *restrict x = ws->x + ((long)k * D + j0 + p) * C;
                    const double *restrict w = ws->w + ((long)k * D + j0 + p) * C;
                    const double *restrict wa = ws->feature + (j0 + p) * C;
                    double *restrict xb = xr + p * C, *restrict wb = wr + p * C;
                    for (int i = 0; i < C; i++) {
                        xb[i] = 2.0 * xa[i] - x[i];
                        wb[i] = 2.0 * wa[i] - w[i];
                    }
                    lwl_bilinear_sums(C, xb, wb, A + p, B + p);
                }
                lwl_roots_lockstep(m, A, B, y + j0, no_y_metric, mult + j0, e, sgn);
                for (int p = 0; p < m; p++) {
                    int j = j0 + p;
                    double *restrict x = ws->x + ((long)k * D + j) * C;
                    double *restrict w = ws->w + ((long)k * D + j) * C;
                    const double *restrict wa = ws->feature + j * C;
                    double *restrict xb = xr + p * C, *restrict wb = wr + p * C;
                    double yj = y[j];
                    mult[j] = lwl_bilinear_apply(C, xb, wb, &yj, 1.0, 0.0, e[p], sgn[p]);
                    for (int i = 0; i < C; i++) {
                        double dx = xb[i] - xa[i], dw = wb[i] - wa[i];
                        err2 += dx * dx + dw * dw;
                        double xn = x[i] + beta * dx, wn = w[i] + beta * dw;
                        x[i] = xn;
                        w[i] = wn;
                        xsum[k * C + i] += xn;
                        wsum[j * C + i] += wn;
                    }
                }
            }
        }
        double err = sqrt(err2 * norm_err);
        err_out[it++] = err;
        if (err < tol)
            break;
    }
    return it;
}
