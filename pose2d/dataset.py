"""Labeled frames for training: DeepLabCut projects, labeled-data folders, synthetic sessions.

Every loader returns a :class:`LabeledFrames` with images in memory (uint8 RGB) and labels as
one single-animal :class:`poses.Poses` (``labels.position (n_frames, 1, n_joints, 2)``
float64 pixels, DeepLabCut's convention: origin at the centre of the top-left pixel; NaN
where a keypoint is not labeled); ``points2d`` is its ``(n_frames, n_joints, 2)`` view.
Label files are read by :func:`poses.io.dlc.load_dlc`. Frames with no labeled keypoint are
skipped and counted. Multi-animal training sets (label files with several individuals) are
not supported yet.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from poses.errors import InputError
from poses.io.dlc import load_dlc
from poses.model import DEFAULT_INDIVIDUAL, Poses

__all__ = ["LabeledFrames", "labels_poses", "load_labeled_data", "read_dlc_config", "swap_pairs",
           "make_split"]

log = logging.getLogger(__name__)


@dataclass
class LabeledFrames:
    """Images and their keypoint labels.

    Attributes
    ----------
    images : list of (H, W, 3) uint8 RGB arrays (sizes may differ)
    labels : Poses
        One individual (:data:`poses.DEFAULT_INDIVIDUAL`), one frame per image; keypoints
        are the bodyparts, ``attrs["scorer"]`` the labeler, ``attrs["image_paths"]`` the
        frame names, ``attrs["labels"]`` True (saved by :func:`poses.io.dlc.save_dlc` as a
        ``CollectedData`` table).
    names : list of str, one per frame (``labeled-data/<video>/<image>`` or ``<video>#<frame>``)
    source : str
        Where the frames came from (for messages and the model folder).
    n_skipped : int
        Frames dropped because none of their keypoints was labeled.
    """

    images: list
    labels: Poses
    names: list
    source: str = ""
    n_skipped: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def points2d(self) -> np.ndarray:
        """``(n_frames, n_joints, 2)`` float64 pixels, NaN where unlabeled (a view)."""
        return self.labels.position[:, 0]

    @property
    def bodyparts(self) -> list[str]:
        """The keypoint names."""
        return list(self.labels.keypoints)

    @property
    def scorer(self) -> str:
        """The labeler (DeepLabCut's scorer)."""
        return str(self.labels.attrs.get("scorer") or "tripose")

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        return (f"LabeledFrames({len(self)} frames, {len(self.bodyparts)} bodyparts, "
                f"source={self.source!r}, skipped={self.n_skipped})")

    def concat(self, other: LabeledFrames) -> LabeledFrames:
        """These frames followed by ``other``'s (same bodyparts, in the same order)."""
        if list(other.bodyparts) != list(self.bodyparts):
            raise ValueError(f"cannot join frames labelling {other.bodyparts} to frames "
                             f"labelling {self.bodyparts}")
        names = list(self.names) + list(other.names)
        pts = np.concatenate([self.points2d, other.points2d], axis=0)
        labels = labels_poses(pts, names, self.bodyparts, self.scorer)
        return LabeledFrames(list(self.images) + list(other.images), labels, names,
                             self.source, self.n_skipped + other.n_skipped)

    def subset(self, idx) -> LabeledFrames:
        """The frames at positions ``idx``."""
        idx = np.asarray(list(idx), dtype=np.int64)
        names = [self.names[i] for i in idx]
        labels = self.labels.frames(idx)
        labels = labels.replace(attrs={**labels.attrs, "image_paths": names})
        return LabeledFrames([self.images[i] for i in idx], labels, names, self.source, 0)


def labels_poses(points2d: np.ndarray, names: list[str], bodyparts: list[str], scorer: str,
                 source_software: str = "DeepLabCut") -> Poses:
    """Single-animal label :class:`poses.Poses` from ``(n_frames, n_joints, 2)`` pixels, one
    frame per name (kept as ``attrs["image_paths"]``)."""
    pts = np.asarray(points2d, dtype=np.float64).reshape(len(names), len(bodyparts), 2)
    return Poses.from_numpy(pts, keypoints=list(bodyparts), individuals=[DEFAULT_INDIVIDUAL],
                            units="px", source_software=source_software,
                            attrs={"scorer": scorer, "labels": True,
                                   "image_paths": list(names), "index_levels": 1})


def _read_single(path: Path) -> Poses:
    """A DeepLabCut table of one animal (labels or analysis), read by ``load_dlc``."""
    poses = load_dlc(path)
    if poses.n_individuals != 1:
        raise InputError(f"{path}: multi-animal training sets are not supported yet (this "
                         f"file labels individuals {poses.individuals}); use a "
                         f"single-animal DeepLabCut project")
    return poses


def read_dlc_config(path: str | Path) -> dict:
    """The keys of a DeepLabCut ``config.yaml`` that training needs.

    Uses PyYAML when installed; otherwise a small reader of top-level ``key: value`` and
    ``key:`` + ``- item`` lists (enough for DeepLabCut's own files).

    Returns
    -------
    dict
        At least ``bodyparts`` (list of str) and ``scorer`` (str) when present in the file.

    Raises
    ------
    InputError
        The file cannot be read, is not valid YAML, is not a mapping, or its ``bodyparts``
        is not a non-empty list.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the DeepLabCut config {path}: {exc}") from None
    try:
        import yaml  # type: ignore[import-untyped]

        try:
            cfg = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            first = " ".join(str(exc).split())[:200]
            raise InputError(f"{path} is not valid YAML ({first}); fix the DeepLabCut "
                             f"config") from None
        if not isinstance(cfg, dict):
            raise InputError(f"{path}: expected a DeepLabCut config (key: value pairs), got "
                             f"a YAML {type(cfg).__name__}")
    except ImportError:
        cfg, key = {}, None
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            if not line.startswith((" ", "\t", "-")):
                m = re.match(r"^([^:]+):\s*(.*)$", line)
                if m:
                    key, value = m.group(1).strip(), m.group(2).strip()
                    cfg[key] = value if value else None
                continue
            item = line.strip()
            if key is not None and item.startswith("- "):
                if not isinstance(cfg.get(key), list):
                    cfg[key] = []
                cfg[key].append(item[2:].strip().strip("'\""))
    bp = cfg.get("bodyparts")
    if bp is not None and (not isinstance(bp, list) or not bp):
        raise InputError(f"{path}: 'bodyparts' must be a non-empty list, got {bp!r}; for "
                         f"multi-animal projects use 'multianimalbodyparts' (not supported)")
    return cfg


def swap_pairs(bodyparts: list[str]) -> list[tuple[int, int]]:
    """Left/right partner pairs by name (``leftear``/``rightear``, ``paw_l``/``paw_r``, ...).

    A horizontal flip of an image swaps these labels.
    """
    pairs, names = [], {b.lower(): i for i, b in enumerate(bodyparts)}
    subs = [("left", "right"), ("_l", "_r"), ("l_", "r_"), (" l", " r")]
    for i, b in enumerate(bodyparts):
        low = b.lower()
        for a, c in subs:
            if a in low:
                j = names.get(low.replace(a, c))
                if j is not None and j != i and (j, i) not in pairs and (i, j) not in pairs:
                    pairs.append((i, j))
                break
    return pairs


def _read_image(path: Path, label_file: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"image {path} named in {label_file} does not exist; restore "
                                f"it or remove its row from the labels")
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"image {path} named in {label_file} cannot be read (corrupt or not "
                         f"an image); replace it or remove its row from the labels")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _label_files(folder: Path) -> list[Path]:
    h5 = sorted(folder.glob("CollectedData_*.h5"))
    if h5:
        return h5
    return sorted(folder.glob("CollectedData_*.csv"))


def _from_label_folders(folders: list[Path], project: Path | None, bodyparts: list[str] | None,
                        scorer: str | None) -> LabeledFrames:
    images, points, names = [], [], []
    n_skipped = 0
    for folder in folders:
        for lf in _label_files(folder):
            table = _read_single(lf)
            if bodyparts is None:
                bodyparts = list(table.keypoints)
            unknown = [b for b in table.keypoints if b not in bodyparts]
            if unknown:
                raise ValueError(f"{lf} labels bodyparts {unknown} that the project does not "
                                 f"list ({bodyparts}); add them to config.yaml 'bodyparts' or "
                                 f"relabel")
            order = [table.keypoints.index(b) if b in table.keypoints else -1
                     for b in bodyparts]
            xy = np.where(np.array(order)[None, :, None] >= 0,
                          table.position[:, 0][:, np.maximum(order, 0)], np.nan)
            scorer = scorer or table.attrs.get("scorer")
            rows = table.attrs.get("image_paths")
            if rows is None:  # numeric rows: frame numbers stand for the image names
                rows = [str(f) for f in table.frame_index]
            for name, p in zip(rows, xy, strict=True):
                if not np.isfinite(p).all(axis=1).any():
                    n_skipped += 1
                    continue
                candidates = [folder / Path(name).name]
                if project is not None:
                    candidates.insert(0, project / name)
                path = next((c for c in candidates if c.is_file()), candidates[0])
                images.append(_read_image(path, lf))
                points.append(p)
                names.append(f"labeled-data/{folder.name}/{Path(name).name}")
    if not images:
        where = ", ".join(str(f) for f in folders)
        raise ValueError(f"no labeled frames found in {where}: expected CollectedData_*.h5 "
                         f"or .csv with at least one labeled keypoint")
    if n_skipped:
        log.warning("skipped %d frame(s) with no labeled keypoint", n_skipped)
    scorer = str(scorer or "tripose")
    return LabeledFrames(images, labels_poses(points, names, list(bodyparts), scorer), names,
                         n_skipped=n_skipped)


def _from_synth_session(root: Path, max_per_camera: int) -> LabeledFrames:
    truth = root / "ground_truth" / "pose2d"
    videos = sorted((root / "videos").glob("*.mp4"))
    if not videos:
        raise ValueError(f"{root}/videos holds no .mp4; expected a `tripose synth` session")
    images, points, names, bodyparts, n_skipped = [], [], [], None, 0
    for video in videos:
        lf = truth / f"{video.stem}.h5"
        table = _read_single(lf)
        bodyparts = bodyparts or list(table.keypoints)
        xy = table.position[:, 0].copy()
        if not table.attrs.get("labels"):
            xy[table.confidence[:, 0] < 0.5] = np.nan  # occluded: a labeler would not mark it
        keep = np.flatnonzero(np.isfinite(xy).all(axis=2).any(axis=1))
        n_skipped += len(xy) - len(keep)
        step = max(1, int(np.ceil(len(keep) / max_per_camera)))
        wanted = set(keep[::step].tolist())
        cap = cv2.VideoCapture(str(video))
        for i in range(len(xy)):
            ok, frame = cap.read()
            if not ok:
                raise ValueError(f"{video}: cannot decode frame {i}; the labels in {lf} have "
                                 f"{len(xy)} rows")
            if i in wanted:
                images.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                points.append(xy[i])
                names.append(f"{video.name}#{i}")
        cap.release()
    return LabeledFrames(images, labels_poses(points, names, bodyparts, "tripose", "tripose"),
                         names, n_skipped=n_skipped)


def load_labeled_data(path: str | Path, max_per_camera: int = 60) -> LabeledFrames:
    """Load labeled frames from a DeepLabCut project, a labeled-data folder or a synth session.

    Parameters
    ----------
    path : str or Path
        - a DeepLabCut project folder (``config.yaml`` + ``labeled-data/*/CollectedData_*``);
        - one ``labeled-data/<video>`` folder (``CollectedData_*.h5`` or ``.csv`` + images);
        - a tripose project session (``labeled-data/<cam>/CollectedData_*`` + images);
        - a ``tripose synth`` session (``videos/*.mp4`` + ``ground_truth/pose2d/*.h5``).
    max_per_camera : int
        For synthetic sessions, the most frames taken from each camera's video (evenly spaced).

    Returns
    -------
    LabeledFrames
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"training data {path} does not exist")
    if path.is_file() and path.name == "config.yaml":
        path = path.parent
    if (path / "config.yaml").is_file():
        cfg = read_dlc_config(path / "config.yaml")
        folders = sorted(p for p in (path / "labeled-data").glob("*")
                         if p.is_dir() and _label_files(p))
        if not folders:
            raise ValueError(f"{path}/labeled-data has no folder with CollectedData_*.h5 or "
                             f".csv; label frames first")
        data = _from_label_folders(folders, path, cfg.get("bodyparts"), cfg.get("scorer"))
    elif _label_files(path):
        data = _from_label_folders([path], None, None, None)
    elif (path / "labeled-data").is_dir() and any(
            p.is_dir() and _label_files(p) for p in (path / "labeled-data").glob("*")):
        # a tripose project session: labeled-data/<cam>/CollectedData_*
        folders = sorted(p for p in (path / "labeled-data").glob("*")
                         if p.is_dir() and _label_files(p))
        data = _from_label_folders(folders, path, None, None)
    elif (path / "videos").is_dir() and (path / "ground_truth" / "pose2d").is_dir():
        data = _from_synth_session(path, max_per_camera)
    else:
        raise ValueError(f"{path}: expected a DeepLabCut project (config.yaml), a labeled-data "
                         f"folder (CollectedData_*.h5/.csv) or a tripose synth session "
                         f"(videos/ and ground_truth/pose2d/)")
    data.source = str(path.resolve())
    return data


def make_split(n: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """DeepLabCut's random train/test split: ``round(train_fraction * n)`` training frames.

    Returns
    -------
    train, test : sorted int arrays of frame positions
    """
    if not 0 < train_fraction <= 1:
        raise ValueError(f"train fraction must be within (0, 1], got {train_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    n_train = min(n, max(1, int(round(train_fraction * n))))
    return np.sort(perm[:n_train]), np.sort(perm[n_train:])
