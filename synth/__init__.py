"""Synthetic sessions with exact ground truth: rig, ChArUco and behaviour videos, detections."""

from .detections import SimulatedDetections, simulate_detections
from .forelimb import FORELIMB_SKELETON, simulate_reach
from .rig import ARENA_CENTER, default_board, make_rig
from .session import Session, load_points3d_csv, make_session, save_points3d_csv

__all__ = [
    "ARENA_CENTER",
    "FORELIMB_SKELETON",
    "Session",
    "SimulatedDetections",
    "default_board",
    "load_points3d_csv",
    "make_rig",
    "make_session",
    "save_points3d_csv",
    "simulate_detections",
    "simulate_reach",
]
