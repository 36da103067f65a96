"""Skeleton pictures, movies and the interactive window."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from calibration.errors import InputError
from calibration.rig import CameraRig
from poses.skeleton import Skeleton

from ._offscreen import require_display
from .individuals import Cast
from .scene import SkeletonScene, new_plotter, screenshot
from .validate import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    camera_index,
    check_frame,
    check_frames,
    check_points3d,
    check_range_fps,
    check_rig,
    check_size,
    check_skeleton,
    check_suffix,
)
from .video import mp4_writer, write_image

__all__ = ["render_png", "render_movie", "open_window", "build_scene", "scene_points"]

log = logging.getLogger(__name__)


def scene_points(points3d, skeleton: Skeleton | None,
                 ) -> tuple[np.ndarray, Cast, Skeleton | None]:
    """Check 3D points of any number of individuals and the skeleton; fold the individuals.

    Returns
    -------
    points : (n_frames, n_individuals * n_joints, 3) rig units, NaN = missing
    cast : Cast
        Their names, colours and where the names go.
    skeleton : Skeleton or None
    """
    p = check_points3d(points3d)
    skeleton = check_skeleton(skeleton, p.shape[2])
    cast = Cast.of(points3d, p.shape, skeleton.bodyparts if skeleton is not None else None)
    return cast.fold(p), cast, skeleton


def build_scene(points3d, skeleton: Skeleton | None,
                rig: CameraRig | None = None, floor: bool = True, trail: int = 0,
                size: tuple[int, int] = (960, 720), camera_view: str | int | None = None,
                off_screen: bool = True, frame_label: bool = True,
                even: bool = False, antialias: bool = True, cast: Cast | None = None,
                name_labels: str = "billboard") -> SkeletonScene:
    """Validate the inputs and build a :class:`~viz3d.scene.SkeletonScene` in a new plotter.

    Parameters are those of :func:`render_png`; ``even`` rounds ``size`` down to even
    numbers (videos); ``antialias`` turns on multisampling. With a ``cast``, ``points3d``
    are already checked and folded (:func:`scene_points`); ``name_labels`` as in
    :class:`~viz3d.scene.SkeletonScene`.
    """
    if cast is None:
        p, cast, skeleton = scene_points(points3d, skeleton)
    else:
        p = points3d
    rig = check_rig(rig)
    size = check_size(size, even=even)
    if not isinstance(trail, (int, np.integer)) or trail < 0:
        raise InputError(f"trail must be a whole number of frames >= 0, got {trail!r}")
    cam = None if camera_view is None else camera_index(rig, camera_view)
    plotter = new_plotter(size, off_screen=off_screen, antialias=antialias)
    try:
        scene = SkeletonScene(plotter, p, skeleton, rig=rig, floor=floor, trail=trail,
                              frame_label=frame_label, cast=cast, name_labels=name_labels)
        if cam is not None:
            scene.use_rig_camera(cam)
    except Exception:
        plotter.close()
        raise
    return scene


def render_png(points3d, skeleton: Skeleton | None, path: str | Path,
               frame: int = 0, rig: CameraRig | None = None, floor: bool = True,
               trail: int = 0, size: tuple[int, int] = (960, 720),
               camera_view: str | int | None = None) -> Path:
    """Render one frame of a 3D skeleton to a PNG (or JPEG) picture.

    Parameters
    ----------
    points3d : (n_frames, n_joints, 3) float, rig units (e.g. mm), or several animals
        NaN marks a missing joint (not drawn, nor its limbs). ``(n_joints, 3)`` is one frame.
        ``(n_frames, n_individuals, n_joints, 3)`` or a 3D :class:`poses.Poses` draws
        every individual in one scene, each in its colour family
        (:func:`viz3d.colors.individual_colors`) with its name above its head (a Poses'
        names, else ``ind1``, ``ind2`` ...; no name for one individual named ``ind1``).
    skeleton : triangulate.Skeleton or None
        Bodyparts in the order of the ``n_joints`` axis; limbs become tubes (within each
        individual). None draws the joints only.
    path : str or Path
        ``.png``, ``.jpg`` or ``.jpeg``; written atomically.
    frame : int
        Frame to draw.
    rig : calibration.CameraRig, optional
        Draws the camera frustums and sets the world's up axis (see
        :func:`viz3d.geometry.world_up`; +z without a rig).
    floor : bool
        A subtle grid floor at the world's ``z = 0`` (along up) when it lies under the data,
        else just under the lowest point.
    trail : int
        Past frames drawn as fading lines behind each joint.
    size : (width, height) pixels
    camera_view : str or int, optional
        Look through this rig camera (name or index): same pose, vertical field of view and
        principal point, no lens distortion. With ``size`` proportional to the camera's image
        size, picture pixels match the camera's ideal (undistorted) pixels, scaled. The
        default view looks obliquely at the data, framed on its extent (not on the cameras).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    calibration.errors.InputError
        Wrong shapes, a skeleton whose bodyparts do not match ``n_joints``, a frame out of
        range, an unknown camera, or an unsupported suffix.
    """
    path = check_suffix(path, IMAGE_SUFFIXES)
    p, cast, skeleton = scene_points(points3d, skeleton)
    frame = check_frame(frame, p.shape[0])
    scene = build_scene(p, skeleton, rig, floor, trail, size, camera_view, cast=cast)
    try:
        scene.show_frame(frame)
        img = screenshot(scene.plotter)
    finally:
        scene.plotter.close()
    return write_image(path, img)


def render_movie(points3d, skeleton: Skeleton | None, path: str | Path,
                 fps: float = 30.0, rig: CameraRig | None = None, floor: bool = True,
                 trail: int = 0, size: tuple[int, int] = (960, 720),
                 frames=None, camera_view: str | int | None = None,
                 antialias: bool = False) -> Path:
    """Render a 3D skeleton movie (H.264 MP4 through imageio-ffmpeg).

    Frames are rendered one at a time into one scene (vertices moved in place) and streamed
    to the encoder, so memory does not grow with the number of frames. The view is fixed,
    framed on the whole recording.

    Parameters
    ----------
    points3d : (n_frames, n_joints, 3) float, rig units; NaN = missing
        Or several individuals, as in :func:`render_png`.
    skeleton : triangulate.Skeleton or None
    path : str or Path
        ``.mp4`` (or ``.mov``, ``.mkv``); written atomically.
    fps : float
        Frames per second of the movie.
    rig, floor, trail, camera_view
        As in :func:`render_png`.
    size : (width, height) pixels
        Rounded down to even numbers (H.264 needs them).
    frames : sequence of int, optional
        Frame indices to render, in this order (default: all).
    antialias : bool
        8x multisampling: smoother edges, about 2.5x slower with software OpenGL.

    Returns
    -------
    Path
    """
    path = check_suffix(path, VIDEO_SUFFIXES)
    fps = check_range_fps(fps)
    p, cast, skeleton = scene_points(points3d, skeleton)
    idx = check_frames(frames, p.shape[0])
    scene = build_scene(p, skeleton, rig, floor, trail, size, camera_view, even=True,
                        antialias=antialias, cast=cast)
    w, h = scene.plotter.window_size
    try:
        with mp4_writer(path, (w, h), fps) as write:
            for i in idx:
                scene.show_frame(int(i))
                write(screenshot(scene.plotter))
    finally:
        scene.plotter.close()
    log.info("wrote %d frames to %s", len(idx), path)
    return Path(path)


def open_window(points3d, skeleton: Skeleton | None,
                rig: CameraRig | None = None, floor: bool = True, trail: int = 0,
                size: tuple[int, int] = (960, 720)) -> None:
    """Show the skeleton in an interactive window with a frame slider (blocks until closed).

    Parameters
    ----------
    points3d, skeleton, rig, floor, trail, size
        As in :func:`render_png`.

    Raises
    ------
    viz3d.DisplayError
        (an :class:`~calibration.errors.InputError`) when no display is available; use
        :func:`render_png`, :func:`render_movie` or :func:`export_html` there instead.
    """
    require_display()
    scene = window_scene(points3d, skeleton, rig, floor, trail, size, off_screen=False)
    scene.plotter.show()


def window_scene(points3d, skeleton: Skeleton | None,
                 rig: CameraRig | None = None, floor: bool = True, trail: int = 0,
                 size: tuple[int, int] = (960, 720), off_screen: bool = False) -> SkeletonScene:
    """The scene of :func:`open_window` with its frame slider, not yet shown."""
    scene = build_scene(points3d, skeleton, rig, floor, trail, size, off_screen=off_screen)
    n = scene.points3d.shape[0]
    if n > 1:
        def on_slide(value: float) -> None:
            scene.show_frame(int(round(value)))

        scene.plotter.add_slider_widget(on_slide, rng=[0, n - 1], value=0, title="frame",
                                        fmt="%.0f", pointa=(0.25, 0.06), pointb=(0.75, 0.06),
                                        style="modern", interaction_event="always")
    return scene
