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
import uuid
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import InputError
from ..model import Poses, PoseViews
from ..skeleton import Skeleton
from .nwb_read import NO_FPS, is_nwb_file, load_nwb, load_nwb_views
from .registry import Format, register

__all__ = ["save_nwb", "load_nwb", "load_nwb_views"]

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
        return {"timestamps": fi.astype(np.float64), "comments": NO_FPS}
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
            + (f"; {NO_FPS}" if p.fps is None else ""))
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


register(Format(name="nwb", suffixes=(".nwb",),
                description="NWB file with ndx-pose pose estimates",
                load=load_nwb, save=save_nwb, sniff=is_nwb_file))
