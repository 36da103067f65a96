"""The model folder: settings, split, checkpoints and history, versioned.

Layout of ``MODEL_DIR``::

    model.json         format, version, backbone, bodyparts, target and augmentation settings
    split.json         the train/test frame names (fixed by the seed)
    checkpoint.pt      latest weights + optimizer state + progress (for resume)
    model.pt           the trained weights (state dict)
    history.json       the learning curve (loss, and test RMSE at intervals)
    evaluation.json    written by ``tripose evaluate``

Weights are plain state dicts, read with ``torch.load(weights_only=True)`` (no pickled code).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from poses.atomic import atomic_path, write_json_atomic

from .model import PoseNet

__all__ = ["FORMAT", "VERSION", "read_settings", "write_settings", "save_state", "load_state",
           "load_model"]

FORMAT = "tripose-pose2d"
VERSION = 1


def write_settings(model_dir: str | Path, settings: dict) -> Path:
    """Write ``model.json`` (format and version added)."""
    return write_json_atomic(Path(model_dir) / "model.json",
                             {"format": FORMAT, "version": VERSION, **settings})


def read_settings(model_dir: str | Path) -> dict:
    """Read and check ``model.json``.

    Raises
    ------
    FileNotFoundError
        The folder or its ``model.json`` is missing.
    ValueError
        The folder was written by another tool or another format version.
    """
    model_dir = Path(model_dir)
    path = model_dir / "model.json"
    if not path.is_file():
        raise FileNotFoundError(f"{model_dir} is not a tripose model folder (no model.json); "
                                f"train one with `tripose train --data DATA --out {model_dir}`")
    try:
        s = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); retrain the model") from exc
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(s, dict):
        raise ValueError(f"{path}: expected a JSON object of settings, got a "
                         f"{type(s).__name__}; retrain the model")
    if s.get("format") != FORMAT:
        raise ValueError(f"{path}: format {s.get('format')!r}, expected {FORMAT!r}; this "
                         f"folder was not written by tripose train")
    if s.get("version") != VERSION:
        raise ValueError(f"{path}: model format version {s.get('version')!r}, this tripose "
                         f"reads version {VERSION}; retrain with this version of tripose")
    for key in ("backbone", "bodyparts", "stride", "locref_scale"):
        if key not in s:
            raise ValueError(f"{path}: missing field {key!r}; retrain the model")
    _check_values(s, path)
    return s


def _positive(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def _check_values(s: dict, path: Path) -> None:
    """Refuse impossible settings before they give silently wrong keypoints."""
    from .model import BACKBONES, OUTPUT_STRIDE

    def bad(key: str, want: str) -> ValueError:
        return ValueError(f"{path}: {key} = {s.get(key)!r} is impossible ({want}); restore "
                          f"the file or retrain the model")

    if s["backbone"] not in BACKBONES:
        raise bad("backbone", f"one of {', '.join(BACKBONES)}")
    bp = s["bodyparts"]
    if (not isinstance(bp, list) or not bp or not all(isinstance(b, str) and b for b in bp)
            or len(set(bp)) != len(bp)):
        raise bad("bodyparts", "a non-empty list of distinct names")
    if s["stride"] != OUTPUT_STRIDE:
        raise bad("stride", f"the network's output stride is {OUTPUT_STRIDE}")
    for key in ("locref_scale", "sigma", "radius"):
        if key in s and not _positive(s[key]):
            raise bad(key, "a positive number of pixels")
    pc = s.get("pcutoff", 0.5)
    if isinstance(pc, bool) or not isinstance(pc, (int, float)) or not 0 <= pc <= 1:
        raise bad("pcutoff", "a likelihood within [0, 1]")


def save_state(path: str | Path, state: dict) -> Path:
    """``torch.save`` atomically."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_state(path: str | Path) -> dict:
    """``torch.load(weights_only=True)`` with a clear error for a bad file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or pickled files
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise ValueError(f"cannot load {path} as a state dict ({type(exc).__name__}: {first}); "
                         f"expected a file written by torch.save(state_dict)") from exc


def load_model(model_dir: str | Path) -> tuple[PoseNet, dict]:
    """The trained network (eval mode, CPU) and its settings.

    Uses ``model.pt``, or the latest ``checkpoint.pt`` when training has not finished.
    """
    model_dir = Path(model_dir)
    s = read_settings(model_dir)
    net = PoseNet(len(s["bodyparts"]), s["backbone"])
    final, ckpt = model_dir / "model.pt", model_dir / "checkpoint.pt"
    if final.is_file():
        sd = load_state(final)
    elif ckpt.is_file():
        sd = load_state(ckpt)["model"]
    else:
        raise FileNotFoundError(f"{model_dir} has no model.pt or checkpoint.pt; train first")
    try:
        net.load_state_dict(sd)
    except RuntimeError as exc:
        raise ValueError(f"weights in {model_dir} do not fit a {s['backbone']} model with "
                         f"{len(s['bodyparts'])} bodyparts: {str(exc)[:300]}") from exc
    return net.eval(), s
