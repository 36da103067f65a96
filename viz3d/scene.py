"""The skeleton scene: one mesh of joint spheres, one of limb tubes, trails, floor, frustums.

Several individuals are folded into the joint axis (see :class:`viz3d.individuals.Cast`):
the same meshes hold every animal, each in its colour family, with its name above its head.
Built once per plotter; :meth:`SkeletonScene.show_frame` moves the existing vertices in place,
so a movie re-renders without rebuilding anything.
"""

from __future__ import annotations

import numpy as np

from calibration.rig import CameraRig
from poses import DEFAULT_INDIVIDUAL
from poses.skeleton import Skeleton

from . import colors
from ._offscreen import import_pyvista
from .geometry import (
    Bounds,
    data_bounds,
    floor_plane,
    frustum_corners,
    horizontal_axes,
    nice_step,
    orbit_camera,
    place_spheres,
    place_tubes,
    rig_camera_view,
    unit_tube,
    world_up,
)
from .individuals import Cast
from .labels3d import NameLabels

__all__ = ["SkeletonScene", "new_plotter", "apply_camera", "screenshot", "add_floor",
           "add_frustums"]


def new_plotter(size: tuple[int, int], off_screen: bool = True, antialias: bool = True):
    """A themed pyvista Plotter of ``size`` (width, height) pixels.

    ``antialias`` uses 8x multisampling (about 2.5x slower with software OpenGL; movies
    default to off).
    """
    pv = import_pyvista()
    pl = pv.Plotter(off_screen=off_screen, window_size=list(size), lighting="light kit")
    pl.render_window.SetMultiSamples(8 if antialias else 0)
    pl.set_background(colors.BACKGROUND, top=colors.BACKGROUND_TOP)
    return pl


def apply_camera(plotter, view: dict) -> None:
    """Set the plotter's camera from a dict of :mod:`viz3d.geometry` (position, focal...)."""
    cam = plotter.camera
    cam.position = tuple(map(float, view["position"]))
    cam.focal_point = tuple(map(float, view["focal_point"]))
    cam.up = tuple(map(float, view["up"]))
    cam.view_angle = float(view["view_angle"])
    if "window_center" in view:
        cam.SetWindowCenter(*map(float, view["window_center"]))
    plotter.renderer.ResetCameraClippingRange()


def screenshot(plotter) -> np.ndarray:
    """Render once and grab the picture: (height, width, 3) uint8 RGB.

    Keeps one ``vtkWindowToImageFilter`` per plotter that reads the back buffer without
    rendering again (pyvista's ``screenshot`` would render a second time).
    """
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

    grab = getattr(plotter, "_viz3d_grab", None)
    if grab is None:
        grab = vtkWindowToImageFilter()
        grab.SetInput(plotter.render_window)
        grab.SetInputBufferTypeToRGB()
        grab.ReadFrontBufferOff()
        grab.ShouldRerenderOff()
        plotter._viz3d_grab = grab
    if plotter._first_time:  # pyvista's first-render set-up (lights, camera reset guard)
        plotter._on_first_render_request()
    plotter.render_window.Render()
    grab.Modified()
    grab.Update()
    img = grab.GetOutput()
    w, h, _ = img.GetDimensions()
    arr = vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)
    return np.ascontiguousarray(arr[::-1, :, :3])


class SkeletonScene:
    """Joints, limbs, trails, floor and camera frustums of one recording in a plotter.

    Parameters
    ----------
    plotter : pyvista.Plotter
    points3d : (n_frames, n_joints, 3) rig units, NaN = missing
        With a ``cast``, every individual's joints folded (``cast.n_joints``).
    skeleton : Skeleton or None
        Limbs drawn as tubes (within each individual); None draws joints only.
    rig : CameraRig or None
        Frustums drawn and used to guess the world's up axis.
    floor : bool
        Draw a subtle grid floor under the data.
    trail : int
        Frames of past positions drawn as fading lines per joint (0 = none).
    joint_radius : float, optional
        Sphere radius in rig units (default: from the data's extent and limb lengths).
    frame_label : bool
        Write "frame i" in the top-left corner.
    cast : Cast, optional
        The individuals folded into ``points3d`` (default: one, unnamed): colours by
        individual, limbs within each, names above heads when ``cast.labelled``.
    name_labels : {"billboard", "mesh"}
        How names are drawn (see :mod:`viz3d.labels3d`).
    """

    def __init__(self, plotter, points3d: np.ndarray, skeleton: Skeleton | None,
                 rig: CameraRig | None = None, floor: bool = True, trail: int = 0,
                 joint_radius: float | None = None, frame_label: bool = True,
                 cast: Cast | None = None, name_labels: str = "billboard") -> None:
        pv = import_pyvista()
        self.pv = pv
        self.plotter = plotter
        self.points3d = points3d
        self.n_joints = points3d.shape[1]
        self.cast = cast or Cast((DEFAULT_INDIVIDUAL,), self.n_joints)
        self.limbs = self.cast.limbs(skeleton.limb_indices() if skeleton is not None else [])
        self.trail = int(trail)
        self.rig = rig
        self.up = world_up(rig)
        fallback = rig.centers if rig is not None else None
        self.bounds: Bounds = data_bounds(points3d, fallback)
        self.park = self.bounds.center
        self.radius = joint_radius or self._auto_radius()
        jc = self.cast.joint_colors()
        self.joint_colors = jc

        # joints: one mesh of n_joints spheres
        sphere = pv.Sphere(radius=1.0, theta_resolution=18, phi_resolution=12)
        self._sphere_v = np.asarray(sphere.points, float)
        nv = len(self._sphere_v)
        faces = sphere.faces.reshape(-1, 4)
        offs = (np.arange(self.n_joints) * nv)[:, None, None]
        all_faces = np.concatenate([np.full((self.n_joints, len(faces), 1), 3),
                                    faces[None, :, 1:] + offs], 2).ravel()
        self.joints = pv.PolyData(place_spheres(self._sphere_v, points3d[0], self.radius,
                                                self.park), faces=all_faces)
        self.joints.point_data["Normals"] = np.tile(self._sphere_v, (self.n_joints, 1))
        self.joints.point_data.active_normals_name = "Normals"
        self.joints.point_data["rgb"] = np.repeat(jc, nv, axis=0)
        plotter.add_mesh(self.joints, scalars="rgb", rgb=True, smooth_shading=False,
                         specular=0.3, specular_power=20, ambient=0.25, diffuse=0.8,
                         name="joints", reset_camera=False)

        # limbs: one mesh of n_limbs open tubes
        self.tubes = None
        if self.limbs:
            self._tube_v, self._tube_n, quads = unit_tube()
            ntv = len(self._tube_v)
            nl = len(self.limbs)
            offs = (np.arange(nl) * ntv)[:, None, None]
            tfaces = np.concatenate([np.full((nl, len(quads), 1), 4), quads[None] + offs],
                                    2).ravel()
            v, n = self._limb_vertices(0)
            self.tubes = pv.PolyData(v, faces=tfaces)
            self.tubes.point_data["Normals"] = n
            self.tubes.point_data.active_normals_name = "Normals"
            lc = colors.limb_colors(self.limbs, jc)
            self.tubes.point_data["rgb"] = np.repeat(lc, ntv, axis=0)
            plotter.add_mesh(self.tubes, scalars="rgb", rgb=True, specular=0.2,
                             ambient=0.25, diffuse=0.8, name="limbs", reset_camera=False)

        self.trails = None
        if self.trail > 0:
            self.trails = pv.PolyData(np.repeat(self.park[None], 2, 0), lines=[2, 0, 1])
            self.trails.cell_data["rgb"] = np.zeros((1, 3), np.uint8)
            self._update_trails(0)
            plotter.add_mesh(self.trails, scalars="rgb", rgb=True, line_width=2,
                             lighting=False, name="trails", reset_camera=False)

        if floor:
            self._add_floor()
        if rig is not None:
            self._add_frustums()
        self.label = None
        if frame_label:
            self.label = plotter.add_text("frame 0", position="upper_left", font_size=9,
                                          color=colors.TEXT, name="frame_label")
        self.view = orbit_camera(self.bounds, self.up, aspect=_aspect(plotter))
        apply_camera(plotter, self.view)
        self.names = None
        if self.cast.labelled:
            self.names = NameLabels(plotter, self.cast, self.up, lift=2.5 * self.radius,
                                    kind=name_labels, view=self.view,
                                    height=0.04 * 2 * self.bounds.radius)
            self.names.show(points3d[0])

    # --- geometry per frame -------------------------------------------------------------
    def _auto_radius(self) -> float:
        r = 0.012 * 2 * self.bounds.radius
        if self.limbs:
            a = np.array([i for i, _ in self.limbs])
            b = np.array([j for _, j in self.limbs])
            d = np.linalg.norm(self.points3d[:, a] - self.points3d[:, b], axis=-1)
            med = np.nanmedian(d) if np.isfinite(d).any() else np.nan
            if np.isfinite(med) and med > 0:
                r = min(r, 0.3 * float(med))
        return float(r)

    def _limb_vertices(self, frame: int) -> tuple[np.ndarray, np.ndarray]:
        p = self.points3d[frame]
        a = p[[i for i, _ in self.limbs]]
        b = p[[j for _, j in self.limbs]]
        return place_tubes(self._tube_v, self._tube_n, a, b, 0.42 * self.radius, self.park)

    def _update_trails(self, frame: int) -> None:
        start = max(0, frame - self.trail)
        seg = self.points3d[start:frame + 1]  # (t, n_joints, 3)
        t = len(seg)
        pts, cells, rgb = [], [], []
        bg = np.array(colors.BACKGROUND) * 255
        if t >= 2:
            ok = np.isfinite(seg).all(2)
            both = ok[:-1] & ok[1:]  # (t-1, n_joints)
            k, j = np.nonzero(both)
            if k.size:
                a, b = seg[k, j], seg[k + 1, j]
                recency = (k + 1 + (self.trail - t + 1)) / self.trail  # 1 = newest
                w = (0.2 + 0.8 * recency)[:, None]  # oldest stays a pale tint, never white
                col = self.joint_colors[j] * w + bg * (1 - w)
                pts = np.concatenate([a, b])
                n = len(a)
                cells = np.column_stack([np.full(n, 2), np.arange(n), np.arange(n) + n]).ravel()
                rgb = np.clip(col, 0, 255).astype(np.uint8)
        if len(pts) == 0:
            pts = np.repeat(self.park[None], 2, 0)
            cells = np.array([2, 0, 1])
            rgb = np.full((1, 3), 255, np.uint8)
        new = self.pv.PolyData(np.asarray(pts, float), lines=cells)
        new.cell_data["rgb"] = rgb
        self.trails.copy_from(new)

    def show_frame(self, frame: int) -> None:
        """Move the joints, limbs and trails to ``frame`` (no re-rendering)."""
        self.joints.points[:] = place_spheres(self._sphere_v, self.points3d[frame],
                                              self.radius, self.park)
        self.joints.Modified()
        if self.tubes is not None:
            v, n = self._limb_vertices(frame)
            self.tubes.points[:] = v
            self.tubes.point_data["Normals"][:] = n
            self.tubes.Modified()
        if self.trails is not None:
            self._update_trails(frame)
        if self.names is not None:
            self.names.show(self.points3d[frame])
        if self.label is not None:
            _set_text(self.label, f"frame {frame}")

    # --- static parts ---------------------------------------------------------------
    def _add_floor(self) -> None:
        self.floor_level = add_floor(self.plotter, self.bounds, self.up, self.points3d)

    def _add_frustums(self) -> None:
        add_frustums(self.plotter, self.rig, self.bounds.center, labels=False)

    # --- camera -----------------------------------------------------------------------
    def use_rig_camera(self, index: int) -> None:
        """Look through camera ``index`` of the rig (pinhole, distortion ignored)."""
        for name in ("frustums", "frustum_planes"):  # the camera's own frustum fills the view
            self.plotter.remove_actor(name, render=False)
        view = rig_camera_view(self.rig[index], tuple(self.plotter.window_size))
        apply_camera(self.plotter, view)
        self.view = view


def add_floor(plotter, bounds: Bounds, up: np.ndarray, points: np.ndarray) -> float:
    """Draw a subtle grid floor (see :func:`viz3d.geometry.floor_plane`); returns its level."""
    pv = import_pyvista()
    level, half = floor_plane(bounds, up, points)
    center = bounds.center - (bounds.center @ up - level) * up
    e1, e2 = horizontal_axes(up)
    step = nice_step(2 * half)
    n = int(np.ceil(half / step))
    # snap the grid to world multiples of the step, so lines sit at round coordinates
    c1 = np.round(center @ e1 / step) * step
    c2 = np.round(center @ e2 / step) * step
    origin = center - (center @ e1) * e1 - (center @ e2) * e2 + c1 * e1 + c2 * e2
    ticks = np.arange(-n, n + 1) * step
    ext = n * step
    starts = np.concatenate([origin + np.outer(ticks, e1) - ext * e2,
                             origin - ext * e1 + np.outer(ticks, e2)])
    ends = np.concatenate([origin + np.outer(ticks, e1) + ext * e2,
                           origin + ext * e1 + np.outer(ticks, e2)])
    m = len(starts)
    lines = np.column_stack([np.full(m, 2), np.arange(m), np.arange(m) + m]).ravel()
    grid = pv.PolyData(np.concatenate([starts, ends]), lines=lines)
    plotter.add_mesh(grid, color=colors.GRID, line_width=1, lighting=False,
                     name="floor_grid", reset_camera=False)
    lift = 1e-3 * ext
    plane = pv.Plane(center=origin - lift * up, direction=up, i_size=2 * ext,
                     j_size=2 * ext, i_resolution=1, j_resolution=1)
    plotter.add_mesh(plane, color=colors.FLOOR, lighting=False, name="floor",
                     reset_camera=False)
    return level


def add_frustums(plotter, rig: CameraRig, target: np.ndarray, labels: bool = True,
                 depth_fraction: float = 0.2, cam_colors: np.ndarray | None = None,
                 font_size: int = 14) -> float:
    """Draw each camera as a pyramid (centre to image corners) with optional name labels.

    Parameters
    ----------
    target : (3,) the scene centre; frustum depth is ``depth_fraction`` of the median
        camera-to-target distance, shortened for wide-angle cameras so that no image
        plane's diagonal exceeds that depth (a 120-degree lens would otherwise draw a
        pyramid wider than the scene).

    Returns
    -------
    depth : float, rig units (the largest camera's)
    """
    pv = import_pyvista()
    dist = np.median(np.linalg.norm(rig.centers - target, axis=1))
    depth = float(depth_fraction * dist) if dist > 0 else 1.0
    pts, cells, rgb = [], [], []
    cc = colors.camera_colors(rig.n_cams) if cam_colors is None else cam_colors
    depths = []
    for c, cam in enumerate(rig):
        unit = frustum_corners(cam, 1.0)  # image plane at depth 1: its diagonal
        diag = float(np.linalg.norm(unit[1] - unit[3]))
        depths.append(min(depth, depth / diag) if np.isfinite(diag) and diag > 0 else depth)
        f = frustum_corners(cam, depths[-1])
        base = 5 * c
        for a, b in ((0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (2, 3), (3, 4), (4, 1)):
            cells += [2, base + a, base + b]
            rgb.append(cc[c] if labels else np.array(colors.FRUSTUM) * 255)
        pts.append(f)
    mesh = pv.PolyData(np.concatenate(pts), lines=np.array(cells))
    mesh.cell_data["rgb"] = np.asarray(rgb).astype(np.uint8)
    plotter.add_mesh(mesh, scalars="rgb", rgb=True, line_width=2, lighting=False,
                     name="frustums", reset_camera=False)
    if labels:  # the image plane, lightly filled, shows which way each camera looks
        quads = np.concatenate([[4, 5 * c + 1, 5 * c + 2, 5 * c + 3, 5 * c + 4]
                                for c in range(rig.n_cams)])
        faces = pv.PolyData(np.concatenate(pts), faces=quads)
        faces.cell_data["rgb"] = cc.astype(np.uint8)
        plotter.add_mesh(faces, scalars="rgb", rgb=True, opacity=0.25, lighting=False,
                         name="frustum_planes", reset_camera=False)
    if labels:
        plotter.add_point_labels(rig.centers, rig.names, font_size=font_size,
                                 text_color=colors.TEXT, shape=None, show_points=False,
                                 always_visible=True, name="camera_names")
    return max(depths) if depths else depth


def _aspect(plotter) -> float:
    w, h = plotter.window_size
    return w / h if h else 1.0


def _set_text(actor, text: str) -> None:
    if hasattr(actor, "SetInput"):
        actor.SetInput(text)
    else:  # vtkCornerAnnotation
        actor.SetText(2, text)
