"""Where VTK draws: an EGL off-screen window when there is no display, and the display test.

VTK picks its OpenGL window class when a render window is created, reading
``VTK_DEFAULT_OPENGL_WINDOW``. Without an X or Wayland display on Linux we set it (only when
unset) to ``vtkEGLRenderWindow`` before pyvista is imported, so off-screen rendering needs no
X server and VTK never tries one (that attempt prints a warning and may crash). PyVista is
imported lazily by :func:`import_pyvista`, so ``import viz3d`` stays cheap.
"""

from __future__ import annotations

import os
import sys

from .errors import DisplayError

__all__ = ["has_display", "import_pyvista", "require_display"]

#: OpenGL window classes that can only draw off screen.
_OFFSCREEN_WINDOWS = ("vtkEGLRenderWindow", "vtkOSOpenGLRenderWindow")


def has_display() -> bool:
    """Whether an interactive window can be opened (X or Wayland on Linux; always elsewhere)."""
    if os.environ.get("VTK_DEFAULT_OPENGL_WINDOW", "") in _OFFSCREEN_WINDOWS:
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _configure_offscreen() -> None:
    """Choose VTK's EGL window on a Linux machine without a display (only if unset)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def import_pyvista():
    """The ``pyvista`` module, imported after choosing the off-screen window if needed."""
    _configure_offscreen()
    import pyvista

    return pyvista


def require_display(what: str = "an interactive window") -> None:
    """Raise :class:`DisplayError` unless :func:`has_display`."""
    if not has_display():
        backend = os.environ.get("VTK_DEFAULT_OPENGL_WINDOW", "")
        why = (f"VTK_DEFAULT_OPENGL_WINDOW={backend} draws off screen only"
               if backend in _OFFSCREEN_WINDOWS else "no DISPLAY or WAYLAND_DISPLAY is set")
        raise DisplayError(
            f"cannot open {what}: no display available ({why}). Use viz3d.render_png, "
            "viz3d.render_movie (MP4) or viz3d.export_html (open the file in a browser) instead"
        )
