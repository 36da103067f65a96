"""Bundle adjustment of a multi-camera rig from views of a rigid calibration board.

Refines every camera's pose (and optionally intrinsics) together with one rigid board pose per
view (time frame), minimising a robust reprojection cost over all board-corner observations.
The board's known geometry constrains the solution (no free 3D points), so the result is in
the board's units.

Solver: Levenberg-Marquardt on the Gauss-Newton normal equations with Marquardt's diagonal
damping (``x_scale="jac"`` in scipy's terms). Residuals and the analytic Jacobian come from
:class:`calibration.bundle_jacobian.BundleModel`; the board poses are eliminated by the Schur
complement (each view's 6x6 block is independent, Triggs et al. 2000, "Bundle adjustment - a
modern synthesis", section 6.1), leaving a dense system of the cameras' parameters
(``n_cams * (6 + n_intrinsics)`` unknowns). Observations are processed in chunks of whole
(camera, view) groups, so memory grows with ``n_views * n_cams``, not with the Jacobian.
The robust loss enters as iteratively reweighted least squares on each corner's 2D error:
``cost = 0.5 s^2 sum_i rho(|r_i|^2 / s^2)`` with scipy's ``rho`` for ``loss`` and
``s = loss_scale_px``. The solver itself is :mod:`calibration.bundle_solver`; on pinhole
cameras its normal equations are compiled (numba, :mod:`calibration._bundle_kernel`: ~3x
faster than the numpy reference, which serves fisheye and tilted-sensor cameras).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .bundle_jacobian import (
    INTRINSICS_MODELS,
    POSE_SIZE,
    BundleModel,
    distortion_slots,
    posable_observations,
)
from .bundle_solver import _LAMBDA0, _Solver
from .errors import CalibrationError
from .rig import CameraRig

__all__ = ["BundleResult", "bundle_adjust", "LOSSES"]

log = logging.getLogger(__name__)

#: Robust losses (scipy.optimize.least_squares' definitions).
LOSSES = ("linear", "huber", "soft_l1")
_SIGMA_K = 4.0  # outlier rejection: at least this many robust sigmas
_MAX_ROUNDS = 5  # outlier rejection rounds
_ROUND_IT = 30  # iterations of a round whose outliers are not yet settled
_FTOL, _FTOL_ROUND = 1e-8, 1e-5  # relative cost change


@dataclass
class BundleResult:
    """Outcome of :func:`bundle_adjust`.

    Attributes
    ----------
    rig : CameraRig
        Refined cameras (same names, order and units as the input rig).
    board_rvecs, board_tvecs : (n_views, 3)
        Board-to-world poses, ``X_world = R(rvec) X_board + tvec`` (radians, rig units).
    residuals : (n_obs, 2) px
        Projection minus observation at the solution, for every input observation (NaN where
        the observation was NaN).
    inlier : (n_obs,) bool
        Observations used in the final solve.
    n_iterations : int
        Levenberg-Marquardt iterations over all rejection rounds.
    cost : float
        ``0.5 s^2 sum rho(|r|^2 / s^2)`` over inliers, px^2.
    converged : bool
        The last solve met its tolerance (not the iteration cap).
    message : str
    """

    rig: CameraRig
    board_rvecs: np.ndarray
    board_tvecs: np.ndarray
    residuals: np.ndarray
    inlier: np.ndarray
    n_iterations: int
    cost: float
    converged: bool
    message: str


def _check_connected(rig: CameraRig, cam: np.ndarray, view: np.ndarray, n_views: int,
                     keep: np.ndarray, when: str) -> None:
    """Raise CalibrationError unless every camera has kept observations linked to camera 0."""
    n = rig.n_cams
    counts = np.bincount(cam[keep], minlength=n)
    if not np.all(counts):
        missing = [rig.names[c] for c in np.flatnonzero(counts == 0)]
        raise CalibrationError(f"cameras {missing} have no usable board observations {when} "
                               f"(a view needs >= 4 corners, not all on one line); remove them "
                               f"from the rig or record more board views")
    graph = coo_matrix((np.ones(int(keep.sum())), (cam[keep], n + view[keep])),
                       shape=(n + n_views, n + n_views))
    _, label = connected_components(graph, directed=False)
    apart = [rig.names[c] for c in range(n) if label[c] != label[0]]
    if apart:
        raise CalibrationError(f"cameras {apart} share no board views with camera "
                               f"{rig.names[0]!r} {when}, directly or through other cameras; "
                               f"record views that link them")


def _validate(rig, object_points, cam_idx, view_idx, point_idx, observations, board_rvecs,
              board_tvecs, intrinsics_model, loss, loss_scale_px, outlier_threshold_px,
              max_iterations):
    if not isinstance(rig, CameraRig):
        raise TypeError(f"rig must be a CameraRig, got {type(rig).__name__}")
    obj = np.asarray(object_points, dtype=np.float64)
    if obj.ndim != 2 or obj.shape[1] != 3 or not np.all(np.isfinite(obj)):
        raise ValueError(f"object_points must be finite with shape (n_points, 3), got "
                         f"{obj.shape}")
    obs = np.asarray(observations, dtype=np.float64)
    if obs.ndim != 2 or obs.shape[1] != 2:
        raise ValueError(f"observations must have shape (n_obs, 2), got {obs.shape}")
    rv = np.asarray(board_rvecs, dtype=np.float64)
    tv = np.asarray(board_tvecs, dtype=np.float64)
    if rv.ndim != 2 or rv.shape[1] != 3 or rv.shape != tv.shape:
        raise ValueError(f"board_rvecs and board_tvecs must both have shape (n_views, 3), got "
                         f"{rv.shape} and {tv.shape}")
    if not (np.all(np.isfinite(rv)) and np.all(np.isfinite(tv))):
        raise ValueError("board_rvecs and board_tvecs must be finite")
    idx = []
    for name, a, hi in (("cam_idx", cam_idx, rig.n_cams), ("view_idx", view_idx, len(rv)),
                        ("point_idx", point_idx, len(obj))):
        a = np.asarray(a)
        if a.shape != (len(obs),) or (a.size and not np.issubdtype(a.dtype, np.integer)):
            raise ValueError(f"{name} must be integers of shape ({len(obs)},) like "
                             f"observations, got {a.dtype} {a.shape}")
        if a.size and (a.min() < 0 or a.max() >= hi):
            raise ValueError(f"{name} must lie in [0, {hi}), got values in "
                             f"[{a.min()}, {a.max()}]")
        idx.append(a.astype(np.intp))
    if intrinsics_model not in INTRINSICS_MODELS:
        raise ValueError(f"intrinsics_model must be one of {list(INTRINSICS_MODELS)}, got "
                         f"{intrinsics_model!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {list(LOSSES)}, got {loss!r}")
    if not loss_scale_px > 0:
        raise ValueError(f"loss_scale_px must be > 0, got {loss_scale_px!r}")
    if outlier_threshold_px is not None and not outlier_threshold_px > 0:
        raise ValueError(f"outlier_threshold_px must be > 0 or None, got "
                         f"{outlier_threshold_px!r}")
    if int(max_iterations) < 1:
        raise ValueError(f"max_iterations must be >= 1, got {max_iterations!r}")
    return obj, *idx, obs, rv, tv


def bundle_adjust(
    rig: CameraRig,
    object_points: np.ndarray,
    cam_idx: np.ndarray,
    view_idx: np.ndarray,
    point_idx: np.ndarray,
    observations: np.ndarray,
    board_rvecs: np.ndarray,
    board_tvecs: np.ndarray,
    *,
    refine_intrinsics: bool = True,
    intrinsics_model: str = "k1k2p1p2k3",
    fix_first_camera: bool = True,
    loss: str = "soft_l1",
    loss_scale_px: float = 2.0,
    outlier_threshold_px: float | None = None,
    max_iterations: int = 100,
    verbose: bool = False,
) -> BundleResult:
    """Jointly refine cameras and board poses from board-corner observations.

    Parameters
    ----------
    rig : CameraRig
        Initial cameras (world to camera poses, intrinsics), e.g. from PnP and the
        co-visibility graph.
    object_points : (n_points, 3) rig units
        Board corners in the board frame (:meth:`calibration.board.Board.object_points`).
    cam_idx, view_idx, point_idx : (n_obs,) int
        Camera (rig position), view (time frame) and board corner of each observation.
    observations : (n_obs, 2) px
        Detected corners; NaN rows are ignored (``inlier`` False, residual NaN).
    board_rvecs, board_tvecs : (n_views, 3) radians, rig units
        Initial board-to-world poses, ``X_world = R(rvec) X_board + tvec``.
    refine_intrinsics : bool
        Refine ``fx, fy, cx, cy`` and the distortion coefficients named by
        ``intrinsics_model``; the skew and other coefficients keep their input values.
    intrinsics_model : str
        Refined distortion coefficients: ``"none"``, ``"k1"``, ``"k1k2"``, ``"k1k2p1p2"``,
        ``"k1k2p1p2k3"``; fisheye cameras also ``"k1k2k3"``, ``"k1k2k3k4"`` or ``"fisheye"``
        (the full pinhole names mean ``k1 .. k4`` there). See
        :func:`calibration.bundle_jacobian.distortion_slots`.
    fix_first_camera : bool
        Gauge: camera 0's pose is held, so the world frame stays camera 0's input frame.
        Otherwise the board pose of the view with the most observations is held instead.
    loss : {"soft_l1", "huber", "linear"}
        Robust loss on each corner's squared pixel error.
    loss_scale_px : float
        Error in px where the robust loss starts to flatten.
    outlier_threshold_px : float, optional
        Iterative rejection: after each solve, observations with error above
        ``max(outlier_threshold_px, 4 sigma_c)`` (``sigma_c``: camera ``c``'s robust
        per-axis sigma, ``median error / 1.1774``) are dropped and the problem re-solved,
        up to 5 rounds or until the set is stable. Errors are re-evaluated on all
        observations, so wrongly dropped ones come back.
    max_iterations : int
        Levenberg-Marquardt iterations per solve.
    verbose : bool
        Log each iteration and rejection round at INFO (otherwise DEBUG).

    Returns
    -------
    BundleResult

    Raises
    ------
    ValueError
        Malformed input (shapes, indices, option names).
    CalibrationError
        A camera without usable views, cameras not linked by shared views, or a solution
        that leaves the valid camera model (e.g. a negative focal length).

    Notes
    -----
    Views with fewer than 4 usable corners, or with all of them on one line, keep their input
    pose and their observations are marked as not inlier. Deterministic for a given input.
    """
    obj, cam, view, pt, obs, rv, tv = _validate(
        rig, object_points, cam_idx, view_idx, point_idx, observations, board_rvecs,
        board_tvecs, intrinsics_model, loss, loss_scale_px, outlier_threshold_px,
        max_iterations)
    level = logging.INFO if verbose else logging.DEBUG
    n_obs, n_views, n_cams = len(obs), len(rv), rig.n_cams
    finite = np.all(np.isfinite(obs), axis=1)
    order = np.flatnonzero(finite)[np.lexsort((pt[finite], view[finite], cam[finite]))]
    slots = ([distortion_slots(intrinsics_model, c.fisheye) for c in rig]
             if refine_intrinsics else None)
    model = BundleModel(rig.cameras, obj, cam[order], view[order], pt[order], obs[order],
                        n_views, slots)
    corners = obj[model.point_idx]
    usable = posable_observations(model.view_idx, corners, n_views, np.ones(len(order), bool))
    _check_connected(rig, model.cam_idx, model.view_idx, n_views, usable, "in the input")

    cp, vp = model.pack(rv, tv)
    free_cam = np.ones_like(cp, dtype=bool)
    if slots is not None:
        for c, s in enumerate(slots):
            free_cam[c, 10 + len(s):] = False
    has_obs = np.bincount(model.view_idx[usable], minlength=n_views) > 0
    fixed_views = ~has_obs
    if fix_first_camera:
        free_cam[0, :POSE_SIZE] = False
    else:
        fixed_views[np.argmax(np.bincount(model.view_idx[usable], minlength=n_views))] = True
    solver = _Solver(model, loss, float(loss_scale_px), free_cam, fixed_views, level)

    inlier = usable
    total_it, rounds, final, lam = 0, 0, outlier_threshold_px is None, _LAMBDA0
    while True:  # rejection rounds solve loosely; the last one, on a stable set, strictly
        rounds += 1
        solver.fixed_views = fixed_views | (np.bincount(model.view_idx[inlier],
                                                        minlength=n_views) == 0)
        cp, vp, cost, it, converged, reason, lam = solver.solve(
            cp, vp, inlier, int(max_iterations) if final else min(int(max_iterations), _ROUND_IT),
            _FTOL if final else _FTOL_ROUND, max(lam, 1e-6))
        total_it += it
        err = np.linalg.norm(model.residuals(cp, vp), axis=1)
        log.log(level, "round %d: %d iterations, cost %.6g, median error %.3f px, %d of %d "
                "observations kept (%s)", rounds, it, cost, np.median(err[inlier]),
                inlier.sum(), len(inlier), reason)
        if final:
            break
        thr = np.full(n_cams, float(outlier_threshold_px))
        for c in range(n_cams):
            e = err[(model.cam_idx == c) & inlier]
            if len(e):
                thr[c] = max(thr[c], _SIGMA_K * np.median(e) / np.sqrt(2 * np.log(2)))
        new = posable_observations(model.view_idx, corners, n_views, err <= thr[model.cam_idx])
        final = np.array_equal(new, inlier) or rounds >= _MAX_ROUNDS
        _check_connected(rig, model.cam_idx, model.view_idx, n_views, new,
                         f"after rejecting errors above {thr.min():.2f} px")
        if not np.array_equal(new, inlier):
            inlier, lam = new, _LAMBDA0

    try:
        cams = model.cameras_at(cp)
    except ValueError as exc:
        raise CalibrationError(f"bundle adjustment left the valid camera model ({exc}); check "
                               f"the initial cameras and board poses") from None
    residuals = np.full((n_obs, 2), np.nan)
    residuals[order] = model.residuals(cp, vp)
    inlier_out = np.zeros(n_obs, bool)
    inlier_out[order] = inlier
    message = (f"{reason}; {rounds} round(s), {int((~inlier).sum())} of {len(order)} "
               f"observations rejected")
    return BundleResult(
        rig=CameraRig(cams, units=rig.units, metadata=dict(rig.metadata)),
        board_rvecs=vp[:, :3].copy(), board_tvecs=vp[:, 3:].copy(), residuals=residuals,
        inlier=inlier_out, n_iterations=total_it, cost=float(cost), converged=bool(converged),
        message=message,
    )
