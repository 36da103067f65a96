"""Files written by every package get the same permissions: 0666 less the umask (0644 under
the usual umask 022), never mkstemp's 0600 (a lab group must read a colleague's outputs)."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from tests.fixtures.rigs import random_rig


def _writers(tmp):
    from poses import Poses, Skeleton, save_poses, save_skeleton
    from poses.atomic import write_json_atomic
    from triangulate.angles import save_angles

    rig = random_rig(np.random.default_rng(0), 2)
    pose2d = Poses(np.zeros((3, 1, 2, 2)), keypoints=["a", "b"])
    pose3d = Poses(np.random.default_rng(1).normal(size=(3, 1, 3, 3)), keypoints=["a", "b", "c"],
                   fps=30, units="mm")
    return {
        "calibration rig TOML": lambda: rig.save(tmp / "calibration.toml"),
        "skeleton TOML": lambda: save_skeleton(Skeleton(["a", "b"], [("a", "b")]),
                                               tmp / "skeleton.toml"),
        "DeepLabCut h5 (pose2d analysis output)": lambda: save_poses(pose2d, tmp / "cam.h5"),
        "anipose CSV": lambda: save_poses(pose3d, tmp / "pose3d.csv"),
        "joint angles CSV": lambda: save_angles(tmp / "angles.csv", pose3d.position[:, 0],
                                                pose3d.keypoints, {"abc": ("a", "b", "c")}),
        "pose2d model.json": lambda: write_json_atomic(tmp / "model" / "model.json", {"a": 1}),
    }


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_every_package_writes_with_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        for name, write in _writers(tmp_path).items():
            path = write()
            mode = stat.S_IMODE(os.stat(path).st_mode)
            assert mode == 0o666 & ~umask, f"{name}: {oct(mode)}"
    finally:
        os.umask(old)
