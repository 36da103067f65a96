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
``s = loss_scale_px``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .bundle_jacobian import (
    INTRINSICS_MODELS,
    POSE_SIZE,
    BundleModel,
    distortion_slots,
    posable_observations,
    wrap_rotations,
)
from .errors import CalibrationError
from .rig import CameraRig

__all__ = ["BundleResult", "bundle_adjust", "LOSSES"]

log = logging.getLogger(__name__)

#: Robust losses (scipy.optimize.least_squares' definitions).
LOSSES = ("linear", "huber", "soft_l1")
_CHUNK = 4096  # observations per Jacobian chunk (cache-sized)
_SIGMA_K = 4.0  # outlier rejection: at least this many robust sigmas
_MAX_ROUNDS = 5  # outlier rejection rounds
_ROUND_IT = 30  # iterations of a round whose outliers are not yet settled
_FTOL, _FTOL_ROUND, _XTOL = 1e-8, 1e-5, 1e-10  # relative cost change; step
_LAMBDA0, _LAMBDA_DOWN = 1e-2, 0.1  # initial damping; floor of its decrease factor


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


def _loss(loss: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rho(z)`` and ``rho'(z)`` for squared scaled errors ``z >= 0``."""
    if loss == "linear":
        return z, np.ones_like(z)
    if loss == "soft_l1":
        s = np.sqrt(1.0 + z)
        return 2.0 * (s - 1.0), 1.0 / s
    big = z > 1.0
    sq = np.sqrt(np.where(big, z, 1.0))
    return np.where(big, 2.0 * sq - 1.0, z), np.where(big, 1.0 / sq, 1.0)


@dataclass(eq=False)
class _Solver:
    """Chunked normal equations and the Schur-complement LM loop for one :class:`BundleModel`."""

    model: BundleModel
    loss: str
    scale: float
    free_cam: np.ndarray  # (n_cams, n_cam_params) bool
    fixed_views: np.ndarray  # (n_views,) bool, held at their input value
    level: int  # logging level of the iteration log

    def __post_init__(self) -> None:
        m = self.model
        key = m.cam_idx * m.n_views + m.view_idx  # observations arrive sorted by (cam, view)
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        self.pair_of_obs = np.cumsum(np.r_[False, key[1:] != key[:-1]])
        self.rank = np.arange(len(key)) - starts[self.pair_of_obs]  # position within its pair
        self.pair_view, self.pair_cam = m.view_idx[starts], m.cam_idx[starts]
        self.max_group = int(self.rank.max()) + 1
        # camera pairs sharing views: (c1, c2, pairs of c1, pairs of c2) over their common views
        self.links = []
        cam_pairs = [np.flatnonzero(self.pair_cam == c) for c in range(len(m.cameras))]
        for c1, a in enumerate(cam_pairs):
            for c2 in range(c1, len(m.cameras)):
                b = cam_pairs[c2]
                _, ia, ib = np.intersect1d(self.pair_view[a], self.pair_view[b],
                                           assume_unique=True, return_indices=True)
                if len(ia):
                    self.links.append((c1, c2, a[ia], b[ib]))
        ends = np.r_[starts[1:], len(key)]
        self.chunks = []  # (camera, first obs, end obs, first pair, end pair)
        for c in range(len(m.cameras)):
            p = np.flatnonzero(m.cam_idx[starts] == c)
            while len(p):
                n = max(1, int(np.searchsorted(ends[p] - starts[p[0]], _CHUNK, side="right")))
                q = p[:n]
                self.chunks.append((c, starts[q[0]], ends[q[-1]], q[0], q[-1] + 1))
                p = p[n:]

    def cost(self, cp: np.ndarray, vp: np.ndarray, inlier: np.ndarray) -> float:
        """Robust cost of the inlier observations, px^2."""
        world = self.model.board_in_world(vp)
        total = 0.0
        for c, s, e, _, _ in self.chunks:
            r = self.model.camera_residuals(c, cp[c], world, slice(s, e))
            rho = _loss(self.loss, np.einsum("ij,ij->i", r, r) / self.scale**2)[0]
            total += float(rho @ inlier[s:e])
        return 0.5 * self.scale**2 * total

    def normal_equations(self, cp: np.ndarray, vp: np.ndarray, inlier: np.ndarray):
        """Cost, camera blocks ``U (n_cams, p, p)``, view blocks ``V (n_views, 6, 6)``, coupling
        blocks ``W (n_pairs, p, 6)`` of each (camera, view) pair and right-hand sides
        ``-J^T w r`` (``gc (n_cams, p)``, ``gv (n_views, 6)``)."""
        m, p = self.model, self.model.n_cam_params
        n_cams, q = len(m.cameras), p + POSE_SIZE
        U = np.zeros((n_cams, p, p))
        V = np.zeros((m.n_views, POSE_SIZE, POSE_SIZE))
        W = np.empty((len(self.pair_view), p, POSE_SIZE))
        gc, gv = np.zeros((n_cams, p)), np.zeros((m.n_views, POSE_SIZE))
        terms = m.view_terms(vp)
        cost = 0.0
        for c, s, e, p0, p1 in self.chunks:
            sl = slice(s, e)
            r, Jc, Jv = m.camera_blocks(c, cp[c], vp, terms, sl)
            r2 = np.einsum("ij,ij->i", r, r)
            z = r2 / self.scale**2
            rho, d1 = _loss(self.loss, z)
            cost += float(rho @ inlier[sl])
            Jc *= self.free_cam[c]
            Jv *= ~self.fixed_views[m.view_idx[sl], None, None]
            sw = np.sqrt(d1 * inlier[sl])  # IRLS: weights rho'(z), curvature of rho ignored
            J = np.concatenate([Jc, Jv], axis=2) * sw[:, None, None]  # (m, 2, q)
            rw = r * sw[:, None]
            # zero-padded (pair, corner) layout: one small dense product per (camera, view)
            A = np.zeros((p1 - p0, self.max_group, 2, q))
            b = np.zeros((p1 - p0, self.max_group, 2))
            idx = (self.pair_of_obs[sl] - p0, self.rank[sl])
            A[idx] = J
            b[idx] = rw
            A = A.reshape(p1 - p0, -1, q)
            At = A.transpose(0, 2, 1)
            H = At @ A  # (pairs, q, q)
            g = -(At @ b.reshape(p1 - p0, -1, 1))[..., 0]
            views = self.pair_view[p0:p1]  # distinct within one camera
            U[c] += H[:, :p, :p].sum(0)
            gc[c] += g[:, :p].sum(0)
            V[views] += H[:, p:, p:]
            gv[views] += g[:, p:]
            W[p0:p1] = H[:, :p, p:]
        return 0.5 * self.scale**2 * cost, U, V, W, gc, gv

    def step(self, U, V, W, gc, gv, lam: float):
        """Damped Gauss-Newton step ``(dc (n_cams, p), dv (n_views, 6), predicted decrease)``,
        or ``None`` when the reduced camera system is not positive definite."""
        n_cams, p = U.shape[:2]
        N = n_cams * p
        Dc = np.maximum(np.einsum("cii->ci", U), 1e-12 * max(U.max(), 1e-300))
        Dv = np.maximum(np.einsum("vii->vi", V), 1e-12 * max(V.max(), 1e-300))
        Vd = V + lam * Dv[:, :, None] * np.eye(POSE_SIZE)
        Vd[self.fixed_views] = np.eye(POSE_SIZE)
        try:
            Vinv = np.linalg.inv(Vd)
        except np.linalg.LinAlgError:
            return None
        Y = W @ Vinv[self.pair_view]  # (n_pairs, p, 6)
        # reduced camera system S = U - sum_v W_v V_v^-1 W_v^T, one product per camera pair
        S = np.zeros((N, N))
        for c1, c2, a, b in self.links:
            blk = Y[a].transpose(1, 0, 2).reshape(p, -1) @ W[b].transpose(0, 2, 1).reshape(-1, p)
            S[c1 * p:(c1 + 1) * p, c2 * p:(c2 + 1) * p] = -blk
            S[c2 * p:(c2 + 1) * p, c1 * p:(c1 + 1) * p] = -blk.T
        Ud = U + lam * Dc[:, :, None] * np.eye(p)
        for c in range(n_cams):
            S[c * p:(c + 1) * p, c * p:(c + 1) * p] += Ud[c]
        rhs = gc.copy()
        np.add.at(rhs, self.pair_cam, -(Y @ gv[self.pair_view, :, None])[..., 0])
        rhs = rhs.ravel()
        free = self.free_cam.ravel()
        Sf = S[np.ix_(free, free)]
        d = np.sqrt(np.maximum(np.diag(Sf), 1e-300))  # Jacobi scaling for the factorisation
        try:
            cho = scipy.linalg.cho_factor(Sf / d[:, None] / d, check_finite=False)
        except np.linalg.LinAlgError:
            return None
        dc = np.zeros(N)
        dc[free] = scipy.linalg.cho_solve(cho, rhs[free] / d, check_finite=False) / d
        back = gv.copy()
        np.add.at(back, self.pair_view,
                  -np.einsum("qik,qi->qk", W, dc.reshape(n_cams, p)[self.pair_cam]))
        dv = np.einsum("vij,vj->vi", Vinv, back)
        dv[self.fixed_views] = 0.0
        dc = dc.reshape(n_cams, p)
        pred = 0.5 * (np.sum(dc * gc) + np.sum(dv * gv)
                      + lam * (np.sum(Dc * dc * dc) + np.sum(Dv * dv * dv)))
        return dc, dv, pred

    def solve(self, cp: np.ndarray, vp: np.ndarray, inlier: np.ndarray, max_iterations: int,
              ftol: float, lam: float = _LAMBDA0):
        """Levenberg-Marquardt from ``(cp, vp)`` with damping ``lam`` (Nielsen's update).

        Returns
        -------
        cp, vp, cost, iterations, converged, reason, lam
        """
        cost, *blocks = self.normal_equations(cp, vp, inlier)
        nu = 2.0
        converged, reason, it = False, "reached max_iterations", 0
        while it < max_iterations:
            it += 1
            out = self.step(*blocks, lam)
            if out is None:
                lam, nu = lam * nu, nu * 2.0
                continue
            dc, dv, pred = out
            if pred <= max(ftol * 1e-3 * cost, 1e-20):
                converged, reason = True, "predicted decrease below tolerance"
                break
            cp_new, vp_new = cp + dc, vp + dv
            new = self.cost(cp_new, vp_new, inlier)
            gain = (cost - new) / pred
            log.log(self.level, "iteration %d: cost %.6g -> %.6g (predicted %.6g), lambda %.2g",
                    it, cost, new, cost - pred, lam)
            if gain > 0:
                small = (np.linalg.norm(dc) + np.linalg.norm(dv)
                         < _XTOL * (np.linalg.norm(cp) + np.linalg.norm(vp) + _XTOL))
                rel = (cost - new) / max(cost, 1e-300)
                cp, vp = wrap_rotations(cp_new), wrap_rotations(vp_new)
                cost, *blocks = self.normal_equations(cp, vp, inlier)
                lam = max(lam * max(_LAMBDA_DOWN, 1 - (2 * gain - 1) ** 3), 1e-12)
                nu = 2.0
                if (rel < ftol and gain > 0.25) or small:
                    converged, reason = True, "cost or step change below tolerance"
                    break
                continue
            lam, nu = lam * nu, nu * 2.0  # rejected
            if lam > 1e16:
                converged, reason = True, "no decrease possible (damping saturated)"
                break
        return cp, vp, cost, it, converged, reason, lam


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
