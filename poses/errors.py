"""The one error type for bad user input, shared by every tripose package.

``InputError`` is a ``ValueError`` whose message names the file, camera, key or option at
fault and says what was expected; the CLI prints it as one line without a traceback.
``calibration.InputError`` and ``calibration.errors.InputError`` are this same class.
"""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad user input: a file, camera, key or option that is missing or malformed."""
