"""OpenPose / Pose2Sim JSON folders (one file per frame), read and written.

Layout, as OpenPose writes it: a folder of ``{name}_{frame:012d}_keypoints.json`` files, each
``{"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": [x0, y0, c0, x1, ...],
...}]}``; coordinates in pixels (origin at the top-left pixel's centre), ``c`` the detection
confidence, ``c = 0`` for a keypoint not found (its x, y are 0).

Mapping onto :class:`poses.Poses`: frames are the files, in the order of the number their
names end with (the last run of digits, e.g. ``clip_000000000012_keypoints.json`` -> 12),
which becomes ``frame_index``; when a name has no number, or two share one, the files are
taken in name order and numbered from 0. Individuals are person *slots* ``ind1 .. indN``,
``N`` the most people in any frame, filled with each frame's people in file order: OpenPose
does not track identities, so ``ind1`` of one frame need not be ``ind1`` of the next. A
keypoint with ``c = 0`` and a slot without a person are NaN with confidence 0.

Keypoint names: OpenPose files hold none. With ``skeleton`` (a :class:`poses.Skeleton`, a list
of names, or a model of :data:`OPENPOSE_SKELETONS` such as ``"BODY_25B"``) they are its names
in its order, and a file with another number of keypoints is an error; without it they are
``kp0 .. kpN-1`` (tripose used to name every 25-keypoint file BODY_25, which mislabels
BODY_25B joints; pass ``skeleton="BODY_25"`` for those names).

Writing gives every individual slot of every frame, in order (all zeros where a slot is
empty), so a folder reads back with the same individuals; a present point with unknown
(NaN) confidence is written with ``c = 1``, and one with confidence 0 reads back as missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import InputError
from ..model import Poses, default_individuals
from ..skeleton import Skeleton, load_skeleton
from .registry import Format, register

__all__ = ["load_openpose", "save_openpose", "is_openpose_folder", "OPENPOSE_SKELETONS",
           "skeleton_names", "DEFAULT_KEY"]

#: The keypoint array read and written by default.
DEFAULT_KEY = "pose_keypoints_2d"
_OTHER_KEYS = ("face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d",
               "pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d",
               "hand_right_keypoints_3d")

_COCO_17 = ["Nose", "LEye", "REye", "LEar", "REar", "LShoulder", "RShoulder", "LElbow",
            "RElbow", "LWrist", "RWrist", "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle"]
_FEET = ["LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel"]


def _hand(side: str, root: str, thumb2: str, index1: str, pinky1: str) -> list[str]:
    fingers = [f"{side}Thumb1", thumb2, f"{side}Thumb3", f"{side}Thumb4", index1]
    fingers += [f"{side}Index{j}" for j in (2, 3, 4)]
    fingers += [f"{side}{f}{j}" for f in ("Middle", "Ring") for j in (1, 2, 3, 4)]
    return [root, *fingers, pinky1, *(f"{side}Pinky{j}" for j in (2, 3, 4))]


def _openpose_hand(side: str) -> list[str]:
    joints = {"Thumb": ("1CMC", "2Knuckles", "3IP", "4FingerTip")}
    other = ("1Knuckles", "2PIP", "3DIP", "4FingerTip")
    return [f"{side}{f}{j}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky")
            for j in joints.get(f, other)]


_BODY_25B = [*_COCO_17, "Neck", "Head", *_FEET]
#: Keypoint names of known 2D models, in the order their JSON arrays hold them. Pose2Sim's
#: names (its OpenSim markers: BODY_25B's ``Neck``/``Head``, HALPE_26's ``Hip``, COCO_133's
#: face and hands) where its skeletons name an index, the model's own names elsewhere;
#: BODY_25 keeps OpenPose's ``MidHip`` (tripose's name for it; Pose2Sim calls it ``CHip``),
#: ``COCO`` is OpenPose's 18-keypoint COCO model (with ``Neck``), ``COCO_17`` the MS-COCO one.
OPENPOSE_SKELETONS: dict[str, list[str]] = {
    "BODY_25": ["Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow",
                "LWrist", "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle",
                "REye", "LEye", "REar", "LEar", *_FEET[:3], *_FEET[3:]],
    "BODY_25B": _BODY_25B,
    "BODY_135": [*_BODY_25B, *_openpose_hand("L"), *_openpose_hand("R"),
                 *(f"FaceContour{i}" for i in range(17)),
                 *(f"REyeBrow{i}" for i in range(5)), *(f"LEyeBrow{i}" for i in range(4, -1, -1)),
                 *(f"NoseUpper{i}" for i in range(4)), *(f"NoseLower{i}" for i in range(5)),
                 *(f"REye{i}" for i in range(6)), *(f"LEye{i}" for i in range(6)),
                 *(f"OMouth{i}" for i in range(12)), *(f"IMouth{i}" for i in range(8)),
                 "RPupil", "LPupil"],
    "COCO": ["Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
             "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar",
             "LEar"],
    "COCO_17": _COCO_17,
    "HALPE_26": [*_COCO_17, "Head", "Neck", "Hip", "LBigToe", "RBigToe", "LSmallToe",
                 "RSmallToe", "LHeel", "RHeel"],
    "COCO_133": [*_COCO_17, *_FEET, *(f"Jaw{i}" for i in range(1, 18)),
                 *(f"EyebrowR{i}" for i in range(1, 6)), *(f"EyebrowL{i}" for i in range(1, 6)),
                 *(f"Nose{i}" for i in range(1, 10)), *(f"REye{i}" for i in range(1, 7)),
                 *(f"LEye{i}" for i in range(1, 7)), *(f"Mouth{i}" for i in range(1, 21)),
                 *_hand("L", "LHandRoot", "LThumb", "LIndex", "LPinky"),
                 *_hand("R", "RHandRoot", "RThumb", "RIndex", "RPinky")],
}
OPENPOSE_SKELETONS["COCO_133_WRIST"] = OPENPOSE_SKELETONS["COCO_133"]
_FRAME = re.compile(r"(\d+)\D*$")


def skeleton_names(skeleton: Skeleton | Sequence[str] | str, where: str = "skeleton"
                   ) -> tuple[list[str], str]:
    """Keypoint names and a label for messages from a skeleton, a list or a model name.

    A string is a model of :data:`OPENPOSE_SKELETONS` (any case) or a skeleton TOML file.
    """
    if isinstance(skeleton, Skeleton):
        return list(skeleton.bodyparts), "the skeleton"
    if isinstance(skeleton, (str, Path)):
        name = str(skeleton)
        if name.upper() in OPENPOSE_SKELETONS:
            return list(OPENPOSE_SKELETONS[name.upper()]), name.upper()
        if name.lower().endswith(".toml") and Path(name).is_file():
            return list(load_skeleton(name).bodyparts), f"skeleton {name}"
        raise InputError(f"{where}: unknown skeleton {name!r}; give a Skeleton, a list of "
                         f"keypoint names, a skeleton .toml or one of "
                         f"{sorted(OPENPOSE_SKELETONS)}")
    names = [str(n) for n in skeleton]
    return names, "the keypoint list"


def is_openpose_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding ``*.json`` files. Never raises."""
    try:
        path = Path(path)
        return path.is_dir() and next(path.glob("*.json"), None) is not None
    except OSError:
        return False


def _frame_files(folder: Path) -> tuple[list[Path], np.ndarray]:
    files = sorted(folder.glob("*.json"))
    nums = [_FRAME.search(f.stem) for f in files]
    if all(nums) and len({int(m.group(1)) for m in nums}) == len(files):
        order = np.argsort([int(m.group(1)) for m in nums], kind="stable")
        return [files[i] for i in order], np.array([int(nums[i].group(1)) for i in order])
    return files, np.arange(len(files))


def _people(path: Path, key: str) -> list[np.ndarray]:
    """Each person's ``(n_keypoints, 3)`` x, y, c array from one JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: invalid JSON ({exc}); expected one OpenPose frame") from None
    people = data.get("people") if isinstance(data, dict) else None
    if not isinstance(people, list):
        got = f"people = {people!r}" if isinstance(data, dict) else type(data).__name__
        raise InputError(f"{path}: expected an OpenPose JSON object with a 'people' list, got "
                         f"{got[:80]}")
    out = []
    for n, person in enumerate(people):
        vals = person.get(key) if isinstance(person, dict) else None
        if not isinstance(vals, list):
            raise InputError(f"{path}: person {n} has no {key!r} list (keys: "
                             f"{list(person) if isinstance(person, dict) else person!r})")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            bad = next(v for v in vals if not isinstance(v, (int, float)) or isinstance(v, bool))
            raise InputError(f"{path}: person {n} {key} holds {bad!r}; expected numbers x, y, "
                             f"c")
        arr = np.asarray(vals, dtype=np.float64)
        if arr.size % 3 or not np.isfinite(arr).all():
            raise InputError(f"{path}: person {n} {key} must hold finite x, y, c triples, got "
                             f"{arr.size} values{'' if np.isfinite(arr).all() else ' (NaN/inf)'}")
        out.append(arr.reshape(-1, 3))
    return out


def load_openpose(folder: str | Path, skeleton: Skeleton | Sequence[str] | str | None = None,
                  key: str = DEFAULT_KEY) -> Poses:
    """Read a folder of OpenPose / Pose2Sim JSON files, every person of every frame.

    Parameters
    ----------
    folder : str or Path
        One JSON file per frame.
    skeleton : Skeleton, list of str or str, optional
        Keypoint names (a model of :data:`OPENPOSE_SKELETONS`, e.g. ``"BODY_25B"``, or a
        skeleton .toml). Default ``kp0 .. kpN-1``.
    key : str
        The people's keypoint array to read (``hand_left_keypoints_2d`` ...).

    Returns
    -------
    Poses
        ``position (n_files, n_slots, n_keypoints, 2)`` pixels, confidence ``c`` (0 where a
        keypoint or a person slot is empty), individuals ``ind1 .. indN`` (person slots, no
        identity across frames), ``fps`` None.

    Raises
    ------
    FileNotFoundError
        No such folder.
    InputError
        No JSON files, a file that is not an OpenPose frame (invalid JSON, no ``people``
        list, a person without ``key``, values that are not x, y, c number triples), people
        with different keypoint counts, or a count that differs from the skeleton's.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"OpenPose JSON folder not found: {folder}")
    if key.endswith("_3d"):
        raise InputError(f"{folder}: key {key!r} holds 3D quadruples; only 2D keypoint arrays "
                         f"(x, y, c triples) can be read")
    files, frame_index = _frame_files(folder)
    if not files:
        raise InputError(f"{folder}: no *.json files; expected one OpenPose JSON per frame")
    frames = [_people(f, key) for f in files]
    counts: dict[int, Path] = {}  # keypoints per person -> first file with that count
    for f, people in zip(files, frames, strict=True):
        for a in people:
            if a.shape[0]:
                counts.setdefault(a.shape[0], f)
    if len(counts) > 1:
        (n1, f1), (n2, f2) = list(counts.items())[:2]
        raise InputError(f"{folder}: people hold different numbers of keypoints ({n1} in "
                         f"{f1.name}, {n2} in {f2.name}); expected one model throughout")
    names = None
    if skeleton is not None:
        names, label = skeleton_names(skeleton, str(folder))
        if counts and next(iter(counts)) != len(names):
            raise InputError(f"{folder}: the JSON files hold {next(iter(counts))} keypoints "
                             f"per person but {label} has {len(names)} ({', '.join(names[:4])}"
                             f"{', ...' if len(names) > 4 else ''})")
    if not counts and names is None:
        raise InputError(f"{folder}: no person with {key!r} keypoints in any of {len(files)} "
                         f"JSON files; pass skeleton= to read an empty clip")
    n_kp = next(iter(counts)) if counts else len(names)
    n_slots = max(1, max(len(p) for p in frames))
    xyc = np.zeros((len(files), n_slots, n_kp, 3))
    fi = np.concatenate([np.full(len(p), i) for i, p in enumerate(frames)]).astype(np.int64)
    si = np.concatenate([np.arange(len(p)) for p in frames]).astype(np.int64)
    kept = [a for p in frames for a in p]
    full = np.array([a.shape[0] == n_kp for a in kept], dtype=bool)
    if full.any():
        xyc[fi[full], si[full]] = np.stack([a for a, ok in zip(kept, full, strict=True) if ok])
    conf = np.clip(xyc[..., 2], 0.0, None)
    pos = np.where((conf > 0)[..., None], xyc[..., :2], np.nan)
    return Poses(pos, conf, keypoints=names, individuals=default_individuals(n_slots),
                 source_file=str(folder), source_software="OpenPose",
                 frame_index=frame_index)


def save_openpose(poses: Poses, folder: str | Path, key: str = DEFAULT_KEY,
                  prefix: str | None = None) -> Path:
    """Write 2D poses as OpenPose JSON, one file per frame, every individual slot in order.

    Parameters
    ----------
    poses : Poses
        2D (pixels).
    folder : str or Path
        Created when missing; must not hold other ``*.json`` files.
    key : str
        Keypoint array to fill (the others are written empty, as OpenPose does).
    prefix : str, optional
        File names are ``{prefix}_{frame:012d}_keypoints.json`` (default: the camera name,
        else the folder's name).

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    InputError
        3D poses, or a folder already holding other JSON files (they would be read as
        frames).
    """
    folder = Path(folder)
    if poses.is_3d:
        raise InputError(f"{folder}: OpenPose JSON holds 2D keypoints; these poses are 3D")
    prefix = prefix or poses.camera or folder.name or "frame"
    names = [f"{prefix}_{int(f):012d}_keypoints.json" for f in poses.frame_index]
    if folder.is_dir():
        stray = sorted({p.name for p in folder.glob("*.json")} - set(names))
        if stray:
            raise InputError(f"{folder}: already holds {len(stray)} other JSON file(s) (e.g. "
                             f"{stray[0]}) that would be read as frames; choose an empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    present = np.isfinite(poses.position).all(-1)
    conf = np.where(np.isnan(poses.confidence), 1.0, poses.confidence)
    xyc = np.concatenate([poses.position, conf[..., None]], axis=-1)
    xyc = np.where(present[..., None], xyc, 0.0).reshape(poses.n_frames, poses.n_individuals,
                                                          -1)
    empty = {k: [] for k in _OTHER_KEYS if k != key}
    for name, frame in zip(names, xyc.tolist(), strict=True):
        people = [{"person_id": [-1], key: person, **empty} for person in frame]
        with atomic_path(folder / name) as tmp:
            tmp.write_text(json.dumps({"version": 1.3, "people": people}), encoding="utf-8")
    return folder


register(Format(
    name="openpose", suffixes=(), folder=True,
    description="OpenPose / Pose2Sim JSON folder (one file per frame, every person)",
    load=load_openpose, save=save_openpose, sniff=is_openpose_folder, priority=0))
