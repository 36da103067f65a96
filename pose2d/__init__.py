"""tripose 2D pose: DeepLabCut-style scoremap + location-refinement networks in plain torch.

Stands alone: imports nothing from ``calibration``, ``triangulate`` or ``tripose``.

Modules by purpose: :mod:`.dataset` (labeled frames), :mod:`.dlc_format` (DeepLabCut h5/csv),
:mod:`.augment` and :mod:`.targets` (training inputs), :mod:`.model` (networks),
:mod:`.weights` (transfer learning), :mod:`.train`, :mod:`.evaluate`, :mod:`.inference`,
:mod:`.analyze` (videos), :mod:`.filters` (median, Viterbi), :mod:`.extract` (frames to label).
Names below are imported lazily so that reading a DeepLabCut file does not import torch.
"""

from __future__ import annotations

import importlib

__all__ = ["load_labeled_data", "from_dlc_file", "to_dlc_file", "TrainConfig", "train",
           "evaluate", "analyze_videos", "load_model", "Predictor", "filter_track",
           "extract_frames", "extract_outliers"]

_WHERE = {"load_labeled_data": "dataset", "from_dlc_file": "dlc_format",
          "to_dlc_file": "dlc_format", "TrainConfig": "train", "train": "train",
          "evaluate": "evaluate", "analyze_videos": "analyze", "load_model": "model_folder",
          "Predictor": "inference", "filter_track": "filters", "extract_frames": "extract",
          "extract_outliers": "extract"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'pose2d' has no attribute {name!r}")
