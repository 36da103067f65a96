"""Multi-view bootstrapping: pseudo-labels from the rig's agreement, then retraining.

One round: the current network predicts every camera at frames nobody labelled, the views
are triangulated robustly (RANSAC, :func:`triangulate.triangulate`), and each 3D point that
enough views agree on (inliers within ``max_error_px``, mean score of the inliers at least
``min_score``) is reprojected into **every** view where it falls inside the image. Those
reprojections are the pseudo-labels: they correct the views where the network missed or
erred, and keep the views where it was right, because a keypoint left unlabelled in a
training frame teaches the network that it is absent there. Keypoints the views do not agree
on stay unlabelled; frames with too few trusted keypoints are dropped.

The next round trains on the human labels plus these pseudo-labels (the test frames stay
human-only, see :func:`pose2d.train.train`'s ``extra``). Pseudo-labels are kept apart from
human labels: each round writes them as a frames folder ``<cam>/img<frame>.png`` +
``CollectedData_<scorer>.h5/.csv`` + ``.provenance.csv`` (source ``triangulated``) with the
rig's ``calibration.toml``, which ``tripose label`` opens for review.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from calibration.errors import InputError
from pose2d.dataset import LabeledFrames, labels_poses
from poses.atomic import atomic_path, write_json_atomic, write_text_atomic
from poses.io.dlc import save_dlc

__all__ = ["BootstrapConfig", "PseudoLabels", "read_frames", "pseudo_labels",
           "write_pseudo_labels", "kept_frames", "bootstrap"]

log = logging.getLogger(__name__)

PSEUDO_SCORER = "tripose-bootstrap"


@dataclass
class BootstrapConfig:
    """Settings of multi-view bootstrapping.

    Attributes
    ----------
    rounds : int
        Pseudo-labelling + retraining rounds after the first training on human labels.
    n_frames : int
        Unlabelled instants (all cameras at one frame) predicted per round, evenly spread
        over the videos, skipping labelled frames.
    min_views : int
        Views that must agree (RANSAC inliers) for a 3D point to become a pseudo-label.
    max_error_px : float
        Inlier threshold, pixels.
    min_score : float
        Mean network confidence of the inlier views, 0-1.
    min_keypoints : float
        Fraction of the keypoints a pseudo-labelled frame must carry (others are dropped).
    """

    rounds: int = 1
    n_frames: int = 100
    min_views: int = 2
    max_error_px: float = 8.0
    min_score: float = 0.5
    min_keypoints: float = 0.5

    def check(self) -> None:
        """Raise ``InputError`` naming the first bad setting."""
        if self.rounds < 1:
            raise InputError(f"--bootstrap must be at least 1 round, got {self.rounds}")
        if self.n_frames < 1:
            raise InputError(f"bootstrap n_frames must be at least 1, got {self.n_frames}")
        if self.min_views < 2:
            raise InputError(f"bootstrap min_views must be at least 2, got {self.min_views}")
        if not self.max_error_px > 0:
            raise InputError(f"bootstrap max_error_px must be positive, got "
                             f"{self.max_error_px}")
        if not 0 <= self.min_score <= 1 or not 0 < self.min_keypoints <= 1:
            raise InputError("bootstrap min_score must be within [0, 1] and min_keypoints "
                             "within (0, 1]")


@dataclass
class PseudoLabels:
    """Pseudo-labels of one round.

    Attributes
    ----------
    frames : (n_instants,) int
        Video frame numbers (the same instant in every camera).
    cameras : list of str
    points2d : (n_cams, n_instants, n_joints, 2) pixels, NaN where not trusted
    confidence : (n_cams, n_instants, n_joints) 0-1, the inliers' mean score (0 where NaN)
    points3d : (n_instants, n_joints, 3) rig units
    predicted : (n_cams, n_instants, n_joints, 2) pixels, the network's own predictions
    stats : dict
    """

    frames: np.ndarray
    cameras: list
    points2d: np.ndarray
    confidence: np.ndarray
    points3d: np.ndarray
    predicted: np.ndarray
    stats: dict = field(default_factory=dict)


def read_frames(video: str | Path, frames: np.ndarray) -> list[np.ndarray]:
    """Decode the given frame numbers of a video (ascending, streamed; RGB uint8).

    Parameters
    ----------
    video : path
    frames : (n,) int, ascending

    Returns
    -------
    list of (H, W, 3) uint8 RGB arrays, one per frame
    """
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise InputError(f"cannot open video {video}; check the file or re-encode it")
    wanted = [int(f) for f in frames]
    out, i, k = [], 0, 0
    try:
        while k < len(wanted):
            if wanted[k] - i > 30:  # far ahead: seek instead of decoding every frame
                cap.set(cv2.CAP_PROP_POS_FRAMES, wanted[k])
                i = wanted[k]
            ok, img = cap.read()
            if not ok:
                raise InputError(f"{video}: cannot decode frame {i} (wanted {wanted[k]}); "
                                 f"the video is shorter or damaged")
            if i == wanted[k]:
                out.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
                k += 1
            i += 1
    finally:
        cap.release()
    return out


def _load_predictor(model_dir: Path, device: str):
    from pose2d.inference import Predictor
    from pose2d.model_folder import load_model

    net, settings = load_model(model_dir)
    return Predictor(net, settings, device=device)


def _predict(predictor, images: list) -> tuple[np.ndarray, np.ndarray]:
    from pose2d.metrics import predict_frames

    return predict_frames(predictor, images)


def pseudo_labels(model_dir: str | Path, videos: dict, rig, frames: np.ndarray,
                  cfg: BootstrapConfig | None = None, device: str = "auto") -> PseudoLabels:
    """Predict every camera at ``frames``, triangulate, reproject what the views agree on.

    Parameters
    ----------
    model_dir : path
        A trained model folder (``pose2d`` layout).
    videos : dict camera name -> video path (every camera of ``rig``)
    rig : calibration.CameraRig
    frames : (n_instants,) int, ascending frame numbers
    cfg : BootstrapConfig
    device : str

    Returns
    -------
    PseudoLabels
    """
    from triangulate import triangulate

    cfg = cfg or BootstrapConfig()
    frames = np.asarray(frames, dtype=np.int64)
    cams = list(rig.names)
    predictor = _load_predictor(Path(model_dir), device)  # once for every camera
    xy, conf = [], []
    for cam in cams:
        p, c = _predict(predictor, read_frames(videos[cam], frames))
        xy.append(p)
        conf.append(c)
    xy, conf = np.stack(xy), np.stack(conf)  # (C, N, J, 2), (C, N, J)
    res = triangulate(rig, xy, conf, method="ransac", reproj_threshold=cfg.max_error_px,
                      score_threshold=min(cfg.min_score, 0.5))
    inl = res.inliers  # (C, N, J)
    n_in = inl.sum(axis=0)
    mean_score = np.where(n_in > 0, (conf * inl).sum(axis=0) / np.maximum(n_in, 1), 0.0)
    trusted = (n_in >= cfg.min_views) & (mean_score >= cfg.min_score) \
        & np.isfinite(res.points3d).all(axis=-1)
    X = np.where(trusted[..., None], res.points3d, np.nan)
    pts = np.full_like(xy, np.nan)
    for c, cam in enumerate(rig):
        proj = cam.project(X.reshape(-1, 3)).reshape(X.shape[:-1] + (2,))
        inside = cam.in_image(proj.reshape(-1, 2)).reshape(X.shape[:-1])
        pts[c] = np.where((inside & trusted)[..., None], proj, np.nan)
    labelled = np.isfinite(pts).all(axis=-1)  # (C, N, J)
    keep = labelled.mean(axis=2) >= cfg.min_keypoints  # (C, N)
    pts[~keep] = np.nan
    confidence = np.where(np.isfinite(pts).all(axis=-1), mean_score[None], 0.0)
    moved = np.linalg.norm(pts - xy, axis=-1)
    stats = {
        "instants": int(len(frames)),
        "trusted_points": int(trusted.sum()),
        "points": int(trusted.size),
        "frames_kept": int(keep.sum()),
        "corrected_views": int(np.nansum(moved > cfg.max_error_px)),
        "filled_views": int((labelled & (conf < cfg.min_score)).sum()),
    }
    return PseudoLabels(frames, cams, pts, confidence, X, xy, stats)


def kept_frames(pl: PseudoLabels, videos: dict) -> dict:
    """The pseudo-labelled frames of each camera, decoded once.

    Returns
    -------
    dict camera -> (rows, images): ``rows`` (k,) int positions in ``pl.frames`` with at least
    one pseudo-label, ``images`` their k (H, W, 3) uint8 RGB frames
    """
    out = {}
    for c, cam in enumerate(pl.cameras):
        rows = np.flatnonzero(np.isfinite(pl.points2d[c]).all(axis=-1).any(axis=-1))
        out[cam] = (rows, read_frames(videos[cam], pl.frames[rows]) if len(rows) else [])
    return out


def as_labeled_frames(pl: PseudoLabels, videos: dict, bodyparts: list[str],
                      kept: dict | None = None) -> LabeledFrames:
    """The kept pseudo-labelled (camera, instant) frames as training frames.

    Names are ``<camera video name>#<frame>`` as for synthetic sessions; ``kept``: what
    :func:`kept_frames` returned (decoded here when None).
    """
    kept = kept_frames(pl, videos) if kept is None else kept
    images, pts, names = [], [], []
    for c, cam in enumerate(pl.cameras):
        rows, imgs = kept[cam]
        for r, img in zip(rows, imgs, strict=True):
            images.append(img)
            pts.append(pl.points2d[c, r])
            names.append(f"{Path(videos[cam]).name}#{int(pl.frames[r])}")
    labels = labels_poses(np.asarray(pts).reshape(len(names), len(bodyparts), 2), names,
                          bodyparts, PSEUDO_SCORER, "tripose")
    return LabeledFrames(images, labels, names, source="bootstrap")


def write_pseudo_labels(pl: PseudoLabels, videos: dict, bodyparts: list[str], rig,
                        out_dir: str | Path, kept: dict | None = None) -> Path:
    """Write one round's pseudo-labels as a frames folder that ``tripose label`` opens.

    ``out_dir/<cam>/img<frame>.png``, ``CollectedData_tripose-bootstrap.h5/.csv`` (DeepLabCut
    layout), ``CollectedData_tripose-bootstrap.provenance.csv`` (source ``triangulated``),
    ``out_dir/calibration.toml`` and ``out_dir/pseudo_labels.npz`` (all arrays of
    :class:`PseudoLabels`). An existing folder is refused (never written over). ``kept``:
    what :func:`kept_frames` returned (decoded here when None).
    """
    from calibration.save_rig import to_anipose_toml

    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise InputError(f"{out_dir} already holds files; move it away or pass another --out")
    out_dir.mkdir(parents=True, exist_ok=True)
    kept = kept_frames(pl, videos) if kept is None else kept
    width = max(4, len(str(int(pl.frames.max(initial=0)))))
    for c, cam in enumerate(pl.cameras):
        folder = out_dir / cam
        folder.mkdir(exist_ok=True)
        rows, imgs = kept[cam]
        names, prov = [], ["image,individual,bodypart,source"]
        for r, img in zip(rows, imgs, strict=True):
            name = f"img{int(pl.frames[r]):0{width}d}.png"
            with atomic_path(folder / name) as tmp:
                cv2.imwrite(str(tmp), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            names.append(name)
            prov += [f"{name},,{bp},triangulated" for j, bp in enumerate(bodyparts)
                     if np.isfinite(pl.points2d[c, r, j]).all()]
        if not names:
            continue
        labels = labels_poses(pl.points2d[c, rows], [f"labeled-data/{cam}/{n}" for n in names],
                              bodyparts, PSEUDO_SCORER, "tripose")
        labels = labels.replace(attrs={**labels.attrs, "index_levels": 3})
        base = folder / f"CollectedData_{PSEUDO_SCORER}"
        save_dlc(labels, base.with_suffix(".h5"), csv=True)
        write_text_atomic(folder / f"CollectedData_{PSEUDO_SCORER}.provenance.csv",
                          "\n".join(prov) + "\n")
    to_anipose_toml(rig, out_dir / "calibration.toml")
    with atomic_path(out_dir / "pseudo_labels.npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, frames=pl.frames, points2d=pl.points2d,
                                confidence=pl.confidence, points3d=pl.points3d,
                                predicted=pl.predicted, cameras=np.array(pl.cameras))
    return out_dir


def spread_frames(n_video_frames: int, n: int, exclude=()) -> np.ndarray:
    """``n`` frame numbers evenly spread over ``[0, n_video_frames)``, avoiding ``exclude``.

    Returns
    -------
    (m,) int, ascending, m <= n
    """
    free = np.setdiff1d(np.arange(n_video_frames), np.asarray(list(exclude), dtype=np.int64))
    if len(free) <= n:
        return free
    return free[np.unique(np.linspace(0, len(free) - 1, n).round().astype(np.int64))]


def bootstrap(human: LabeledFrames, videos: dict, rig, out: str | Path, train_cfg,
              cfg: BootstrapConfig | None = None, labelled_frames=(), weights=None,
              progress: bool = True, device: str = "auto") -> dict:
    """Train on ``human``, then ``cfg.rounds`` rounds of pseudo-labelling and retraining.

    Parameters
    ----------
    human : LabeledFrames
        The human labels (the test split is drawn from them only).
    videos : dict camera name -> video path, every camera of ``rig``
    rig : calibration.CameraRig
    out : path
        The final model folder; earlier rounds go to ``out/bootstrap/round<k>`` and their
        pseudo-labels to ``out/bootstrap/pseudo-round<k>``.
    train_cfg : pose2d.train.TrainConfig
        The same settings train every round (each from the initial weights).
    cfg : BootstrapConfig
    labelled_frames : iterable of int
        Video frame numbers already labelled (not pseudo-labelled).
    weights : path, optional
        Backbone weights, as for :func:`pose2d.train.train`.

    Returns
    -------
    dict
        ``rounds``: per round the training summary and the pseudo-label statistics.
    """
    from pose2d.train import train

    cfg = cfg or BootstrapConfig()
    cfg.check()
    missing = [c for c in rig.names if c not in videos]
    if missing:
        raise InputError(f"bootstrapping needs a video of every calibrated camera; missing "
                         f"{missing}")
    out = Path(out)
    work = out / "bootstrap"
    n_video = min(int(cv2.VideoCapture(str(v)).get(cv2.CAP_PROP_FRAME_COUNT))
                  for v in videos.values())
    frames = spread_frames(n_video, cfg.n_frames, labelled_frames)
    summary: dict = {"config": cfg.__dict__.copy(), "rounds": []}
    model = work / "round0"
    r0 = train(human, model, train_cfg, weights=weights, progress=progress, device=device)
    summary["rounds"].append({"round": 0, "train": r0})
    for k in range(1, cfg.rounds + 1):
        pl = pseudo_labels(model, videos, rig, frames, cfg, device=device)
        kept = kept_frames(pl, videos)
        write_pseudo_labels(pl, videos, human.bodyparts, rig, work / f"pseudo-round{k}", kept)
        extra = as_labeled_frames(pl, videos, human.bodyparts, kept)
        log.info("bootstrap round %d: %d pseudo-labelled frames (%d of %d points trusted)", k,
                 len(extra), pl.stats["trusted_points"], pl.stats["points"])
        model = out if k == cfg.rounds else work / f"round{k}"
        rk = train(human, model, train_cfg, weights=weights, progress=progress, device=device,
                   extra=extra)
        summary["rounds"].append({"round": k, "pseudo": pl.stats, "n_pseudo_frames": len(extra),
                                  "train": rk})
    write_json_atomic(work / "bootstrap.json", summary)
    return summary
