"""Names that spreadsheets would run as formulas are neutralised in CSV and TRC headers and
come back unchanged through our readers (CSV injection)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from poses import Poses, load_poses, save_poses
from poses.io.cells import FORMULA_START

EVIL = ["=HYPERLINK(\"x.org\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "nose"]
INDS = ["=A1", "mouse"]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _cells(path):
    """The text cells of a file (numbers, such as negative coordinates, are data)."""
    if path.suffix == ".trc":
        cells = [c for line in path.read_text().splitlines()[:5] for c in line.split("\t")]
    else:
        with open(path, newline="") as f:
            cells = [c for row in csv.reader(f) for c in row]
    return [c for c in cells if not _is_number(c)]


@pytest.mark.parametrize("suffix, n_space, inds", [
    (".csv", 3, ["ind1"]), (".csv", 3, INDS), (".trc", 3, INDS), (".csv", 2, ["ind1"]),
    (".csv", 2, INDS)])
def test_formulas_neutralised_and_names_kept(tmp_path, suffix, n_space, inds):
    rng = np.random.default_rng(0)
    p = Poses(rng.normal(size=(4, len(inds), len(EVIL), n_space)),
              rng.random((4, len(inds), len(EVIL))), keypoints=EVIL, individuals=inds,
              fps=30.0, units="mm" if n_space == 3 else "px")
    path = save_poses(p, tmp_path / f"out{suffix}")
    bad = [c for c in _cells(path) if c.startswith(FORMULA_START)]
    assert not bad, bad
    back = load_poses(path)
    assert back.keypoints == EVIL and back.individuals == inds
    np.testing.assert_allclose(back.position, p.position, atol=1e-6)


def test_angle_names_neutralised(tmp_path):
    from triangulate.angles import save_angles

    X = np.random.default_rng(1).normal(size=(5, 3, 3))
    path = save_angles(tmp_path / "angles.csv", X, ["a", "b", "c"], {"=1+1": ("a", "b", "c")})
    assert path.read_text().splitlines()[0] == "'=1+1,fnum"
