"""Errors of viz3d (bad input raises :class:`calibration.errors.InputError`)."""

from __future__ import annotations

from calibration.errors import InputError

__all__ = ["DisplayError"]


class DisplayError(InputError):
    """An interactive window was asked for where no display exists.

    A subclass of :class:`calibration.errors.InputError`, so the CLI prints it without a
    traceback; the message says to use PNG, MP4 or HTML output instead.
    """
