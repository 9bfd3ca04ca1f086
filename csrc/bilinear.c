/*
 * bilinear.c -- projection to x'.w' = omega y' (paper eq 16-19, 26h; appendix B).
 *
 * With the Lagrange multiplier u the stationarity conditions give (eq 19)
 *     x' = (x + u w) / (1 - u^2),   w' = (w + u x) / (1 - u^2),   y' = y - u omega / g2,
 * and u is the unique root in (-1, 1) of (eq 52)
 *     h0(u) = (p (1 + u^2) + q u) / (1 - u^2)^2 - omega y + (omega^2 / g2) u.
 * Writing A = |x + w|^2 / 4, B = |x - w|^2 / 4 (so p = A - B, q = 2 (A + B)):
 *     h0(u) = A / (1 - u)^2 - B / (1 + u)^2 - T + c u,   T = omega y,  c = omega^2 / g2.
 * A and B are summed from x + w and x - w directly, so nothing cancels when x is close to
 * +-w (q close to 2|p|, eq 18).
 *
 * Root finding.  h0(0) = A - B - T decides the side of the root.  If it lies in (-1, 0] we
 * solve for e = 1 + u in (0, 1]; otherwise we flip w -> -w, T -> -T, which maps the root
 * to (-1, 0) as well, and solve the same problem.  Working in e keeps full relative
 * precision of 1 + u when the root approaches the pole (x close to w), where x' depends on
 * (x - w) / (1 + u).  The root is found by the safeguarded Newton / bisection of appendix B:
 * start at u = 0 (e = 1), bracket with the pole (e = 0), take the Newton step when it stays
 * inside the bracket, bisect otherwise (on the better-conditioned function k of lanes.h).
 *
 * Degenerate case (eq 18 fails: x = w, or x = -w after the flip, i.e. B = 0).  Then h0 has
 * no pole at u = -1 and may stay positive on (-1, 0]; the nearest points are then the whole
 * family u = -1: x' + w' = (x + w) / 2, y' = y + omega / g2, and x' - w' = d for any d with
 * |d|^2 = A - 4 omega y' (all equally near).  We take d along x + w (along (1, ..., 1) when
 * x = w = 0), the limit of the non-degenerate projection as x - w -> 0 along x + w.
 * Nothing divides by zero in any case.
 */
#include <math.h>
#include "lwl_internal.h"
#include "lanes.h"
#include "fpmode.h"

/* A = |x + w|^2 / 4, B = |x - w|^2 / 4. */
static void bilinear_sums(int n, const double *x, const double *w, double *A, double *B)
{
    double sa = 0.0, sb = 0.0;
    for (int i = 0; i < n; i++) {
        double s = x[i] + w[i], r = x[i] - w[i];
        sa += s * s;
        sb += r * r;
    }
    *A = 0.25 * sa;
    *B = 0.25 * sb;
}

double lwl_bilinear_apply(int n, double *x, double *w, double *y, double omega, double inv_g2,
                          double e, double sgn)
{
    if (e == 0.0) {
        /* Degenerate: x = sgn w.  Family u = -1 of the flipped problem. */
        double A, B;
        double c = omega * omega * inv_g2, T = sgn * omega * *y;
        for (int i = 0; i < n; i++)
            w[i] *= sgn;
        bilinear_sums(n, x, w, &A, &B);
        double d2 = A - 4.0 * (T + c);
        double dnorm = sqrt(d2 > 0.0 ? d2 : 0.0);
        double snorm = 2.0 * sqrt(A); /* |x + sgn w| */
        double dir_default = 1.0 / sqrt((double)n);
        for (int i = 0; i < n; i++) {
            double s = x[i] + w[i];
            double dir = snorm > 0.0 ? s / snorm : dir_default;
            x[i] = 0.25 * s + 0.5 * dnorm * dir;
            w[i] = sgn * (0.25 * s - 0.5 * dnorm * dir);
        }
        *y += sgn * omega * inv_g2;
        return -sgn;
    }
    /* Flipped frame: u = e - 1, 1 - u^2 = e (2 - e);
     * x' = ((x - ws) + e ws) / (e (2 - e)),  ws' = ((ws - x) + e x) / (e (2 - e)),  ws = sgn w. */
    double f = 1.0 / (e * (2.0 - e));
    for (int i = 0; i < n; i++) {
        double ws = sgn * w[i];
        double r = x[i] - ws;
        double xp = (r + e * ws) * f;
        double wp = (e * x[i] - r) * f;
        x[i] = xp;
        w[i] = sgn * wp;
    }
    double u = sgn * (e - 1.0);
    *y -= u * omega * inv_g2;
    return u;
}

static LWL_NOINLINE double project_from(int n, double *x, double *w, double *y, double omega,
                                        double inv_g2, double u0)
{
    double A, B, T = omega * *y, c = omega * omega * inv_g2, e, sgn;
    bilinear_sums(n, x, w, &A, &B);
    lwl_roots_lockstep(1, &A, &B, &T, &c, &u0, &e, &sgn);
    return lwl_bilinear_apply(n, x, w, y, omega, inv_g2, e, sgn);
}

double lwl_bilinear_project_from(int n, double *x, double *w, double *y, double omega,
                                 double inv_g2, double u0)
{
    lwl_fp_saved fp = lwl_fp_enter(); /* IEEE default mode, the caller's restored (fpmode.h) */
    double u = project_from(n, x, w, y, omega, inv_g2, u0);
    lwl_fp_leave(fp);
    return u;
}

double lwl_bilinear_project(int n, double *x, double *w, double *y, double omega, double inv_g2)
{
    return lwl_bilinear_project_from(n, x, w, y, omega, inv_g2, 0.0);
}
