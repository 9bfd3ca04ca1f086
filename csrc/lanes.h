/*
 * lanes.h -- private to the C core: what the hot loops need to run many independent
 * problems side by side ("lanes") in vector instructions, and the root search of the
 * bilinear projection written that way.
 *
 * Included by every C source; everything here is inlined into (and so compiled for the
 * instruction set of) each hot loop that uses it.
 *
 * LWL_HOT marks the functions that hold the hot loops.  On x86-64 with GCC they are built
 * in three versions (AVX-512, AVX2 + FMA, baseline) and the loader picks the one the CPU
 * runs (GCC target_clones), so the default build stays portable and still uses the vector
 * units.  The versions give the same results: the C is compiled with -std=c99, which turns
 * off floating-point contraction, so no version fuses multiply-adds.
 */
#ifndef LWL_LANES_H
#define LWL_LANES_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && __GNUC__ >= 9 && !defined(LWL_NO_CLONES)
#define LWL_CLONES 1
#define LWL_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LWL_HOT
#endif

/* A function the compiler must not inline: the hot loops run in one called from an entry
 * point that sets the floating-point mode around the call (fpmode.h), so that no
 * arithmetic can be moved across the change of mode. */
#if defined(__GNUC__)
#define LWL_NOINLINE __attribute__((noinline))
#else
#define LWL_NOINLINE
#endif

/* Before a loop over lanes whose arrays the compiler cannot prove distinct (they are). */
#if defined(__GNUC__) && !defined(__clang__)
#define LWL_IVDEP _Pragma("GCC ivdep")
#else
#define LWL_IVDEP
#endif

/* Before a short loop over lanes that GCC would otherwise unroll completely and then fail to
 * vectorise (as one statement per lane it sees no loop left to vectorise). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define LWL_NO_UNROLL _Pragma("GCC unroll 1")
#else
#define LWL_NO_UNROLL
#endif

/* A local array of lanes on a vector boundary (whole-vector loads and stores). */
#if defined(__GNUC__)
#define LWL_ALIGNED __attribute__((aligned(64)))
#else
#define LWL_ALIGNED
#endif

/* Inlined into every caller, so that each version of a hot loop gets its own vector code. */
#if defined(__GNUC__)
#define LWL_INLINE static inline __attribute__((always_inline))
#else
#define LWL_INLINE static inline
#endif

/* Most problems one lockstep root search takes (lwl_roots_lockstep). */
#define LWL_ROOT_BLOCK 64

#define LWL_MAX_ROOT_STEPS 100
#define LWL_NEWTON_STOP 1e-10

/* Where the root search stands at a point e of the flipped frame (g = 2 - e = 1 - u,
 * e = 1 + u), from the problem's A, B, T, c (lwl_roots_lockstep):
 *     h(e) = A / g^2 - B / e^2 - T + c (e - 1) = D(e) - B / e^2,
 * and the search works on k(e) = e - sqrt(B / D(e)) (k = -inf where D <= 0; k = D when
 * B = 0), which has the same root.  Written with
 *     N = g^2 D = A - (T + c (1 - e)) g^2,   P = g^3 dD/de = 2 A + c g^3,   S = sqrt(B N),
 * (polynomials in e, and one square root) k is (e N - g S) / N, so its sign is that of
 *     kn = e N - g S   where N > 0,
 * and nothing here divides: the one division per point is the Newton step that follows
 * (lwl_next_point).  The earlier form, k = e - sqrt(B / D) with D from 1 / (2 - e) and its
 * derivative from 1 / D, took three divisions and a square root per point, and divisions
 * and square roots are the slowest vector instructions (on some CPUs several times slower
 * per element than on others); see lwl_roots_lockstep for the count. */
typedef struct {
    double N, P, S, kn;
    double ks; /* of the sign of k, 0 where k = 0: kn where N > 0, N when B = 0, else < 0 */
} lwl_root_point;

LWL_INLINE void lwl_root_eval(double e, double A, double B, double T, double c,
                              lwl_root_point *q)
{
    double g = 2.0 - e, g2 = g * g;
    double N = A - (T + c * (1.0 - e)) * g2;
    double S = sqrt(B * N); /* NaN where N < 0, where it is not used */
    q->N = N;
    q->P = 2.0 * A + c * (g2 * g);
    q->S = S;
    q->kn = e * N - g * S;
    q->ks = B == 0.0 ? N : (N > 0.0 ? q->kn : N - B); /* (N - B, not a constant: GCC 12
                                                          then keeps the loop vectorised) */
}

/* The next point of the safeguarded Newton search from a point ea with q = lwl_root_eval
 * there, bracket lo < root <= hi and the N, P of hi (see lwl_roots_lockstep).  The Newton
 * step on k is
 *     k / k' = N kn / (N^2 + S P / 2)     (k' = 1 + S P / (2 N^2), N > 0),
 * and on phi(e) = e^2 D(e) - B, from hi (hg = 2 - hi),
 *     phi / phi' = hg (hi^2 Nh - B hg^2) / (2 hi hg Nh + hi^2 Ph):
 * one division either way.  *fin = 1 when that Newton step is below LWL_NEWTON_STOP:
 * quadratic convergence, the point is then the root to rounding (kept in the closed bracket:
 * the root can be e = 1, u = 0, exactly, as at the start of a batch, where the point may
 * round onto the bound). */
LWL_INLINE double lwl_next_point(double ea, lwl_root_point q, double lo, double hi, double Nh,
                                 double Ph, double B, int use_phi, int *fin)
{
    double hg = 2.0 - hi;
    double num_phi = hg * (hi * hi * Nh - B * (hg * hg));
    double den_phi = 2.0 * hi * hg * Nh + hi * hi * Ph;
    double num_k = q.N * q.kn, den_k = q.N * q.N + 0.5 * q.S * q.P;
    double base = use_phi ? hi : ea;
    double en = base - (use_phi ? num_phi : num_k) / (use_phi ? den_phi : den_k);
    int inside = (en > lo) & (en < hi);
    int small = fabs(en - base) <= LWL_NEWTON_STOP * base;
    double en_in = en < lo ? lo : (en > hi ? hi : en);
    *fin = small;
    return small ? en_in : (inside ? en : 0.5 * (lo + hi));
}

/* 2^-E for M > 0 of binary exponent E (M / 2^E in [1, 2)), exactly, with M clamped to
 * [2^-1000, 2^1000] first (so 0 gives 2^1000).  Arithmetic on the bits without branches or
 * integer selects, so that the loop calling it vectorises. */
LWL_INLINE double lwl_inverse_scale(double M)
{
    int64_t bits, inv;
    double r;
    M = M > 0x1p1000 ? 0x1p1000 : M;
    M = M < 0x1p-1000 ? 0x1p-1000 : M;
    memcpy(&bits, &M, sizeof bits);
    inv = 0x7fe0000000000000LL - (bits & 0x7ff0000000000000LL);
    memcpy(&r, &inv, sizeof r);
    return r;
}

/* The problems of a lockstep root search, scaled and flipped (a, b, t, cc: A, B, T, c),
 * their brackets and state, and the evaluation at each one's point (q...). */
typedef struct {
    double a[LWL_ROOT_BLOCK], b[LWL_ROOT_BLOCK], t[LWL_ROOT_BLOCK], cc[LWL_ROOT_BLOCK];
    double lo[LWL_ROOT_BLOCK], hi[LWL_ROOT_BLOCK], Nh[LWL_ROOT_BLOCK], Ph[LWL_ROOT_BLOCK];
    double bad[LWL_ROOT_BLOCK], done[LWL_ROOT_BLOCK], er[LWL_ROOT_BLOCK];
    double qN[LWL_ROOT_BLOCK], qP[LWL_ROOT_BLOCK], qS[LWL_ROOT_BLOCK], qkn[LWL_ROOT_BLOCK];
    double qks[LWL_ROOT_BLOCK];
} lwl_root_search;

/* Evaluate every problem at its point (a square root each); 1 if an unfinished problem will
 * take its next step on phi (it has overshot before, or overshoots now: N <= 0). */
LWL_INLINE int lwl_roots_evaluate(lwl_root_search *restrict r, int m)
{
    int phi = 0;
    for (int p = 0; p < m; p++) {
        lwl_root_point q;
        lwl_root_eval(r->er[p], r->a[p], r->b[p], r->t[p], r->cc[p], &q);
        r->qN[p] = q.N;
        r->qP[p] = q.P;
        r->qS[p] = q.S;
        r->qkn[p] = q.kn;
        r->qks[p] = q.ks;
        phi |= (r->done[p] == 0.0) & ((r->bad[p] != 0.0) | (q.N <= 0.0));
    }
    return phi;
}

/* From the evaluations, every unfinished problem's next point (a division each); returns how
 * many are unfinished.  may_phi = 0 (a constant where inlined): no unfinished problem steps on
 * phi in this pass, and the loop is built without those steps. */
LWL_INLINE int lwl_roots_step(lwl_root_search *restrict r, int m, int may_phi)
{
    int n_active = 0;
    for (int p = 0; p < m; p++) {
        double ep = r->er[p];
        lwl_root_point q = {r->qN[p], r->qP[p], r->qS[p], r->qkn[p], r->qks[p]};
        int right = q.ks > 0.0;
        double lon = right ? r->lo[p] : ep, hin = right ? ep : r->hi[p];
        double Nhn = right ? q.N : r->Nh[p], Phn = right ? q.P : r->Ph[p];
        int use_phi = may_phi && ((r->bad[p] != 0.0) | (q.N <= 0.0)), small;
        double en = lwl_next_point(ep, q, lon, hin, Nhn, Phn, r->b[p], use_phi, &small);
        int root = (q.ks == 0.0) | (hin - lon <= 1e-15 * hin);
        int live = r->done[p] == 0.0;
        r->er[p] = live ? (root ? ep : en) : r->er[p];
        r->lo[p] = live ? lon : r->lo[p];
        r->hi[p] = live ? hin : r->hi[p];
        r->Nh[p] = live ? Nhn : r->Nh[p];
        r->Ph[p] = live ? Phn : r->Ph[p];
        r->bad[p] = (live & use_phi) ? 1.0 : r->bad[p];
        r->done[p] = (live & !(root | small)) ? 0.0 : 1.0;
    }
    for (int p = 0; p < m; p++)
        n_active += r->done[p] == 0.0;
    return n_active;
}

/* Roots of m <= LWL_ROOT_BLOCK problems in lockstep (appendix B, safeguarded Newton).
 *
 * Problem p is given unflipped: A = |x + w|^2 / 4, B = |x - w|^2 / 4, T = omega y,
 * c = omega^2 / g2, and a warm start u0 (u0 may alias e).  On return e[p] in (0, 1] and
 * sgn[p] = +-1 give the root u = sgn (e - 1); e[p] = 0 flags the degenerate case (x = sgn w
 * with no root inside: u = -sgn).
 *
 * Each problem is first scaled by a power of two (exact) so that A + B + |T| + c is in
 * [1, 2): the polynomials of lwl_root_eval are of fourth degree in the data, and this keeps
 * them far from overflow and underflow whatever the scale of x and w.
 *
 * Each problem keeps a bracket lo < root <= hi (k(lo) < 0 <= k(hi); initially 0 and 1, or
 * the warm start on its side) and takes Newton steps on k, bisecting when a step leaves the
 * bracket.  k is concave when T > 0, so a step from the right of the root can overshoot
 * into the region D <= 0 where k = -inf; the root then lies just right of the zero of D,
 * and bisection would need many halvings to find the thin window between the two.  So once
 * such an overshoot has been seen, the steps are Newton steps from the right end hi on
 * phi(e) = e^2 D(e) - B, which has the same root and is convex and increasing where D > 0:
 * they approach the root from the right, monotonically and quadratically near it.  A
 * problem with B = 0 (x = sgn w: the zero of D is sought) takes these steps throughout.
 *
 * Each pass evaluates k at every unfinished problem's next point and then decides the
 * point after it, so a problem finishes in the pass whose evaluation makes the next Newton
 * step negligible.  A pass costs one square root and one division per problem (and the
 * projection that uses the root one more division, 1 / (e (2 - e))).  The passes are
 * branch-free loops over the problems (a finished problem keeps its values), so the
 * divisions and square roots of several problems run in one vector instruction.  The steps
 * on phi are rare (none at all on the benchmark nets and LEDM): a pass in which no
 * unfinished problem takes one runs a loop without them. */
LWL_INLINE void lwl_roots_lockstep(int m, const double *restrict A, const double *restrict B,
                                   const double *restrict T, const double *restrict c,
                                   const double *u0, double *e, double *restrict sgn)
{
    lwl_root_search r;
    int n_active = 0;

    for (int p = 0; p < m; p++) {
        /* Flip w -> -w when the root lies in (0, 1): then sgn = -1. */
        int flip = A[p] - B[p] - T[p] < 0.0;
        double s = flip ? -1.0 : 1.0;
        double sc = lwl_inverse_scale(A[p] + B[p] + fabs(T[p]) + c[p]);
        double uf0 = s * u0[p];
        sgn[p] = s;
        r.a[p] = sc * (flip ? B[p] : A[p]);
        r.b[p] = sc * (flip ? A[p] : B[p]);
        r.t[p] = sc * (s * T[p]);
        r.cc[p] = sc * c[p];
        r.er[p] = ((uf0 <= 0.0) & (uf0 > -1.0)) ? 1.0 + uf0 : 1.0;
    }
    for (int p = 0; p < m; p++) {
        int degenerate = (r.b[p] == 0.0) & (0.25 * r.a[p] - r.t[p] - r.cc[p] >= 0.0);
        /* k(0+) < 0 <= k(1): at e = 1, N = A - T and P = 2 A + c */
        r.lo[p] = 0.0;
        r.hi[p] = 1.0;
        r.Nh[p] = r.a[p] - r.t[p];
        r.Ph[p] = 2.0 * r.a[p] + r.cc[p];
        r.bad[p] = r.b[p] == 0.0 ? 1.0 : 0.0; /* B = 0: the zero of D, from the right
                                                 (phi = e^2 D) */
        r.er[p] = degenerate ? 0.0 : r.er[p];
        r.done[p] = degenerate ? 1.0 : 0.0;
        n_active += !degenerate;
    }

    /* The evaluations (a square root each) in a loop of their own, the steps from them (a
     * division each) in the next: each loop's chains of dependent operations are then short
     * enough for the CPU to overlap those of many problems (in one loop each problem's long
     * chain waits on the last, and the root search takes about a fifth longer). */
    for (int step = 0; step <= LWL_MAX_ROOT_STEPS && n_active > 0; step++)
        n_active = lwl_roots_evaluate(&r, m) ? lwl_roots_step(&r, m, 1)
                                             : lwl_roots_step(&r, m, 0);
    for (int p = 0; p < m; p++)
        e[p] = r.er[p];
}

#endif
