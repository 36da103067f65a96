"""Calibration pictures: the rig's cameras as named frustums, with the board poses."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from calibration.board import Board
from calibration.errors import InputError
from calibration.rig import CameraRig
from calibration.rotation import rodrigues_to_matrix

from . import colors
from ._offscreen import import_pyvista
from .geometry import data_bounds, orbit_camera, view_direction, world_up
from .scene import add_floor, add_frustums, apply_camera, new_plotter, screenshot
from .validate import IMAGE_SUFFIXES, check_rig, check_size, check_suffix
from .video import write_image

__all__ = ["render_rig", "board_poses_from_rvecs", "board_corners_world"]


def board_poses_from_rvecs(rvecs: np.ndarray, tvecs: np.ndarray) -> np.ndarray:
    """Board-to-world transforms from Rodrigues vectors and translations.

    Parameters
    ----------
    rvecs, tvecs : (n_views, 3)
        E.g. ``CalibrationResult.board_rvecs`` and ``board_tvecs`` (board to world).

    Returns
    -------
    poses : (n_views, 4, 4)
    """
    r = np.asarray(rvecs, float).reshape(-1, 3)
    t = np.asarray(tvecs, float).reshape(-1, 3)
    if len(r) != len(t):
        raise InputError(f"rvecs and tvecs must have the same number of views, got {len(r)} "
                         f"and {len(t)}")
    poses = np.tile(np.eye(4), (len(r), 1, 1))
    poses[:, :3, :3] = rodrigues_to_matrix(r)
    poses[:, :3, 3] = t
    return poses


def board_corners_world(board_poses: np.ndarray, board: Board | None) -> np.ndarray:
    """Points to draw per board view, in world units.

    Parameters
    ----------
    board_poses : (n_views, 4, 4) board-to-world transforms, or (n_views, n_points, 3)
        points already in the world (e.g. triangulated corners; NaN = unseen).
    board : Board, optional
        With transforms: gives the board's inner corners. Without it each view is its
        origin only.

    Returns
    -------
    points : (n_views, n_points, 3)
    """
    bp = np.asarray(board_poses, dtype=float)
    if bp.ndim == 3 and bp.shape[1:] == (4, 4):
        local = board.object_points() if board is not None else np.zeros((1, 3))
        return np.einsum("vij,nj->vni", bp[:, :3, :3], local) + bp[:, None, :3, 3]
    if bp.ndim == 3 and bp.shape[2] == 3:
        return bp
    raise InputError("board_poses must be (n_views, 4, 4) board-to-world transforms or "
                     f"(n_views, n_points, 3) world points, got shape {bp.shape}")


def _board_outlines(board_poses: np.ndarray, board: Board) -> np.ndarray:
    """(n_views, 4, 3) corners of each board's outer rectangle (transforms only)."""
    obj = board.object_points()
    sq = board.square_length
    lo, hi = obj[:, :2].min(0) - sq, obj[:, :2].max(0) + sq
    rect = np.array([[lo[0], lo[1], 0], [hi[0], lo[1], 0], [hi[0], hi[1], 0],
                     [lo[0], hi[1], 0]])
    return np.einsum("vij,nj->vni", board_poses[:, :3, :3], rect) + board_poses[:, None, :3, 3]


def render_rig(rig: CameraRig, path: str | Path, board_poses: np.ndarray | None = None,
               board: Board | None = None, size: tuple[int, int] = (960, 720),
               max_boards: int = 30, floor: bool = True) -> Path:
    """Picture of the calibrated rig: camera frustums with names, and board poses.

    Parameters
    ----------
    rig : calibration.CameraRig
    path : str or Path
        ``.png``, ``.jpg`` or ``.jpeg``; written atomically.
    board_poses : array, optional
        Either ``(n_views, 4, 4)`` board-to-world transforms (e.g.
        ``board_poses_from_rvecs(result.board_rvecs, result.board_tvecs)`` of a
        ``CalibrationResult``), drawn as translucent boards (with ``board``) or as their
        origins; or ``(n_views, n_points, 3)`` world points such as board corners, drawn as
        dots (NaN skipped). Views are coloured from dark to light in their order.
    board : calibration.Board, optional
        Size and corner layout of the board for transforms.
    size : (width, height) pixels
    max_boards : int
        At most this many views are drawn (evenly spaced), to keep the picture readable.
    floor : bool
        A grid floor under everything (the world's ``z = 0`` when it is under the scene).

    Returns
    -------
    Path
    """
    pv = import_pyvista()
    path = check_suffix(path, IMAGE_SUFFIXES)
    rig = check_rig(rig, required=True)
    size = check_size(size)
    pts = None
    outlines = None
    if board_poses is not None:
        pts = board_corners_world(board_poses, board)
        keep = np.unique(np.linspace(0, len(pts) - 1, min(len(pts), max_boards)).astype(int))
        pts = pts[keep]
        bp = np.asarray(board_poses, float)
        if board is not None and bp.shape[1:] == (4, 4):
            outlines = _board_outlines(bp[keep], board)
    up = world_up(rig)
    scene_pts = [rig.centers]
    if pts is not None:
        scene_pts.append(pts.reshape(-1, 3))
    bounds = data_bounds(np.concatenate(scene_pts))
    target = (data_bounds(pts).center if pts is not None and np.isfinite(pts).any()
              else bounds.center)
    plotter = new_plotter(size)
    try:
        depth = add_frustums(plotter, rig, target, labels=True, depth_fraction=0.25)
        # frustum tips reach towards the scene: include them in the framing
        tips = np.concatenate([rig.centers, rig.centers + depth * np.array([c.R[2] for c in rig])])
        bounds = data_bounds(np.concatenate(scene_pts + [tips]), robust=False)
        if floor:
            level = add_floor(plotter, bounds, up, np.concatenate(scene_pts + [tips]))
            # a thin drop line from each camera to the floor shows its height
            feet = rig.centers - ((rig.centers @ up) - level)[:, None] * up
            n = rig.n_cams
            drops = pv.PolyData(np.concatenate([rig.centers, feet]),
                                lines=np.column_stack([np.full(n, 2), np.arange(n),
                                                       np.arange(n) + n]).ravel())
            plotter.add_mesh(drops, color=colors.GRID, line_width=1, lighting=False,
                             name="camera_drops", reset_camera=False)
        n_views = 0 if pts is None else len(pts)
        view_rgb = _view_colors(n_views)
        if outlines is not None:
            faces = np.concatenate([[4, 4 * v, 4 * v + 1, 4 * v + 2, 4 * v + 3]
                                    for v in range(n_views)])
            mesh = pv.PolyData(outlines.reshape(-1, 3), faces=faces)
            mesh.cell_data["rgb"] = view_rgb
            plotter.add_mesh(mesh, scalars="rgb", rgb=True, opacity=0.3, lighting=False,
                             show_edges=True, edge_color=colors.FRUSTUM, line_width=1,
                             name="boards", reset_camera=False)
        elif pts is not None:
            flat = pts.reshape(-1, 3)
            ok = np.isfinite(flat).all(1)
            cloud = pv.PolyData(flat[ok])
            cloud.point_data["rgb"] = np.repeat(view_rgb, pts.shape[1], axis=0)[ok]
            plotter.add_mesh(cloud, scalars="rgb", rgb=True, point_size=5,
                             render_points_as_spheres=True, name="board_points",
                             reset_camera=False)
        axes_len = 0.08 * bounds.radius
        for k, rgb in enumerate(((0.85, 0.2, 0.2), (0.2, 0.65, 0.2), (0.2, 0.35, 0.85))):
            end = np.zeros(3)
            end[k] = axes_len
            plotter.add_mesh(pv.Line((0, 0, 0), end), color=rgb, line_width=3,
                             name=f"axis{k}", reset_camera=False)
        plotter.add_text(f"{rig.n_cams} cameras" + (f", {n_views} board views" if n_views
                                                    else ""),
                         position="upper_left", font_size=9, color=colors.TEXT)
        apply_camera(plotter, orbit_camera(bounds, up, aspect=size[0] / size[1],
                                           azimuth=_spread_azimuth(rig.centers, up),
                                           elevation=30.0, margin=1.12))
        img = screenshot(plotter)
    finally:
        plotter.close()
    return write_image(path, img)


def _spread_azimuth(centers: np.ndarray, up: np.ndarray, elevation: float = 30.0) -> float:
    """The azimuth (degrees, 15-degree steps) that keeps the cameras furthest apart on screen.

    Camera centres are projected orthographically along each candidate view direction; the
    smallest pairwise distance is maximised (ties: the first azimuth from -55 degrees).
    """
    if len(centers) < 2:
        return -55.0
    best, best_az = -1.0, -55.0
    for az in -55.0 + 15.0 * np.arange(24):
        d = view_direction(up, az, elevation)
        flat = centers - np.outer(centers @ d, d)
        gaps = np.linalg.norm(flat[:, None] - flat[None], axis=2)
        score = gaps[np.triu_indices(len(centers), 1)].min()
        if score > best + 1e-9:
            best, best_az = score, az
    return float(best_az)


def _view_colors(n: int) -> np.ndarray:
    """(n, 3) uint8: a dark-to-light teal ramp over the views' order."""
    if n == 0:
        return np.zeros((0, 3), np.uint8)
    t = np.linspace(0, 1, n)[:, None]
    dark, light = np.array([20, 70, 110]), np.array([120, 210, 190])
    return (dark * (1 - t) + light * t).astype(np.uint8)
