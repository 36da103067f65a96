"""What multi-view bootstrapping needs besides the labels: every camera's video and the rig.

Three sources, found from the ``--data`` of ``tripose train``:

- a ``tripose synth`` session: ``videos/<cam>.mp4`` and ``ground_truth/calibration.toml``;
- a tripose project session (``PROJECT/<session>``): ``videos-raw/<cam>.*`` and the session's
  calibration, labels in ``labeled-data/<cam>/``;
- a DeepLabCut project with ``--calibration``: ``videos/<video>.*`` whose names contain the
  camera names of the calibration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from calibration.errors import InputError

__all__ = ["MultiViewInputs", "multiview_inputs", "frame_number"]

_VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv")


@dataclass
class MultiViewInputs:
    """Videos and calibration of a labelled multi-camera recording.

    Attributes
    ----------
    videos : camera name -> video path (every camera of ``rig``)
    rig : calibration.CameraRig
    calibration : the calibration file read
    """

    videos: dict
    rig: object
    calibration: Path
    notes: list = field(default_factory=list)


def frame_number(name: str) -> int | None:
    """The video frame a training-frame name stands for (``img0042.png``, ``cam0.mp4#42``).

    Returns None when the name holds no number.
    """
    tail = str(name).rsplit("/", 1)[-1]
    if "#" in tail:
        tail = tail.rsplit("#", 1)[1]
    m = re.findall(r"\d+", tail)
    return int(m[-1]) if m else None


def _videos_by_camera(folder: Path, cameras: list[str], where: str) -> dict:
    files = [p for p in sorted(folder.iterdir()) if p.suffix.lower() in _VIDEO_SUFFIXES]
    out = {}
    for cam in cameras:
        hits = [p for p in files if p.stem == cam] or [p for p in files if cam in p.stem]
        if len(hits) != 1:
            raise InputError(f"{where}: {'no' if not hits else len(hits)} video(s) in {folder} "
                             f"for camera {cam!r} of the calibration; bootstrapping needs "
                             f"exactly one video per camera")
        out[cam] = hits[0]
    return out


def multiview_inputs(data: str | Path, calibration: str | Path | None = None) -> MultiViewInputs:
    """Find the videos and the calibration of ``data`` (see the module docstring).

    Raises
    ------
    InputError
        Naming what is missing and where it was looked for.
    """
    from calibration.load_rig import load_rig

    data = Path(data)
    root = data.parent if data.name == "config.yaml" else data
    if calibration is not None:
        cal = Path(calibration)
    elif (root / "ground_truth" / "calibration.toml").is_file():
        cal = root / "ground_truth" / "calibration.toml"
    elif (root / "calibration" / "calibration.toml").is_file():
        cal = root / "calibration" / "calibration.toml"
    elif (root / "calibration.toml").is_file():
        cal = root / "calibration.toml"
    else:
        raise InputError(f"--bootstrap needs the rig's calibration: none found in {root} "
                         f"(ground_truth/, calibration/ or calibration.toml); pass "
                         f"--calibration FILE")
    if not cal.is_file():
        raise InputError(f"--calibration {cal} does not exist")
    rig = load_rig(cal)
    for sub in ("videos-raw", "videos"):
        if (root / sub).is_dir():
            videos = _videos_by_camera(root / sub, list(rig.names), f"--data {root}")
            return MultiViewInputs(videos, rig, cal)
    raise InputError(f"--bootstrap needs every camera's video: {root} has no videos-raw/ or "
                     f"videos/ folder")
