"""The triangulation methods: ``METHODS = {name: function}``.

A method is a function ``(rig, points2d, scores, opts) -> Triangulation`` taking checked
arrays (``points2d (n_cams, n_frames, n_joints, 2)`` pixels, ``scores (n_cams, n_frames,
n_joints)`` or None) and the options with their defaults filled in. Adding one is one file
with that function and a line here (with its own option defaults in
:data:`METHOD_DEFAULTS` when it has any).
"""

from __future__ import annotations

from collections.abc import Callable

from .independent import run_dlt, run_ransac
from .result import Triangulation

__all__ = ["METHODS", "METHOD_DEFAULTS", "method_defaults"]


def _optim(rig, p, s, opts: dict) -> Triangulation:
    """Robust reprojection error plus temporal and limb terms over whole tracks
    (:mod:`.optimize`, imported on first use: its compiled kernels take a second to load)."""
    from .optimize import triangulate_optim

    return triangulate_optim(rig, p, s, opts)


#: name -> function ``(rig, points2d, scores, opts) -> Triangulation``.
METHODS: dict[str, Callable[..., Triangulation]] = {
    "dlt": run_dlt,
    "ransac": run_ransac,
    "optim": _optim,
}

#: name -> module and attribute of the method's own option defaults (beyond DEFAULTS).
METHOD_DEFAULTS = {"optim": ("triangulate.optimize", "OPTIM_DEFAULTS")}


def method_defaults(method: str) -> dict:
    """The method's own option defaults (empty for dlt and ransac)."""
    if method not in METHOD_DEFAULTS:
        return {}
    import importlib

    module, name = METHOD_DEFAULTS[method]
    return dict(getattr(importlib.import_module(module), name))
