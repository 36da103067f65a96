"""The optimizer's compiled kernels (numba) against its numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures.rigs import random_rig
from triangulate._kernels import HAVE_NUMBA
from triangulate.api import triangulate
from triangulate.normal_system import _System
from triangulate.optimize import _Problem

from .synthetic import make_scene

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")


def _problems(n_dist: int, lam: float = 3.0, d: int = 2):
    """One chunk's problem with the numpy and with the compiled path, and a start."""
    sc = make_scene(n_frames=40, n_cams=4, seed=20 + n_dist)
    rng = np.random.default_rng(n_dist)
    rig = random_rig(rng, 4, n_dist=n_dist) if n_dist != 5 else sc.rig
    X = sc.truth + rng.normal(0, 0.5, sc.truth.shape)
    pix = rig.project(sc.truth) + rng.normal(0, 2.0, (4,) + sc.truth.shape[:2] + (2,))
    pix[1, :5] = np.nan
    w = rng.uniform(0.3, 1.0, pix.shape[:3])
    w[2, 10:14] = 0.0
    limbs = np.array(sc.skeleton.limb_indices())
    lengths = np.asarray(sc.limb_lengths, dtype=float)
    tols = np.full(len(limbs), 0.05)
    args = (rig, pix, w, limbs, lengths, tols, lam, d, 10.0 / 3)
    return _Problem(*args, kernel=False), _Problem(*args, kernel=True), X


@pytest.mark.parametrize("n_dist", [5, 8, 12])
def test_cost_and_normal_equations_match_numpy(n_dist):
    ref, fast, X = _problems(n_dist)
    assert ref.cam is None and fast.cam is not None
    np.testing.assert_allclose(fast.cost(X), ref.cost(X), rtol=1e-11)
    for a, b in zip(fast.normal_equations(X), ref.normal_equations(X), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(b).max())


@pytest.mark.parametrize("lam, d", [(3.0, 2), (0.5, 1), (0.0, 2), (2.0, 3)])
def test_matvec_and_track_solve_match_numpy(lam, d):
    ref, _, X = _problems(5, lam, d)
    B, g, K = ref.normal_equations(X)
    F, J = X.shape[:2]
    a = _System(B, ref.limbs, K, lam, d, F, J, schwarz=True, kernel=False)
    b = _System(B, ref.limbs, K, lam, d, F, J, schwarz=True, kernel=True)
    v = np.random.default_rng(1).normal(size=X.shape)
    np.testing.assert_allclose(b.matvec(v), a.matvec(v), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b._track_solve(v), a._track_solve(v), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.precondition(v), a.precondition(v), rtol=1e-8, atol=1e-12)


def test_optim_kernel_matches_numpy(small_scene):
    sc = small_scene
    kw = dict(method="optim", skeleton=sc.skeleton)
    a = triangulate(sc.rig, sc.points2d, sc.scores, kernel=True, **kw)
    b = triangulate(sc.rig, sc.points2d, sc.scores, kernel=False, **kw)
    np.testing.assert_allclose(a.points3d, b.points3d, atol=1e-6)
    np.testing.assert_array_equal(a.inliers, b.inliers)
    np.testing.assert_allclose(a.uncertainty, b.uncertainty, rtol=1e-6)


def test_compiled_pcg_matches_numpy():
    from triangulate.normal_system import _pcg

    ref, _, X = _problems(5)
    B, g, K = ref.normal_equations(X)
    F, J = X.shape[:2]
    a = _System(B, ref.limbs, K, 3.0, 2, F, J, schwarz=False, kernel=False)
    b = _System(B, ref.limbs, K, 3.0, 2, F, J, schwarz=False, kernel=True)
    xa, na = _pcg(a, -g)
    xb, nb = _pcg(b, -g)
    assert na == nb
    np.testing.assert_allclose(xb, xa, rtol=1e-7, atol=1e-10 * np.abs(xa).max())


@pytest.mark.parametrize("n_dist", [5, 12])
def test_projection_matches_rig(n_dist):
    ref, fast, X = _problems(n_dist)
    np.testing.assert_allclose(fast.project(X), ref.project(X), rtol=0, atol=1e-9)
