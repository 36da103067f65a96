"""File-level triangulation on the pose data model: quality columns, several individuals,
OpenPose keypoint names from the skeleton, filters that keep quality honest."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from poses import Poses, Skeleton, load_poses, save_poses, save_skeleton
from triangulate.api import triangulate
from triangulate.files import triangulate_files
from tripose.cli import main


def test_result_to_poses_keeps_quality_through_csv(tmp_path, small_scene):
    sc = small_scene
    res = triangulate(sc.rig, sc.points2d, sc.scores, method="optim", skeleton=sc.skeleton)
    poses = res.to_poses(sc.skeleton.bodyparts, fps=120.0)
    assert poses.position.shape == (60, 1, len(sc.skeleton.bodyparts), 3)
    path = save_poses(poses, tmp_path / "pose3d.csv")
    bp = sc.skeleton.bodyparts[0]
    df = pd.read_csv(path)
    assert list(df.columns[:7]) == [f"{bp}_{k}" for k in
                                    ("x", "y", "z", "error", "ncams", "score", "sigma")]
    assert df.columns[-1] == "fnum"
    back = load_poses(path)
    np.testing.assert_allclose(back.position[:, 0], res.points3d, atol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(back.quality["ncams"][:, 0], res.n_cams)
    np.testing.assert_allclose(back.quality["error"][:, 0], res.reprojection_error, atol=1e-6,
                               equal_nan=True)
    np.testing.assert_allclose(back.quality["sigma"][:, 0], res.uncertainty, atol=1e-6,
                               equal_nan=True)
    np.testing.assert_allclose(back.confidence[:, 0], res.score, atol=1e-6, equal_nan=True)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_with_points_quality_fits_the_filtered_points(small_scene):
    sc = small_scene
    res = triangulate(sc.rig, sc.points2d, sc.scores, method="ransac")
    X = res.points3d.copy()
    X[10, 2] = np.nan            # a point a filter removed
    X[20, 3] += 5.0              # a point a filter moved 5 mm
    gap = ~np.isfinite(res.points3d).all(-1)
    f, j = np.argwhere(gap)[0]
    X[f, j] = sc.truth[f, j]     # a point a filter interpolated
    new = res.with_points(X, sc.rig, sc.points2d, sc.scores)
    assert new.n_cams[10, 2] == 0 and np.isnan(new.reprojection_error[10, 2])
    assert new.n_cams[f, j] == 0 and np.isnan(new.reprojection_error[f, j])
    assert not new.inliers[:, f, j].any()
    # the moved point is measured again on the views that made it: worse than before
    assert new.reprojection_error[20, 3] > res.reprojection_error[20, 3] + 1.0
    proj = sc.rig.project(X[20, 3])
    used = res.inliers[:, 20, 3]
    expect = np.linalg.norm(proj - sc.points2d[:, 20, 3], axis=-1)[used].mean()
    np.testing.assert_allclose(new.reprojection_error[20, 3], expect, rtol=1e-5)
    # untouched points keep everything; without 2D, moved errors are unknown
    np.testing.assert_array_equal(new.reprojection_error[30], res.reprojection_error[30])
    assert np.isnan(res.with_points(X).reprojection_error[20, 3])
    assert res.reprojection_error[20, 3] == res.reprojection_error[20, 3]  # res unchanged


def _noisy(rig, X, rng):
    p = rig.project(X)
    return p + rng.normal(0, 0.5, p.shape)


def test_two_individuals_by_name_in_any_order(tmp_path, small_scene):
    sc = small_scene
    rng = np.random.default_rng(4)
    truth = {"m1": sc.truth, "m2": sc.truth + np.array([40.0, -20.0, 10.0])}
    sc.rig.save(tmp_path / "calibration.toml")
    save_skeleton(sc.skeleton, tmp_path / "skeleton.toml")
    inputs = {}
    for c, cam in enumerate(sc.rig.names):
        order = ["m1", "m2"] if c % 2 == 0 else ["m2", "m1"]  # arbitrary per camera
        pos = np.stack([_noisy(sc.rig, truth[m], rng)[c] for m in order], axis=1)
        p = Poses(pos, np.full(pos.shape[:3], 0.9), keypoints=sc.skeleton.bodyparts,
                  individuals=order)
        inputs[cam] = save_poses(p, tmp_path / f"{cam}.h5")
    res, paths = triangulate_files(tmp_path / "calibration.toml", inputs,
                                   tmp_path / "out.parquet", skeleton=tmp_path / "skeleton.toml",
                                   method="optim")
    out = load_poses(paths[0])
    assert out.individuals == ["m1", "m2"] and out.keypoints == sc.skeleton.bodyparts
    for i, m in enumerate(out.individuals):
        err = np.linalg.norm(out.position[:, i] - truth[m], axis=-1)
        assert np.nanmedian(err) < 0.5, m
    # an anipose CSV: one file per individual, each anipose's own single-animal table
    assert main(["triangulate", "-c", str(tmp_path / "calibration.toml"), "-s",
                 str(tmp_path / "skeleton.toml"), "-m", "optim", "-o", str(tmp_path / "o.csv"),
                 *[f"{c}={p}" for c, p in inputs.items()]]) == 0
    for i, m in enumerate(out.individuals):
        one = pd.read_csv(tmp_path / f"o_{m}.csv")
        assert "individual" not in one.columns
        np.testing.assert_allclose(one[[f"{sc.skeleton.bodyparts[0]}_{a}" for a in "xyz"]],
                                   out.position[:, i, 0], atol=1e-5)
    assert not (tmp_path / "o.csv").exists()
    # the limb terms stay within each animal: both animals' limbs fitted
    assert len(res.extra["limbs"]) == 2 * len(sc.skeleton.limbs)


def test_openpose_body25b_names_come_from_the_skeleton(tmp_path, small_scene):
    from poses.io.openpose import OPENPOSE_SKELETONS

    names = OPENPOSE_SKELETONS["BODY_25B"]
    assert len(names) == 25 and "Head" in names
    rig = small_scene.rig
    rng = np.random.default_rng(0)
    X = rng.uniform(-30, 30, (4, 25, 3))  # 4 frames of 25 points in the rig's view
    px = rig.project(X)
    folders = []
    for c, cam in enumerate(rig.names):
        folder = tmp_path / cam
        folder.mkdir()
        for f in range(len(X)):
            kp = np.concatenate([px[c, f], np.full((25, 1), 0.9)], axis=1).ravel().tolist()
            (folder / f"{cam}_{f:012d}_keypoints.json").write_text(
                json.dumps({"version": 1.3, "people": [{"pose_keypoints_2d": kp}]}))
        folders.append(f"{cam}={folder}")
    rig.save(tmp_path / "calibration.toml")
    save_skeleton(Skeleton(names), tmp_path / "body25b.toml")
    out = tmp_path / "people.csv"
    assert main(["triangulate", "-c", str(tmp_path / "calibration.toml"), "-s",
                 str(tmp_path / "body25b.toml"), "-m", "dlt", "-o", str(out), *folders]) == 0
    cols = [c[:-2] for c in pd.read_csv(out).columns if c.endswith("_x")]
    assert cols == names
    back = load_poses(out)
    np.testing.assert_allclose(back.position[:, 0], X, atol=1e-3)
    # without the skeleton the names cannot be known: generic ones, never BODY_25's
    assert main(["triangulate", "-c", str(tmp_path / "calibration.toml"), "-m", "dlt", "-o",
                 str(tmp_path / "generic.csv"), *folders]) == 0
    generic = [c[:-2] for c in pd.read_csv(tmp_path / "generic.csv").columns
               if c.endswith("_x")]
    assert "Head" not in generic and len(generic) == 25


@pytest.mark.parametrize("count", [17, 26])
def test_openpose_count_that_matches_no_skeleton(tmp_path, small_scene, count, capsys):
    rig = small_scene.rig
    folders = []
    for cam in rig.names:
        folder = tmp_path / cam
        folder.mkdir()
        kp = [10.0, 10.0, 0.9] * count
        (folder / "f_000000000000_keypoints.json").write_text(
            json.dumps({"people": [{"pose_keypoints_2d": kp}]}))
        folders.append(f"{cam}={folder}")
    rig.save(tmp_path / "calibration.toml")
    from poses.io.openpose import OPENPOSE_SKELETONS

    save_skeleton(Skeleton(OPENPOSE_SKELETONS["BODY_25B"]), tmp_path / "s.toml")
    assert main(["triangulate", "-c", str(tmp_path / "calibration.toml"), "-s",
                 str(tmp_path / "s.toml"), "-o", str(tmp_path / "x.csv"), *folders]) == 2
    err = capsys.readouterr().err
    assert str(count) in err and "25" in err and "Traceback" not in err
