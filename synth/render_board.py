"""Synthetic ChArUco calibration recordings: board trajectory, exact corners, ray-cast frames.

The board is a printed card (white margin around the ChArUco pattern, a plain light grey back)
moved by hand through the working volume. Every frame is rendered by intersecting each
pixel's exact viewing ray (:func:`synth.raycast.pixel_rays`, lens distortion
included) with the board plane and sampling the board's texture there, so the drawn corners
and :func:`true_corners` (:meth:`Camera.project`) share one camera model.

Conventions: the board frame is OpenCV's (``board.object_points()`` on z = 0, mm); its front
face is seen from negative board z, as for a board that ``cv2.solvePnP`` returns with the
camera in front. A pose maps board to world, ``X_world = R(rvec) @ X_board + tvec``. Pixels
have their origin at the centre of the top-left pixel; texture pixel ``(i, j)`` covers
``[j, j + 1) x [i, i + 1)`` in continuous texture coordinates, so continuous coordinate ``c``
is ``c - 0.5`` for :func:`cv2.remap` (integers at texel centres).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from calibration import Board, Camera, CameraRig
from calibration.rotation import matrix_to_rodrigues, rodrigues_to_matrix

from .board_scene import BoardTexture, board_texture, make_calibration_background
from .raycast import pixel_rays
from .render_behaviour import DEFAULT_LIGHT
from .rig import ARENA_CENTER
from .video import VideoWriter

__all__ = ["BoardPoses", "BoardSample", "BoardTexture", "board_poses", "board_texture",
           "make_calibration_background", "render_board_frame", "render_calibration_video",
           "render_calibration_videos", "sample_board", "true_corners"]

log = logging.getLogger(__name__)

_PAD = 10  # pixels kept around the board's footprint (anti-aliased edge, blur kernels)
_LOWEST_MM = 3.0  # the board's lowest point stays this far above the floor (z = 0)


# --- trajectory ------------------------------------------------------------------------------
@dataclass
class BoardPoses:
    """The board's pose in every frame of a calibration recording.

    Attributes
    ----------
    rvecs : (n_frames, 3) radians
        Rodrigues rotation, board to world; NaN where the board is absent.
    tvecs : (n_frames, 3) mm
        Translation, board to world (``X_world = R @ X_board + t``); NaN where absent.
    present : (n_frames,) bool
        Whether the board is in the scene.
    """

    rvecs: np.ndarray
    tvecs: np.ndarray
    present: np.ndarray

    def __len__(self) -> int:
        return len(self.present)


def board_poses(n_frames: int, rng: np.random.Generator, board: Board,
                center: np.ndarray = ARENA_CENTER, spread: float = 35.0,
                max_tilt_deg: float = 55.0, step: int = 10,
                absent_fraction: tuple[float, float] = (0.05, 0.08)) -> BoardPoses:
    """A hand-held board trajectory for calibration: smooth, diverse, facing the cameras.

    Keyframes every ``step`` frames draw a position in a box of half-width ``spread`` around
    ``center`` (height +-0.6 ``spread``), a tilt of the front face away from world up (uniform
    up to ``max_tilt_deg``, towards any azimuth) and a turn of up to ~100 deg about the board's
    normal; frames in between ease from one keyframe to the next (the hand stops at each). A
    board facing up and tilted towards different azimuths is seen by several cameras of a ring
    at once. The board is lifted where it would go through the floor. A few short runs of
    frames, ``absent_fraction`` of them in all, have no board.

    Parameters
    ----------
    n_frames : int
    rng : numpy.random.Generator
    board : Board
        Units mm.
    center : (3,) mm
        Centre of the volume covered by the board's centre; ``spread`` its half-width, mm.
    spread : float
    max_tilt_deg : float
        Largest angle between the board's front normal and world up.
    step : int
        Frames between keyframes.
    absent_fraction : (low, high)
        Range of the fraction of frames without the board.

    Returns
    -------
    BoardPoses
    """
    n, step = int(n_frames), int(step)
    if n < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames!r}")
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step!r}")
    if not 0 <= absent_fraction[0] <= absent_fraction[1] < 1:
        raise ValueError(f"absent_fraction must be (low, high) in [0, 1), got {absent_fraction}")
    n_key = n // step + 2
    pos = np.asarray(center, float) + rng.uniform(-1, 1, (n_key, 3)) * spread * np.array(
        [1.0, 1.0, 0.6])
    tilt = np.radians(max_tilt_deg) * rng.uniform(0.0, 1.0, n_key)
    azimuth = rng.uniform(-np.pi, np.pi, n_key)
    spin = np.cumsum(rng.uniform(-0.55, 0.55, n_key) * np.pi)
    keys = np.column_stack([pos, tilt * np.cos(azimuth), tilt * np.sin(azimuth), spin])
    # ease in and out between keyframes (smoothstep): (n, 6)
    seg, frac = np.divmod(np.arange(n, dtype=np.float64), step)
    seg = seg.astype(int)
    s = frac / step
    p = keys[seg] + (s * s * (3 - 2 * s))[:, None] * (keys[seg + 1] - keys[seg])

    # R = R_tilt @ flip @ Rz(spin): board z points down (front face up), then tipped over
    # about the horizontal axis perpendicular to the tilt vector p[:, 3:5]
    R_tilt = rodrigues_to_matrix(np.column_stack([-p[:, 4], p[:, 3], np.zeros(n)]))
    Rz = rodrigues_to_matrix(np.column_stack([np.zeros((n, 2)), p[:, 5]]))
    R = R_tilt @ np.diag([1.0, -1.0, -1.0]) @ Rz  # (n, 3, 3)

    w, h = board.size
    tvecs = p[:, :3] - R @ np.array([w / 2, h / 2, 0.0])  # board centre at the position
    m = 0.5 * board.square_length
    card = np.array([[-m, -m, 0], [w + m, -m, 0], [-m, h + m, 0], [w + m, h + m, 0]])
    lowest = np.min(np.einsum("nij,cj->nci", R, card)[..., 2], axis=1) + tvecs[:, 2]
    tvecs[:, 2] += np.maximum(0.0, _LOWEST_MM - lowest)

    present = np.ones(n, bool)
    target = int(round(n * rng.uniform(*absent_fraction)))
    for _ in range(4 * target):  # a few short runs: the board leaves, then returns
        missing = target - int((~present).sum())
        if missing <= 0:
            break
        start = int(rng.integers(n))
        present[start:start + min(int(rng.integers(2, 7)), missing)] = False
    rvecs = matrix_to_rodrigues(R)
    rvecs[~present] = np.nan
    tvecs[~present] = np.nan
    return BoardPoses(rvecs=rvecs, tvecs=tvecs, present=present)


# --- ground truth ----------------------------------------------------------------------------
def _project_principal(camera: Camera, world: np.ndarray) -> np.ndarray:
    """Pixels of world points (..., 3) mm; NaN behind the camera or where the lens model
    folds back (the point is not on the branch that :func:`pixel_rays` inverts)."""
    cam_pts = camera.world_to_camera(world)
    uv = camera.project(world)
    with np.errstate(divide="ignore", invalid="ignore"):
        normalized = cam_pts[..., :2] / cam_pts[..., 2:3]
        ok = (cam_pts[..., 2] > 0) & np.all(np.abs(camera.undistort(uv) - normalized) < 1e-6,
                                            axis=-1)
    return np.where(ok[..., None], uv, np.nan)


def true_corners(camera: Camera, board: Board, rvec: np.ndarray, tvec: np.ndarray) -> np.ndarray:
    """Exact projections of the board's inner corners.

    Parameters
    ----------
    camera : Camera
    board : Board
    rvec : (3,) or (n_frames, 3) radians
        Board-to-world rotation(s); NaN rows give NaN corners.
    tvec : (3,) or (n_frames, 3) mm

    Returns
    -------
    corners : (n_corners, 2) or (n_frames, n_corners, 2) pixels
        Row ``i`` is ChArUco corner id ``i`` (``board.object_points()[i]``); NaN where the
        corner falls outside the image or behind the camera, and for the whole board where the
        camera sees its back.
    """
    rv = np.asarray(rvec, dtype=np.float64)
    tv = np.asarray(tvec, dtype=np.float64)
    if rv.shape != tv.shape or rv.shape[-1:] != (3,) or rv.ndim > 2:
        raise ValueError(f"rvec and tvec must have the same shape (3,) or (n_frames, 3), got "
                         f"{rv.shape} and {tv.shape}")
    rv, tv = rv.reshape(-1, 3), tv.reshape(-1, 3)
    R = rodrigues_to_matrix(np.nan_to_num(rv))  # (n, 3, 3)
    world = np.einsum("nij,cj->nci", R, board.object_points()) + tv[:, None]  # (n, c, 3)
    uv = _project_principal(camera, world)
    # front side: the camera lies on the board's negative z side
    front = np.einsum("ni,ni->n", R[:, :, 2], camera.center - tv) < 0  # False for NaN
    ok = front[:, None] & camera.in_image(uv)
    out = np.where(ok[..., None], uv, np.nan)
    return out[0] if np.ndim(rvec) == 1 else out


# --- sampling the board ----------------------------------------------------------------------
@dataclass
class BoardSample:
    """The board as seen through one camera's pixels, before lighting.

    Attributes
    ----------
    window : (slice, slice)
        Image rows and columns the arrays cover (the card plus a margin); empty if not seen.
    albedo, coverage : (hb, wb) float32
        Pixel averages of reflectance times coverage (premultiplied) and of coverage [0, 1].
    board_xy : (hb, wb, 2) mm
        Where each pixel centre's ray meets the board plane (board frame); NaN off the plane.
    front : bool
        Whether the camera sees the printed side.
    pixels_per_square : int
        Texture level that was sampled (0 if none).
    """

    window: tuple[slice, slice]
    albedo: np.ndarray
    coverage: np.ndarray
    board_xy: np.ndarray
    front: bool
    pixels_per_square: int


def _footprint(camera: Camera, R: np.ndarray, tvec: np.ndarray, rect: tuple, h: int,
               w: int) -> tuple[slice, slice] | None:
    """Image window around the projected rectangle ``rect`` = (x0, x1, y0, y1) mm of the
    board plane, None if it misses the image, the whole image if the outline is partly
    behind the camera or off the lens model's principal branch."""
    x0, x1, y0, y1 = rect
    s = np.linspace(0.0, 1.0, 33)[:, None]
    a, b = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]), np.array(
        [[x1, y0], [x1, y1], [x0, y1], [x0, y0]])
    outline = (a[:, None] + s * (b - a)[:, None]).reshape(-1, 2)  # (132, 2) along the edges
    uv = _project_principal(camera, outline @ R[:, :2].T + tvec)
    if np.isnan(uv).any():
        return slice(0, h), slice(0, w)
    (c0, r0), (c1, r1) = np.floor(uv.min(0)) - _PAD, np.ceil(uv.max(0)) + _PAD + 1
    r0, r1, c0, c1 = int(max(r0, 0)), int(min(r1, h)), int(max(c0, 0)), int(min(c1, w))
    return (slice(r0, r1), slice(c0, c1)) if r0 < r1 and c0 < c1 else None


def sample_board(camera: Camera, board: Board, rvec: np.ndarray, tvec: np.ndarray,
                 rays: np.ndarray, texture: BoardTexture | None = None,
                 n_sub: int = 2) -> BoardSample:
    """Anti-aliased reflectance and coverage of the board in one camera's image.

    Each pixel centre's ray meets the board plane at board coordinates ``b`` (mm). The
    texture is sampled bilinearly (:func:`cv2.remap`) at ``n_sub x n_sub`` sub-pixel
    positions ``b + J @ offset`` (``J``: derivative of ``b`` with respect to the pixel;
    offsets symmetric about the centre, +-1/4 for 2) and averaged, from the finest texture
    level whose texels are not smaller than the sample spacing over 90% of the card. Coverage
    comes from the same samples (premultiplied alpha), so the card's outline is anti-aliased.

    Parameters
    ----------
    camera : Camera
        Units mm.
    board : Board
    rvec, tvec : (3,) radians, (3,) mm
        Board-to-world pose.
    rays : (h, w, 3)
        ``pixel_rays(camera)`` (world frame).
    texture : BoardTexture, optional
        ``board_texture(board)``.
    n_sub : int
        Sub-pixel samples per axis.

    Returns
    -------
    BoardSample
    """
    texture = board_texture(board) if texture is None else texture
    h, w = rays.shape[:2]
    R = rodrigues_to_matrix(np.asarray(rvec, float))
    tvec = np.asarray(tvec, float)
    origin = R.T @ (camera.center - tvec)  # camera centre in the board frame, mm
    tex = texture.front if origin[2] < 0 else texture.back
    empty = BoardSample((slice(0, 0), slice(0, 0)), np.zeros((0, 0), np.float32),
                        np.zeros((0, 0), np.float32), np.zeros((0, 0, 2)), origin[2] < 0, 0)
    sq, m = board.square_length, texture.margin_squares * board.square_length
    w_mm, h_mm = board.size
    window = _footprint(camera, R, tvec, (-m, w_mm + m, -m, h_mm + m), h, w)
    if origin[2] == 0 or window is None:  # edge-on, or out of view
        return empty
    d = rays[window] @ R  # (hb, wb, 3) ray directions in the board frame
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(-origin[2] / d[..., 2] > 0, -origin[2] / d[..., 2], np.nan)
        bx, by = origin[0] + t * d[..., 0], origin[1] + t * d[..., 1]  # (hb, wb) mm
        on_card = (bx > -m) & (bx < w_mm + m) & (by > -m) & (by < h_mm + m)
    rows, cols = np.flatnonzero(on_card.any(1)), np.flatnonzero(on_card.any(0))
    if rows.size == 0:
        return empty
    keep = (slice(max(rows[0] - _PAD, 0), rows[-1] + _PAD + 1),
            slice(max(cols[0] - _PAD, 0), cols[-1] + _PAD + 1))
    window = tuple(slice(win.start + k.start, win.start + min(k.stop, win.stop - win.start))
                   for win, k in zip(window, keep, strict=True))
    bx, by, on_card = bx[keep], by[keep], on_card[keep]

    # mm per pixel along u and v; the finest level whose texels >= the sample spacing
    dbx_dv, dbx_du = np.gradient(bx)
    dby_dv, dby_du = np.gradient(by)
    foot = np.maximum(np.hypot(dbx_du, dby_du), np.hypot(dbx_dv, dby_dv))
    inside = on_card & np.isfinite(foot)
    f90 = np.percentile(foot[inside], 90) if inside.any() else 1.0
    pps = max([p for p in tex if f90 * p / sq <= n_sub], default=min(tex))
    scale, margin_tex = pps / sq, round(texture.margin_squares * pps)  # texels per mm
    off = {"nan": -100.0, "posinf": -100.0, "neginf": -100.0}  # off the plane: no card
    mx = np.nan_to_num(margin_tex + bx * scale - 0.5, **off).astype(np.float32)
    my = np.nan_to_num(margin_tex + by * scale - 0.5, **off).astype(np.float32)
    jac = [np.nan_to_num(a * scale, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
           for a in (dbx_du, dbx_dv, dby_du, dby_dv)]
    acc = np.zeros(mx.shape + (2,), np.float32)
    offsets = ((np.arange(n_sub) + 0.5) / n_sub - 0.5).astype(np.float32)
    for du in offsets:
        for dv in offsets:
            acc += cv2.remap(tex[pps], mx + jac[0] * du + jac[1] * dv,
                             my + jac[2] * du + jac[3] * dv, cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0, 0.0))
    acc /= n_sub * n_sub
    return BoardSample(window=window, albedo=acc[..., 0], coverage=acc[..., 1],
                       board_xy=np.stack([bx, by], axis=-1), front=bool(origin[2] < 0),
                       pixels_per_square=int(pps))


# --- frames and videos -----------------------------------------------------------------------
def _motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    """A centred line kernel (odd size, point-symmetric) of ``length`` px, summing to 1."""
    k = int(np.ceil(length)) | 1
    line = np.zeros((k, k), np.float32)
    line[k // 2, :] = np.clip((length - np.abs(np.arange(k) - k // 2) * 2 + 1) / 2, 0, 1)
    rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), angle_deg, 1.0)
    kernel = cv2.warpAffine(line, rot, (k, k), flags=cv2.INTER_LINEAR)
    kernel = kernel + kernel[::-1, ::-1]  # exactly symmetric: the board does not shift
    return kernel / kernel.sum()


def render_board_frame(camera: Camera, board: Board, rvec: np.ndarray, tvec: np.ndarray,
                       rays: np.ndarray, rng: np.random.Generator,
                       texture: BoardTexture | None = None, background: np.ndarray | None = None,
                       exposure: float = 1.0, n_sub: int = 2) -> np.ndarray:
    """One grey frame of the board in front of the scene.

    The board's anti-aliased reflectance and coverage come from :func:`sample_board`. Then: a
    light level from the board's orientation with a smooth gradient across the card and a
    flare offset, sometimes slight motion blur of the board (a symmetric kernel, so the
    corners stay at the frame's pose), defocus (sometimes stronger), the frame's ``exposure``,
    and shot plus read noise.

    Parameters
    ----------
    camera : Camera
        Units mm.
    board : Board
    rvec, tvec : (3,) radians, (3,) mm
        Board-to-world pose; NaN renders the empty scene.
    rays : (h, w, 3)
        ``pixel_rays(camera)`` (world frame), computed once per camera.
    rng : numpy.random.Generator
        Lighting, blur and noise.
    texture : BoardTexture, optional
        ``board_texture(board)``; pass it to avoid rebuilding it every frame.
    background : (h, w) float or uint8, optional
        Grey scene; default :func:`make_calibration_background`.
    exposure : float
        Gain of the whole frame (slow lighting changes over a recording).
    n_sub : int
        Sub-pixel samples per axis for anti-aliasing.

    Returns
    -------
    frame : (h, w) uint8
    """
    w, h = camera.size
    if rays.shape != (h, w, 3):
        raise ValueError(f"rays must have shape ({h}, {w}, 3) for camera {camera.name!r}, "
                         f"got {rays.shape}")
    if background is None:
        background = make_calibration_background(camera, rng, rays)
    img = np.array(background, dtype=np.float32)
    rv, tv = np.asarray(rvec, float), np.asarray(tvec, float)
    sample = None
    if np.all(np.isfinite(rv)) and np.all(np.isfinite(tv)):
        sample = sample_board(camera, board, rv, tv, rays, texture, int(n_sub))
    if sample is not None and sample.coverage.size:
        # Lambertian light on the facing side, a smooth gradient across the card, flare
        normal = rodrigues_to_matrix(rv)[:, 2] * (-1.0 if sample.front else 1.0)
        light = rng.uniform(200.0, 290.0) * (0.55 + 0.45 * max(normal @ DEFAULT_LIGHT, 0.0))
        xy = np.nan_to_num(sample.board_xy / np.array(board.size) - 0.5)
        shade = (light * (1.0 + xy @ rng.normal(0.0, 0.12, 2))).astype(np.float32)
        alpha = sample.coverage
        layer = sample.albedo * shade + alpha * np.float32(rng.uniform(0.0, 20.0))
        if rng.random() < 0.1:  # the board moved during the exposure
            kernel = _motion_kernel(rng.uniform(2.0, 6.0), rng.uniform(0.0, 180.0))
            layer = cv2.filter2D(layer, -1, kernel, borderType=cv2.BORDER_CONSTANT)
            alpha = cv2.filter2D(alpha, -1, kernel, borderType=cv2.BORDER_CONSTANT)
        region = img[sample.window]
        region *= 1.0 - alpha
        region += layer
    sigma = 0.35 + (rng.random() < 0.12) * rng.uniform(0.3, 0.9)  # defocus, sometimes more
    img = cv2.GaussianBlur(img, (0, 0), sigma) * np.float32(exposure)
    read, shot = rng.uniform(1.0, 2.0), rng.uniform(0.02, 0.05)
    img += rng.standard_normal((h, w), dtype=np.float32) * np.sqrt(
        read**2 + shot * np.maximum(img, 0))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def render_calibration_video(camera: Camera, board: Board, poses: BoardPoses,
                             path: str | Path, rng: np.random.Generator, fps: float = 30.0,
                             crf: int = 12) -> np.ndarray:
    """Render one camera's ChArUco recording to an MP4.

    Parameters
    ----------
    camera : Camera
        Units mm; width and height even.
    board : Board
    poses : BoardPoses
    path : str or Path
        Output ``.mp4`` (written atomically).
    rng : numpy.random.Generator
        Scene, lighting, blur and noise of this camera.
    fps : float
    crf : int
        x264 quality; at 12 OpenCV's detector finds corners within ~0.05 px (median) of the
        truth, ~0.01 px worse than on uncompressed frames.

    Returns
    -------
    corners : (n_frames, n_corners, 2) pixels
        :func:`true_corners` per frame; NaN where not visible or the board is absent.
    """
    rays, texture = pixel_rays(camera), board_texture(board)
    background = make_calibration_background(camera, rng, rays)
    t = np.arange(len(poses)) / fps  # slow exposure drift: lights, auto-exposure
    exposure = rng.uniform(0.85, 1.05) * (1.0 + np.sum(
        rng.uniform(0.02, 0.07, (2, 1)) * np.sin(2 * np.pi * t / rng.uniform(2, 8, (2, 1))
                                                 + rng.uniform(0, 2 * np.pi, (2, 1))), axis=0))
    corners = true_corners(camera, board, poses.rvecs, poses.tvecs)
    corners[~poses.present] = np.nan
    with VideoWriter(path, camera.size, fps=fps, crf=crf) as vw:
        for i in range(len(poses)):
            rv = poses.rvecs[i] if poses.present[i] else np.full(3, np.nan)
            vw.write(render_board_frame(camera, board, rv, poses.tvecs[i], rays, rng, texture,
                                        background, exposure=float(exposure[i])))
    log.debug("camera %s: %d calibration frames -> %s", camera.name, len(poses), path)
    return corners


def render_calibration_videos(rig: CameraRig, board: Board, poses: BoardPoses,
                              out_dir: str | Path, seed: int, fps: float = 30.0,
                              crf: int = 12) -> dict[str, np.ndarray]:
    """Render every camera's ChArUco recording to ``out_dir/<camera>.mp4``.

    Parameters
    ----------
    rig : CameraRig
    board : Board
    poses : BoardPoses
    out_dir : str or Path
    seed : int
        Camera ``i`` draws from ``np.random.default_rng([seed, 1, i])`` (as
        :func:`synth.make_session` does), so the output is deterministic.
    fps, crf : float, int
        As in :func:`render_calibration_video`.

    Returns
    -------
    corners : dict of str -> (n_frames, n_corners, 2) pixels
        True corners per camera name, in rig order; NaN where not visible.
    """
    out = Path(out_dir)
    return {cam.name: render_calibration_video(cam, board, poses, out / f"{cam.name}.mp4",
                                               np.random.default_rng([int(seed), 1, i]),
                                               fps=fps, crf=crf)
            for i, cam in enumerate(rig)}
