"""Contact sheets of a synthetic session: per camera, a calibration frame with the true board
corners and a behaviour frame with the true keypoints and skeleton drawn (OpenCV)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from calibration import load_rig
from poses.atomic import atomic_path
from poses.io.dlc import load_dlc
from poses.skeleton import load_skeleton

__all__ = ["read_frame", "draw_keypoints", "session_preview"]


def read_frame(video: str | Path, index: int) -> np.ndarray:
    """Frame ``index`` of a video as (h, w, 3) BGR uint8.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the video when it is missing or too short.
    """
    video = Path(video)
    if not video.exists():
        raise FileNotFoundError(f"video not found: {video}")
    cap = cv2.VideoCapture(str(video))
    try:
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if index >= n > 0:
            raise ValueError(f"{video} has {n} frames; frame {index} does not exist")
        ok = True
        for _ in range(index + 1):  # sequential decoding: exact frame, any codec
            ok, frame = cap.read()
            if not ok:
                break
    finally:
        cap.release()
    if not ok:
        raise ValueError(f"could not decode frame {index} of {video}")
    return frame


def _colours(n: int) -> np.ndarray:
    hsv = np.stack([np.linspace(0, 170, n, endpoint=False), np.full(n, 230), np.full(n, 255)],
                   -1).astype(np.uint8)[None]
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0].astype(int)


def draw_keypoints(image: np.ndarray, points2d: np.ndarray, limbs: list[tuple[int, int]] = (),
                   visible: np.ndarray | None = None, radius: int = 3) -> np.ndarray:
    """Draw keypoints (filled when visible, hollow when occluded) and limbs on a copy.

    Parameters
    ----------
    image : (h, w, 3) uint8 BGR
    points2d : (n_joints, 2) pixels (NaN skipped)
    limbs : list of (int, int)
    visible : (n_joints,) bool, optional
    radius : int

    Returns
    -------
    image : (h, w, 3) uint8
    """
    out = image.copy()
    cols = _colours(len(points2d))
    vis = np.ones(len(points2d), bool) if visible is None else np.asarray(visible, bool)
    ok = np.isfinite(points2d).all(-1)
    for a, b in limbs:
        if ok[a] and ok[b]:
            cv2.line(out, tuple(np.round(points2d[a]).astype(int)),
                     tuple(np.round(points2d[b]).astype(int)), (255, 255, 255), 1, cv2.LINE_AA)
    for j in np.flatnonzero(ok):
        c = tuple(int(v) for v in cols[j])
        cv2.circle(out, tuple(np.round(points2d[j]).astype(int)), radius, c,
                   -1 if vis[j] else 1, cv2.LINE_AA)
    return out


def _tile(img: np.ndarray, crop, width: int, label: str, points=None, limbs=(),
          visible=None) -> np.ndarray:
    """Resize (a square crop of) an image to ``width`` px wide, draw points, add a label."""
    h, w = img.shape[:2]
    if crop is None:
        x0, y0, sx, sy = 0.0, 0.0, float(w), float(h)
    else:
        (x0, y0), side = crop
        x0, y0, sx, sy = float(x0), float(y0), float(side), float(side) * h / w
    scale = width / sx
    M = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
    out = cv2.warpAffine(img, M, (width, int(round(sy * scale))),
                         flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT)
    if points is not None:
        p = (np.asarray(points) - [x0, y0]) * scale
        out = draw_keypoints(out, p, limbs, visible, radius=max(2, int(scale)))
    cv2.putText(out, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 255), 1,
                cv2.LINE_AA)
    return out


def session_preview(session: str | Path, out_png: str | Path, behaviour_frame: int | None = None,
                    calibration_frame: int | None = None, width: int = 320) -> Path:
    """Write a PNG: one row per camera, calibration frame (true corners in green) and behaviour
    frame (true keypoints, hollow where occluded).

    Parameters
    ----------
    session : folder made by ``tripose synth``
    out_png : output PNG path
    behaviour_frame, calibration_frame : int, optional
        Frame indices (defaults: a third of the way through, and the calibration frame where
        the board is seen by the most cameras).
    width : int
        Width of each tile in pixels.

    Returns
    -------
    Path
    """
    root = Path(session)
    rig = load_rig(root / "ground_truth" / "calibration.toml")
    skel = load_skeleton(root / "skeleton.toml")
    corners = np.load(root / "ground_truth" / "board_corners.npz")["corners"]
    if calibration_frame is None:
        seen = np.isfinite(corners[..., 0]).sum(-1)  # (n_cams, n_frames)
        calibration_frame = int(np.argmax((seen > 0).sum(0) * 1000 + seen.sum(0)))
    tiles = []
    for i, cam in enumerate(rig):
        cal = read_frame(root / "calibration" / f"{cam.name}.mp4", calibration_frame)
        for p in corners[i, calibration_frame]:
            if np.isfinite(p).all():
                cv2.drawMarker(cal, tuple(np.round(p).astype(int)), (0, 220, 0),
                               cv2.MARKER_CROSS, 9, 1)
        truth = load_dlc(root / "ground_truth" / "pose2d" / f"{cam.name}.h5")
        pts, lik = truth.single()
        f = len(pts) // 3 if behaviour_frame is None else behaviour_frame
        frame = read_frame(root / "videos" / f"{cam.name}.mp4", f)
        full = _tile(frame, None, width, f"{cam.name} behaviour #{f}")
        # zoom on the hand: a square crop around the keypoints, drawn after resizing
        ok = np.isfinite(pts[f]).all(-1)
        crop = None
        if ok.any():
            lo, hi = pts[f][ok].min(0), pts[f][ok].max(0)
            side = float(max(hi - lo)) * 1.4 + 20
            c0 = (lo + hi) / 2 - np.array([side, side * frame.shape[0] / frame.shape[1]]) / 2
            crop = (c0, side)
        zoom = _tile(frame, crop, width, "zoom: true keypoints (hollow: occluded)",
                     pts[f], skel.limb_indices(), lik[f] > 0.5)
        row = [_tile(cal, None, width, f"{cam.name} calibration #{calibration_frame}"), full,
               zoom]
        tiles.append(np.concatenate(row, axis=1))
    sheet = np.concatenate(tiles, axis=0)
    with atomic_path(out_png) as tmp:
        if not cv2.imwrite(str(tmp), sheet):
            raise OSError(f"could not write {out_png}")
    return Path(out_png)
