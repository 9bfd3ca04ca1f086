"""The bilinear projection (eq 16-19, 26h, appendix B): constraint, nearest point, idempotence."""
import numpy as np
import pytest
from scipy.optimize import minimize

from lwl._core import lib, ptr


def project(x, w, y, omega=1.0, g2=np.inf, u0=None):
    x, w = np.array(x, float), np.array(w, float)
    yy = np.array([y], float)
    inv_g2 = 0.0 if np.isinf(g2) else 1.0 / g2
    if u0 is None:
        u = lib.lwl_bilinear_project(len(x), ptr(x), ptr(w), ptr(yy), omega, inv_g2)
    else:
        u = lib.lwl_bilinear_project_from(len(x), ptr(x), ptr(w), ptr(yy), omega, inv_g2, u0)
    return x, w, yy[0], u


def distance2(x, w, y, xp, wp, yp, g2):
    d = np.sum((xp - x) ** 2) + np.sum((wp - w) ** 2)
    return d if np.isinf(g2) else d + g2 * (yp - y) ** 2


def brute_force(x, w, y, omega, g2, starts):
    """Nearest point by local minimisation from many starts (y' eliminated when g2 is finite)."""
    n = len(x)
    best = np.inf
    for z0 in starts:
        if np.isinf(g2):
            res = minimize(lambda z: np.sum((z[:n] - x) ** 2) + np.sum((z[n:] - w) ** 2), z0,
                           jac=lambda z: 2 * np.concatenate([z[:n] - x, z[n:] - w]),
                           constraints=[{"type": "eq", "fun": lambda z: z[:n] @ z[n:] - omega * y,
                                         "jac": lambda z: np.concatenate([z[n:], z[:n]])}],
                           method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
            if abs(res.x[:n] @ res.x[n:] - omega * y) < 1e-8:
                best = min(best, res.fun)
        else:
            def f(z):
                r = z[:n] @ z[n:] / omega - y
                return np.sum((z[:n] - x) ** 2) + np.sum((z[n:] - w) ** 2) + g2 * r * r

            def jac(z):
                r = z[:n] @ z[n:] / omega - y
                return np.concatenate([2 * (z[:n] - x) + 2 * g2 * r * z[n:] / omega,
                                       2 * (z[n:] - w) + 2 * g2 * r * z[:n] / omega])
            res = minimize(f, z0, jac=jac, method="BFGS", options={"gtol": 1e-12})
            best = min(best, res.fun)
    return best


def random_case(rng, n, kind):
    x = rng.normal(size=n)
    if kind == "generic":
        w = rng.normal(size=n)
    elif kind == "near_plus":      # q close to 2p: x close to w
        w = x + 1e-5 * rng.normal(size=n)
    else:                          # q close to -2p: x close to -w
        w = -x + 1e-5 * rng.normal(size=n)
    return x, w, rng.normal() * 2


CASES = [(n, kind, omega, g2, seed)
         for n in (1, 2, 3, 6)
         for kind in ("generic", "near_plus", "near_minus")
         for omega, g2 in ((1.0, np.inf), (2.0, np.inf), (1.0, 1.0), (2.0, 3.0), (0.5, 10.0))
         for seed in range(2)]


@pytest.mark.parametrize("n,kind,omega,g2,seed", CASES)
def test_projection_is_on_constraint_and_nearest(n, kind, omega, g2, seed):
    rng = np.random.default_rng(1000 * n + seed)
    x, w, y = random_case(rng, n, kind)
    xp, wp, yp, u = project(x, w, y, omega, g2)
    assert -1 < u < 1
    if np.isinf(g2):
        assert yp == y
    scale = max(1.0, abs(omega * yp), np.dot(xp, xp) + np.dot(wp, wp))
    assert abs(xp @ wp - omega * yp) <= 1e-10 * scale
    ours = distance2(x, w, y, xp, wp, yp, g2)
    starts = [np.concatenate([xp, wp]), np.concatenate([x, w])]
    starts += [np.concatenate([x, w]) + rng.normal(size=2 * n) for _ in range(4)]
    best = brute_force(x, w, y, omega, g2, starts)
    assert ours <= best * (1 + 1e-7) + 1e-12


@pytest.mark.parametrize("omega,g2", [(1.0, np.inf), (2.0, 1.0)])
def test_projection_is_idempotent(omega, g2):
    rng = np.random.default_rng(7)
    for _ in range(50):
        x, w, y = random_case(rng, 4, "generic")
        p1 = project(x, w, y, omega, g2)
        p2 = project(p1[0], p1[1], p1[2], omega, g2)
        np.testing.assert_allclose(p2[0], p1[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(p2[1], p1[1], rtol=1e-9, atol=1e-12)
        assert abs(p2[2] - p1[2]) <= 1e-9 * max(1, abs(p1[2]))
        assert abs(p2[3]) < 1e-9  # a point on the constraint has multiplier 0


def test_warm_start_gives_the_same_root():
    rng = np.random.default_rng(3)
    for _ in range(200):
        x, w, y = random_case(rng, 5, "generic")
        ref = project(x, w, y, 1.5, 2.0)
        for u0 in (-0.99, -0.3, 0.0, 0.4, 0.999):
            got = project(x, w, y, 1.5, 2.0, u0=u0)
            np.testing.assert_allclose(got[0], ref[0], rtol=1e-9, atol=1e-12)
            assert abs(got[3] - ref[3]) < 1e-10


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("omega,g2", [(1.0, np.inf), (2.0, 1.5)])
def test_degenerate_x_equals_plus_minus_w(sign, omega, g2):
    """q = 2|p| (eq 18 fails): the nearest points form a family; we return one of them."""
    rng = np.random.default_rng(11)
    for y in (-3.0, -0.1, 0.0, 0.05, 2.0):
        x = rng.normal(size=3)
        w = sign * x
        xp, wp, yp, u = project(x, w, y, omega, g2)
        assert np.all(np.isfinite(xp)) and np.all(np.isfinite(wp)) and np.isfinite(yp)
        scale = max(1.0, np.dot(xp, xp) + np.dot(wp, wp))
        assert abs(xp @ wp - omega * yp) <= 1e-10 * scale
        ours = distance2(x, w, y, xp, wp, yp, g2)
        starts = [np.concatenate([x, w]) + rng.normal(size=6) for _ in range(8)]
        assert ours <= brute_force(x, w, y, omega, g2, starts) * (1 + 1e-7) + 1e-12


@pytest.mark.parametrize("omega,g2", [(1.0, np.inf), (2.0, 1.5)])
def test_zero_vectors_do_not_divide_by_zero(omega, g2):
    for y in (-1.0, 0.0, 1.0):
        xp, wp, yp, u = project(np.zeros(4), np.zeros(4), y, omega, g2)
        assert np.all(np.isfinite(xp)) and np.all(np.isfinite(wp))
        assert abs(xp @ wp - omega * yp) <= 1e-12 * max(1, abs(y))


def test_degenerate_choice_is_the_limit_of_nearby_problems():
    """The documented choice (d along x + w) is the limit as x - w -> 0 along x + w."""
    x = np.array([0.3, 0.5, -0.2])
    xp, wp, _, _ = project(x, x, -0.4)
    for eps in (1e-4, 1e-6):
        xq, wq, _, _ = project(x * (1 + eps), x * (1 - eps), -0.4)
        np.testing.assert_allclose(xq, xp, atol=10 * eps)
        np.testing.assert_allclose(wq, wp, atol=10 * eps)
