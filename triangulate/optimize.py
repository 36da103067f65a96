"""Optimised triangulation: robust reprojection + temporal smoothness + limb lengths.

For a chunk of frames, minimise over every 3D point ``X[f, j]`` (rig units)::

    sum_cfj  s_cfj rho(|proj_c(X_fj) - p_cfj|^2)                    robust reprojection, px^2
  + lam_t   sum_jk |D_d X[:, j, k]|^2                                temporal (d-th difference)
  + sum_lf  ((|X_fa - X_fb| - L_l) / (tol_l L_l))^2                  strong and weak limbs

with ``s`` the detection scores and ``rho`` a Cauchy loss of scale ``loss_scale`` px. Gauss-
Newton with iteratively reweighted robust weights: the analytic Jacobian (projection
Jacobians from :func:`calibration.projection.project_camera_points`, chained with ``R``) is
never formed as a matrix: the normal matrix ``H = J^T W J`` is kept in structured sparse form
(3x3 blocks per point, limb blocks per frame, the banded ``D^T D`` per track) and solved by
preconditioned conjugate gradients. The default preconditioner (``"track"``) is every
track's exact banded system (temporal coupling and point blocks, banded Cholesky);
``"schwarz"`` adds every frame's dense system (limb coupling) in a symmetric multiplicative
Schwarz sweep. On pinhole rigs the cost, normal equations, CG and uncertainty run compiled
(:mod:`._optim_kernels`; numpy reference with ``kernel=False``). Cost and memory are linear
in frames; long recordings run in chunks of ``chunk_frames`` with ``overlap`` frames of
context on each side, so memory stays bounded.

Limb lengths are given or estimated robustly (median) from RANSAC triangulation of frames
spread over the whole recording; the automatic temporal weight is set from the median size of
the d-th differences of that robust start (as anipose does from its DLT start).

Uncertainty: per point, ``sigma^2 inv(H_pp)`` from the per-frame normal equations
(reprojection and limb terms, without the temporal prior, so it is an upper bound on what
smoothing adds), ``sigma`` being the robust scale of the inlier residuals (px); reported as
the RMS standard deviation over x, y, z in rig units.
"""

from __future__ import annotations

import logging

import numpy as np

from calibration.errors import InputError
from calibration.projection import project_camera_points

from . import _optim_kernels as kern
from ._kernels import camera_array, kernel_supported
from .dlt import rig_arrays
from .normal_system import _diff_coeffs, _dtd, _pcg, _System, dense_frame_matrix
from .prepare import evaluate, prepare_chunk
from .ransac import triangulate_ransac
from .result import Triangulation
from .validators import check_range

__all__ = ["OPTIM_DEFAULTS", "triangulate_optim", "solve_chunk", "interpolate_tracks"]

log = logging.getLogger(__name__)

#: Options of ``method="optim"`` (besides ``skeleton``).
OPTIM_DEFAULTS = {
    "limb_lengths": None,
    "smooth": 0.5,
    "n_deriv_smooth": 2,
    "limb_tolerance": 0.02,
    "weak_limb_tolerance": 0.1,
    "loss_scale": None,
    "max_iterations": 12,
    "chunk_frames": 1000,
    "overlap": 24,
    "min_cams": 2,
    "length_frames": 2000,
    "preconditioner": "track",
}


# --- residuals and their linearisation --------------------------------------------------
_E3 = np.zeros((0, 0, 3))      # placeholders for the cost-only call of the limb kernel
_E4 = np.zeros((0, 0, 3, 3))


class _Problem:
    """One chunk: observations, limbs and weights; evaluates cost and normal equations."""

    def __init__(self, rig, pixels, weights, limbs, lengths, tols, lam, d, scale,
                 kernel=False):
        self.rig, self.cams = rig, rig.cameras
        self.R, self.t, _ = rig_arrays(rig)
        self.valid = (weights > 0) & np.isfinite(pixels[..., 0]) & np.isfinite(pixels[..., 1])
        self.p = np.where(self.valid[..., None], pixels, 0.0)
        self.w = np.where(self.valid, weights, 0.0)
        self.limbs = np.asarray(limbs, dtype=np.int64).reshape(-1, 2)
        self.lengths = np.ascontiguousarray(lengths, dtype=np.float64)
        self.tols = np.ascontiguousarray(tols, dtype=np.float64)
        self.lam, self.d, self.s2 = lam, d, scale * scale
        #: compiled cost and normal equations (:mod:`._optim_kernels`) on pinhole rigs
        self.cam = camera_array(rig) if kernel and kernel_supported(rig) else None

    def _reprojection(self, X, jacobian):
        out = []
        for c, cam in enumerate(self.cams):
            Xc = X @ self.R[c].T + self.t[c]
            if jacobian:
                proj, Jc = project_camera_points(Xc, cam.matrix, cam.dist, cam.fisheye, True)
                out.append((proj - self.p[c], Jc @ self.R[c]))
            else:
                proj = project_camera_points(Xc, cam.matrix, cam.dist, cam.fisheye)
                out.append((proj - self.p[c], None))
        return out

    def project(self, X):
        """Pixel projections ``(n_cams, F, J, 2)`` of finite ``X (F, J, 3)``."""
        if self.cam is None:
            return self.rig.project(X)
        out = np.empty((self.cam.shape[0],) + X.shape[:2] + (2,))
        kern.project_points(np.ascontiguousarray(X), self.cam, out)
        return out

    def cost(self, X):
        if self.cam is not None:
            total = kern.reprojection_cost(X, self.p, self.w, self.cam, self.s2)
            total += kern.limb_normal(X, self.limbs, self.lengths, self.tols, _E4, _E3, _E4,
                                    False)
        else:
            total = 0.0
            for c, (r, _) in enumerate(self._reprojection(X, False)):
                e2 = np.sum(r * r, -1)
                total += np.sum(self.w[c] * self.s2 * np.log1p(e2 / self.s2))
            for (a, b), L, tol in zip(self.limbs.tolist(), self.lengths, self.tols,
                                      strict=True):
                res = (np.linalg.norm(X[:, a] - X[:, b], axis=-1) - L) / (tol * L)
                total += np.sum(res * res)
        if self.lam > 0 and X.shape[0] > self.d:
            total += self.lam * np.sum(np.diff(X, n=self.d, axis=0) ** 2)
        return float(total)

    def normal_equations(self, X, damping=1e-6):
        """``B (F, J, 3, 3)``, gradient ``g (F, J, 3)``, limb blocks ``K (L, F, 3, 3)``."""
        n_frames, n_joints, _ = X.shape
        if self.cam is not None:
            return self._normal_compiled(X, damping)
        B = np.zeros((n_frames, n_joints, 3, 3))
        g = np.zeros((n_frames, n_joints, 3))
        for c, (r, Jw) in enumerate(self._reprojection(X, True)):
            e2 = np.sum(r * r, -1)
            W = self.w[c] / (1.0 + e2 / self.s2)  # Cauchy IRLS weight times score
            WJ = W[..., None, None] * Jw                        # (F, J, 2, 3)
            B += (WJ[..., :, :, None] * Jw[..., :, None, :]).sum(-3)
            g += (WJ * r[..., None]).sum(-2)
        K = np.zeros((len(self.limbs), n_frames, 3, 3))
        for li, ((a, b), L, tol) in enumerate(zip(self.limbs.tolist(), self.lengths, self.tols,
                                                  strict=True)):
            diff = X[:, a] - X[:, b]
            ln = np.maximum(np.linalg.norm(diff, axis=-1), 1e-12)
            u = diff / ln[:, None]
            k = 1.0 / (tol * L) ** 2
            Kl = k * u[:, :, None] * u[:, None, :]
            K[li] = Kl
            B[:, a] += Kl
            B[:, b] += Kl
            gl = (k * (ln - L))[:, None] * u
            g[:, a] += gl
            g[:, b] -= gl
        if self.lam > 0 and n_frames > self.d:
            g += self.lam * _dtd(X, self.d)
        scale = np.mean(np.trace(B, axis1=-2, axis2=-1)) / 3 if B.size else 1.0
        B += (damping * scale + 1e-12) * np.eye(3)
        return B, g, K

    def _normal_compiled(self, X, damping):
        """:meth:`normal_equations` with the kernels of :mod:`._optim_kernels`."""
        n_frames, n_joints, _ = X.shape
        B = np.empty((n_frames, n_joints, 3, 3))
        g = np.empty((n_frames, n_joints, 3))
        K = np.empty((len(self.limbs), n_frames, 3, 3))
        kern.reprojection_normal(X, self.p, self.w, self.cam, self.s2, B, g)
        kern.limb_normal(X, self.limbs, self.lengths, self.tols, B, g, K, True)
        if self.lam > 0 and n_frames > self.d:
            kern.dtd_apply(X, _diff_coeffs(self.d), self.lam, g)
        if B.size:
            scale = (B[..., 0, 0].sum() + B[..., 1, 1].sum() + B[..., 2, 2].sum()) / (
                3 * n_frames * n_joints)
        else:
            scale = 1.0
        diag = damping * scale + 1e-12
        B[..., 0, 0] += diag
        B[..., 1, 1] += diag
        B[..., 2, 2] += diag
        return B, g, K

    def covariance_rms(self, X, sigma):
        """RMS standard deviation (rig units) of each point from per-frame normal matrices."""
        B, _, K = self.normal_equations(X, damping=1e-9)
        n_frames, n_joints = X.shape[:2]
        if self.cam is not None:
            tr = np.empty((n_frames, n_joints))
            if kern.inverse_block_traces(B, K, self.limbs, tr):
                return sigma * np.sqrt(np.maximum(tr, 0.0) / 3.0)
        inv = np.linalg.inv(dense_frame_matrix(B, K, self.limbs)).reshape(
            n_frames, n_joints, 3, n_joints, 3)
        jj = np.arange(n_joints)
        var = inv[:, jj, :, jj, :]  # (J, F, 3, 3)
        tr = np.trace(np.transpose(var, (1, 0, 2, 3)), axis1=-2, axis2=-1)
        return sigma * np.sqrt(np.maximum(tr, 0.0) / 3.0)


def solve_chunk(problem: _Problem, X0: np.ndarray, max_iterations: int = 12,
                tol: float = 1e-3, preconditioner: str = "schwarz"):
    """Gauss-Newton with IRLS and step halving from ``X0``.

    Stops when an accepted step lowers the cost by less than ``tol`` (relative) or moves no
    point by more than 1e-6 rig units.

    Returns
    -------
    X : (n_frames, n_joints, 3)
    info : dict
        ``iterations``, ``cg_iterations`` (list), ``costs`` (list).
    """
    X = X0.copy()
    cost = problem.cost(X)
    n_frames, n_joints, _ = X.shape
    info = {"iterations": 0, "cg_iterations": [], "costs": [cost]}
    for it in range(1, max_iterations + 1):
        info["iterations"] = it
        B, g, K = problem.normal_equations(X)
        system = _System(B, problem.limbs, K, problem.lam, problem.d, n_frames, n_joints,
                         schwarz=preconditioner == "schwarz", kernel=problem.cam is not None)
        step, n_cg = _pcg(system, -g)
        info["cg_iterations"].append(n_cg)
        accepted = False
        for _ in range(4):
            new = problem.cost(X + step)
            if new <= cost:
                accepted = True
                break
            step *= 0.5
        if not accepted:
            break
        X += step
        rel = (cost - new) / max(cost, 1e-12)
        cost = new
        info["costs"].append(cost)
        if rel < tol or np.max(np.abs(step)) < 1e-6:
            break
    return X, info


def interpolate_tracks(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill NaN along frames by linear interpolation (edges hold the nearest value).

    Returns
    -------
    filled : (n_frames, n_joints, 3); zeros for joints never seen
    present : (n_joints,) bool, joints seen at least once
    """
    out = np.array(X, dtype=np.float64)
    n = out.shape[0]
    frames = np.arange(n)
    present = np.zeros(out.shape[1], bool)
    for j in range(out.shape[1]):
        good = np.isfinite(out[:, j]).all(-1)
        if not good.any():
            out[:, j] = 0.0
            continue
        present[j] = True
        if good.all():
            continue
        for k in range(3):
            out[~good, j, k] = np.interp(frames[~good], frames[good], out[good, j, k])
    return out, present


# --- the whole recording ----------------------------------------------------------------
def _limbs(skeleton, n_joints: int, opts: dict):
    """Limb index pairs, tolerances and given lengths (NaN where to be estimated)."""
    if skeleton is None:
        return np.zeros((0, 2), int), np.zeros(0), np.zeros(0)
    if skeleton.n_joints != n_joints:
        raise InputError(f"skeleton has {skeleton.n_joints} bodyparts {skeleton.bodyparts} but "
                         f"points2d has {n_joints} joints; the skeleton's bodyparts must be "
                         f"the joints, in order")
    strong, weak = skeleton.limb_indices(), skeleton.limb_indices(weak=True)
    limbs = np.array(strong + weak, dtype=int).reshape(-1, 2)
    tols = np.array([opts["limb_tolerance"]] * len(strong)
                    + [opts["weak_limb_tolerance"]] * len(weak), dtype=np.float64)
    lengths = np.full(len(limbs), np.nan)
    given = opts["limb_lengths"]
    if given is not None:
        if isinstance(given, dict):
            names = skeleton.limbs + skeleton.weak_limbs
            for i, (a, b) in enumerate(names):
                v = given.get((a, b), given.get((b, a), given.get(f"{a}-{b}")))
                if v is not None:
                    lengths[i] = float(v)
        else:
            arr = np.asarray(given, dtype=np.float64).ravel()
            if arr.size != len(limbs):
                raise InputError(f"limb_lengths has {arr.size} values for {len(limbs)} limbs "
                                 f"(strong then weak)")
            lengths[:] = arr
        if np.any(lengths[np.isfinite(lengths)] <= 0):
            raise InputError(f"limb_lengths must be positive, got {lengths.tolist()}")
    return limbs, tols, lengths


def _robust_start(rig, p, s, opts, R, t, f, rng, frames):
    """RANSAC points of ``frames = (lo, hi)``: ``(chunk, X (n, J, 3), used (C, n, J))``."""
    ch = prepare_chunk(rig, p, s, frames[0], frames[1], opts["score_threshold"],
                       opts["median_filter"], opts["nonfinite"], kernel=opts["kernel"])
    n_cams, n, n_joints = ch.weights.shape
    X, used = triangulate_ransac(ch.normalized.reshape(n_cams, -1, 2),
                                 ch.weights.reshape(n_cams, -1), R, t, f,
                                 opts["reproj_threshold"], opts["max_pairs"], rng,
                                 kernel=opts["kernel"])
    return ch, X.reshape(n, n_joints, 3), used.reshape(n_cams, n, n_joints)


def _statistics(rig, p, s, opts, R, t, f, limbs, lengths, d, whole=None):
    """Estimate missing limb lengths and the temporal scale from blocks spread in time.

    ``whole``: the robust start of every frame (a short recording, solved in one chunk),
    whose blocks are used instead of triangulating them again.
    """
    n_frames = p.shape[1]
    budget = int(opts["length_frames"])
    block = min(200, n_frames)
    n_blocks = max(1, min(budget // max(block, 1), int(np.ceil(n_frames / max(block, 1)))))
    starts = np.unique(np.linspace(0, n_frames - block, n_blocks).astype(int))
    rng = np.random.default_rng(opts["rng"])
    all_len, diffs = [], []
    for s0 in starts:
        if whole is not None:
            X = whole[1][s0:s0 + block]
        else:
            _, X, _ = _robust_start(rig, p, s, opts, R, t, f, rng, (s0, s0 + block))
        if len(limbs):
            all_len.append(np.linalg.norm(X[:, limbs[:, 0]] - X[:, limbs[:, 1]], axis=-1))
        if X.shape[0] > d + 6:
            from .filters import median_filter_2d

            Xm = median_filter_2d(X[None], 7)[0]
            dd = np.abs(np.diff(Xm, n=d, axis=0))
            diffs.append(dd[np.isfinite(dd)])
    est = np.full(len(limbs), np.nan)
    if all_len:
        cat = np.concatenate(all_len)
        est = np.array([np.nanmedian(cat[:, i]) if np.isfinite(cat[:, i]).any() else np.nan
                        for i in range(len(limbs))])
    lengths = np.where(np.isfinite(lengths), lengths, est)
    flat = np.concatenate(diffs) if diffs else np.zeros(0)
    scale_d = float(np.median(flat)) if flat.size else float("nan")
    return lengths, scale_d


def triangulate_optim(rig, p, s, opts: dict):
    """``method="optim"`` of :func:`triangulate.triangulate` (see the module docstring).

    Parameters
    ----------
    rig : CameraRig
    p : (n_cams, n_frames, n_joints, 2) pixels
    s : (n_cams, n_frames, n_joints) or None
    opts : dict
        Options with defaults filled in.

    Returns
    -------
    Triangulation
    """
    d = check_range(opts["n_deriv_smooth"], "n_deriv_smooth", 0, 4, integer=True)
    check_range(opts["smooth"], "smooth", 0.0)
    check_range(opts["limb_tolerance"], "limb_tolerance", 0.0, low_open=True)
    check_range(opts["weak_limb_tolerance"], "weak_limb_tolerance", 0.0, low_open=True)
    chunk = check_range(opts["chunk_frames"], "chunk_frames", 8, integer=True)
    overlap = check_range(opts["overlap"], "overlap", 0, integer=True)
    max_it = check_range(opts["max_iterations"], "max_iterations", 1, integer=True)
    min_cams = check_range(opts["min_cams"], "min_cams", 1, integer=True)
    scale = opts["loss_scale"]
    scale = opts["reproj_threshold"] / 3.0 if scale is None else check_range(
        scale, "loss_scale", 0.0, low_open=True)
    n_cams, n_frames, n_joints, _ = p.shape
    R, t, f = rig_arrays(rig)
    limbs, tols, lengths = _limbs(opts.get("skeleton"), n_joints, opts)
    rng = np.random.default_rng(opts["rng"])
    # a recording solved in one chunk: its robust start also gives the statistics
    whole = _robust_start(rig, p, s, opts, R, t, f, rng, (0, n_frames)) if (
        n_frames <= chunk and n_frames <= int(opts["length_frames"])) else None
    lengths, scale_d = _statistics(rig, p, s, opts, R, t, f, limbs, lengths, d, whole)
    keep = np.isfinite(lengths) & (lengths > 0)
    if not keep.all():
        log.warning("limb(s) %s never triangulated: left out of the optimisation",
                    limbs[~keep].tolist())
    limbs, tols, lengths = limbs[keep], tols[keep], lengths[keep]
    lam = 0.0
    if d > 0 and opts["smooth"] > 0 and np.isfinite(scale_d):
        lam = (float(opts["smooth"]) / max(scale_d, 1e-9)) ** 2

    X = np.full((n_frames, n_joints, 3), np.nan)
    reproj = np.full((n_frames, n_joints), np.nan)
    ncams = np.zeros((n_frames, n_joints), np.int16)
    score = np.full((n_frames, n_joints), np.nan, np.float32)
    sigma = np.full((n_frames, n_joints), np.nan)
    inliers = np.zeros((n_cams, n_frames, n_joints), bool)
    cam_err = np.full((n_cams, n_frames, n_joints), np.nan, np.float32)
    iterations = []
    thr = float(opts["reproj_threshold"])
    for start in range(0, n_frames, chunk):
        stop = min(start + chunk, n_frames)
        lo, hi = max(start - overlap, 0), min(stop + overlap, n_frames)
        ch, X0, _ = whole if whole is not None else _robust_start(rig, p, s, opts, R, t, f,
                                                                   rng, (lo, hi))
        X0f, present = interpolate_tracks(X0)
        if not present.any():
            continue
        ok_limb = present[limbs[:, 0]] & present[limbs[:, 1]] if len(limbs) else np.zeros(0, bool)
        problem = _Problem(rig, ch.pixels, ch.weights, limbs[ok_limb],
                           lengths[ok_limb], tols[ok_limb], lam, d, scale,
                           kernel=opts["kernel"])
        Xc, info = solve_chunk(problem, X0f, max_it, preconditioner=opts["preconditioner"])
        iterations.append(info)
        Xc[:, ~present] = np.nan
        fin = np.isfinite(Xc).all(-1)
        proj = problem.project(np.where(fin[..., None], Xc, 0.0))
        err = np.linalg.norm(proj - ch.pixels, axis=-1)
        used = problem.valid & (err < thr) & fin[None]
        enough = used.sum(0) >= min_cams
        used &= enough[None]
        e_in = err[used]
        sig_px = float(np.median(e_in) / 1.1774) if e_in.size else 1.0
        sd = problem.covariance_rms(np.where(fin[..., None], Xc, 0.0), sig_px)
        Xc[~enough] = np.nan
        sd[~enough] = np.nan
        a, b = start - lo, stop - lo
        Xk = Xc[a:b]
        e, rep, nc, sc = evaluate(rig, Xk, ch.pixels[:, a:b], ch.weights[:, a:b], used[:, a:b],
                                  proj=proj[:, a:b])
        X[start:stop], reproj[start:stop], ncams[start:stop] = Xk, rep, nc
        score[start:stop], inliers[:, start:stop], cam_err[:, start:stop] = sc, used[:, a:b], e
        sigma[start:stop] = sd[a:b]
    extra = {"limb_lengths": lengths, "limbs": limbs, "smooth_weight": lam,
             "iterations": iterations}
    return Triangulation(points3d=X, reprojection_error=reproj, n_cams=ncams, score=score,
                         inliers=inliers, camera_errors=cam_err, camera_names=rig.names,
                         units=rig.units, method="optim", options=opts, uncertainty=sigma,
                         extra=extra)
