"""Names in text tables that spreadsheets open: formulas neutralised on write, restored on read.

A bodypart or individual named ``=HYPERLINK(...)``, ``+cmd|...`` or ``@SUM(...)`` written as it
is into a CSV or TRC header runs as a formula when the file is opened in a spreadsheet (CSV
injection). Writers prefix such a name with ``'`` (which spreadsheets show as text);
readers remove that prefix again, so names round-trip through our own files.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["FORMULA_START", "neutralize", "restore", "neutralize_all", "restore_all"]

#: First characters that make a spreadsheet cell a formula (OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(name: str) -> str:
    """``name`` safe for a spreadsheet cell: ``'`` before a formula's first character (and
    before a name that already starts with ``'`` followed by one, so it reads back as it
    was)."""
    s = str(name)
    if s.startswith(FORMULA_START) or (s.startswith("'") and s[1:2] and
                                       (s[1:].startswith(FORMULA_START) or s[1] == "'")):
        return "'" + s
    return s


def restore(cell: str) -> str:
    """The name :func:`neutralize` wrote as ``cell``."""
    s = str(cell)
    if s.startswith("'") and s[1:2] and (s[1:].startswith(FORMULA_START) or s[1] == "'"):
        return s[1:]
    return s


def neutralize_all(names: Iterable[str]) -> list[str]:
    """:func:`neutralize` of every name."""
    return [neutralize(n) for n in names]


def restore_all(cells: Iterable[str]) -> list[str]:
    """:func:`restore` of every cell."""
    return [restore(c) for c in cells]
