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
 * inside the bracket, bisect otherwise (on the better-conditioned function k_of_e below).
 *
 * Degenerate case (eq 18 fails: x = w, or x = -w after the flip, i.e. B = 0).  Then h0 has
 * no pole at u = -1 and may stay positive on (-1, 0]; the nearest points are then the whole
 * family u = -1: x' + w' = (x + w) / 2, y' = y + omega / g2, and x' - w' = d for any d with
 * |d|^2 = A - 4 omega y' (all equally near).  We take d along x + w (along (1, ..., 1) when
 * x = w = 0), the limit of the non-degenerate projection as x - w -> 0 along x + w.
 * Nothing divides by zero in any case.
 */
#include <math.h>
#include "lwl.h"

#define MAX_ROOT_STEPS 100
#define NEWTON_STOP 1e-10

/* The root is sought as the zero of
 *     k(e) = e - sqrt(B / D(e)),   D(e) = A / (2 - e)^2 - T + c (e - 1),
 * which has the same zero as h0 in e (h0 = D - B / e^2) and is increasing, but nearly linear
 * where the pole term dominates, so Newton needs few steps.  k = -inf where D <= 0 (the
 * root lies to the right).  With B = 0 the zero of D itself is sought. */
static void k_of_e(double e, double A, double B, double T, double c, double *k, double *dk)
{
    double a = 1.0 / (2.0 - e);
    double D = A * a * a - T + c * (e - 1.0);
    double dD = 2.0 * A * a * a * a + c;
    if (B == 0.0) {
        *k = D;
        *dk = dD;
    } else if (D <= 0.0) {
        *k = -HUGE_VAL;
        *dk = 1.0;
    } else {
        double inv_d = 1.0 / D;
        double s = sqrt(B * inv_d);
        *k = e - s;
        *dk = 1.0 + 0.5 * s * dD * inv_d;
    }
}

/* Root e in (0, 1] of k_of_e, given h0(e = 1) >= 0 and either B > 0 (h0 -> -inf as e -> 0)
 * or h0(0+) < 0: safeguarded Newton / bisection from e0 in (0, 1] (1 is u = 0, appendix B's
 * start; RRR passes the previous iteration's root, which is usually a step or two away),
 * bracketed by 0 or 1 according to the sign of k(e0). */
static double root_e(double A, double B, double T, double c, double e0)
{
    double ea = e0, k, dk;
    k_of_e(ea, A, B, T, c, &k, &dk);
    double eb = k > 0.0 ? 0.0 : 1.0; /* bracketing bound: k(0+) < 0 <= k(1) */
    for (int step = 0; step < MAX_ROOT_STEPS && k != 0.0; step++) {
        double lo = ea < eb ? ea : eb, hi = ea < eb ? eb : ea;
        double en = ea - k / dk;
        int inside = en > lo && en < hi;
        if (inside && fabs(en - ea) <= NEWTON_STOP * ea)
            return en; /* next step would be below rounding: quadratic convergence */
        if (!inside)
            en = 0.5 * (ea + eb);
        double kn, dkn;
        k_of_e(en, A, B, T, c, &kn, &dkn);
        if ((kn > 0.0) != (k > 0.0))
            eb = ea;
        ea = en;
        k = kn;
        dk = dkn;
        if (fabs(ea - eb) <= 1e-15 * ea)
            break;
    }
    return ea;
}

double lwl_bilinear_project_from(int n, double *x, double *w, double *y, double omega,
                                 double inv_g2, double u0)
{
    double A = 0.0, B = 0.0;
    for (int i = 0; i < n; i++) {
        double s = x[i] + w[i], r = x[i] - w[i];
        A += s * s;
        B += r * r;
    }
    A *= 0.25;
    B *= 0.25;
    double T = omega * *y, c = omega * omega * inv_g2;

    /* Flip w -> -w when the root lies in (0, 1): then sgn = -1. */
    double sgn = 1.0;
    if (A - B - T < 0.0) {
        double tmp = A;
        A = B;
        B = tmp;
        T = -T;
        sgn = -1.0;
    }

    if (B == 0.0 && A * 0.25 - T - c >= 0.0) {
        /* Degenerate: x = sgn w.  Family u = -1 of the flipped problem. */
        double d2 = A - 4.0 * (T + c);
        double dnorm = sqrt(d2 > 0.0 ? d2 : 0.0);
        double snorm = 2.0 * sqrt(A); /* |x + sgn w| */
        double dir_default = 1.0 / sqrt((double)n);
        for (int i = 0; i < n; i++) {
            double s = x[i] + sgn * w[i];
            double dir = snorm > 0.0 ? s / snorm : dir_default;
            double xp = 0.25 * s + 0.5 * dnorm * dir;
            double wp = 0.25 * s - 0.5 * dnorm * dir;
            x[i] = xp;
            w[i] = sgn * wp;
        }
        *y += sgn * omega * inv_g2;
        return -sgn;
    }

    double uf0 = sgn * u0; /* warm start in the flipped frame, used if on the root's side */
    double e = root_e(A, B, T, c, (uf0 <= 0.0 && uf0 > -1.0) ? 1.0 + uf0 : 1.0);
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

double lwl_bilinear_project(int n, double *x, double *w, double *y, double omega, double inv_g2)
{
    return lwl_bilinear_project_from(n, x, w, y, omega, inv_g2, 0.0);
}

void lwl_bilinear_project_many(int m, int n, double *x, double *w, double *y, double omega,
                               double inv_g2, double *u_out)
{
    for (int k = 0; k < m; k++) {
        double u = lwl_bilinear_project(n, x + (long)k * n, w + (long)k * n, y + k, omega, inv_g2);
        if (u_out)
            u_out[k] = u;
    }
}
