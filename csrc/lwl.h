/*
 * lwl.h -- the one public header of the lwl C core.
 *
 * Read by the C sources and by cffi (lwl/_build.py), so it holds only declarations that
 * cffi's parser accepts: no macros with arguments, no includes, no inline functions.
 *
 * Memory: C owns no long-lived memory. Python (numpy) allocates every array, C functions
 * take pointers and sizes, run a given number of RRR iterations and return.
 * Paper: V. Elser, "Learning Without Loss" (arXiv 1911.00493); eq numbers refer to it.
 */
#ifndef LWL_H
#define LWL_H

/* ---- bilinear projection (eq 16-19, 26h, appendix B) ---------------------------------
 * Project (x, w, y), with x and w of length n, onto  x'.w' = omega * y'  in the metric
 * |x'-x|^2 + |w'-w|^2 + g2 (y'-y)^2.  inv_g2 = 1/g2; inv_g2 = 0 is the NMF limit in which
 * y is fixed (the data value).  x, w and *y are overwritten with the projection.
 * Returns the Lagrange multiplier u in [-1, 1].  u = -1 or +1 only in the degenerate case
 * x = w or x = -w where the nearest point is not unique; see bilinear.c for the choice made.
 */
double lwl_bilinear_project(int n, double *x, double *w, double *y, double omega, double inv_g2);

/* The same, with the root search started at u0 instead of 0 (the result does not depend on
 * it beyond rounding): RRR passes the previous iteration's multiplier. */
double lwl_bilinear_project_from(int n, double *x, double *w, double *y, double omega,
                                 double inv_g2, double u0);

/* The projection in three steps, for loops that solve many problems at once:
 * sums A = |x + w|^2 / 4, B = |x - w|^2 / 4; the roots of up to LWL_ROOT_BLOCK problems in
 * lockstep (T = omega y, c = omega^2 / g2, u0 warm starts; out: e in (0, 1] and sgn, the root
 * being u = sgn (e - 1), or e = 0 in the degenerate case); then the update of x, w, y,
 * returning u.  lwl_bilinear_project_from is exactly these three with m = 1. */
#define LWL_ROOT_BLOCK 64
void lwl_bilinear_sums(int n, const double *x, const double *w, double *A, double *B);
void lwl_bilinear_roots(int m, const double *A, const double *B, const double *T, double c,
                        const double *u0, double *e, double *sgn);
double lwl_bilinear_apply(int n, double *x, double *w, double *y, double omega, double inv_g2,
                          double e, double sgn);

/* The same on a batch of m independent problems stored row after row (x[m][n], w[m][n],
 * y[m]); u_out[m] receives the multipliers (may be NULL). */
void lwl_bilinear_project_many(int m, int n, double *x, double *w, double *y, double omega,
                               double inv_g2, double *u_out);

/* ---- RRR non-negative matrix factorisation (paper section 4, eq 14, 22) ---------------
 * Data Y[k][j], k < n_items (|K|), j < n_data (|D|); n_code (|C|) code nodes.
 * Edge i -> j from code node i to data node j; variables per item k and edge:
 *   x[k][j][i]  code value replicated on the edge,   w[k][j][i]  feature weight.
 * A: consensus of w over k, clamp >= 0, each feature (w[.][i]) rescaled to norm omega
 *    (eq 14b,c); consensus of x over j, clamp >= 0 (eq 14a).
 * B: for every (k, j) the bilinear projection with y = Y[k][j] fixed (eq 14d).
 */
typedef struct {
    int n_items, n_data, n_code;
    double omega, beta;
    const double *data;   /* [n_items][n_data]           */
    double *x, *w;        /* [n_items][n_data][n_code]   RRR iterates             */
    double *code;         /* [n_items][n_code]           x_A of the last A step    */
    double *feature;      /* [n_data][n_code]            w_A of the last A step    */
    double *mult;         /* [n_items][n_data]           last B-step multipliers u (warm starts; 0 at first) */
    double *scratch;      /* [lwl_nmf_scratch_size(...)] workspace */
} lwl_nmf_ws;

/* Run up to max_iter RRR iterations, stopping after the first whose RRR_err < tol.
 * err_out[t] = RRR_err of iteration t = rms over all item-edge pairs of (A - B), i.e.
 * sqrt(sum (x_A - x_B)^2 + (w_A - w_B)^2) / (n_items * n_edges)) (the published
 * program's normalisation; eq 22 is this times sqrt(n_edges)).
 * On return code/feature hold the A projection of the last iteration run (its solution).
 * Returns the number of iterations run. */
int lwl_nmf_iterate(lwl_nmf_ws *ws, int max_iter, double tol, double *err_out);
int lwl_nmf_scratch_size(int n_items, int n_data, int n_code);

#endif
