"""2D overlays drawn with OpenCV: detected keypoints and the reprojected skeleton on video.

Like anipose's ``label-2d-proj``: detections as filled dots (coloured by bodypart, outlined),
the reprojected 3D skeleton as thin lines with small rings at its joints. Several individuals
are drawn together, each in its colour family, with its name above its head
(:func:`draw_names`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from calibration.errors import InputError
from poses.skeleton import Skeleton

from .individuals import Cast
from .validate import (
    VIDEO_SUFFIXES,
    check_points2d,
    check_range_fps,
    check_scores,
    check_skeleton,
    check_suffix,
)
from .video import VideoReader, mp4_writer

__all__ = ["draw_keypoints", "draw_skeleton", "draw_label", "draw_names", "overlay_2d_video"]

log = logging.getLogger(__name__)

_SHIFT = 4  # sub-pixel drawing: coordinates in 1/16 px


def _scale(image: np.ndarray) -> int:
    return max(1, int(round(image.shape[0] / 300)))


def _fix(p: np.ndarray) -> tuple[int, int]:
    return int(round(p[0] * (1 << _SHIFT))), int(round(p[1] * (1 << _SHIFT)))


def draw_keypoints(image: np.ndarray, points: np.ndarray, joint_colors: np.ndarray,
                   scores: np.ndarray | None = None, threshold: float = 0.5,
                   radius: int | None = None) -> np.ndarray:
    """Draw detections as filled, outlined dots, in place.

    Parameters
    ----------
    image : (h, w, 3) uint8 RGB
    points : (n_joints, 2) pixels, NaN = missing
    joint_colors : (n_joints, 3) uint8
    scores : (n_joints,), optional
        Points scoring below ``threshold`` are not drawn.
    threshold : float
    radius : int, optional
        Dot radius in pixels (default: from the image height).

    Returns
    -------
    image
    """
    s = _scale(image)
    r = radius or 2 + s
    ok = np.isfinite(points).all(1)
    if scores is not None:
        with np.errstate(invalid="ignore"):
            ok &= np.nan_to_num(scores, nan=0.0) >= threshold
    for j in np.flatnonzero(ok):
        c = _fix(points[j])
        cv2.circle(image, c, (r + 1) << _SHIFT, (20, 20, 20), -1, cv2.LINE_AA, _SHIFT)
        cv2.circle(image, c, r << _SHIFT, tuple(int(v) for v in joint_colors[j]), -1,
                   cv2.LINE_AA, _SHIFT)
    return image


def draw_skeleton(image: np.ndarray, points: np.ndarray, limbs: list[tuple[int, int]],
                  joint_colors: np.ndarray, thickness: int | None = None) -> np.ndarray:
    """Draw a (reprojected) skeleton as lines between joints and rings at joints, in place.

    Parameters
    ----------
    image : (h, w, 3) uint8 RGB
    points : (n_joints, 2) pixels, NaN = missing (its limbs are skipped)
    limbs : list of (int, int)
    joint_colors : (n_joints, 3) uint8
        Limbs take their second bodypart's colour.
    thickness : int, optional

    Returns
    -------
    image
    """
    s = _scale(image)
    t = thickness or s
    ok = np.isfinite(points).all(1)
    for a, b in limbs:
        if ok[a] and ok[b]:
            cv2.line(image, _fix(points[a]), _fix(points[b]),
                     tuple(int(v) for v in joint_colors[b]), t, cv2.LINE_AA, _SHIFT)
    for j in np.flatnonzero(ok):
        cv2.circle(image, _fix(points[j]), (2 + s) << _SHIFT,
                   tuple(int(v) for v in joint_colors[j]), max(1, t // 2 + 1), cv2.LINE_AA,
                   _SHIFT)
    return image


def draw_label(image: np.ndarray, text: str, corner: str = "top-left") -> np.ndarray:
    """Write ``text`` on a translucent dark box in a corner of ``image``, in place."""
    s = _scale(image)
    scale = 0.4 * s
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, s)
    pad = 3 * s
    x = pad if corner.endswith("left") else image.shape[1] - tw - 3 * pad
    y = pad if corner.startswith("top") else image.shape[0] - th - base - 3 * pad
    box = image[y:y + th + base + 2 * pad, x:x + tw + 2 * pad]
    box[:] = (box * 0.45).astype(np.uint8)
    cv2.putText(image, text, (x + pad, y + pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), s, cv2.LINE_AA)
    return image


def draw_names(image: np.ndarray, anchors: np.ndarray, names, label_colors: np.ndarray,
               gap: int | None = None) -> np.ndarray:
    """Write each individual's name on a light box just above its anchor point, in place.

    Parameters
    ----------
    image : (h, w, 3) uint8 RGB
    anchors : (n_individuals, 2) pixels, NaN = not drawn (e.g. from
        :meth:`viz3d.individuals.Cast.anchors`)
    names : sequence of n_individuals str
    label_colors : (n_individuals, 3) uint8
        Text colours (boxes are light).
    gap : int, optional
        Pixels between the anchor and the box (default: from the image height).

    Returns
    -------
    image
    """
    s = _scale(image)
    scale, thick = 0.45 * s, max(1, s)
    gap = 4 + 2 * s if gap is None else gap
    pad = 2 * s
    h, w = image.shape[:2]
    for (u, v), name, rgb in zip(np.asarray(anchors, float), names, label_colors, strict=True):
        if not (np.isfinite(u) and np.isfinite(v)):
            continue
        (tw, th), base = cv2.getTextSize(str(name), cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        bw, bh = tw + 2 * pad, th + base + 2 * pad
        x = int(np.clip(round(u - bw / 2), 0, max(w - bw, 0)))
        y = int(np.clip(round(v - gap - bh), 0, max(h - bh, 0)))
        box = image[y:y + bh, x:x + bw]
        box[:] = (box * 0.25 + 255 * 0.75).astype(np.uint8)
        cv2.putText(image, str(name), (x + pad, y + pad + th), cv2.FONT_HERSHEY_SIMPLEX,
                    scale, tuple(int(c) for c in rgb), thick, cv2.LINE_AA)
    return image


def overlay_2d_video(video: str | Path, points2d: np.ndarray, skeleton: Skeleton | None,
                     path: str | Path, reprojected: np.ndarray | None = None,
                     scores: np.ndarray | None = None, score_threshold: float = 0.5,
                     fps: float | None = None, label: str | None = None) -> Path:
    """Write a copy of one camera's video with detections and the reprojected skeleton.

    One output frame per row of ``points2d`` (the video's first ``n_frames`` frames).

    Parameters
    ----------
    video : str or Path
        This camera's video; it must have at least ``n_frames`` frames.
    points2d : (n_frames, n_joints, 2) float, pixels of this camera; NaN = missing
        Detected keypoints, drawn as dots coloured by bodypart. ``None`` draws none (then
        ``reprojected`` is required). Several animals: ``(n_frames, n_individuals,
        n_joints, 2)`` or a 2D :class:`poses.Poses`; each is drawn in its colour family with
        its name above its head (a Poses' names, else ``ind1``, ``ind2`` ...; no name for
        one individual named ``ind1``).
    skeleton : triangulate.Skeleton or None
        Bodyparts in the order of the ``n_joints`` axis; its limbs join the reprojected
        points. None draws points only.
    path : str or Path
        ``.mp4`` output, written atomically.
    reprojected : (n_frames, n_joints, 2) float pixels, optional
        The 3D skeleton projected into this camera (e.g. ``rig.project(points3d)[c]``),
        drawn as lines; with individuals, as many as ``points2d`` in the same order.
    scores : (n_frames, [n_individuals,] n_joints) in [0, 1], optional
        Detections scoring below ``score_threshold`` are not drawn.
    score_threshold : float
    fps : float, optional
        Output frame rate (default: the video's).
    label : str, optional
        Text written in the top-left corner (e.g. the camera name).

    Returns
    -------
    Path
    """
    path = check_suffix(path, VIDEO_SUFFIXES)
    if points2d is None and reprojected is None:
        raise InputError("overlay_2d_video needs points2d or reprojected (or both)")
    ref = points2d if points2d is not None else reprojected
    ref_name = "points2d" if points2d is not None else "reprojected"
    given = ref
    ref = check_points2d(ref, ref_name)
    n_frames, n_ind, n_joints = ref.shape[:3]
    cast = Cast.of(given, ref.shape,
                   skeleton.bodyparts if isinstance(skeleton, Skeleton) else None)
    pts = cast.fold(ref) if points2d is not None else None
    rep = None
    if reprojected is not None:
        rep = cast.fold(check_points2d(reprojected, "reprojected", n_frames, n_joints,
                                       n_individuals=n_ind))
    if skeleton is not None:
        check_skeleton(skeleton, n_joints, name=ref_name)
    sc = None
    if scores is not None:
        sc = cast.fold(check_scores(scores, "scores", (n_frames, n_ind, n_joints)), 0)
    limbs = cast.limbs(skeleton.limb_indices() if skeleton is not None else [])
    jc = cast.joint_colors()
    lc = cast.label_colors()
    with VideoReader(video, "video", n_frames) as reader:
        out_fps = reader.fps if fps is None else check_range_fps(fps)
        w, h = reader.width - reader.width % 2, reader.height - reader.height % 2
        with mp4_writer(path, (w, h), out_fps) as write:
            for f in range(n_frames):
                img = reader.read(f)
                if rep is not None:
                    draw_skeleton(img, rep[f], limbs, jc)
                if pts is not None:
                    draw_keypoints(img, pts[f], jc, None if sc is None else sc[f],
                                   score_threshold)
                if cast.labelled:
                    draw_names(img, cast.anchors(rep[f] if rep is not None else pts[f]),
                               cast.names, lc)
                if label:
                    draw_label(img, label)
                write(img[:h, :w])
    log.info("wrote %d frames to %s", n_frames, path)
    return Path(path)
