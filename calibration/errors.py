"""Exceptions of the calibration package.

``InputError`` is :class:`poses.errors.InputError` (one class for every package), re-exported
here so ``except calibration.InputError`` keeps working. ``CalibrationError`` reports a solve
that failed on valid input (e.g. cameras that share no views).
"""

from __future__ import annotations

from poses.errors import InputError

__all__ = ["InputError", "CalibrationError"]


class CalibrationError(RuntimeError):
    """A calibration that cannot be solved from the given (valid) input."""
