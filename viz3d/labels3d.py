"""Individuals' names in the 3D scene, above their heads, moved frame by frame.

Two kinds: ``"billboard"`` text (``vtkBillboardTextActor3D``: screen-aligned, constant size
in pixels, on a light box; pictures and movies) and ``"mesh"`` text (flat 3D letters
facing the scene's starting view, which an HTML scene keeps since vtk.js draws meshes, not
VTK's text actors).
"""

from __future__ import annotations

import numpy as np

from .individuals import Cast

__all__ = ["NameLabels", "LABEL_KINDS"]

LABEL_KINDS = ("billboard", "mesh")


class NameLabels:
    """One name per individual in a plotter, placed ``lift`` above :meth:`Cast.anchors`.

    Parameters
    ----------
    plotter : pyvista.Plotter
    cast : Cast
    up : (3,) unit vector, the world's up
    lift : float
        Rig units between the head and the bottom of the name.
    kind : {"billboard", "mesh"}
    view : dict, optional
        The camera (``position``, ``focal_point``, ``up``) mesh letters face.
    height : float
        Mesh letters' height, rig units.
    """

    def __init__(self, plotter, cast: Cast, up: np.ndarray, lift: float,
                 kind: str = "billboard", view: dict | None = None,
                 height: float = 1.0) -> None:
        self.cast = cast
        self.up = np.asarray(up, float)
        self.lift = float(lift)
        self.kind = kind
        rgb = cast.label_colors() / 255.0
        self.actors: list = []
        self.meshes: list = []
        if kind == "billboard":
            from vtkmodules.vtkRenderingCore import vtkBillboardTextActor3D

            size = max(12, int(round(plotter.window_size[1] / 40)))
            for i, name in enumerate(cast.names):
                actor = vtkBillboardTextActor3D()
                actor.SetInput(str(name))
                tp = actor.GetTextProperty()
                tp.SetFontSize(size)
                tp.SetBold(True)
                tp.SetColor(*rgb[i])
                tp.SetBackgroundColor(1.0, 1.0, 1.0)
                tp.SetBackgroundOpacity(0.75)
                tp.SetJustificationToCentered()
                tp.SetVerticalJustificationToBottom()
                plotter.add_actor(actor, name=f"individual_name_{i}", reset_camera=False)
                self.actors.append(actor)
        elif kind == "mesh":
            from ._offscreen import import_pyvista

            pv = import_pyvista()
            right, facing_up = _view_axes(view, self.up)
            self._base = []
            for i, name in enumerate(cast.names):
                text = pv.Text3D(str(name), depth=0.0)
                v = np.asarray(text.points, float)
                lo, hi = v.min(0), v.max(0)
                scale = height / max(hi[1] - lo[1], 1e-9)
                xy = (v[:, :2] - [(lo[0] + hi[0]) / 2, lo[1]]) * scale
                base = xy[:, :1] * right + xy[:, 1:2] * facing_up
                self._base.append(base)
                text.points = base
                plotter.add_mesh(text, color=tuple(rgb[i]), lighting=False,
                                 name=f"individual_name_{i}", reset_camera=False)
                self.meshes.append(text)
        else:
            raise ValueError(f"label kind must be one of {LABEL_KINDS}, got {kind!r}")

    def show(self, points: np.ndarray) -> None:
        """Place the names for one frame of folded points ``(n_joints, 3)``; an individual
        with no point there has its name hidden."""
        where = self.cast.anchors(points) + self.lift * self.up
        for i, pos in enumerate(where):
            ok = bool(np.isfinite(pos).all())
            if self.actors:
                self.actors[i].SetVisibility(ok)
                if ok:
                    self.actors[i].SetPosition(*map(float, pos))
            else:
                # a hidden name is collapsed onto one point: nothing to see
                self.meshes[i].points = (self._base[i] + pos if ok
                                         else np.zeros_like(self._base[i]))


def _view_axes(view: dict | None, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right and up directions of letters facing ``view`` (upright along the world's up)."""
    if view is None:
        forward = -up
    else:
        forward = np.asarray(view["focal_point"], float) - np.asarray(view["position"], float)
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-9:
        right = np.cross(forward, np.roll(up, 1))
    right /= np.linalg.norm(right)
    facing_up = np.cross(right, forward)
    facing_up /= np.linalg.norm(facing_up)
    return right, facing_up
