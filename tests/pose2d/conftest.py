"""Tiny labeled data for pose2d tests: coloured dots on noise, written as DeepLabCut would."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

BODYPARTS = ["snout", "leftear", "rightear"]
COLOURS_BGR = [(0, 0, 255), (0, 255, 0), (255, 0, 0)]


def dot_image(points: np.ndarray, size=(96, 80), seed: int = 0) -> np.ndarray:
    """(H, W, 3) uint8 BGR noise with a coloured dot per finite keypoint."""
    w, h = size
    rng = np.random.default_rng(seed)
    img = rng.integers(60, 100, (h, w, 3), dtype=np.uint8)
    for p, c in zip(points, COLOURS_BGR, strict=False):
        if np.isfinite(p).all():
            cv2.circle(img, (int(round(p[0] * 16)), int(round(p[1] * 16))), 3 * 16, c, -1,
                       cv2.LINE_AA, shift=4)
    return img


def label_frame(names, points, scorer="Tester", bodyparts=BODYPARTS) -> pd.DataFrame:
    cols = pd.MultiIndex.from_product([[scorer], bodyparts, ["x", "y"]],
                                      names=["scorer", "bodyparts", "coords"])
    return pd.DataFrame(np.asarray(points).reshape(len(names), -1), index=names, columns=cols)


def old_dataframe(points2d, scores, bodyparts, scorer="tripose") -> pd.DataFrame:
    """The DataFrame that pose2d.dlc_format.to_dlc_dataframe built (before poses.io.dlc)."""
    p = np.asarray(points2d, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    n_frames, n_joints = p.shape[:2]
    data = np.concatenate([p, s[..., None]], axis=-1).reshape(n_frames, n_joints * 3)
    columns = pd.MultiIndex.from_product([[scorer], list(bodyparts), ["x", "y", "likelihood"]],
                                         names=["scorer", "bodyparts", "coords"])
    return pd.DataFrame(data, columns=columns)


def make_labeled_folder(folder: Path, n: int = 12, seed: int = 0, nan_rows=()) -> np.ndarray:
    """Write ``n`` images + CollectedData_Tester.h5/.csv; return the points (n, 3, 2)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    centre = rng.uniform([25, 25], [70, 55], (n, 1, 2))
    pts = centre + np.array([[0.0, -10.0], [-8.0, 6.0], [8.0, 6.0]])
    names = []
    for i in range(n):
        name = f"img{i:03d}.png"
        cv2.imwrite(str(folder / name), dot_image(pts[i], seed=i))
        names.append(f"labeled-data/{folder.name}/{name}")
    pts = pts.copy()
    for r in nan_rows:
        pts[r] = np.nan
    df = label_frame(names, pts)
    df.to_hdf(folder / "CollectedData_Tester.h5", key="df_with_missing", mode="w")
    df.to_csv(folder / "CollectedData_Tester.csv")
    return pts


@pytest.fixture
def labeled_folder(tmp_path) -> Path:
    folder = tmp_path / "project" / "labeled-data" / "vid1"
    make_labeled_folder(folder)
    return folder


@pytest.fixture
def dlc_project(tmp_path) -> Path:
    root = tmp_path / "project"
    make_labeled_folder(root / "labeled-data" / "vid1", n=12)
    make_labeled_folder(root / "labeled-data" / "vid2", n=6, seed=1)
    (root / "config.yaml").write_text(
        "Task: test\nscorer: Tester\n# comment\nbodyparts:\n- snout\n- leftear\n- rightear\n"
        "TrainingFraction:\n- 0.95\n", encoding="utf-8")
    return root


def write_video(path: Path, n: int = 20, size=(96, 80), fourcc: str = "MJPG") -> np.ndarray:
    """A video of moving dots; returns the true points (n, 3, 2)."""
    t = np.arange(n)[:, None, None]
    pts = np.array([[48.0, 30.0], [40.0, 46.0], [56.0, 46.0]])[None] + np.concatenate(
        [np.sin(t / 3.0) * 10, np.cos(t / 4.0) * 6], axis=2)
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 30.0, size)
    for i in range(n):
        vw.write(dot_image(pts[i], size, seed=i))
    vw.release()
    return pts
