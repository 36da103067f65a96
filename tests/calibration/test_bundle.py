"""Bundle adjustment on synthetic board views: accuracy, outliers, Jacobian, determinism."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from calibration import Board, CalibrationError, Camera, CameraRig
from calibration.bundle import bundle_adjust
from calibration.bundle_jacobian import BundleModel, distortion_slots, right_jacobian
from calibration.rotation import matrix_to_rodrigues, rodrigues_to_matrix, rotation_angle_deg
from tests.fixtures.rigs import random_rig

BOARD = Board("charuco", 7, 5, square_length=60.0, marker_length=45.0)


def ring_rig(rng: np.random.Generator, n_cams: int, fisheye: bool = False) -> CameraRig:
    """Cameras on a 1.5 m ring at varied heights, all looking at the origin (mm)."""
    cams = []
    for i in range(n_cams):
        a = 2 * np.pi * i / n_cams + rng.normal(0, 0.1)
        center = np.array([1500 * np.cos(a), 1500 * np.sin(a), rng.uniform(-400, 400)])
        z = -center / np.linalg.norm(center)
        x = np.cross(z, [0, 0, 1.0])
        x /= np.linalg.norm(x)
        R = np.stack([x, np.cross(z, x), z])
        f = rng.uniform(1100, 1500) if not fisheye else rng.uniform(500, 600)
        K = np.array([[f, 0, 640 + rng.normal(0, 15)], [0, f * rng.uniform(0.99, 1.01),
                      512 + rng.normal(0, 15)], [0, 0, 1]])
        if fisheye:
            dist = rng.normal(0, [0.05, 0.02, 0.01, 0.005])
        else:
            dist = np.array([rng.uniform(-0.25, 0.05), rng.normal(0, 0.05), rng.normal(0, 1e-3),
                             rng.normal(0, 1e-3), rng.normal(0, 0.02)])
        cams.append(Camera(f"cam_{i}", (1280, 1024), K, dist, matrix_to_rodrigues(R),
                           -R @ center, fisheye=fisheye))
    return CameraRig(cams)


def board_scene(rng: np.random.Generator, rig: CameraRig, n_views: int, noise_px: float = 0.3,
                outlier_fraction: float = 0.0):
    """Random board poses between the origin and a random camera, tilted toward it; corners
    seen by every camera the board faces (within 70 deg) where at least 6 fall in the image.

    Returns
    -------
    obj : (24, 3); cam, view, pt : (n_obs,); obs : (n_obs, 2) px; rvecs, tvecs : (n_views, 3);
    outlier : (n_obs,) bool
    """
    obj = BOARD.object_points() - [240.0, 180.0, 0.0]  # board origin near its centre
    centers = rig.centers
    rvecs, tvecs, cam, view, pt, pix = [], [], [], [], [], []
    while len(rvecs) < n_views:
        c0 = centers[rng.integers(rig.n_cams)]
        t = c0 * rng.uniform(0.0, 0.55) + rng.normal(0, 200, 3)  # 0.7-1.6 m from camera c0
        n = c0 - t + rng.normal(0, 600, 3)
        n /= np.linalg.norm(n)  # board normal, tilted up to ~45 deg from camera c0
        x = np.cross(n, rng.normal(0, 1, 3))
        x /= np.linalg.norm(x)
        R = np.stack([x, np.cross(n, x), n], axis=1)  # board z axis = n
        world = obj @ R.T + t
        v = len(rvecs)
        seen = 0
        for c, cam_ in enumerate(rig):
            to_cam = cam_.center - t
            if np.dot(to_cam, n) < np.cos(np.radians(70)) * np.linalg.norm(to_cam):
                continue
            p = cam_.project(world)
            ok = cam_.in_image(p, margin=5)
            if ok.sum() < 6:
                continue
            k = np.flatnonzero(ok)
            cam += [c] * len(k)
            view += [v] * len(k)
            pt += list(k)
            pix.append(p[k])
            seen += 1
        if seen == 0:
            continue
        rvecs.append(matrix_to_rodrigues(R))
        tvecs.append(t)
    obs = np.concatenate(pix) + rng.normal(0, noise_px, (len(cam), 2))
    outlier = rng.random(len(obs)) < outlier_fraction
    angle = rng.uniform(0, 2 * np.pi, outlier.sum())
    obs[outlier] += rng.uniform(15, 60, outlier.sum())[:, None] * np.c_[np.cos(angle),
                                                                         np.sin(angle)]
    return (obj, np.array(cam), np.array(view), np.array(pt), obs, np.array(rvecs),
            np.array(tvecs), outlier)


def perturb(rng, rig: CameraRig, rvecs, tvecs, keep_first_pose: bool = True):
    """Cameras off by ~2 deg, ~5 % translation, ~3 % focal, 10 px principal point, no
    distortion; board poses off by ~2 deg and 10 mm."""
    cams = []
    for c, cam in enumerate(rig):
        K = cam.matrix.copy()
        K[0, 0] *= 1 + rng.normal(0, 0.03)
        K[1, 1] *= 1 + rng.normal(0, 0.03)
        K[:2, 2] += rng.normal(0, 10, 2)
        new = cam.copy(matrix=K, dist=np.zeros_like(cam.dist))
        if c > 0 or not keep_first_pose:
            new.R = rodrigues_to_matrix(rng.normal(0, np.radians(2 / np.sqrt(3)), 3)) @ cam.R
            new.tvec = cam.tvec + rng.normal(0, 0.05 / np.sqrt(3), 3) * np.linalg.norm(cam.tvec)
        cams.append(new)
    R = rodrigues_to_matrix(rng.normal(0, np.radians(2 / np.sqrt(3)), (len(rvecs), 3)))
    rv = matrix_to_rodrigues(R @ rodrigues_to_matrix(rvecs))
    return CameraRig(cams), rv, tvecs + rng.normal(0, 10, tvecs.shape)


def align_rig(est: CameraRig, truth: CameraRig) -> tuple[np.ndarray, np.ndarray]:
    """Rotations ``(n_cams, 3, 3)`` and centres ``(n_cams, 3)`` of ``est`` after the rigid world
    transform that best maps its cameras (centres and 200 mm axis tips) onto ``truth``'s
    (Kabsch); removes the gauge error that camera 0's own intrinsics error carries."""
    def tips(rig):  # rows of R are the camera axes in world coordinates
        return np.concatenate([np.r_[[c.center], c.center + 200 * c.R] for c in rig])

    a, b = tips(est), tips(truth)
    ca, cb = a.mean(0), b.mean(0)
    U, _, Vt = np.linalg.svd((b - cb).T @ (a - ca))
    Q = U @ np.diag([1, 1, np.linalg.det(U @ Vt)]) @ Vt  # est world -> truth world
    return est.rotations @ Q.T, (est.centers - ca) @ Q.T + cb


@pytest.fixture(scope="module")
def solved():
    rng = np.random.default_rng(7)
    truth = ring_rig(rng, 6)
    obj, cam, view, pt, obs, rv, tv, outlier = board_scene(rng, truth, 1000,
                                                           outlier_fraction=0.01)
    start, rv0, tv0 = perturb(rng, truth, rv, tv)
    t0 = time.perf_counter()
    res = bundle_adjust(start, obj, cam, view, pt, obs, rv0, tv0, outlier_threshold_px=2.0)
    return truth, res, outlier, (cam, rv, tv), time.perf_counter() - t0


def test_recovers_intrinsics_and_poses(solved):
    truth, res, _, (cam, *_), seconds = solved
    print(f"\n{len(cam)} observations, {truth.n_cams} cameras: {seconds:.2f} s, "
          f"{res.n_iterations} iterations; {res.message}")
    assert res.converged
    assert [c.name for c in res.rig] == truth.names and res.rig.units == truth.units
    for est, ref in zip(res.rig, truth, strict=True):
        np.testing.assert_allclose(est.focal, ref.focal, rtol=2e-3)
        np.testing.assert_allclose(est.principal_point, ref.principal_point, atol=2.0)
        assert est.dist.size == 5
    # camera 0 is the gauge: its pose is exact, the others are compared directly ...
    assert np.all(rotation_angle_deg(res.rig.rotations, truth.rotations) < 0.2)
    assert np.all(np.linalg.norm(res.rig.centers - truth.centers, axis=1) < 6.0)  # mm at 1.5 m
    # ... and after a rigid alignment, which removes camera 0's share of the error
    R, centers = align_rig(res.rig, truth)
    assert np.all(rotation_angle_deg(R, truth.rotations) < 0.1)
    assert np.all(np.linalg.norm(centers - truth.centers, axis=1) < 3.0)
    err = np.linalg.norm(res.residuals, axis=1)
    assert np.median(err[res.inlier]) < 0.5


def test_flags_outliers(solved):
    _, res, outlier, *_ = solved
    assert not np.any(res.inlier & outlier)  # every gross outlier flagged
    assert res.inlier[~outlier].mean() > 0.99  # few good corners lost
    assert res.residuals.shape == (len(outlier), 2) and res.inlier.dtype == bool


def test_board_poses_recovered(solved):
    _, res, _, (_, rv, tv), _ = solved
    assert res.board_rvecs.shape == rv.shape == res.board_tvecs.shape
    angle = rotation_angle_deg(rodrigues_to_matrix(res.board_rvecs), rodrigues_to_matrix(rv))
    assert np.median(angle) < 0.15
    assert np.median(np.linalg.norm(res.board_tvecs - tv, axis=1)) < 1.0  # mm


@pytest.mark.parametrize("fisheye, n_dist, model", [(False, 5, "k1k2p1p2k3"),
                                                     (False, 14, "k1k2p1p2"),
                                                     (False, 4, "k1k2p1p2k3"),
                                                     (True, 4, "fisheye"),
                                                     (False, 0, "k1")])
def test_jacobian_matches_finite_differences(fisheye, n_dist, model):
    rng = np.random.default_rng(3)
    rig = random_rig(rng, 3, fisheye=fisheye, n_dist=n_dist)
    if n_dist == 14:
        for c in rig:
            c.dist[12:] = [0.01, -0.02]  # tilted sensor
    rig[0].rvec = np.zeros(3)  # the small-angle branch
    obj = np.c_[rng.uniform(-40, 40, (8, 2)), np.zeros(8)]
    n_views = 4
    rv = rng.normal(0, 1, (n_views, 3))
    rv[1] = [1e-9, 0, 0]
    rv[2] *= 3.0 / np.linalg.norm(rv[2])  # near pi
    tv = rng.normal(0, 20, (n_views, 3))
    cam, view, pt = (a.ravel() for a in np.meshgrid(range(3), range(n_views), range(8),
                                                    indexing="ij"))
    model_ = BundleModel(rig.cameras, obj, cam, view, pt, rng.normal(0, 100, (len(cam), 2)),
                         n_views, [distortion_slots(model, c.fisheye) for c in rig])
    cp, vp = model_.pack(rv, tv)
    J = model_.sparse_jacobian(cp, vp)
    assert J.shape == (2 * len(cam), cp.size + vp.size) and J.format == "csr"
    x0 = np.r_[cp.ravel(), vp.ravel()]

    def f(x):
        return model_.residuals(x[:cp.size].reshape(cp.shape), x[cp.size:].reshape(vp.shape))

    num = np.empty(J.shape)
    for j in range(len(x0)):
        h = 1e-6 * max(1.0, abs(x0[j]))
        d = np.zeros_like(x0)
        d[j] = h
        num[:, j] = ((f(x0 + d) - f(x0 - d)) / (2 * h)).ravel()
    scale = np.abs(num).max(axis=0) + 1.0
    np.testing.assert_allclose(J.toarray() / scale, num / scale, atol=1e-6)


def test_right_jacobian_series_matches_closed_form():
    r = np.array([[1e-3, -2e-3, 5e-3], [0.0, 0.0, 0.0]])
    t = np.linalg.norm(r[0])
    S = np.array([[0, -r[0, 2], r[0, 1]], [r[0, 2], 0, -r[0, 0]], [-r[0, 1], r[0, 0], 0]])
    ref = np.eye(3) - (1 - np.cos(t)) / t**2 * S + (t - np.sin(t)) / t**3 * S @ S
    J = right_jacobian(r)
    np.testing.assert_allclose(J[0], ref, atol=1e-12)
    np.testing.assert_array_equal(J[1], np.eye(3))


def test_deterministic_and_verbose(caplog):
    rng = np.random.default_rng(11)
    truth = ring_rig(rng, 4)
    obj, cam, view, pt, obs, rv, tv, _ = board_scene(rng, truth, 40, outlier_fraction=0.02)
    start, rv0, tv0 = perturb(rng, truth, rv, tv)
    with caplog.at_level(logging.INFO, logger="calibration.bundle"):
        a = bundle_adjust(start, obj, cam, view, pt, obs, rv0, tv0, outlier_threshold_px=3.0,
                          verbose=True)
    assert any("iteration" in r.message for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="calibration.bundle"):
        b = bundle_adjust(start, obj, cam, view, pt, obs, rv0, tv0, outlier_threshold_px=3.0)
    assert not caplog.records  # quiet unless verbose
    np.testing.assert_array_equal(a.residuals, b.residuals)
    np.testing.assert_array_equal(a.inlier, b.inlier)
    np.testing.assert_array_equal(a.board_rvecs, b.board_rvecs)
    for ca, cb in zip(a.rig, b.rig, strict=True):
        np.testing.assert_array_equal(ca.matrix, cb.matrix)
        np.testing.assert_array_equal(ca.rvec, cb.rvec)
    assert a.cost == b.cost and a.n_iterations == b.n_iterations


def test_fixed_intrinsics_gauge_by_board_and_nan_rows():
    rng = np.random.default_rng(5)
    truth = ring_rig(rng, 4)
    obj, cam, view, pt, obs, rv, tv, _ = board_scene(rng, truth, 60, noise_px=0.0)
    start, rv0, tv0 = perturb(rng, truth, rv, tv)
    start = CameraRig([s.copy(matrix=t.matrix, dist=t.dist)
                       for s, t in zip(start, truth, strict=True)])
    obs = obs.copy()
    obs[3] = np.nan
    held = np.argmax(np.bincount(view))
    rv0[held], tv0[held] = rv[held], tv[held]  # the view that fixes the gauge
    res = bundle_adjust(start, obj, cam, view, pt, obs, rv0, tv0, refine_intrinsics=False,
                        fix_first_camera=False, loss="linear")
    assert np.isnan(res.residuals[3]).all() and not res.inlier[3]
    assert np.nanmax(np.abs(res.residuals)) < 1e-6
    for est, ref in zip(res.rig, truth, strict=True):
        np.testing.assert_array_equal(est.matrix, ref.matrix)
        np.testing.assert_allclose(est.R, ref.R, atol=1e-9)
        np.testing.assert_allclose(est.center, ref.center, atol=1e-5)


def test_fisheye_rig_and_huber():
    rng = np.random.default_rng(2)
    truth = ring_rig(rng, 4, fisheye=True)
    obj, cam, view, pt, obs, rv, tv, _ = board_scene(rng, truth, 300)
    start, rv0, tv0 = perturb(rng, truth, rv, tv)
    res = bundle_adjust(start, obj, cam, view, pt, obs, rv0, tv0, intrinsics_model="fisheye",
                        loss="huber", loss_scale_px=1.0)
    assert res.converged
    for est, ref in zip(res.rig, truth, strict=True):
        assert est.fisheye and est.dist.size == 4
        np.testing.assert_allclose(est.focal, ref.focal, rtol=3e-3)
        np.testing.assert_allclose(est.principal_point, ref.principal_point, atol=3.0)
    R, _ = align_rig(res.rig, truth)
    assert np.all(rotation_angle_deg(R, truth.rotations) < 0.4)  # f = 550 px: 1 px ~ 0.1 deg
    assert np.median(np.linalg.norm(res.residuals, axis=1)) < 0.5


def test_views_without_a_determined_pose_are_left_out():
    rng = np.random.default_rng(4)
    truth = ring_rig(rng, 3)
    obj, cam, view, pt, obs, rv, tv, _ = board_scene(rng, truth, 120)
    first = np.flatnonzero(view == 0)
    row = first[obj[pt[first], 1] == obj[pt[first], 1].min()]  # one row of view 0: a line
    few = np.flatnonzero(view == 1)[:3]  # three corners of view 1
    keep = (view > 1) | np.isin(np.arange(len(view)), np.r_[row, few])
    res = bundle_adjust(truth, obj, cam[keep], view[keep], pt[keep], obs[keep], rv, tv,
                        intrinsics_model="k1k2p1p2", outlier_threshold_px=4.0)
    assert not res.inlier[view[keep] <= 1].any()
    assert res.inlier[view[keep] > 1].mean() > 0.99  # (the scene has a few line views too)
    np.testing.assert_array_equal(res.board_rvecs[:2], rv[:2])  # held at the input


def test_input_errors():
    rng = np.random.default_rng(1)
    truth = ring_rig(rng, 3)
    obj, cam, view, pt, obs, rv, tv, _ = board_scene(rng, truth, 20)
    args = (truth, obj, cam, view, pt, obs, rv, tv)
    with pytest.raises(ValueError, match="intrinsics_model"):
        bundle_adjust(*args, intrinsics_model="k9")
    with pytest.raises(ValueError, match="fisheye"):
        bundle_adjust(*args, intrinsics_model="fisheye")
    with pytest.raises(ValueError, match="loss must be one of"):
        bundle_adjust(*args, loss="cauchy")
    with pytest.raises(ValueError, match="view_idx"):
        bundle_adjust(truth, obj, cam, view + len(rv), pt, obs, rv, tv)
    with pytest.raises(ValueError, match="observations"):
        bundle_adjust(truth, obj, cam, view, pt, obs[:, :1], rv, tv)
    keep = cam != 2
    with pytest.raises(CalibrationError, match="cam_2"):
        bundle_adjust(truth, obj, cam[keep], view[keep], pt[keep], obs[keep], rv, tv)


@pytest.mark.slow
def test_timing_8_cameras_500_views():
    rng = np.random.default_rng(0)
    truth = ring_rig(rng, 8)
    obj, cam, view, pt, obs, rv, tv, _ = board_scene(rng, truth, 500, outlier_fraction=0.005)
    start, rv0, tv0 = perturb(rng, truth, rv, tv)
    t0 = time.perf_counter()
    res = bundle_adjust(start, obj, cam, view, pt, obs, rv0, tv0, outlier_threshold_px=2.0)
    dt = time.perf_counter() - t0
    print(f"\n8 cameras x 500 views, {len(obs)} observations: {dt:.2f} s "
          f"({len(obs) / dt:.0f} obs/s), {res.n_iterations} iterations, {res.message}")
    assert res.converged


@pytest.mark.parametrize("model, loss, n_dist, refine", [
    ("k1k2p1p2", "soft_l1", 5, True),
    ("k1k2p1p2k3", "huber", 12, True),  # rational and thin-prism terms held fixed
    ("k1", "linear", 8, True),
    ("none", "soft_l1", 4, True),
    (None, "huber", 5, False),  # intrinsics fixed: camera poses only
])
def test_compiled_normal_equations_match_numpy(model, loss, n_dist, refine):
    """The compiled per-pair products (``calibration._bundle_kernel``) give the numpy
    reference's cost, blocks and gradients: frozen parameters, held views, outliers."""
    from calibration._bundle_kernel import HAVE_NUMBA, warm
    from calibration.bundle_solver import _Solver

    if not HAVE_NUMBA:
        pytest.skip("numba not installed")
    warm()  # small solves use the kernel only once it is loaded
    rng = np.random.default_rng(21)
    truth = ring_rig(rng, 4)
    for c in truth:
        d = np.zeros(n_dist)
        d[:min(5, n_dist)] = c.dist[:min(5, n_dist)]
        d[5:] = rng.normal(0, 0.01, max(n_dist - 5, 0))
        c.dist = d
        c.matrix[0, 1] = 0.5  # skew enters the pixel Jacobian
    obj, cam, view, pt, obs, rv, tv, _ = board_scene(rng, truth, 30, noise_px=2.0,
                                                     outlier_fraction=0.05)
    n_views = len(rv)
    order = np.lexsort((view, cam))  # the solver's (camera, view) order
    slots = [distortion_slots(model, False) for _ in truth] if refine else None
    m = BundleModel(truth.cameras, obj, cam[order], view[order], pt[order], obs[order],
                    n_views, slots)
    cp, vp = m.pack(rv + rng.normal(0, 0.01, rv.shape), tv + rng.normal(0, 2, tv.shape))
    free = np.ones_like(cp, dtype=bool)
    free[0, :6] = False
    free[2, min(7, cp.shape[1] - 1)] = False
    fixed = np.zeros(n_views, bool)
    fixed[[3, 5]] = True
    inlier = rng.random(len(order)) > 0.1
    fast = _Solver(m, loss, 1.5, free, fixed, logging.DEBUG, kernel=True)
    slow = _Solver(m, loss, 1.5, free, fixed, logging.DEBUG, kernel=False)
    assert fast.kernel and not slow.kernel
    got = fast.normal_equations(cp, vp, inlier)
    want = slow.normal_equations(cp, vp, inlier)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    for a, b in zip(got[1:], want[1:], strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(b).max())
    assert np.abs(want[1]).max() > 0 and np.abs(want[5]).max() > 0


def test_compiled_path_covers_pinhole_only():
    from calibration.bundle_solver import _kernel_supported

    rng = np.random.default_rng(1)
    pin, fish = ring_rig(rng, 2), ring_rig(rng, 2, fisheye=True)
    obj = BOARD.object_points()
    idx = np.zeros(1, int)

    def supported(rig, loss="soft_l1", model="k1k2p1p2"):
        slots = [distortion_slots(model, c.fisheye) for c in rig]
        m = BundleModel(rig.cameras, obj, idx, idx, idx, np.zeros((1, 2)), 1, slots)
        return _kernel_supported(m, loss)

    assert supported(pin) and supported(pin, "huber") and supported(pin, "linear")
    assert not supported(fish, model="fisheye")
    tilted = ring_rig(rng, 2)
    tilted[1].dist = np.r_[tilted[1].dist, np.zeros(9)]
    tilted[1].dist[12] = 0.01
    assert not supported(tilted)


def test_compiled_and_numpy_solves_agree(monkeypatch):
    import calibration.bundle as bundle
    from calibration._bundle_kernel import warm

    warm()

    rng = np.random.default_rng(8)
    truth = ring_rig(rng, 4)
    obj, cam, view, pt, obs, rv, tv, _ = board_scene(rng, truth, 80, outlier_fraction=0.02)
    start, rv0, tv0 = perturb(rng, truth, rv, tv)
    a = bundle_adjust(start, obj, cam, view, pt, obs, rv0, tv0, outlier_threshold_px=3.0)
    monkeypatch.setattr(bundle._Solver, "kernel", False)
    b = bundle_adjust(start, obj, cam, view, pt, obs, rv0, tv0, outlier_threshold_px=3.0)
    np.testing.assert_array_equal(a.inlier, b.inlier)
    np.testing.assert_allclose(a.residuals, b.residuals, atol=1e-6)
    for ca, cb in zip(a.rig, b.rig, strict=True):
        np.testing.assert_allclose(ca.matrix, cb.matrix, rtol=1e-9)
        np.testing.assert_allclose(ca.center, cb.center, atol=1e-6)


def test_kernel_loaded_only_when_it_pays(monkeypatch):
    """A small solve in a process without the loaded kernel stays on numpy (loading numba
    costs more than it saves); a big one, or any once the kernel is loaded, compiles."""
    import calibration._bundle_kernel as kb
    from calibration.bundle_solver import _Solver

    if not kb.HAVE_NUMBA:
        pytest.skip("numba not installed")
    rng = np.random.default_rng(2)
    truth = ring_rig(rng, 3)
    obj, cam, view, pt, obs, rv, tv, _ = board_scene(rng, truth, 10)
    order = np.lexsort((view, cam))
    m = BundleModel(truth.cameras, obj, cam[order], view[order], pt[order], obs[order],
                    len(rv), None)
    free, fixed = np.ones((3, 6), bool), np.zeros(len(rv), bool)
    monkeypatch.setattr(kb, "_ready", __import__("threading").Event())
    assert not _Solver(m, "soft_l1", 1.0, free, fixed, logging.DEBUG).kernel
    monkeypatch.setattr("calibration.bundle_solver._KERNEL_MIN_OBS", len(obs))
    big = _Solver(m, "soft_l1", 1.0, free, fixed, logging.DEBUG)
    assert big.kernel
    big.normal_equations(*m.pack(rv, tv), np.ones(len(obs), bool))
    assert kb.ready()
    monkeypatch.setattr("calibration.bundle_solver._KERNEL_MIN_OBS", 10**9)
    assert _Solver(m, "soft_l1", 1.0, free, fixed, logging.DEBUG).kernel
