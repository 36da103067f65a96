"""Accuracy against aniposelib on the same detections (its dlt and ransac; optim is in the
benchmarks, being slow there)."""

from __future__ import annotations

import numpy as np
import pytest

from triangulate.api import triangulate

from .synthetic import errors_3d, make_scene

pytest.importorskip("jax")  # aniposelib's triangulate imports it


@pytest.mark.slow
@pytest.mark.parametrize("method", ["dlt", "ransac"])
def test_at_least_as_accurate_as_aniposelib(method):
    sc = make_scene(n_frames=30, n_cams=4, seed=21)
    p = sc.points2d.copy()
    p[sc.scores < 0.5] = np.nan
    flat = p.reshape(4, -1, 2)
    ok = np.isfinite(flat[..., 0]).sum(0) >= 2
    theirs = np.full((flat.shape[1], 3), np.nan)
    cg = sc.rig.to_aniposelib()
    sub = np.ascontiguousarray(flat[:, ok])
    theirs[ok] = cg.triangulate(sub) if method == "dlt" else cg.triangulate_ransac(sub)[0]
    ours = triangulate(sc.rig, sc.points2d, sc.scores, method=method).points3d
    eo = errors_3d(ours, sc.truth)
    et = errors_3d(theirs.reshape(ours.shape), sc.truth)
    both = np.isfinite(eo) & np.isfinite(et)
    assert both.mean() > 0.9
    assert np.median(eo[both]) <= np.median(et[both])
    assert np.percentile(eo[both], 95) <= np.percentile(et[both], 95)
