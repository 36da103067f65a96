"""``evaluation.json``: train and test errors of a trained model, DeepLabCut's way.

Keys: ``train_rmse_px``, ``test_rmse_px`` (mean Euclidean error over labeled keypoints, as
DeepLabCut reports "RMSE"), ``train_rmse_pcutoff_px``, ``test_rmse_pcutoff_px`` (only
predictions with likelihood >= ``pcutoff``), ``pck_train``/``pck_test`` (fraction within 2, 5,
10 px), ``per_bodypart`` and counts; pictures of the test frames go to
``MODEL_DIR/evaluation/`` (labels as circles, predictions as crosses).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np

from poses.atomic import atomic_path, write_json_atomic
from poses.errors import InputError

from .dataset import LabeledFrames, load_labeled_data
from .inference import Predictor
from .metrics import error_summary, predict_frames
from .model_folder import load_model

__all__ = ["evaluate", "draw_prediction", "colours"]

log = logging.getLogger(__name__)


def colours(n: int) -> np.ndarray:
    """``n`` distinct RGB colours (uint8), hue wheel."""
    hsv = np.stack([np.linspace(0, 179, n, endpoint=False), np.full(n, 230), np.full(n, 255)],
                   axis=1).astype(np.uint8)[None]
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0]


def draw_prediction(image: np.ndarray, pred: np.ndarray, conf: np.ndarray,
                    labels: np.ndarray | None, pcutoff: float) -> np.ndarray:
    """Labels (circles) and predictions (``+`` at/above ``pcutoff``, ``x`` below) on a copy.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB
    pred : (J, 2) pixels
    conf : (J,)
    labels : (J, 2) pixels or None
    pcutoff : float

    Returns
    -------
    (H, W, 3) uint8 RGB
    """
    out = np.ascontiguousarray(image.copy())
    cols = colours(len(pred))
    for j, p in enumerate(pred):
        c = tuple(int(v) for v in cols[j])
        if labels is not None and np.isfinite(labels[j]).all():
            cv2.circle(out, (round(labels[j][0]), round(labels[j][1])), 6, c, 1, cv2.LINE_AA)
        if np.isfinite(p).all():
            marker = cv2.MARKER_CROSS if conf[j] >= pcutoff else cv2.MARKER_TILTED_CROSS
            cv2.drawMarker(out, (round(p[0]), round(p[1])), c, marker, 10, 1, cv2.LINE_AA)
    return out


def _match(data: LabeledFrames, names: list[str], model_dir: Path) -> list[int]:
    pos = {n: i for i, n in enumerate(data.names)}
    missing = [n for n in names if n not in pos]
    if missing:
        raise ValueError(f"{len(missing)} frame(s) of {model_dir}/split.json are not in "
                         f"{data.source} (first: {missing[0]}); pass the data the model was "
                         f"trained on with --data")
    return [pos[n] for n in names]


def evaluate(model_dir: str | Path, data: str | Path | LabeledFrames | None = None,
             pcutoff: float | None = None, pictures: int = 20, device: str = "auto",
             precision: str = "auto") -> dict:
    """Evaluate a model folder on its own train/test split and write ``evaluation.json``.

    Parameters
    ----------
    model_dir : str or Path
    data : path or LabeledFrames, optional
        The labeled data (default: the path recorded at training).
    pcutoff : float, optional
        Likelihood cutoff (default: the model's, 0.6).
    pictures : int
        How many test frames to draw (0: none).
    device, precision : str
        See :class:`pose2d.inference.Predictor`.

    Returns
    -------
    dict
        The content of ``evaluation.json``.
    """
    if pcutoff is not None and not (isinstance(pcutoff, (int, float)) and 0 <= pcutoff <= 1):
        raise InputError(f"pcutoff must be a likelihood within [0, 1], got {pcutoff!r}")
    if isinstance(pictures, bool) or not isinstance(pictures, int) or pictures < 0:
        raise InputError(f"pictures must be a number of test frames >= 0, got {pictures!r}")
    model_dir = Path(model_dir)
    net, s = load_model(model_dir)
    split_path = model_dir / "split.json"
    if not split_path.is_file():
        raise FileNotFoundError(f"{split_path} is missing; the model folder is incomplete")
    split = json.loads(split_path.read_text(encoding="utf-8"))
    if data is None:
        data = s["data"]
    if not isinstance(data, LabeledFrames):
        if not Path(data).exists():
            raise FileNotFoundError(f"the training data {data} recorded in {model_dir}/model.json "
                                    f"is gone; pass its new location with --data")
        data = load_labeled_data(data)
    if list(data.bodyparts) != list(s["bodyparts"]):
        raise ValueError(f"{data.source} has bodyparts {data.bodyparts}, the model "
                         f"{s['bodyparts']}; pass the data the model was trained on")
    pcut = float(s.get("pcutoff", 0.6) if pcutoff is None else pcutoff)
    predictor = Predictor(net, s, device=device, precision=precision)
    result = {"model_dir": str(model_dir), "data": data.source, "backbone": s["backbone"],
              "pcutoff": pcut, "precision": predictor.precision}
    per_bp: dict = {bp: {} for bp in s["bodyparts"]}
    for part in ("train", "test"):
        idx = _match(data, split[part], model_dir)
        result[f"n_{part}"] = len(idx)
        if not idx:
            result.update({f"{part}_rmse_px": None, f"{part}_rmse_pcutoff_px": None})
            continue
        frames = data.subset(idx)
        xy, conf = predict_frames(predictor, frames.images)
        summ = error_summary(xy, conf, frames.points2d, pcut, s["bodyparts"])
        result[f"{part}_rmse_px"] = summ["rmse_px"]
        result[f"{part}_rmse_pcutoff_px"] = summ["rmse_pcutoff_px"]
        result[f"pck_{part}"] = summ["pck"]
        for bp, v in summ["per_bodypart"].items():
            per_bp[bp].update({f"{part}_rmse_px": v["rmse_px"],
                               f"{part}_rmse_pcutoff_px": v["rmse_pcutoff_px"],
                               f"pck_{part}": v["pck"]})
        if part == "test" and pictures:
            folder = model_dir / "evaluation"
            for k in range(min(pictures, len(frames))):
                img = draw_prediction(frames.images[k], xy[k], conf[k], frames.points2d[k], pcut)
                name = frames.names[k].replace("/", "_").replace("#", "_")
                png = folder / f"{Path(name).stem}.png"
                with atomic_path(png) as tmp:
                    if not cv2.imwrite(str(tmp), cv2.cvtColor(img, cv2.COLOR_RGB2BGR)):
                        raise InputError(f"cannot write {png} (is the disk full?)")
            result["pictures"] = str(folder)
    result["per_bodypart"] = per_bp
    hist = model_dir / "history.json"
    if hist.is_file():
        h = json.loads(hist.read_text(encoding="utf-8"))
        if h:
            result["iterations"] = h[-1].get("iteration")
            result["train_minutes"] = h[-1].get("train_s", 0.0) / 60.0
    write_json_atomic(model_dir / "evaluation.json", result)
    log.info("wrote %s", model_dir / "evaluation.json")
    return result
