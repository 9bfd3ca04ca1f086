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

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && __GNUC__ >= 9 && !defined(LWL_NO_CLONES)
#define LWL_CLONES 1
#define LWL_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LWL_HOT
#endif

/* Before a loop over lanes whose arrays the compiler cannot prove distinct (they are). */
#if defined(__GNUC__) && !defined(__clang__)
#define LWL_IVDEP _Pragma("GCC ivdep")
#else
#define LWL_IVDEP
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

/* k(e) = e - sqrt(B / D(e)),  D(e) = A / (2 - e)^2 - T + c (e - 1), its derivative, and
 * D, dD/de, without branches: k = -inf where D <= 0 (the root lies to the right), k = D when
 * B = 0 (then the zero of D is sought).  See bilinear.c for why k rather than h0. */
LWL_INLINE void lwl_k_of_e(double e, double A, double B, double T, double c, double *k,
                           double *dk, double *D_out, double *dD_out)
{
    double a = 1.0 / (2.0 - e);
    double D = A * a * a - T + c * (e - 1.0);
    double dD = 2.0 * A * a * a * a + c;
    double inv_d = 1.0 / D;
    double r = B * inv_d;
    double s = sqrt(r > 0.0 ? r : 0.0);
    double kv = e - s, dkv = 1.0 + 0.5 * s * dD * inv_d;
    kv = D > 0.0 ? kv : -HUGE_VAL;
    dkv = D > 0.0 ? dkv : 1.0;
    *k = B == 0.0 ? D : kv;
    *dk = B == 0.0 ? dD : dkv;
    *D_out = D;
    *dD_out = dD;
}

/* The next point of the safeguarded Newton search from a point ea with k(ea), dk(ea),
 * bracket lo < root <= hi and the D, dD/de of hi (see lwl_roots_lockstep).  *fin = 1 when
 * that Newton step is below LWL_NEWTON_STOP: quadratic convergence, the point is then the
 * root to rounding (kept in the closed bracket: the root can be e = 1, u = 0, exactly, as at
 * the start of a batch, where the point may round onto the bound). */
LWL_INLINE double lwl_next_point(double ea, double k, double dk, double lo, double hi, double Dh,
                                 double dDh, double B, int use_phi, int *fin)
{
    double phi = hi * hi * Dh - B, dphi = 2.0 * hi * Dh + hi * hi * dDh;
    double base = use_phi ? hi : ea;
    double en = base - (use_phi ? phi : k) / (use_phi ? dphi : dk);
    int inside = (en > lo) & (en < hi);
    int small = fabs(en - base) <= LWL_NEWTON_STOP * base;
    double en_in = en < lo ? lo : (en > hi ? hi : en);
    *fin = small;
    return small ? en_in : (inside ? en : 0.5 * (lo + hi));
}

/* Roots of m <= LWL_ROOT_BLOCK problems in lockstep (appendix B, safeguarded Newton).
 *
 * Problem p is given unflipped: A = |x + w|^2 / 4, B = |x - w|^2 / 4, T = omega y,
 * c = omega^2 / g2, and a warm start u0 (u0 may alias e).  On return e[p] in (0, 1] and
 * sgn[p] = +-1 give the root u = sgn (e - 1); e[p] = 0 flags the degenerate case (x = sgn w
 * with no root inside: u = -sgn).
 *
 * Each problem keeps a bracket lo < root <= hi (k(lo) < 0 <= k(hi); initially 0 and 1, or
 * the warm start on its side) and takes Newton steps on k, bisecting when a step leaves the
 * bracket.  k is concave when T > 0, so a step from the right of the root can overshoot
 * into the region D <= 0 where k = -inf; the root then lies just right of the zero of D,
 * and bisection would need many halvings to find the thin window between the two.  So once
 * such an overshoot has been seen, the steps are Newton steps from the right end hi on
 * phi(e) = e^2 D(e) - B, which has the same root and is convex and increasing where D > 0:
 * they approach the root from the right, monotonically and quadratically near it.
 *
 * Each pass evaluates k at every unfinished problem's next point and then decides the
 * point after it, so a problem finishes in the pass whose evaluation makes the next Newton
 * step negligible.  The passes are branch-free loops over the problems (a finished problem
 * keeps its values), so the divisions and square roots of several problems run in one
 * vector instruction. */
LWL_INLINE void lwl_roots_lockstep(int m, const double *restrict A, const double *restrict B,
                                   const double *restrict T, const double *restrict c,
                                   const double *u0, double *e, double *restrict sgn)
{
    double a[LWL_ROOT_BLOCK], b[LWL_ROOT_BLOCK], t[LWL_ROOT_BLOCK], cc[LWL_ROOT_BLOCK];
    double lo[LWL_ROOT_BLOCK], hi[LWL_ROOT_BLOCK], Dh[LWL_ROOT_BLOCK], dDh[LWL_ROOT_BLOCK];
    double bad[LWL_ROOT_BLOCK], done[LWL_ROOT_BLOCK], er[LWL_ROOT_BLOCK];
    double n_active = 0.0;

    for (int p = 0; p < m; p++) {
        /* Flip w -> -w when the root lies in (0, 1): then sgn = -1. */
        int flip = A[p] - B[p] - T[p] < 0.0;
        double s = flip ? -1.0 : 1.0;
        double ap = flip ? B[p] : A[p], bp = flip ? A[p] : B[p], tp = flip ? -T[p] : T[p];
        double uf0 = s * u0[p];
        double e0 = ((uf0 <= 0.0) & (uf0 > -1.0)) ? 1.0 + uf0 : 1.0;
        double k0, dk0, D0, dD0;
        lwl_k_of_e(e0, ap, bp, tp, c[p], &k0, &dk0, &D0, &dD0);
        int degenerate = (bp == 0.0) & (0.25 * ap - tp - c[p] >= 0.0);
        int right = k0 > 0.0;
        /* k(0+) < 0 <= k(1): at e = 1, D = A - T and dD = 2 A + c */
        double lop = right ? 0.0 : e0, hip = right ? e0 : 1.0;
        double Dhp = right ? D0 : ap - tp, dDhp = right ? dD0 : 2.0 * ap + c[p];
        int use_phi = D0 <= 0.0, small;
        double en = lwl_next_point(e0, k0, dk0, lop, hip, Dhp, dDhp, bp, use_phi, &small);
        sgn[p] = s;
        a[p] = ap;
        b[p] = bp;
        t[p] = tp;
        cc[p] = c[p];
        lo[p] = lop;
        hi[p] = hip;
        Dh[p] = Dhp;
        dDh[p] = dDhp;
        bad[p] = use_phi ? 1.0 : 0.0;
        er[p] = degenerate ? 0.0 : (k0 == 0.0 ? e0 : en);
        done[p] = (degenerate | (k0 == 0.0) | small) ? 1.0 : 0.0;
        n_active += 1.0 - done[p];
    }

    for (int step = 0; step < LWL_MAX_ROOT_STEPS && n_active > 0.0; step++) {
        n_active = 0.0;
        for (int p = 0; p < m; p++) {
            double ep = er[p], kn, dkn, Dn, dDn;
            lwl_k_of_e(ep, a[p], b[p], t[p], cc[p], &kn, &dkn, &Dn, &dDn);
            int right = kn > 0.0;
            double lon = right ? lo[p] : ep, hin = right ? ep : hi[p];
            double Dhn = right ? Dn : Dh[p], dDhn = right ? dDn : dDh[p];
            int use_phi = (bad[p] != 0.0) | (Dn <= 0.0), small;
            double en = lwl_next_point(ep, kn, dkn, lon, hin, Dhn, dDhn, b[p], use_phi, &small);
            int root = (kn == 0.0) | (hin - lon <= 1e-15 * hin);
            int live = done[p] == 0.0;
            er[p] = live ? (root ? ep : en) : er[p];
            lo[p] = live ? lon : lo[p];
            hi[p] = live ? hin : hi[p];
            Dh[p] = live ? Dhn : Dh[p];
            dDh[p] = live ? dDhn : dDh[p];
            bad[p] = (live & use_phi) ? 1.0 : bad[p];
            done[p] = (live & !(root | small)) ? 0.0 : 1.0;
            n_active += 1.0 - done[p];
        }
    }
    for (int p = 0; p < m; p++)
        e[p] = er[p];
}

#endif
