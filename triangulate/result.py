"""The result of a triangulation: 3D points with per-point quality, and its conversion to the
pose data model (:class:`poses.Poses`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from poses import Poses
from poses.errors import InputError

__all__ = ["Triangulation"]


@dataclass
class Triangulation:
    """3D points and their per-point quality.

    Attributes
    ----------
    points3d : (n_frames, n_joints, 3) float64, rig units; NaN where not triangulated
    reprojection_error : (n_frames, n_joints) pixels
        Mean distance between the used detections and the point's projections.
    n_cams : (n_frames, n_joints) int16
        Views used (0 where the point is NaN).
    score : (n_frames, n_joints) float32
        Lowest detection score among the used views (as anipose).
    inliers : (n_cams, n_frames, n_joints) bool
        Which views were used.
    camera_errors : (n_cams, n_frames, n_joints) float32 pixels
        Error of every valid detection (used or not) against the 3D point.
    uncertainty : (n_frames, n_joints) float64 or None
        Standard deviation of the 3D point (rig units, RMS over x, y, z) from the solver's
        normal equations (``method="optim"``).
    camera_names : list of str
    units : str
    method : str
    options : dict
        Options used (defaults filled in).
    warnings : list of str
        Problems found in the data (e.g. a camera that disagrees with the others).
    extra : dict
        Method-specific outputs (optim: ``limb_lengths``, ``iterations``); file-level
        triangulation adds ``report`` (see :func:`triangulate.multi.build_report`) when it
        associated several animals or was asked for one.
    """

    points3d: np.ndarray
    reprojection_error: np.ndarray
    n_cams: np.ndarray
    score: np.ndarray
    inliers: np.ndarray
    camera_errors: np.ndarray
    camera_names: list[str]
    units: str
    method: str
    options: dict = field(default_factory=dict)
    uncertainty: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    _report: list | None = field(default=None, repr=False, compare=False)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return self.points3d.shape[0]

    @property
    def n_joints(self) -> int:
        """Number of joints."""
        return self.points3d.shape[1]

    def to_poses(self, keypoints: Sequence[str], individuals: Sequence[str] | None = None,
                 fps: float | None = None) -> Poses:
        """The 3D points as the pose data model.

        Parameters
        ----------
        keypoints : sequence of n_keypoints str
            Keypoint names; with several individuals, their joints are folded into this
            result's joint axis individual after individual (``n_joints = n_individuals *
            n_keypoints``).
        individuals : sequence of str, optional
            Default one individual, :data:`poses.DEFAULT_INDIVIDUAL`.
        fps : float, optional
            Frame rate, Hz (None: unknown).

        Returns
        -------
        Poses
            ``position (n_frames, n_individuals, n_keypoints, 3)`` in :attr:`units`,
            ``confidence`` = :attr:`score`, ``quality`` ``error`` (px), ``ncams`` and, for
            optim, ``sigma`` (units).
        """
        keypoints = [str(k) for k in keypoints]
        individuals = ["ind1"] if individuals is None else [str(i) for i in individuals]
        n_ind, n_kp = len(individuals), len(keypoints)
        if n_ind * n_kp != self.n_joints:
            raise InputError(f"{n_kp} keypoint name(s) x {n_ind} individual(s) for "
                             f"{self.n_joints} triangulated joints")
        shape = (self.n_frames, n_ind, n_kp)
        quality = {"error": self.reprojection_error.reshape(shape),
                   "ncams": self.n_cams.reshape(shape)}
        if self.uncertainty is not None:
            quality["sigma"] = self.uncertainty.reshape(shape)
        return Poses(self.points3d.reshape(*shape, 3), self.score.reshape(shape),
                     keypoints=keypoints, individuals=individuals, fps=fps, units=self.units,
                     source_software="tripose", quality=quality)

    def with_points(self, points3d: np.ndarray, rig=None, points2d: np.ndarray | None = None,
                    scores: np.ndarray | None = None) -> Triangulation:
        """A new result holding ``points3d`` (a filter's output) with quality that fits them.

        Points that became NaN lose their views (``n_cams`` 0, error and score NaN). Points
        that were NaN and are now finite (interpolated across a gap) were measured by no view:
        ``n_cams`` 0, error, score and uncertainty NaN. Points that moved keep the views that
        made them; with ``rig`` and ``points2d`` their errors are measured again on those views
        (same score threshold and median filter as the triangulation), otherwise their error
        and uncertainty are NaN (unknown). Unchanged points keep everything.

        Parameters
        ----------
        points3d : (n_frames, n_joints, 3) rig units
        rig : CameraRig, optional
        points2d : (n_cams, n_frames, n_joints, 2) pixels, optional
            The detections this result was triangulated from.
        scores : (n_cams, n_frames, n_joints), optional

        Returns
        -------
        Triangulation
        """
        X = np.asarray(points3d, dtype=np.float64)
        if X.shape != self.points3d.shape:
            raise InputError(f"filtered points have shape {X.shape}, expected "
                             f"{self.points3d.shape}")
        old_ok, new_ok = _finite3(self.points3d), _finite3(X)
        with np.errstate(invalid="ignore"):
            same = old_ok & new_ok & (X == self.points3d).all(-1)
        kept = old_ok & new_ok  # measured by views before and still there
        inliers = self.inliers & kept[None]
        reproj = np.where(same, self.reprojection_error, np.nan)
        cam_err = np.where(same[None], self.camera_errors, np.nan).astype(np.float32)
        moved = kept & ~same
        if moved.any() and rig is not None and points2d is not None:
            from .prepare import chunk_bounds, evaluate, prepare_chunk

            per = max(int(self.options.get("chunk_points", 100_000)) // max(self.n_joints, 1),
                      1)
            for a, b in chunk_bounds(self.n_frames, per):
                if b <= a or not moved[a:b].any():
                    continue
                ch = prepare_chunk(rig, points2d, scores, a, b,
                                   self.options.get("score_threshold", 0.0),
                                   self.options.get("median_filter", 0), undistort=False)
                err, rep, _, _ = evaluate(rig, X[a:b], ch.pixels, ch.weights, inliers[:, a:b])
                m = moved[a:b]
                reproj[a:b][m] = rep[m]
                cam_err[:, a:b][:, m] = err[:, m]
        n_cams = np.where(kept, self.n_cams, 0).astype(self.n_cams.dtype)
        score = np.where(kept, self.score, np.nan).astype(self.score.dtype)
        sigma = None if self.uncertainty is None else np.where(same, self.uncertainty, np.nan)
        return replace(self, points3d=X, reprojection_error=reproj, n_cams=n_cams, score=score,
                       inliers=inliers, camera_errors=cam_err, uncertainty=sigma,
                       warnings=list(self.warnings), extra=dict(self.extra), _report=None)

    def camera_report(self) -> list[dict]:
        """Per camera: detections, fraction used and median errors (pixels).

        Returns
        -------
        list of dict
            Keys ``camera``, ``detections`` (valid ones at triangulated points), ``used``
            (fraction), ``median_error`` (all its detections), ``median_error_used``. Medians
            of long recordings are taken over an evenly strided sample of 200000 detections.
        """
        if self._report is not None:
            return self._report
        out = []
        for c, name in enumerate(self.camera_names):
            err = self.camera_errors[c].ravel()
            e, u = _report_sample(err), _report_sample(self.inliers[c].ravel())
            valid = np.isfinite(e)
            n = int(np.isfinite(err).sum())
            used = u & valid
            out.append({
                "camera": name,
                "detections": n,
                "used": float(used.sum() / valid.sum()) if valid.any() else float("nan"),
                "median_error": _median(e[valid]) if valid.any() else float("nan"),
                "median_error_used": _median(e[used]) if used.any() else float("nan"),
            })
        self._report = out
        return out

    def disagreeing_cameras(self, factor: float = 3.0, min_error: float | None = None) -> list:
        """Cameras whose detections disagree with the 3D points of the others.

        A camera is flagged when the median error of its detections exceeds both
        ``min_error`` (default: twice the inlier threshold) and ``factor`` times the median of
        the other cameras' median errors (robust methods leave a wrong camera out, so the
        others fit well and the wrong one does not). Twice the threshold keeps a merely
        less accurate camera of a 3-camera rig (whose two others always agree) unflagged.

        Returns
        -------
        list of str
        """
        if min_error is None:
            min_error = 2.0 * float(self.options.get("reproj_threshold", 10.0))
        if not self._may_exceed(min_error):
            return []
        rep = self.camera_report()
        med = np.array([r["median_error"] for r in rep])
        flagged = []
        for c, r in enumerate(rep):
            others = np.delete(med, c)
            others = others[np.isfinite(others)]
            if not np.isfinite(med[c]) or others.size == 0:
                continue
            if med[c] > min_error and med[c] > factor * np.median(others):
                flagged.append(r["camera"])
        return flagged

    def _may_exceed(self, threshold: float) -> bool:
        """Whether any camera's ``median_error`` can exceed ``threshold`` (pixels).

        A median exceeds it only if at least half of the (sampled, as in
        :meth:`camera_report`) valid errors do: two counts per camera instead of the medians.
        """
        if self._report is not None:
            return True
        for c in range(len(self.camera_names)):
            e = _report_sample(self.camera_errors[c].ravel())
            n = int(np.count_nonzero(np.isfinite(e)))
            if n and int(np.count_nonzero(e > threshold)) >= n - n // 2:
                return True
        return False

    def __repr__(self) -> str:
        ok = np.isfinite(self.points3d).all(-1)
        med = np.nanmedian(self.reprojection_error) if ok.any() else float("nan")
        return (f"Triangulation({self.method}, {self.n_frames} frames x {self.n_joints} joints, "
                f"{ok.mean():.0%} triangulated, median error {med:.2f} px, "
                f"units={self.units!r})")


def _report_sample(a: np.ndarray) -> np.ndarray:
    """Every ``max(1, a.size // 200000)``-th element of ``a`` (1-D): the sample of reports."""
    return a[::max(1, a.size // 200_000)]


def _median(x: np.ndarray) -> float:
    """``np.median`` of a non-empty 1-D array without NaN, ~8x faster (one partition)."""
    n = x.size
    k = n // 2
    part = np.partition(x, k)
    if n % 2:
        return float(part[k])
    return float(np.mean(np.array([part[:k].max(), part[k]])))


def _finite3(a: np.ndarray) -> np.ndarray:
    """``np.isfinite(a).all(-1)`` for a last axis of 3, without the slow short reduction."""
    return np.isfinite(a[..., 0]) & np.isfinite(a[..., 1]) & np.isfinite(a[..., 2])


