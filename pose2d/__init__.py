"""tripose 2D pose: DeepLabCut-style scoremap + location-refinement networks in plain torch.

Stands alone: imports nothing from ``calibration``, ``triangulate`` or ``tripose``; its data
model and file formats are the ground package's (:class:`poses.Poses`,
:mod:`poses.io.dlc` for DeepLabCut h5/csv, :mod:`poses.filters` for the running median).

Modules by purpose: :mod:`.dataset` (labeled frames),
:mod:`.augment` and :mod:`.targets` (training inputs), :mod:`.model` (networks),
:mod:`.weights` (transfer learning), :mod:`.train`, :mod:`.evaluate`, :mod:`.inference`,
:mod:`.analyze` (videos), :mod:`.filters` (median, Viterbi), :mod:`.extract` (frames to label).
Names below are imported lazily so that reading a DeepLabCut file does not import torch.
"""

from __future__ import annotations

import importlib

__all__ = ["load_labeled_data", "TrainConfig", "train", "evaluate", "analyze_videos",
           "load_model", "Predictor", "filter_track", "extract_frames", "extract_outliers"]

_WHERE = {"load_labeled_data": "dataset", "TrainConfig": "train", "train": "train",
          "evaluate": "evaluate", "analyze_videos": "analyze", "load_model": "model_folder",
          "Predictor": "inference", "filter_track": "filters", "extract_frames": "extract",
          "extract_outliers": "extract"}

#: Names that moved to the ground package, with where they live now.
_MOVED = {"from_dlc_file": "poses.io.dlc.load_dlc (returns poses.Poses)",
          "to_dlc_file": "poses.io.dlc.save_dlc (takes poses.Poses)",
          "DLCTable": "poses.Poses (read by poses.io.dlc.load_dlc)"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    if name in _MOVED:
        raise AttributeError(f"pose2d.{name} is gone: DeepLabCut tables are read and written "
                             f"by {_MOVED[name]}")
    raise AttributeError(f"module 'pose2d' has no attribute {name!r}")
