"""Reading NWB files with ndx-pose pose estimates (written by :mod:`poses.io.nwb` or other
tools): every ``PoseEstimation`` / ``MultiCameraPoseEstimation`` of the ``behavior``
processing module, individuals named by their ``Skeleton`` (``skeleton_<individual>``),
``fps`` from the series' ``rate`` (None when the timestamps are frame numbers)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import DEFAULT_INDIVIDUAL, Poses, PoseViews, default_individuals

__all__ = ["load_nwb", "load_nwb_views", "is_nwb_file"]

#: The comment of series whose timestamps are frame numbers (no frame rate known).
NO_FPS = "timestamps are frame numbers, not seconds: the frame rate is unknown"
FPS_RE = re.compile(r"frame rate ([0-9.eE+-]+) Hz")


@dataclass
class _Entry:
    """The series of one PoseEstimation: one individual seen by one camera, or in 3D."""

    name: str
    camera: str | None
    skeleton: str | None
    keypoints: list[str]
    position: np.ndarray  # (n_frames, n_keypoints, n_space)
    confidence: np.ndarray | None  # (n_frames, n_keypoints)
    fps: float | None
    frame_index: np.ndarray
    units: str | None
    software: str | None
    scorer: str | None


def _timing_of(s, n: int) -> tuple[float | None, np.ndarray]:
    """Frame rate and frame numbers of a series: rate, or timestamps (ours or in seconds)."""
    if s.rate is not None:
        fps = float(s.rate)
        return fps, int(round((s.starting_time or 0.0) * fps)) + np.arange(n, dtype=np.int64)
    ts = None if s.timestamps is None else np.asarray(s.timestamps[:], dtype=np.float64)
    if ts is None or ts.shape != (n,) or not np.isfinite(ts).all():
        return None, np.arange(n, dtype=np.int64)
    comments = s.comments or ""
    if NO_FPS in comments:
        return None, np.rint(ts).astype(np.int64)
    m = FPS_RE.search(comments)
    step = float(np.median(np.diff(ts))) if n > 1 else 0.0
    if m is None and not step > 0:
        return None, np.arange(n, dtype=np.int64)
    fps = float(m.group(1)) if m else round(1.0 / step, 6)  # seconds: their sampling rate
    return fps, np.rint(ts * fps).astype(np.int64)


def _entry(container, camera: str | None, where: str) -> _Entry | None:
    series = dict(container.pose_estimation_series)
    if not series:
        return None
    skel = container.skeleton
    nodes = [str(n) for n in skel.nodes[:]] if skel is not None else []
    names = [n for n in nodes if n in series] + [n for n in series if n not in nodes]
    datas = [np.asarray(series[n].data[:], dtype=np.float64) * float(series[n].conversion or 1)
             + float(series[n].offset or 0) for n in names]
    confs = [None if series[n].confidence is None
             else np.asarray(series[n].confidence[:], dtype=np.float64) for n in names]
    spaces = {d.shape[1] if d.ndim == 2 else 0 for d in datas}
    if len(spaces) != 1 or spaces & {0, 1}:
        raise InputError(f"{where}: {container.name} holds series of shapes "
                         f"{sorted({d.shape for d in datas})}; expected (n_frames, 2|3) each")
    n = max(d.shape[0] for d in datas)
    pos = np.full((n, len(names), spaces.pop()), np.nan)
    conf = None if all(c is None for c in confs) else np.full((n, len(names)), np.nan)
    for k, (d, c) in enumerate(zip(datas, confs, strict=True)):
        pos[:d.shape[0], k] = d
        if c is not None:
            conf[:c.shape[0], k] = c
    fps, fi = _timing_of(series[names[0]], n)
    return _Entry(container.name, camera, None if skel is None else str(skel.name), names,
                  pos, conf, fps, fi, series[names[0]].unit,
                  getattr(container, "source_software", None),
                  getattr(container, "scorer", None))


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"


def _read_entries(path: str | Path) -> tuple[Path, list[_Entry], str | None]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"NWB file not found: {path}")
    try:
        import ndx_pose
        from pynwb import NWBHDF5IO
    except ImportError:
        raise ImportError("reading NWB needs pynwb and ndx-pose: pip install 'ndx-pose>=0.4'") \
            from None
    multi_type = getattr(ndx_pose, "MultiCameraPoseEstimation", type(None))
    expected = "expected an NWB file with ndx-pose PoseEstimation data"
    try:
        io = NWBHDF5IO(str(path), "r")
    except Exception as exc:
        raise InputError(f"{path}: not an NWB file ({_why(exc)}); {expected}") from None
    entries: list[_Entry | None] = []
    with io:
        try:
            nwb = io.read()
        except Exception as exc:
            raise InputError(f"{path}: cannot be read as NWB ({_why(exc)}); {expected}") \
                from None
        subject = getattr(nwb.subject, "subject_id", None) if nwb.subject else None
        objs = [o for m in nwb.processing.values() for o in m.data_interfaces.values()]
        for obj in [*objs, *nwb.acquisition.values()]:
            if isinstance(obj, ndx_pose.PoseEstimation):
                dev = getattr(obj, "device", None)  # ndx-pose < 0.4: devices, no camera
                entries.append(_entry(obj, None if dev is None else dev.name, str(path)))
            elif isinstance(obj, multi_type):
                entries.append(_entry(obj, None, str(path)))
                entries += [_entry(c, c.name if c.device is None else c.device.name, str(path))
                            for c in obj.pose_estimations.values()]
    found = [e for e in entries if e is not None]
    if not found:
        raise InputError(f"{path}: no pose data; expected ndx-pose PoseEstimation (or "
                         f"MultiCameraPoseEstimation) series in a processing module")
    return path, found, subject


def _individual_names(entries: list[_Entry], subject: str | None) -> list[str]:
    """Names from ``skeleton_<id>`` Skeletons (ours and movement's), else the subject's."""
    names = []
    for e in entries:
        s = e.skeleton
        s = s[len("skeleton_"):] if s and s.startswith("skeleton_") else s
        if s in (None, "", "skeleton", "subject"):
            s = str(subject) if subject and len(entries) == 1 else None
        names.append(s)
    if None in names and len(entries) == 1:
        return [DEFAULT_INDIVIDUAL]
    if None in names or len(set(names)) != len(names):
        names = [e.name for e in entries]
    return names if len(set(names)) == len(names) else default_individuals(len(entries))


def _combine(entries: list[_Entry], names: list[str], path: Path) -> Poses:
    """One Poses of the entries (individuals), aligned on their frame numbers."""
    keypoints = list(dict.fromkeys(k for e in entries for k in e.keypoints))
    same = all(np.array_equal(e.frame_index, entries[0].frame_index) for e in entries)
    fi = entries[0].frame_index if same else np.unique(np.concatenate(
        [e.frame_index for e in entries]))
    n_space = entries[0].position.shape[-1]
    shape = (fi.size, len(entries), len(keypoints))
    pos, conf = np.full((*shape, n_space), np.nan), np.full(shape, np.nan)
    any_conf = any(e.confidence is not None for e in entries)
    for i, e in enumerate(entries):
        rows = np.arange(fi.size) if same else np.searchsorted(fi, e.frame_index)
        ix = np.ix_(rows, [i], [keypoints.index(k) for k in e.keypoints])
        pos[ix] = e.position[:, None]
        if any_conf:
            c = e.confidence if e.confidence is not None else \
                np.where(np.isfinite(e.position).all(-1), 1.0, np.nan)
            conf[ix] = c[:, None]
    unit = entries[0].units
    if n_space == 2:
        unit = "px" if unit in (None, "pixels", "pixel", "px") else unit
    elif unit in (None, "unknown"):
        unit = None
    scorer = next((e.scorer for e in entries if e.scorer), None)
    return Poses(pos, conf if any_conf else None, keypoints=keypoints, individuals=names,
                 fps=next((e.fps for e in entries if e.fps is not None), None), units=unit,
                 camera=entries[0].camera if n_space == 2 else None, source_file=str(path),
                 source_software=next((e.software for e in entries if e.software), None),
                 frame_index=fi, attrs={"scorer": scorer} if scorer else {})


def _select(entries, subject, individual, path, what):
    names = _individual_names(entries, subject)
    if individual is None:
        return _combine(entries, names, path)
    keep = [i for i, n in enumerate(names) if n == str(individual)]
    if not keep:
        raise InputError(f"{path}: no individual {individual!r} in {what}; individuals: "
                         f"{names}")
    return _combine([entries[i] for i in keep], [names[i] for i in keep], path)


def load_nwb(path: str | Path, camera: str | None = None,
             individual: str | None = None) -> Poses:
    """Read poses from an NWB file with ndx-pose data.

    Parameters
    ----------
    path : str or Path
    camera : str, optional
        Read this camera's 2D poses (its device's name). Default: the 3D poses when the file
        has any, else the 2D poses of its only camera.
    individual : str, optional
        Only this individual (default: every one, a ``PoseEstimation`` each, combined).

    Returns
    -------
    Poses
        Keypoints in the Skeleton's node order, individuals named by their Skeleton, ``fps``
        from the series' rate (or timestamps in seconds; None when the file says it is
        unknown), ``units`` ``"px"`` for 2D.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    InputError
        Not NWB, no pose data, several cameras and no ``camera``, or an unknown camera or
        individual.
    """
    path, entries, subject = _read_entries(path)
    flat = [e for e in entries if e.position.shape[-1] == 2]
    if camera is not None:
        group = [e for e in flat if e.camera == str(camera)]
        if not group:
            cams = [c for c in dict.fromkeys(e.camera for e in flat) if c]
            raise InputError(f"{path}: no 2D poses of camera {camera!r}; cameras: {cams}")
        return _select(group, subject, individual, path, f"camera {camera!r}")
    group = [e for e in entries if e.position.shape[-1] == 3]
    cams = list(dict.fromkeys(e.camera for e in flat))
    if not group and len(cams) > 1:
        raise InputError(f"{path}: holds 2D poses of cameras {cams}; pass camera= (or read "
                         f"them all with load_nwb_views)")
    return _select(group or flat, subject, individual, path, "the file")


def load_nwb_views(path: str | Path, individual: str | None = None) -> PoseViews:
    """Every camera's 2D poses in an NWB file, as :class:`PoseViews` in file order.

    Raises
    ------
    InputError
        Not NWB, no 2D pose data, or an unknown individual.
    """
    path, entries, subject = _read_entries(path)
    flat = [e for e in entries if e.position.shape[-1] == 2]
    if not flat:
        raise InputError(f"{path}: no 2D pose data (only 3D); read it with load_nwb")
    views = {}
    for cam in dict.fromkeys(e.camera for e in flat):
        group = [e for e in flat if e.camera == cam]
        views[cam or group[0].name] = _select(group, subject, individual, path,
                                              f"camera {cam!r}")
    return PoseViews(views)


def is_nwb_file(path: str | Path) -> bool:
    """Whether ``path`` is an NWB (HDF5) file. Never raises."""
    try:
        import h5py

        with h5py.File(path, "r") as h:
            return "nwb_version" in h.attrs
    except Exception:  # not HDF5, unreadable: not NWB as far as sniffing goes
        return False
