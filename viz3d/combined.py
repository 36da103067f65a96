"""The combined movie: every camera's video with its reprojection, beside the 3D view.

Like anipose's ``label-combined``: a grid of camera views on the left (detections and the
reprojected skeleton drawn on each), the rendered 3D skeleton on the right. Several
individuals are drawn together, each in its colour family and named above its head in every
view.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from calibration.errors import InputError
from calibration.rig import CameraRig
from poses.skeleton import Skeleton

from .overlay import draw_keypoints, draw_label, draw_names, draw_skeleton
from .render import build_scene, scene_points
from .scene import screenshot
from .validate import (
    VIDEO_SUFFIXES,
    check_frames,
    check_points2d,
    check_range_fps,
    check_rig,
    check_scores,
    check_size,
    check_suffix,
)
from .video import VideoReader, mp4_writer

__all__ = ["combined_video", "grid_layout", "crop_box"]

log = logging.getLogger(__name__)


def grid_layout(n_cams: int, cam_size: tuple[int, int], height: int) -> tuple[int, int, int, int]:
    """Rows, columns and cell size of a grid of ``n_cams`` views ``height`` pixels tall.

    Returns
    -------
    rows, cols : int
    cell_w, cell_h : int
        Even pixel sizes keeping the camera's aspect ratio.
    """
    cols = int(np.ceil(np.sqrt(n_cams)))
    rows = int(np.ceil(n_cams / cols))
    cell_h = height // rows
    cell_w = int(round(cell_h * cam_size[0] / max(cam_size[1], 1)))
    return rows, cols, cell_w - cell_w % 2, cell_h - cell_h % 2


def crop_box(points2d: np.ndarray, image_size: tuple[int, int], pad: float = 1.6,
             min_fraction: float = 0.25) -> tuple[int, int, int, int]:
    """A fixed box around 2D points, with the image's aspect ratio, inside the image.

    Parameters
    ----------
    points2d : (..., 2) pixels, NaN ignored
    image_size : (width, height)
    pad : float
        Box size over the points' extent (1st-99th percentile).
    min_fraction : float
        Smallest box height as a fraction of the image height.

    Returns
    -------
    x0, y0, x1, y1 : int
        The whole image when no point is finite.
    """
    w, h = image_size
    p = np.asarray(points2d, float).reshape(-1, 2)
    p = p[np.isfinite(p).all(1)]
    if len(p) == 0:
        return 0, 0, w, h
    lo, hi = np.percentile(p, 1, axis=0), np.percentile(p, 99, axis=0)
    center = (lo + hi) / 2
    bh = max((hi[1] - lo[1]) * pad, (hi[0] - lo[0]) * pad * h / w, min_fraction * h)
    bh = min(bh, h)
    bw = bh * w / h
    x0 = int(np.clip(round(center[0] - bw / 2), 0, w - bw))
    y0 = int(np.clip(round(center[1] - bh / 2), 0, h - bh))
    return x0, y0, x0 + int(round(bw)), y0 + int(round(bh))


def combined_video(videos: Sequence[str | Path], rig: CameraRig, points3d,
                   skeleton: Skeleton | None, path: str | Path,
                   points2d: np.ndarray | None = None, fps: float | None = None,
                   size: tuple[int, int] | None = None, scores: np.ndarray | None = None,
                   score_threshold: float = 0.5, frames=None, trail: int = 0,
                   floor: bool = True, crop: bool = False) -> Path:
    """Write a movie of all camera views (with the reprojected skeleton) beside the 3D view.

    Parameters
    ----------
    videos : sequence of str or Path
        One video per rig camera, in rig order; each needs at least ``n_frames`` frames and
        the camera's image size.
    rig : calibration.CameraRig
        Projects ``points3d`` into each view (with lens distortion).
    points3d : (n_frames, n_joints, 3) float, rig units; NaN = missing
        Or several individuals, as in :func:`viz3d.render_png`: each in its colour family,
        its name above its head in the 3D view and in every camera view.
    skeleton : triangulate.Skeleton or None
    path : str or Path
        ``.mp4`` output, written atomically.
    points2d : (n_cams, n_frames, [n_individuals,] n_joints, 2) float pixels, optional
        Detections drawn as dots on each view (individuals as in ``points3d``).
    fps : float, optional
        Default: the first video's frame rate.
    size : (width, height), optional
        Size of the whole movie. Default: 720 px tall, the camera grid at its aspect
        ratio and a square 3D view. With a width, the 3D view takes what the grid leaves
        (at least a quarter of the width).
    scores : (n_cams, n_frames, [n_individuals,] n_joints), optional
        Detections scoring below ``score_threshold`` are not drawn.
    frames : sequence of int, optional
        Frame indices to write (default: all frames of ``points3d``).
    trail, floor
        As in :func:`viz3d.render_png`.
    crop : bool
        Zoom each camera view on the region the skeleton covers over the written frames
        (one fixed box per camera, the camera's aspect ratio, at least a quarter of the
        image); off shows whole images, like anipose.

    Returns
    -------
    Path
    """
    path = check_suffix(path, VIDEO_SUFFIXES)
    rig = check_rig(rig, required=True)
    p, cast, skeleton = scene_points(points3d, skeleton)
    n_frames, n_joints, n_ind = p.shape[0], cast.n_keypoints, cast.n_individuals
    videos = list(videos) if not isinstance(videos, (str, Path)) else [videos]
    if len(videos) != rig.n_cams:
        raise InputError(f"videos: got {len(videos)} videos for a rig of {rig.n_cams} cameras "
                         f"{rig.names}; give one per camera, in rig order")
    idx = check_frames(frames, n_frames)
    det = None
    if points2d is not None:
        det = cast.fold(check_points2d(points2d, "points2d", n_frames, n_joints,
                                       leading=(rig.n_cams,), n_individuals=n_ind))
    sc = None
    if scores is not None:
        sc = cast.fold(check_scores(scores, "scores", (rig.n_cams, n_frames, n_ind, n_joints)),
                       0)
    limbs = cast.limbs(skeleton.limb_indices() if skeleton is not None else [])
    jc, lc = cast.joint_colors(), cast.label_colors()
    need = int(idx.max()) + 1
    readers: list[VideoReader] = []
    try:
        for c, v in enumerate(videos):
            readers.append(VideoReader(v, f"videos[{c}] (camera {rig.names[c]!r})", need))
        for c, r in enumerate(readers):
            cam = rig[c]
            if all(cam.size) and (r.width, r.height) != tuple(cam.size):
                raise InputError(
                    f"videos[{c}]: {r.path} is {r.width}x{r.height} px but camera "
                    f"{cam.name!r} was calibrated at {cam.size[0]}x{cam.size[1]}; give the "
                    "videos the rig was calibrated for")
        out_fps = readers[0].fps if fps is None else check_range_fps(fps)
        cam_size = (readers[0].width, readers[0].height)
        W, H = (None, 720) if size is None else check_size(size, even=True)
        rows, cols, cw, ch = grid_layout(rig.n_cams, cam_size, H)
        grid_w = cols * cw
        if W is None:
            W = grid_w + H
        elif W - grid_w < W // 4:  # narrow: shrink the grid to leave the 3D view room
            cw = (W * 3 // 4) // cols
            cw -= cw % 2
            ch = int(cw * cam_size[1] / cam_size[0])
            ch -= ch % 2
            grid_w = cols * cw
        view_w = W - grid_w
        view_w -= view_w % 2
        W = grid_w + view_w
        if crop:  # from up to 2000 of the written frames, evenly spaced (bounded memory)
            some = rig.project(p[idx[np.linspace(0, len(idx) - 1, min(len(idx), 2000))
                                     .astype(int)]])  # (n_cams, <=2000, n_joints, 2)
            boxes = [crop_box(some[c], (r.width, r.height)) for c, r in enumerate(readers)]
        else:
            boxes = [(0, 0, r.width, r.height) for r in readers]
        scene = build_scene(p, skeleton, rig, floor, trail, (view_w, H), even=True,
                            antialias=False, cast=cast)
        try:
            with mp4_writer(path, (W, H), out_fps) as write:
                canvas = np.full((H, W, 3), 255, np.uint8)
                for f in idx:
                    proj = rig.project(p[f])  # (n_cams, n_joints, 2)
                    canvas[:, :grid_w] = 40
                    for c, r in enumerate(readers):
                        x0, y0, x1, y1 = boxes[c]
                        img = r.read(int(f))[y0:y1, x0:x1].copy()
                        shift = np.array([x0, y0], float)
                        draw_skeleton(img, proj[c] - shift, limbs, jc)
                        if det is not None:
                            draw_keypoints(img, det[c, f] - shift, jc,
                                           None if sc is None else sc[c, f], score_threshold)
                        y, x = (c // cols) * ch, (c % cols) * cw
                        cell = cv2.resize(img, (cw, ch), interpolation=cv2.INTER_AREA)
                        if cast.labelled:  # after resizing: names as big in every cell
                            zoom = np.array([cw / (x1 - x0), ch / (y1 - y0)])
                            draw_names(cell, cast.anchors(proj[c] - shift) * zoom,
                                       cast.names, lc)
                        canvas[y:y + ch, x:x + cw] = draw_label(cell, rig.names[c])
                    scene.show_frame(int(f))
                    canvas[:, grid_w:] = screenshot(scene.plotter)
                    write(canvas)
        finally:
            scene.plotter.close()
    finally:
        for r in readers:
            r.close()
    log.info("wrote %d frames to %s", len(idx), path)
    return Path(path)
