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


def _x_server_answers(display: str) -> bool:
    """Whether the X server of ``display`` accepts a connection (True if Xlib is absent)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11")
    if name is None:
        return True  # cannot check; let VTK try
    try:
        xlib = ctypes.cdll.LoadLibrary(name)
    except OSError:
        return True
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    handle = xlib.XOpenDisplay(display.encode())
    if not handle:
        return False
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xlib.XCloseDisplay(handle)
    return True


def has_display() -> bool:
    """Whether an interactive window can be opened.

    On Linux: ``DISPLAY`` names an X server that answers, or ``WAYLAND_DISPLAY`` is set; and
    ``VTK_DEFAULT_OPENGL_WINDOW`` does not name an off-screen window. Elsewhere: always.
    """
    if os.environ.get("VTK_DEFAULT_OPENGL_WINDOW", "") in _OFFSCREEN_WINDOWS:
        return False
    if sys.platform.startswith("linux"):
        if os.environ.get("WAYLAND_DISPLAY"):
            return True
        display = os.environ.get("DISPLAY")
        return bool(display) and _x_server_answers(display)
    return True


def _configure_offscreen() -> None:
    """Choose VTK's EGL window on a Linux machine without a display (only if unset)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def missing_dependencies() -> list[str]:
    """Modules the renderers need that are not installed: ``pyvista`` (every picture,
    movie and page) and ``imageio_ffmpeg`` (movies). ``import viz3d`` itself needs neither.
    """
    import importlib.util

    return [m for m in ("pyvista", "imageio_ffmpeg") if importlib.util.find_spec(m) is None]


def import_pyvista():
    """The ``pyvista`` module, imported after choosing the off-screen window if needed."""
    _configure_offscreen()
    import pyvista

    return pyvista


def require_display(what: str = "an interactive window") -> None:
    """Raise :class:`DisplayError` unless :func:`has_display`."""
    if not has_display():
        backend = os.environ.get("VTK_DEFAULT_OPENGL_WINDOW", "")
        display = os.environ.get("DISPLAY")
        if backend in _OFFSCREEN_WINDOWS:
            why = f"VTK_DEFAULT_OPENGL_WINDOW={backend} draws off screen only"
        elif display:
            why = f"the X server DISPLAY={display} does not answer"
        else:
            why = "no DISPLAY or WAYLAND_DISPLAY is set"
        raise DisplayError(
            f"cannot open {what}: no display available ({why}). Use viz3d.render_png, "
            "viz3d.render_movie (MP4) or viz3d.export_html (open the file in a browser) instead"
        )
