"""NWB files with the ndx-pose extension (0.4): write and read pose estimates.

:func:`save_nwb` writes, in the ``behavior`` processing module (as ndx-pose recommends):

* ``Skeletons``: one ndx-pose ``Skeleton`` per individual, named ``skeleton_<individual>``
  (as ``movement`` names them; readers take the individual's name from it), nodes = the
  keypoint names in order, edges = the limbs and weak limbs of a :class:`poses.Skeleton`;
* 2D poses: one ``PoseEstimation`` per camera (and individual, when there are several),
  ``PoseEstimation[_<camera>][_<individual>]``, linking its Skeleton and camera device;
* 3D poses: one ``MultiCameraPoseEstimation[_<individual>]`` holding the 3D series and one
  ``PoseEstimation_<camera>`` per camera (its 2D series when ``views`` are given);
* cameras: ``CalibratedCamera`` devices (K, R, t, distortion) for a ``rig``'s cameras, plain
  ``Device`` objects for other named cameras.

Each keypoint is a ``PoseEstimationSeries`` named by the keypoint: ``data (n_frames, 2|3)``
float64, ``confidence (n_frames,)`` (NaN where unknown), ``unit`` (``"pixels"`` for 2D; the
poses' or the rig's units for 3D, else ``"unknown"``), ``rate = fps`` with ``starting_time =
frame_index[0] / fps`` for consecutive frames, else ``timestamps = frame_index / fps``. With
no frame rate the timestamps are the frame numbers and the series' ``comments`` says so;
reading gives ``fps=None`` back. Quality arrays (``error`` ...) have no place in ndx-pose and
are not written. Groups are written in creation order, so readers meet individuals and
cameras in the order given.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import InputError
from ..model import DEFAULT_INDIVIDUAL, Poses, PoseViews, default_individuals
from ..skeleton import Skeleton
from .registry import Format, register

__all__ = ["save_nwb", "load_nwb", "load_nwb_views"]

_NO_FPS = "timestamps are frame numbers, not seconds: the frame rate is unknown"
_FPS_RE = re.compile(r"frame rate ([0-9.eE+-]+) Hz")
_REF_2D = "image pixels: (0, 0) is the centre of the top-left pixel, x to the right, y down"
_REF_3D = "the world frame of the calibrated camera rig (origin and axes set by its calibration)"
#: Names a PoseEstimation uses for its own fields: no keypoint can take them.
_RESERVED = {"description", "scorer", "source_software", "device", "skeleton", "source_video",
             "labeled_video", "original_videos", "labeled_videos", "dimensions", "nodes",
             "edges"}


def _ndx():
    try:
        import ndx_pose
    except ImportError:
        raise ImportError("NWB files need pynwb and ndx-pose: pip install 'ndx-pose>=0.4'") \
            from None
    if not hasattr(ndx_pose, "MultiCameraPoseEstimation"):
        raise ImportError("writing NWB needs ndx-pose >= 0.4 (CalibratedCamera, "
                          "MultiCameraPoseEstimation): pip install -U 'ndx-pose>=0.4'")
    return ndx_pose


def _get(obj, *names):
    for n in names:
        value = obj.get(n) if isinstance(obj, Mapping) else getattr(obj, n, None)
        if value is not None:
            return value
    return None


def _rodrigues(rvec) -> np.ndarray:
    r = np.asarray(rvec, dtype=np.float64).ravel()
    theta = np.linalg.norm(r)
    k = r / theta if theta > 1e-15 else np.zeros(3)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(theta) * kx + (1 - np.cos(theta)) * kx @ kx


def _rig_cameras(rig) -> tuple[dict[str, dict], str | None]:
    """Per-camera calibration of a duck-typed rig (see :func:`save_nwb`) and its units."""
    if rig is None:
        return {}, None
    if isinstance(rig, Mapping):
        items = [(str(k), v) for k, v in rig.items()]
    elif getattr(rig, "cameras", None) is not None:
        items = [(str(_get(c, "name")), c) for c in rig.cameras]
    elif getattr(rig, "names", None) is not None:
        items = [(str(n), rig[n]) for n in rig.names]
    else:
        raise InputError(f"rig: expected a camera rig (cameras with K, dist, R, t) or a "
                         f"mapping camera name -> camera, got {type(rig).__name__}")
    out = {}
    for name, cam in items:
        K = _get(cam, "K", "matrix", "intrinsic_matrix")
        if K is None or np.shape(K) != (3, 3):
            raise InputError(f"rig camera {name!r}: needs an intrinsic matrix K of shape "
                             f"(3, 3), got {None if K is None else np.shape(K)}")
        R = _get(cam, "R", "rotation_matrix")
        R = _rodrigues(_get(cam, "rvec")) if R is None and _get(cam, "rvec") is not None else R
        t, dist = _get(cam, "t", "tvec", "translation_vector"), _get(cam, "dist")
        out[name] = {
            "intrinsic_matrix": np.asarray(K, dtype=np.float64),
            "rotation_matrix": None if R is None else np.asarray(R, float).reshape(3, 3),
            "translation_vector": None if t is None else np.asarray(t, float).reshape(3),
            "distortion_coefficients": None if dist is None else np.asarray(dist, float).ravel(),
            "size": _get(cam, "size"), "fisheye": bool(_get(cam, "fisheye") or False)}
    units = None if isinstance(rig, Mapping) else _get(rig, "units")
    return out, None if units is None else str(units)


# ------------------------------------------------------------------------------ writing
def _check_name(name: str, what: str) -> str:
    if "/" in name:
        raise InputError(f"NWB object names cannot contain '/': {what} {name!r}; rename it")
    if what == "keypoint" and (name in _RESERVED or name.startswith("skeleton_")):
        raise InputError(f"keypoint name {name!r} clashes with a field of ndx-pose's "
                         f"PoseEstimation; rename the keypoint")
    return name


def _timing(p: Poses) -> dict:
    fi = p.frame_index
    if p.fps is None:
        return {"timestamps": fi.astype(np.float64), "comments": _NO_FPS}
    if fi.size == 0 or np.all(np.diff(fi) == 1):
        return {"rate": p.fps, "starting_time": float(fi[0]) / p.fps if fi.size else 0.0}
    return {"timestamps": fi / p.fps, "comments": f"frame rate {p.fps!r} Hz"}


def _series(ndx, p: Poses, i: int, unit: str, ref: str) -> list:
    timing = _timing(p)
    definition = (f"as reported by {p.source_software}; " if p.source_software else "") + \
        "NaN where unknown"
    seen = f" seen by camera {p.camera}" if p.camera and not p.is_3d else ""
    out = []
    for k, kp in enumerate(p.keypoints):
        out.append(ndx.PoseEstimationSeries(
            name=_check_name(kp, "keypoint"), description=f"{kp} of {p.individuals[i]}{seen}",
            data=np.ascontiguousarray(p.position[:, i, k]),
            confidence=np.ascontiguousarray(p.confidence[:, i, k]),
            confidence_definition=definition, unit=unit, reference_frame=ref, **timing))
        if "timestamps" in timing:  # later series link to the first one's timestamps
            timing = {**timing, "timestamps": out[0]}
    return out


def _meta(p: Poses, what: str) -> dict:
    desc = (f"{what}, exported by tripose" + (f" from {p.source_file}" if p.source_file else "")
            + (f"; {_NO_FPS}" if p.fps is None else ""))
    scorer = p.attrs.get("scorer")
    return {"description": desc, "source_software": p.source_software,
            "scorer": scorer if isinstance(scorer, str) else None}


def _estimation(ndx, name: str, p: Poses | None, ind: str, skel, device, cam: str | None):
    """The PoseEstimation of individual ``ind`` in 2D poses ``p`` (None: the device only)."""
    what = f"camera {cam}" if cam else "one camera"
    if p is None or ind not in p.individuals:
        return ndx.PoseEstimation(name=name, skeleton=skel, device=device,
                                  description=f"{what}: no 2D keypoints of {ind} in this file")
    unit = "pixels" if p.units in (None, "px", "pixel", "pixels") else p.units
    series = _series(ndx, p, p.individuals.index(ind), unit, _REF_2D)
    return ndx.PoseEstimation(name=name, skeleton=skel, device=device,
                              pose_estimation_series=series,
                              **_meta(p, f"2D keypoints of {ind} ({what})"))


def _edges(skeleton: Skeleton | None, keypoints: list[str]) -> np.ndarray | None:
    if skeleton is None:
        return None
    pairs = list(dict.fromkeys([*skeleton.limbs, *skeleton.weak_limbs]))
    missing = sorted({b for pair in pairs for b in pair if b not in keypoints})
    if missing:
        raise InputError(f"skeleton limbs name bodyparts {missing} that the poses lack; "
                         f"keypoints: {keypoints}")
    return np.array([[keypoints.index(a), keypoints.index(b)] for a, b in pairs],
                    dtype=np.uint8 if len(keypoints) < 256 else np.uint16).reshape(-1, 2)


def _device(ndx, cam: str, calib: dict | None, units: str | None):
    from pynwb.device import Device

    if calib is None:
        return Device(name=_check_name(cam, "camera"), description=f"camera {cam}")
    size = "" if calib["size"] is None else \
        " image size {}x{} px;".format(*np.asarray(calib["size"]).ravel()[:2].tolist())
    model = "fisheye (Kannala-Brandt)" if calib["fisheye"] else "pinhole"
    arrays = {k: v for k, v in calib.items() if k not in ("size", "fisheye")}
    return ndx.CalibratedCamera(
        name=_check_name(cam, "camera"), **arrays,
        description=f"calibrated camera {cam};{size} {model} distortion in OpenCV's order; "
                    f"X_cam = R X_world + t, t in {units or 'rig units'}")


def save_nwb(data: Poses | PoseViews, path: str | Path, skeleton: Skeleton | None = None,
             rig=None, views: PoseViews | None = None,
             session_description: str = "pose estimates exported by tripose",
             identifier: str | None = None,
             session_start_time: datetime.datetime | None = None) -> Path:
    """Write poses to an NWB file (ndx-pose 0.4), atomically.

    Parameters
    ----------
    data : Poses or PoseViews
        2D poses of one camera, 3D poses, or multi-view 2D poses (a ``PoseEstimation``
        per camera).
    path : str or Path
    skeleton : poses.Skeleton, optional
        Its limbs and weak limbs become the edges of every ndx-pose ``Skeleton``.
    rig : optional
        Calibration, written as ``CalibratedCamera`` devices: an object with ``cameras``
        (e.g. ``calibration.CameraRig``) or ``names`` and ``rig[name]``, or a mapping camera
        name -> camera. A camera (object or mapping) offers ``K`` or ``matrix`` (3, 3) px and
        optionally ``dist``, ``R`` (3, 3) or ``rvec`` (3,), ``t`` or ``tvec`` (3,), ``size``
        (width, height) px, ``fisheye``. The rig's ``units`` serve 3D poses that have none.
    views : PoseViews, optional
        With 3D ``data``: each camera's 2D keypoints, stored beside the 3D series.
    session_description, identifier, session_start_time
        NWB metadata (defaults: a fixed text, a random UUID, now in UTC).

    Returns
    -------
    Path written

    Raises
    ------
    InputError
        Not poses, ``views`` with 2D data, names NWB cannot hold (``/``, keypoints named like
        PoseEstimation fields), or skeleton limbs naming missing keypoints.
    """
    import h5py
    from pynwb import NWBHDF5IO, NWBFile

    ndx = _ndx()
    path = Path(path)
    if isinstance(data, PoseViews):
        flat, main = [(cam, data[cam]) for cam in data], None
    elif isinstance(data, Poses):
        flat, main = ([], data) if data.is_3d else ([(data.camera, data)], None)
    else:
        raise InputError(f"{path}: save_nwb needs Poses or PoseViews, got {type(data).__name__}")
    if views is not None:
        if main is None:
            raise InputError(f"{path}: views= goes with 3D poses; pass 2D views as data")
        flat = [(cam, views[cam]) for cam in views]
    calib, rig_units = _rig_cameras(rig)
    keypoints = list((main if main is not None else flat[0][1]).keypoints)
    individuals = list(dict.fromkeys([*(main.individuals if main is not None else []),
                                      *(i for _, p in flat for i in p.individuals)]))
    edges = _edges(skeleton, keypoints)

    nwb = NWBFile(session_description=session_description,
                  identifier=identifier or str(uuid.uuid4()),
                  session_start_time=session_start_time
                  or datetime.datetime.now(datetime.timezone.utc))
    behavior = nwb.create_processing_module("behavior", "processed behavioral data")
    devices = {}
    for cam in dict.fromkeys([*calib, *(c for c, _ in flat if c is not None)]):
        devices[cam] = _device(ndx, cam, calib.get(cam), rig_units)
        nwb.add_device(devices[cam])
    skels = {ind: ndx.Skeleton(name=f"skeleton_{_check_name(ind, 'individual')}",
                               nodes=keypoints, edges=edges) for ind in individuals}
    behavior.add(ndx.Skeletons(skeletons=list(skels.values())))
    multi = len(individuals) > 1
    if main is None:
        for cam, p in flat:
            for ind in p.individuals:
                name = "_".join(["PoseEstimation", *([cam] if cam else []),
                                 *([ind] if multi else [])])
                behavior.add(_estimation(ndx, name, p, ind, skels[ind], devices.get(cam), cam))
    else:
        unit = main.units or rig_units or "unknown"
        by_cam = dict(flat)
        for i, ind in enumerate(main.individuals):
            children = [_estimation(ndx, f"PoseEstimation_{cam}", by_cam.get(cam), ind,
                                    skels[ind], dev, cam) for cam, dev in devices.items()]
            behavior.add(ndx.MultiCameraPoseEstimation(
                name="MultiCameraPoseEstimation" + (f"_{ind}" if multi else ""),
                pose_estimation_series=_series(ndx, main, i, unit, _REF_3D),
                pose_estimations=children or None, skeleton=skels[ind],
                **_meta(main, f"3D keypoints of {ind} ({unit})")))

    config = h5py.get_config()
    tracked, config.track_order = config.track_order, True  # keep our order in the file
    try:
        with atomic_path(path) as tmp, NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)
    finally:
        config.track_order = tracked
    return path


# ------------------------------------------------------------------------------ reading
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
    if _NO_FPS in comments:
        return None, np.rint(ts).astype(np.int64)
    m = _FPS_RE.search(comments)
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


def _sniff(path: Path) -> bool:
    try:
        import h5py

        with h5py.File(path, "r") as h:
            return "nwb_version" in h.attrs
    except Exception:  # not HDF5, unreadable: not NWB as far as sniffing goes
        return False


register(Format(name="nwb", suffixes=(".nwb",),
                description="NWB file with ndx-pose pose estimates",
                load=load_nwb, save=save_nwb, sniff=_sniff))
