"""The pose data model: one validated type for 2D and 3D keypoints of one or more animals.

:class:`Poses` holds ``position: (n_frames, n_individuals, n_keypoints, n_space)`` (pixels for
2D, the rig's units for 3D; NaN = missing), ``confidence: (n_frames, n_individuals,
n_keypoints)`` in [0, 1] (NaN = unknown), the keypoint and individual names and the metadata
every format needs. Single-animal data is simply ``n_individuals = 1``. Nothing here reads or
writes files (see :mod:`poses.io`).

:class:`PoseViews` is multi-view 2D: an ordered mapping camera name -> :class:`Poses`, with
:meth:`PoseViews.stack` giving ``(n_cams, n_frames, n_individuals, n_keypoints, 2)``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .dims import CONFIDENCE_DIMS, DIMS
from .errors import InputError

__all__ = ["Poses", "PoseViews", "default_individuals", "DEFAULT_INDIVIDUAL"]

#: ``attrs`` keys holding one entry per frame (sliced with the frames).
PER_FRAME_ATTRS = ("image_paths",)

#: Name of the one individual of single-animal data (formats without individual names).
DEFAULT_INDIVIDUAL = "ind1"


def default_individuals(n: int) -> list[str]:
    """``ind1 ... indN``: names for individuals that a format leaves unnamed."""
    return [f"ind{i + 1}" for i in range(n)]


def _names(values: Iterable, what: str, where: str) -> list[str]:
    names = [str(v) for v in values]
    if any(not n for n in names):
        raise InputError(f"{where}: {what} names must not be empty, got {names}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{where}: {what} names collide: {dup} appear more than once; "
                         f"every {what[:-1] if what.endswith('s') else what} needs its own name")
    return names


@dataclass(eq=False)
class Poses:
    """Keypoints of one or more individuals over frames, 2D (pixels) or 3D.

    Parameters
    ----------
    position : (n_frames, n_individuals, n_keypoints, n_space) float64
        Pixels (2D, origin at the top-left pixel's centre, as DeepLabCut, SLEAP and OpenPose
        write them) or the rig's units (3D); NaN where missing, never infinite.
    confidence : (n_frames, n_individuals, n_keypoints) float64, optional
        In [0, 1]; NaN where unknown. Default 1 where the position is finite, else NaN.
    keypoints : sequence of n_keypoints str, optional
        Unique names (default ``kp0, kp1, ...``).
    individuals : sequence of n_individuals str, optional
        Unique names (default ``ind1, ind2, ...``).
    fps : float, optional
        Frame rate in Hz; None when the source does not say (never guessed).
    units : str, optional
        ``"px"`` for 2D; ``"mm"``, ``"m"``, ... for 3D; None when unknown.
    camera : str, optional
        The camera a 2D pose was seen by.
    source_file : str, optional
        The file it was read from (named in error messages).
    source_software : str, optional
        E.g. ``"DeepLabCut"``, ``"SLEAP"``, ``"tripose"``.
    frame_index : (n_frames,) int64, optional
        Frame numbers (default ``0 .. n_frames - 1``).
    quality : dict of str to (n_frames, n_individuals, n_keypoints) float64, optional
        Per-point figures of a 3D result (see :data:`poses.dims.QUALITY_FIELDS`): ``error``
        reprojection error in pixels, ``ncams`` views used, ``sigma`` uncertainty in units.
    attrs : dict, optional
        Free metadata kept by formats that can (e.g. DeepLabCut's ``scorer``).

    Raises
    ------
    InputError
        Wrong shapes, colliding or empty names, infinite coordinates, confidence outside
        [0, 1], a non-positive fps; the message names ``source_file`` when set.
    """

    position: np.ndarray
    confidence: np.ndarray | None = None
    keypoints: Sequence[str] | None = None
    individuals: Sequence[str] | None = None
    fps: float | None = None
    units: str | None = None
    camera: str | None = None
    source_file: str | None = None
    source_software: str | None = None
    frame_index: np.ndarray | None = None
    quality: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = self.source_file or "poses"
        pos = np.asarray(self.position, dtype=np.float64)
        if pos.ndim != 4 or pos.shape[-1] not in (2, 3):
            raise InputError(f"{where}: position must have shape (n_frames, n_individuals, "
                             f"n_keypoints, 2 or 3), got {pos.shape}")
        n_frames, n_ind, n_kp, _ = pos.shape
        if np.isinf(pos).any():
            raise InputError(f"{where}: position holds infinite values; missing points must "
                             f"be NaN")
        self.position = pos
        if self.confidence is None:
            conf = np.where(np.isfinite(pos).all(-1), 1.0, np.nan)
        else:
            conf = np.asarray(self.confidence, dtype=np.float64)
            if conf.shape != pos.shape[:3]:
                raise InputError(f"{where}: confidence must have shape (n_frames, "
                                 f"n_individuals, n_keypoints) = {pos.shape[:3]}, got "
                                 f"{conf.shape}")
            bad = np.isfinite(conf) & ((conf < 0) | (conf > 1)) | np.isinf(conf)
            if bad.any():
                vals = conf[bad][:3].tolist()
                raise InputError(f"{where}: confidence must lie in [0, 1] (NaN = unknown); "
                                 f"{int(bad.sum())} value(s) do not, e.g. {vals}")
        self.confidence = conf
        self.keypoints = _names(self.keypoints if self.keypoints is not None
                                else [f"kp{j}" for j in range(n_kp)], "keypoints", where)
        if len(self.keypoints) != n_kp:
            raise InputError(f"{where}: {len(self.keypoints)} keypoint names for {n_kp} "
                             f"keypoints")
        self.individuals = _names(self.individuals if self.individuals is not None
                                  else default_individuals(n_ind), "individuals", where)
        if len(self.individuals) != n_ind:
            raise InputError(f"{where}: {len(self.individuals)} individual names for {n_ind} "
                             f"individuals")
        if n_ind == 0:
            raise InputError(f"{where}: no individuals; expected at least one")
        if self.fps is not None:
            fps = float(self.fps)
            if not np.isfinite(fps) or fps <= 0:
                raise InputError(f"{where}: fps must be a positive number of Hz, got "
                                 f"{self.fps!r}")
            self.fps = fps
        if self.frame_index is None:
            self.frame_index = np.arange(n_frames, dtype=np.int64)
        else:
            fi = np.asarray(self.frame_index)
            if fi.shape != (n_frames,):
                raise InputError(f"{where}: frame_index must have shape ({n_frames},), got "
                                 f"{fi.shape}")
            self.frame_index = fi.astype(np.int64)
        quality = {}
        for key, arr in dict(self.quality).items():
            a = np.asarray(arr, dtype=np.float64)
            if a.shape != pos.shape[:3]:
                raise InputError(f"{where}: quality[{key!r}] must have shape {pos.shape[:3]}, "
                                 f"got {a.shape}")
            quality[str(key)] = a
        self.quality = quality
        self.attrs = dict(self.attrs)

    # ------------------------------------------------------------------ shape
    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return self.position.shape[0]

    @property
    def n_individuals(self) -> int:
        """Number of individuals."""
        return self.position.shape[1]

    @property
    def n_keypoints(self) -> int:
        """Number of keypoints per individual."""
        return self.position.shape[2]

    @property
    def n_space(self) -> int:
        """2 for image keypoints, 3 for 3D points."""
        return self.position.shape[3]

    @property
    def is_3d(self) -> bool:
        """Whether the positions are 3D."""
        return self.n_space == 3

    @property
    def dims(self) -> tuple[str, ...]:
        """Axis names of :attr:`position` (:data:`poses.dims.DIMS`)."""
        return DIMS

    @property
    def confidence_dims(self) -> tuple[str, ...]:
        """Axis names of :attr:`confidence`."""
        return CONFIDENCE_DIMS

    # ------------------------------------------------------------ construction
    @classmethod
    def from_numpy(cls, position, confidence=None, keypoints=None, individuals=None,
                   **meta) -> Poses:
        """Poses from arrays; single-animal arrays get an individuals axis of 1.

        Parameters
        ----------
        position : (n_frames, n_keypoints, n_space) or (n_frames, n_individuals,
            n_keypoints, n_space)
        confidence : (n_frames, n_keypoints) or (n_frames, n_individuals, n_keypoints),
            optional
        keypoints, individuals : sequences of str, optional
        **meta
            Any other field of :class:`Poses` (``fps``, ``units``, ``camera`` ...).
        """
        pos = np.asarray(position, dtype=np.float64)
        conf = None if confidence is None else np.asarray(confidence, dtype=np.float64)
        if pos.ndim == 3:
            pos = pos[:, None]
            if conf is not None and conf.ndim == 2:
                conf = conf[:, None]
        return cls(pos, conf, keypoints=keypoints, individuals=individuals, **meta)

    def replace(self, **changes) -> Poses:
        """A new validated :class:`Poses` with some fields changed (arrays not copied)."""
        return dataclasses.replace(self, **changes)

    def copy(self) -> Poses:
        """A deep copy."""
        return dataclasses.replace(
            self, position=self.position.copy(), confidence=self.confidence.copy(),
            frame_index=self.frame_index.copy(),
            quality={k: v.copy() for k, v in self.quality.items()}, attrs=dict(self.attrs))

    # ------------------------------------------------------------- selection
    def _indices(self, names, have: list[str], what: str) -> list[int]:
        if isinstance(names, (str, int)):
            names = [names]
        out = []
        for n in names:
            if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
                if not -len(have) <= n < len(have):
                    raise InputError(f"{self.source_file or 'poses'}: {what} index {n} out of "
                                     f"range ({len(have)} {what})")
                out.append(int(n) % len(have))
            elif str(n) in have:
                out.append(have.index(str(n)))
            else:
                raise InputError(f"{self.source_file or 'poses'}: unknown {what[:-1]} {n!r}; "
                                 f"{what}: {have}")
        return out

    def sel(self, individuals=None, keypoints=None) -> Poses:
        """The named (or indexed) individuals and keypoints, in the order given."""
        ii = (list(range(self.n_individuals)) if individuals is None
              else self._indices(individuals, self.individuals, "individuals"))
        kk = (list(range(self.n_keypoints)) if keypoints is None
              else self._indices(keypoints, self.keypoints, "keypoints"))
        ix = np.ix_(np.arange(self.n_frames), ii, kk)
        return self.replace(
            position=self.position[ix], confidence=self.confidence[ix],
            individuals=[self.individuals[i] for i in ii],
            keypoints=[self.keypoints[k] for k in kk],
            quality={k: v[ix] for k, v in self.quality.items()})

    def frames(self, index) -> Poses:
        """The frames at ``index`` (a slice, boolean mask or integer positions)."""
        if isinstance(index, slice):
            idx = np.arange(self.n_frames)[index]
        else:
            idx = np.asarray(index)
            if idx.dtype == bool:
                idx = np.flatnonzero(idx)
        attrs = dict(self.attrs)
        for key in PER_FRAME_ATTRS:  # e.g. the image paths of label rows
            value = attrs.get(key)
            if isinstance(value, (list, tuple)) and len(value) == self.n_frames:
                attrs[key] = [value[i] for i in idx]
        return self.replace(position=self.position[idx], confidence=self.confidence[idx],
                            frame_index=self.frame_index[idx],
                            quality={k: v[idx] for k, v in self.quality.items()}, attrs=attrs)

    def single(self, individual=0) -> tuple[np.ndarray, np.ndarray]:
        """One individual's arrays: ``(n_frames, n_keypoints, n_space)`` positions and
        ``(n_frames, n_keypoints)`` confidence (views, not copies)."""
        i = self._indices(individual, self.individuals, "individuals")[0]
        return self.position[:, i], self.confidence[:, i]

    # ------------------------------------------------------------------ movement
    def to_xarray(self):
        """The ``movement`` poses dataset (``position``, ``confidence``; see
        :mod:`poses.io.movement`)."""
        from .io.movement import to_xarray

        return to_xarray(self)

    @classmethod
    def from_xarray(cls, ds) -> Poses:
        """Poses from a ``movement`` poses dataset."""
        from .io.movement import from_xarray

        return from_xarray(ds)

    def __repr__(self) -> str:
        kind = "3D" if self.is_3d else "2D"
        bits = [f"{self.n_frames} frames", f"individuals={self.individuals}",
                f"keypoints={len(self.keypoints)}", kind]
        if self.camera:
            bits.append(f"camera={self.camera!r}")
        bits.append(f"fps={self.fps}")
        if self.units:
            bits.append(f"units={self.units!r}")
        return f"Poses({', '.join(bits)})"


class PoseViews(Mapping):
    """Multi-view 2D poses: an ordered mapping camera name -> :class:`Poses`.

    Parameters
    ----------
    views : mapping or iterable of (camera, Poses)
        Each a 2D :class:`Poses`; its ``camera`` is set to the key.

    Raises
    ------
    InputError
        A 3D view, an empty camera name, or views whose keypoints differ.
    """

    def __init__(self, views: Mapping[str, Poses] | Iterable[tuple[str, Poses]]):
        items = list(views.items()) if isinstance(views, Mapping) else list(views)
        self._views: dict[str, Poses] = {}
        for cam, p in items:
            cam = str(cam)
            if not cam:
                raise InputError("camera names must not be empty")
            if cam in self._views:
                raise InputError(f"camera {cam!r} given twice")
            if not isinstance(p, Poses):
                raise InputError(f"camera {cam!r}: expected Poses, got {type(p).__name__}")
            if p.is_3d:
                raise InputError(f"camera {cam!r} ({p.source_file or 'poses'}): expected 2D "
                                 f"keypoints, got 3D")
            if p.camera != cam:  # a shallow copy: the arrays were validated already
                p = copy.copy(p)
                p.camera = cam
            self._views[cam] = p
        if not self._views:
            raise InputError("no camera views given")
        first_cam, first = next(iter(self._views.items()))
        for cam, p in self._views.items():
            if set(p.keypoints) != set(first.keypoints):
                raise InputError(
                    f"keypoints differ between cameras: {first_cam!r} "
                    f"({first.source_file}) has {first.keypoints}, {cam!r} ({p.source_file}) "
                    f"has {p.keypoints}")

    def __getitem__(self, camera: str) -> Poses:
        return self._views[camera]

    def __iter__(self) -> Iterator[str]:
        return iter(self._views)

    def __len__(self) -> int:
        return len(self._views)

    @property
    def cameras(self) -> list[str]:
        """Camera names in order."""
        return list(self._views)

    @property
    def keypoints(self) -> list[str]:
        """Keypoint names (the first camera's order)."""
        return list(next(iter(self._views.values())).keypoints)

    @property
    def individuals(self) -> list[str]:
        """Every camera's individuals, in order of first appearance."""
        return list(dict.fromkeys(i for p in self._views.values() for i in p.individuals))

    @property
    def n_frames(self) -> dict[str, int]:
        """Frames per camera."""
        return {c: p.n_frames for c, p in self._views.items()}

    def stack(self, cameras: Sequence[str] | None = None, n_frames: int | None = None,
              individuals: Sequence[str] | None = None):
        """All views in one array.

        Parameters
        ----------
        cameras : sequence of str, optional
            Order of the camera axis (e.g. a rig's); names without a view get NaN positions
            and NaN confidence. Default: this mapping's order.
        n_frames : int, optional
            Frames to keep (default: the fewest any view has).
        individuals : sequence of str, optional
            Individuals by name (default :attr:`individuals`); a view that lacks one has NaN
            there.

        Returns
        -------
        position : (n_cams, n_frames, n_individuals, n_keypoints, 2) float64 pixels
        confidence : (n_cams, n_frames, n_individuals, n_keypoints) float64
        """
        cameras = self.cameras if cameras is None else [str(c) for c in cameras]
        kps = self.keypoints
        inds = self.individuals if individuals is None else [str(i) for i in individuals]
        if n_frames is None:
            n_frames = min(self.n_frames.values())
        shape = (len(cameras), n_frames, len(inds), len(kps))
        pos = np.full((*shape, 2), np.nan)
        conf = np.full(shape, np.nan)
        for c, cam in enumerate(cameras):
            p = self._views.get(cam)
            if p is None:
                continue
            kk = [p.keypoints.index(k) for k in kps]
            for i, ind in enumerate(inds):
                if ind not in p.individuals:
                    continue
                src = p.individuals.index(ind)
                m = min(n_frames, p.n_frames)
                pos[c, :m, i] = p.position[:m, src][:, kk]
                conf[c, :m, i] = p.confidence[:m, src][:, kk]
        return pos, conf

    def __repr__(self) -> str:
        return (f"PoseViews(cameras={self.cameras}, keypoints={len(self.keypoints)}, "
                f"individuals={self.individuals})")
