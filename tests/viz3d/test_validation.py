"""Bad input raises InputError naming the argument and the fix; nothing is written."""

from __future__ import annotations

import numpy as np
import pytest

import viz3d
from calibration.errors import InputError


def test_bad_points_skeleton_frame_camera_and_suffix(sample, tmp_path):
    p, sk, rig = sample["points3d"][:4], sample["skeleton"], sample["rig"]
    out = tmp_path / "x.png"
    with pytest.raises(InputError, match=r"points3d must have shape \(n_frames, n_joints, 3\)"):
        viz3d.render_png(p[..., :2], sk, out)
    with pytest.raises(InputError, match="15 joints but the skeleton has 16 bodyparts"):
        viz3d.render_png(p[:, :15], sk, out)
    with pytest.raises(InputError, match="frame must be"):
        viz3d.render_png(p, sk, out, frame=4)
    with pytest.raises(InputError, match="no camera named 'top'"):
        viz3d.render_png(p, sk, out, rig=rig, camera_view="top")
    with pytest.raises(InputError, match="needs a rig"):
        viz3d.render_png(p, sk, out, camera_view=0)
    with pytest.raises(InputError, match="must end in one of"):
        viz3d.render_png(p, sk, tmp_path / "x.gif")
    with pytest.raises(InputError, match="skeleton must be a triangulate.Skeleton"):
        viz3d.render_png(p, ["a", "b"], out)
    with pytest.raises(InputError, match="rig must be a calibration.CameraRig"):
        viz3d.render_png(p, sk, out, rig="calibration.toml")
    with pytest.raises(InputError, match="frames .* outside"):
        viz3d.render_movie(p, sk, tmp_path / "m.mp4", frames=[0, 9])
    with pytest.raises(InputError, match="fps must be > 0"):
        viz3d.render_movie(p, sk, tmp_path / "m.mp4", fps=0)
    with pytest.raises(InputError, match="reprojected has 15 joints"):
        viz3d.overlay_2d_video(sample["videos"][0], sample["points2d"][0, :4], sk,
                               tmp_path / "o.mp4", reprojected=np.zeros((4, 15, 2)))
    with pytest.raises(InputError, match=r"points2d must have shape \(4, n_frames"):
        viz3d.combined_video(sample["videos"], rig, p, sk, tmp_path / "c.mp4",
                             points2d=sample["points2d"][:2, :4])
    assert list(tmp_path.iterdir()) == []


def test_poses_and_arrays_of_several_individuals_are_accepted():
    from poses import InputError, Poses
    from viz3d.validate import check_points2d, check_points3d, individual_names

    p3 = Poses(np.ones((4, 1, 3, 3)))
    np.testing.assert_array_equal(check_points3d(p3), np.ones((4, 1, 3, 3)))
    assert individual_names(p3, 1) == (["ind1"], False)  # one, named by default: no label
    np.testing.assert_array_equal(check_points3d(np.ones((4, 3, 3))), np.ones((4, 1, 3, 3)))
    two = Poses(np.ones((4, 2, 3, 3)), individuals=["a", "b"])
    np.testing.assert_array_equal(check_points3d(two), np.ones((4, 2, 3, 3)))
    assert individual_names(two, 2) == (["a", "b"], True)
    assert individual_names(np.ones((4, 2, 3, 3)), 2) == (["ind1", "ind2"], True)
    assert individual_names(two.sel(individuals=["b"]), 1) == (["b"], True)
    p2 = Poses(np.zeros((4, 1, 3, 2)))
    assert check_points2d(p2, "det").shape == (4, 1, 3, 2)
    assert check_points2d(np.zeros((2, 4, 3, 3, 2)), "det", leading=(2,)).shape == (2, 4, 3, 3, 2)
    with pytest.raises(InputError, match="det holds 3 individuals, expected 2"):
        check_points2d(np.zeros((4, 3, 3, 2)), "det", n_individuals=2)
    with pytest.raises(InputError, match="expected 3D"):
        check_points3d(p2)
