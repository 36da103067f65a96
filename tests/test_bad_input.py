"""The catalogue of bad input (issue #16): every command, damaged files of every format we read,
odd values, impossible options, outputs that are folders, read-only or under a file, full
disks, outputs that collide with inputs or with each other, symbolic links in place of outputs
and locks, and names with spaces, unicode and formula characters.

Read-only folders are made with ``chmod``; as root (whom modes do not stop) with a read-only
tmpfs, and full disks with a 64 KiB tmpfs: those cases skip where nothing can be mounted.

Each case builds its bad input in ``tmp_path`` (from ``sample_data/`` and the test fixtures),
runs ``tripose.cli.main`` in-process and asserts: exit status 2, one line on stderr starting
with ``error:`` (or click's usage error for an option of the wrong type), no traceback, the
message names the culprit, and every file that existed before (inputs, earlier outputs, the
targets of links) is byte-identical afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tripose.cli import main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
PRECIOUS = "somebody else's data\n" * 3


# --------------------------------------------------------------------------------------------
# building blocks


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copyfile(src, dst)
    return dst


def _h5(tmp: Path, cam: str = "cam0", folder: str = "2d") -> Path:
    """A copy of the sample session's 2D file of ``cam`` (DeepLabCut h5)."""
    return _copy(SAMPLE / "pose2d" / f"{cam}.h5", tmp / folder / f"{cam}.h5")


def _csv2d(tmp: Path, cam: str = "cam0") -> Path:
    """A copy of the sample session's ground-truth 2D file of ``cam`` (DeepLabCut csv)."""
    return _copy(SAMPLE / "ground_truth" / "pose2d" / f"{cam}.csv", tmp / "2d" / f"{cam}.csv")


def _calib(tmp: Path) -> Path:
    return _copy(SAMPLE / "ground_truth" / "calibration.toml", tmp / "calibration.toml")


def _skeleton(tmp: Path) -> Path:
    return _copy(SAMPLE / "skeleton.toml", tmp / "skeleton.toml")


def _board(tmp: Path, text: str | None = None) -> Path:
    path = tmp / "board.toml"
    if text is None:
        return _copy(SAMPLE / "board.toml", path)
    path.write_text(text, encoding="utf-8")
    return path


def _model(tmp: Path) -> Path:
    return _copy(SAMPLE / "model", tmp / "model")


def _precious(tmp: Path) -> Path:
    path = tmp / "precious.txt"
    path.write_text(PRECIOUS)
    return path


def _truncate(path: Path, n: int) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[:n])
    return path


def _garbage(path: Path, n: int = 4096, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes())
    return path


_MOUNTS: list[Path] = []


def _tmpfs(folder: Path, options: str) -> bool:
    """Mount a tmpfs with ``options`` on the new, empty ``folder``; False where that cannot
    be done (not root, no CAP_SYS_ADMIN). :func:`_unmount_all` undoes it."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None or any(folder.iterdir()):
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                       capture_output=True, check=False)
    if r.returncode:
        return False
    _MOUNTS.append(folder)
    return True


def _unmount_all() -> None:
    while _MOUNTS:
        subprocess.run(["umount", "-l", str(_MOUNTS.pop())], capture_output=True, check=False)


def _readonly(folder: Path) -> Path:
    """``folder`` made read-only: its mode, or for root (whom modes do not stop) a read-only
    tmpfs mounted on it; skips the case where neither stops writes."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.access(folder, os.W_OK):
        folder.chmod(0o755)
        if not _tmpfs(folder, "ro,size=64k") or os.access(folder, os.W_OK):
            pytest.skip("running as root: a read-only folder stays writable (and no "
                        "read-only tmpfs could be mounted)")
    return folder


def _full_disk(folder: Path, keep: Callable[[Path], object] | None = None) -> Path:
    """``folder`` on a small tmpfs holding ``keep(folder)`` (an earlier output), then filled
    to the last byte; skips where no tmpfs can be mounted."""
    if not _tmpfs(folder, "size=64k"):
        pytest.skip("a full disk needs a small tmpfs (root with CAP_SYS_ADMIN)")
    if keep is not None:
        keep(folder)
    with open(folder / "filler.bin", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    return folder


def _tri(tmp: Path, *extra: str, inputs: list | None = None, out: Path | None = None
         ) -> list[str]:
    """``tripose triangulate`` of two sample cameras (dlt: fast), with ``extra`` options."""
    files = inputs if inputs is not None else [_h5(tmp, "cam0"), _h5(tmp, "cam1")]
    cal = tmp / "calibration.toml"
    if not cal.exists():
        _calib(tmp)
    out = out if out is not None else tmp / "out" / "pose3d.csv"
    return ["triangulate", *map(str, files), "-c", str(cal), "-o", str(out), "-m", "dlt",
            *extra]


def _pose3d(path: Path, keypoints: tuple[str, ...] = ("nose", "tail", "paw"),
            n: int = 20) -> Path:
    """A small valid 3D file (any suffix we write)."""
    from poses import Poses, save_poses

    pos = np.random.default_rng(0).normal(size=(n, 1, len(keypoints), 3)) * 10
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_poses(Poses(pos, keypoints=list(keypoints), fps=100.0, units="mm"), path)


def _openpose(folder: Path, people: Callable[[int], object], n: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        doc = {"version": 1.3, "people": people(i)}
        (folder / f"cam0_{i:012d}_keypoints.json").write_text(json.dumps(doc))
    return folder


def _good_people(i: int) -> list:
    return [{"pose_keypoints_2d": [100.0 + i, 200.0, 0.9] * 16}]


def _project(tmp: Path, calibrate: bool = False, **overrides) -> Path:
    """A one-session project of the sample data (existing 2D files; render off)."""
    from tripose.project import sample_project

    sample_project(tmp / "p", sessions=("A",), calibrate=calibrate, render=False,
                   overrides=overrides or None)
    return tmp / "p"


def _set_config(project: Path, old: str, new: str) -> None:
    cfg = project / "config.toml"
    text = cfg.read_text()
    assert old in text, old
    cfg.write_text(text.replace(old, new, 1))


def _labeled(tmp: Path) -> Path:
    """A DeepLabCut project of two labeled folders (tests.pose2d.conftest)."""
    from tests.pose2d.conftest import make_labeled_folder

    root = tmp / "dlc"
    make_labeled_folder(root / "labeled-data" / "vid1", n=6)
    (root / "config.yaml").write_text(
        "Task: test\nscorer: Tester\nbodyparts:\n- snout\n- leftear\n- rightear\n"
        "TrainingFraction:\n- 0.95\n", encoding="utf-8")
    return root


def _video(tmp: Path, cam: str = "cam0", folder: str = "videos") -> Path:
    return _copy(SAMPLE / "videos" / f"{cam}.mp4", tmp / folder / f"{cam}.mp4")


# --------------------------------------------------------------------------------------------
# the catalogue


Builder = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Case:
    """One bad input: ``build(tmp) -> argv``; ``names``: what the message must name."""

    build: Builder
    names: tuple[str, ...]
    usage: bool = False  # click's usage error (an option of the wrong type)


CASES: dict[str, Case] = {}
XFAIL: dict[str, str] = {}


def case(name: str, *names: str, usage: bool = False,
         xfail: str | None = None) -> Callable[[Builder], Builder]:
    """Register ``build`` as the case ``name`` whose message names every one of ``names``
    (``xfail``: the reason it is a known, strict failure)."""
    def deco(build: Builder) -> Builder:
        assert name not in CASES, name
        CASES[name] = Case(build, names, usage)
        if xfail:
            XFAIL[name] = xfail
        return build
    return deco


# ---- triangulate: damaged 2D files of every format

@case("triangulate/truncated-h5", "cam0.h5")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, inputs=[_truncate(_h5(tmp), 3000), _h5(tmp, "cam1")])


@case("triangulate/empty-h5", "cam1.h5")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, inputs=[_h5(tmp), _truncate(_h5(tmp, "cam1"), 0)])


@case("triangulate/garbage-h5", "cam0.h5")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, inputs=[_garbage(tmp / "2d" / "cam0.h5"), _h5(tmp, "cam1")])


@case("triangulate/h5-without-pose-table", "cam0.h5")
def _(tmp: Path) -> list[str]:
    import h5py

    path = tmp / "2d" / "cam0.h5"
    path.parent.mkdir()
    with h5py.File(path, "w") as f:
        f["something"] = np.arange(10)
    return _tri(tmp, inputs=[path, _h5(tmp, "cam1")])


@case("triangulate/sleap-h5-missing-datasets", "cam0.h5")
def _(tmp: Path) -> list[str]:
    import h5py

    path = tmp / "2d" / "cam0.h5"
    path.parent.mkdir()
    with h5py.File(path, "w") as f:  # tracks of 3 nodes, 5 node names, no occupancy/scores
        f["tracks"] = np.zeros((1, 2, 3, 150))
        f["node_names"] = np.array([b"a", b"b", b"c", b"d", b"e"])
    return _tri(tmp, inputs=[path, _h5(tmp, "cam1")])


@case("triangulate/sleap-h5-text-tracks", "cam0.h5")
def _(tmp: Path) -> list[str]:
    import h5py

    path = tmp / "2d" / "cam0.h5"
    path.parent.mkdir()
    with h5py.File(path, "w") as f:
        f["tracks"] = np.array([b"x", b"y"])
        f["track_occupancy"] = np.ones((150, 1), dtype=bool)
    return _tri(tmp, inputs=[path, _h5(tmp, "cam1")])


@case("triangulate/dlc-csv-cut-in-header", "cam0.csv")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, inputs=[_truncate(_csv2d(tmp), 60), _csv2d(tmp, "cam1")])


@case("triangulate/dlc-csv-text-values", "cam1.csv")
def _(tmp: Path) -> list[str]:
    path = _csv2d(tmp, "cam1")
    lines = path.read_text().splitlines()
    lines[5] = ",".join(["4"] + ["abc"] * (len(lines[5].split(",")) - 1))
    path.write_text("\n".join(lines) + "\n")
    return _tri(tmp, inputs=[_csv2d(tmp), path])


@case("triangulate/openpose-people-null", "cam0_000000000001_keypoints.json")
def _(tmp: Path) -> list[str]:
    folder = _openpose(tmp / "op" / "cam0", lambda i: None if i == 1 else _good_people(i))
    return _tri(tmp, "-s", str(_skeleton(tmp)), inputs=[f"cam0={folder}", _h5(tmp, "cam1")])


@case("triangulate/openpose-text-values", "cam0_000000000002_keypoints.json")
def _(tmp: Path) -> list[str]:
    def people(i: int) -> list:
        return [{"pose_keypoints_2d": ["a", 1, 2] * 16}] if i == 2 else _good_people(i)

    folder = _openpose(tmp / "op" / "cam0", people)
    return _tri(tmp, "-s", str(_skeleton(tmp)), inputs=[f"cam0={folder}", _h5(tmp, "cam1")])


@case("triangulate/openpose-not-triples", "cam0_000000000000_keypoints.json")
def _(tmp: Path) -> list[str]:
    folder = _openpose(tmp / "op" / "cam0", lambda i: [{"pose_keypoints_2d": [1.0] * 47}])
    return _tri(tmp, "-s", str(_skeleton(tmp)), inputs=[f"cam0={folder}", _h5(tmp, "cam1")])


@case("triangulate/openpose-invalid-json", "cam0_000000000000_keypoints.json")
def _(tmp: Path) -> list[str]:
    folder = _openpose(tmp / "op" / "cam0", _good_people)
    _truncate(folder / "cam0_000000000000_keypoints.json", 20)
    return _tri(tmp, "-s", str(_skeleton(tmp)), inputs=[f"cam0={folder}", _h5(tmp, "cam1")])


@case("triangulate/nwb-garbage", "cam0.nwb")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, inputs=[f"cam0={_garbage(tmp / '2d' / 'cam0.nwb')}", _h5(tmp, "cam1")])


@case("triangulate/movement-nc-garbage", "cam0.nc")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, inputs=[f"cam0={_garbage(tmp / '2d' / 'cam0.nc')}", _h5(tmp, "cam1")])


@case("triangulate/unknown-suffix", "cam0.txt")
def _(tmp: Path) -> list[str]:
    path = tmp / "2d" / "cam0.txt"
    path.parent.mkdir()
    path.write_text("hello")
    return _tri(tmp, inputs=[path, _h5(tmp, "cam1")])


@case("triangulate/missing-input", "cam7.h5")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, inputs=[tmp / "2d" / "cam7.h5", _h5(tmp, "cam1")])


# ---- triangulate: calibration and skeleton files

@case("triangulate/garbage-calibration-toml", "calibration.toml")
def _(tmp: Path) -> list[str]:
    (tmp / "calibration.toml").write_text("[cam_0\nname = 'cam0\n = = =\n")
    return _tri(tmp)


@case("triangulate/binary-calibration-toml", "calibration.toml")
def _(tmp: Path) -> list[str]:
    _garbage(tmp / "calibration.toml")
    return _tri(tmp)


@case("triangulate/empty-calibration-toml", "calibration.toml")
def _(tmp: Path) -> list[str]:
    (tmp / "calibration.toml").write_text("")
    return _tri(tmp)


@case("triangulate/calibration-missing-matrix", "cam_1", "matrix")
def _(tmp: Path) -> list[str]:
    text = _calib(tmp).read_text()
    start = text.index("[cam_1]")
    a = text.index("matrix", start)
    b = text.index("\n", a)
    (tmp / "calibration.toml").write_text(text[:a] + text[b + 1:])
    return _tri(tmp)


@case("triangulate/calibration-nan-focal", "cam0")
def _(tmp: Path) -> list[str]:
    text = _calib(tmp).read_text()
    text = text.replace("[ [ 890.7511196119036,", "[ [ nan,", 1)
    (tmp / "calibration.toml").write_text(text)
    return _tri(tmp)


@case("triangulate/calibration-text-size", "cam_0", "size")
def _(tmp: Path) -> list[str]:
    text = _calib(tmp).read_text().replace("size = [ 640, 480,]", "size = 'big'", 1)
    (tmp / "calibration.toml").write_text(text)
    return _tri(tmp)


@case("triangulate/calibration-is-a-folder", "calibration.toml")
def _(tmp: Path) -> list[str]:
    (tmp / "calibration.toml").mkdir()
    return _tri(tmp)


@case("triangulate/garbage-skeleton", "skeleton.toml")
def _(tmp: Path) -> list[str]:
    (tmp / "skeleton.toml").write_text("bodyparts = [\n")
    return _tri(tmp, "-s", str(tmp / "skeleton.toml"))


@case("triangulate/skeleton-limb-of-unknown-bodypart", "tail")
def _(tmp: Path) -> list[str]:
    (tmp / "skeleton.toml").write_text('bodyparts = ["shoulder", "elbow"]\n'
                                       'limbs = [["shoulder", "tail"]]\n')
    return _tri(tmp, "-s", str(tmp / "skeleton.toml"))


@case("triangulate/skeleton-unknown-key", "limb")
def _(tmp: Path) -> list[str]:
    (tmp / "skeleton.toml").write_text('bodyparts = ["shoulder", "elbow"]\n'
                                       'limb = [["shoulder", "elbow"]]\n')
    return _tri(tmp, "-s", str(tmp / "skeleton.toml"))


# ---- triangulate: inputs that do not fit together

@case("triangulate/camera-not-in-calibration", "cam9")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, inputs=[f"cam9={_h5(tmp)}", _h5(tmp, "cam1")])


@case("triangulate/camera-named-twice", "cam0")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, inputs=[f"cam0={_h5(tmp)}", f"cam0={_h5(tmp, 'cam1')}"])


# ---- triangulate: odd option values

@case("triangulate/score-threshold-nan", "--score-threshold")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--score-threshold", "nan")


@case("triangulate/score-threshold-above-one", "--score-threshold")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--score-threshold", "2")


@case("triangulate/score-threshold-not-a-number", "--score-threshold", usage=True)
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--score-threshold", "high")


@case("triangulate/negative-reproj-threshold", "--reproj-threshold")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--reproj-threshold", "-1")


@case("triangulate/fps-zero", "--fps")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--fps", "0")


@case("triangulate/fps-infinite", "--fps")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--fps", "inf")


@case("triangulate/even-median-filter", "--median-filter")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--median-filter", "4")


@case("triangulate/negative-fill-gaps", "--fill-gaps")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--fill-gaps", "-3")


@case("triangulate/lowpass-negative", "--lowpass")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--lowpass", "-5")


@case("triangulate/lowpass-above-nyquist", "--lowpass")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--lowpass", "80", "--fps", "100")


@case("triangulate/axis-unknown-bodypart", "tail")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--axis", "x:tail:nose")


@case("triangulate/axis-malformed", "--axis")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--axis", "w:shoulder")


@case("triangulate/unknown-method", "simplex")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "-m", "simplex")


@case("triangulate/unknown-format", "xlsx")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--format", "xlsx")


# ---- triangulate: outputs

@case("triangulate/output-is-a-folder", "pose3d.csv")
def _(tmp: Path) -> list[str]:
    (tmp / "out" / "pose3d.csv").mkdir(parents=True)
    return _tri(tmp)


@case("triangulate/output-under-a-file", "not-a-folder")
def _(tmp: Path) -> list[str]:
    (tmp / "not-a-folder").write_text("a file")
    return _tri(tmp, out=tmp / "not-a-folder" / "pose3d.csv")


@case("triangulate/output-in-read-only-folder", "ro")
def _(tmp: Path) -> list[str]:
    ro = _readonly(tmp / "ro")
    return _tri(tmp, out=ro / "pose3d.csv")


@case("triangulate/output-on-a-full-disk", "pose3d.csv")
def _(tmp: Path) -> list[str]:
    disk = _full_disk(tmp / "disk", keep=lambda d: _pose3d(d / "pose3d.csv"))
    return _tri(tmp, out=disk / "pose3d.csv")


@case("triangulate/output-is-a-symlink", "pose3d.csv")
def _(tmp: Path) -> list[str]:
    (tmp / "out").mkdir()
    (tmp / "out" / "pose3d.csv").symlink_to(_precious(tmp))
    return _tri(tmp)


@case("triangulate/output-over-an-input", "cam0.csv")
def _(tmp: Path) -> list[str]:
    a, b = _csv2d(tmp), _csv2d(tmp, "cam1")
    return _tri(tmp, inputs=[a, b], out=a)


@case("triangulate/output-over-the-calibration", "calibration.toml")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "--format", "csv", out=_calib(tmp))


@case("triangulate/angles-over-the-output", "pose3d.csv", "--angles")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "-s", str(_skeleton(tmp)), "--angles", str(tmp / "out" / "pose3d.csv"))


@case("triangulate/report-over-the-angles", "angles.csv", "--report")
def _(tmp: Path) -> list[str]:
    return _tri(tmp, "-s", str(_skeleton(tmp)), "--angles", str(tmp / "angles.csv"),
                "--report", str(tmp / "angles.csv"))


@case("triangulate/earlier-output-kept-when-an-input-is-damaged", "cam1.h5")
def _(tmp: Path) -> list[str]:
    _pose3d(tmp / "out" / "pose3d.csv")  # an earlier good output
    return _tri(tmp, inputs=[_h5(tmp), _truncate(_h5(tmp, "cam1"), 5000)])


@case("triangulate/damaged-input-named-with-spaces-unicode-formula", "=cam 0 é.h5")
def _(tmp: Path) -> list[str]:
    path = _truncate(_copy(SAMPLE / "pose2d" / "cam0.h5", tmp / "my data ü" / "=cam 0 é.h5"),
                     1000)
    return _tri(tmp, inputs=[f"cam0={path}", _h5(tmp, "cam1")])


# ---- export: every 3D format damaged, and outputs

@case("export/garbage-c3d", "bad.c3d")
def _(tmp: Path) -> list[str]:
    return ["export", str(_garbage(tmp / "bad.c3d")), "-o", str(tmp / "out.csv")]


@case("export/truncated-c3d", "pose.c3d")
def _(tmp: Path) -> list[str]:
    path = _pose3d(tmp / "pose.c3d")
    _truncate(path, path.stat().st_size // 2)
    return ["export", str(path), "-o", str(tmp / "out.csv")]


@case("export/c3d-header-only", "pose.c3d")
def _(tmp: Path) -> list[str]:
    path = _truncate(_pose3d(tmp / "pose.c3d"), 512)
    return ["export", str(path), "-o", str(tmp / "out.csv")]


@case("export/empty-c3d", "pose.c3d")
def _(tmp: Path) -> list[str]:
    (tmp / "pose.c3d").write_bytes(b"")
    return ["export", str(tmp / "pose.c3d"), "-o", str(tmp / "out.csv")]


@case("export/trc-cut-in-header", "pose.trc")
def _(tmp: Path) -> list[str]:
    path = _truncate(_pose3d(tmp / "pose.trc"), 150)
    return ["export", str(path), "-o", str(tmp / "out.csv")]


@case("export/trc-text-values", "pose.trc")
def _(tmp: Path) -> list[str]:
    path = _pose3d(tmp / "pose.trc")
    lines = path.read_text().splitlines()
    cells = lines[-1].split("\t")
    lines[-1] = "\t".join(cells[:2] + ["oops"] * (len(cells) - 2))
    path.write_text("\n".join(lines) + "\n")
    return ["export", str(path), "-o", str(tmp / "out.csv")]


@case("export/anipose-csv-text-values", "pose.csv")
def _(tmp: Path) -> list[str]:
    path = _pose3d(tmp / "pose.csv")
    lines = path.read_text().splitlines()
    lines[3] = ",".join(["x"] * len(lines[3].split(",")))
    path.write_text("\n".join(lines) + "\n")
    return ["export", str(path), "-o", str(tmp / "out.trc")]


@case("export/garbage-parquet", "pose.parquet")
def _(tmp: Path) -> list[str]:
    path = _garbage(tmp / "pose.parquet")
    path.write_bytes(b"PAR1" + path.read_bytes() + b"PAR1")
    return ["export", str(path), "-o", str(tmp / "out.csv")]


@case("export/garbage-nwb", "pose.nwb")
def _(tmp: Path) -> list[str]:
    return ["export", str(_garbage(tmp / "pose.nwb")), "-o", str(tmp / "out.csv")]


@case("export/truncated-nwb", "pose.nwb")
def _(tmp: Path) -> list[str]:
    path = _pose3d(tmp / "pose.nwb")
    _truncate(path, path.stat().st_size // 2)
    return ["export", str(path), "-o", str(tmp / "out.csv")]


@case("export/truncated-movement-nc", "pose.nc")
def _(tmp: Path) -> list[str]:
    path = _pose3d(tmp / "pose.nc")
    _truncate(path, path.stat().st_size // 2)
    return ["export", str(path), "-o", str(tmp / "out.csv")]


@case("export/output-over-the-input", "pose.trc")
def _(tmp: Path) -> list[str]:
    path = _pose3d(tmp / "pose.trc")
    return ["export", str(path), "-o", str(path)]


@case("export/output-is-a-folder", "out.csv")
def _(tmp: Path) -> list[str]:
    (tmp / "out.csv").mkdir()
    return ["export", str(_pose3d(tmp / "pose.trc")), "-o", str(tmp / "out.csv")]


@case("export/output-under-a-file", "blocker")
def _(tmp: Path) -> list[str]:
    (tmp / "blocker").write_text("x")
    return ["export", str(_pose3d(tmp / "pose.trc")), "-o", str(tmp / "blocker" / "out.csv")]


@case("export/output-in-read-only-folder", "ro")
def _(tmp: Path) -> list[str]:
    ro = _readonly(tmp / "ro")
    return ["export", str(_pose3d(tmp / "pose.trc")), "-o", str(ro / "out.csv")]


@case("export/output-on-a-full-disk", "out.c3d")
def _(tmp: Path) -> list[str]:
    disk = _full_disk(tmp / "disk", keep=lambda d: _pose3d(d / "out.c3d"))
    return ["export", str(_pose3d(tmp / "pose.trc", n=2000)), "-o", str(disk / "out.c3d")]


@case("export/output-is-a-symlink", "out.csv")
def _(tmp: Path) -> list[str]:
    (tmp / "out.csv").symlink_to(_precious(tmp))
    return ["export", str(_pose3d(tmp / "pose.trc")), "-o", str(tmp / "out.csv")]


@case("export/unknown-output-suffix", ".xyz")
def _(tmp: Path) -> list[str]:
    return ["export", str(_pose3d(tmp / "pose.trc")), "-o", str(tmp / "out.xyz")]


@case("export/fps-negative", "--fps")
def _(tmp: Path) -> list[str]:
    return ["export", str(_pose3d(tmp / "pose.csv")), "-o", str(tmp / "out.trc"), "--fps", "-5"]


@case("export/fps-nan", "--fps")
def _(tmp: Path) -> list[str]:
    return ["export", str(_pose3d(tmp / "pose.csv")), "-o", str(tmp / "out.trc"),
            "--fps", "nan"]


# ---- calibrate

def _cal(tmp: Path, *extra: str, board: Path | None = None, inputs: list | None = None,
         out: Path | None = None) -> list[str]:
    b = board if board is not None else _board(tmp)
    ins = inputs if inputs is not None else [str(SAMPLE / "calibration" / f"cam{i}.mp4")
                                             for i in range(2)]
    return ["calibrate", *map(str, ins), "--board", str(b), "-o",
            str(out if out is not None else tmp / "out" / "calibration.toml"), *extra]


@case("calibrate/garbage-board-toml", "board.toml")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, board=_board(tmp, "type = charuco\nsquares_x = [\n"))


@case("calibrate/board-one-square", "squares_x")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, board=_board(tmp, _board(tmp).read_text().replace("squares_x = 7",
                                                                          "squares_x = 1")))


@case("calibrate/board-marker-larger-than-square", "marker_length")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, board=_board(tmp, _board(tmp).read_text().replace(
        "marker_length = 9.0", "marker_length = 20.0")))


@case("calibrate/board-negative-square", "square_length")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, board=_board(tmp, _board(tmp).read_text().replace(
        "square_length = 12.0", "square_length = -12.0")))


@case("calibrate/board-nan-square", "square_length")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, board=_board(tmp, _board(tmp).read_text().replace(
        "square_length = 12.0", "square_length = nan")))


@case("calibrate/board-unknown-dictionary", "DICT_9X9_7")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, board=_board(tmp, _board(tmp).read_text().replace(
        "DICT_4X4_50", "DICT_9X9_7")))


@case("calibrate/board-too-many-markers-for-dictionary", "DICT_4X4_50")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, board=_board(tmp, _board(tmp).read_text().replace(
        "squares_x = 7", "squares_x = 30")))


@case("calibrate/max-views-zero", "--max-views")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, "--max-views", "0")


@case("calibrate/motion-threshold-nan", "--motion-threshold")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, "--sample", "motion", "--motion-threshold", "nan")


@case("calibrate/unknown-distortion", "--distortion")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, "--distortion", "k9")


@case("calibrate/jobs-negative", "--jobs")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, "--jobs", "-3")


@case("calibrate/garbage-video", "cam0.mp4")
def _(tmp: Path) -> list[str]:
    bad = tmp / "cam0.mp4"
    bad.write_text("not a video at all\n" * 50)
    return _cal(tmp, inputs=[bad, SAMPLE / "calibration" / "cam1.mp4"])


@case("calibrate/empty-image-folder", "cam0")
def _(tmp: Path) -> list[str]:
    (tmp / "cam0").mkdir()
    (tmp / "cam0" / "notes.txt").write_text("no images here")
    return _cal(tmp, inputs=[tmp / "cam0", SAMPLE / "calibration" / "cam1.mp4"])


@case("calibrate/camera-named-twice", "cam0")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, inputs=[f"cam0={SAMPLE / 'calibration' / 'cam0.mp4'}",
                             f"cam0={SAMPLE / 'calibration' / 'cam1.mp4'}"])


@case("calibrate/images-of-different-sizes", "b.png", "640x480")
def _(tmp: Path) -> list[str]:
    import cv2

    folder = tmp / "cam0"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((480, 640, 3), np.uint8))
    cv2.imwrite(str(folder / "b.png"), np.zeros((240, 320, 3), np.uint8))
    return _cal(tmp, inputs=[folder, SAMPLE / "calibration" / "cam1.mp4"])


@case("calibrate/output-is-a-symlink", "calibration.toml")
def _(tmp: Path) -> list[str]:
    (tmp / "out").mkdir()
    (tmp / "out" / "calibration.toml").symlink_to(_precious(tmp))
    return _cal(tmp)


@case("calibrate/garbage-intrinsics", "intrinsics.toml")
def _(tmp: Path) -> list[str]:
    _garbage(tmp / "intrinsics.toml")
    return _cal(tmp, "--intrinsics", str(tmp / "intrinsics.toml"))


@case("calibrate/output-is-a-folder", "calibration.toml")
def _(tmp: Path) -> list[str]:
    (tmp / "out" / "calibration.toml").mkdir(parents=True)
    return _cal(tmp)


@case("calibrate/output-over-the-board", "board.toml")
def _(tmp: Path) -> list[str]:
    b = _board(tmp)
    return _cal(tmp, board=b, out=b)


@case("calibrate/output-over-the-intrinsics", "intrinsics.toml")
def _(tmp: Path) -> list[str]:
    intr = _copy(SAMPLE / "ground_truth" / "calibration.toml", tmp / "intrinsics.toml")
    return _cal(tmp, "--intrinsics", str(intr), out=intr)


@case("calibrate/output-in-read-only-folder", "ro")
def _(tmp: Path) -> list[str]:
    return _cal(tmp, out=_readonly(tmp / "ro") / "calibration.toml")


@case("calibrate/report-is-a-file", "report.json")
def _(tmp: Path) -> list[str]:
    (tmp / "report.json").write_text("{}")
    return _cal(tmp, "--report", str(tmp / "report.json"))


# ---- train

@case("train/malformed-config-yaml", "config.yaml")
def _(tmp: Path) -> list[str]:
    root = _labeled(tmp)
    (root / "config.yaml").write_text("Task: test\nbodyparts: [snout, leftear\n  - : :\n")
    return ["train", "--data", str(root), "--out", str(tmp / "model"), "--epochs", "1"]


@case("train/config-yaml-bodyparts-not-a-list", "bodyparts")
def _(tmp: Path) -> list[str]:
    root = _labeled(tmp)
    (root / "config.yaml").write_text("Task: test\nscorer: Tester\nbodyparts: 3\n")
    return ["train", "--data", str(root), "--out", str(tmp / "model"), "--epochs", "1"]


@case("train/config-yaml-is-a-list", "config.yaml")
def _(tmp: Path) -> list[str]:
    root = _labeled(tmp)
    (root / "config.yaml").write_text("- a\n- b\n")
    return ["train", "--data", str(root), "--out", str(tmp / "model"), "--epochs", "1"]


@case("train/corrupt-collected-data-h5", "CollectedData_Tester.h5")
def _(tmp: Path) -> list[str]:
    root = _labeled(tmp)
    folder = root / "labeled-data" / "vid1"
    (folder / "CollectedData_Tester.csv").unlink()
    _truncate(folder / "CollectedData_Tester.h5", 2000)
    return ["train", "--data", str(root), "--out", str(tmp / "model"), "--epochs", "1"]


@case("train/corrupt-collected-data-csv", "CollectedData_Tester.csv")
def _(tmp: Path) -> list[str]:
    root = _labeled(tmp)
    folder = root / "labeled-data" / "vid1"
    (folder / "CollectedData_Tester.h5").unlink()
    (folder / "CollectedData_Tester.csv").write_text("scorer,Tester\nfoo\n1,2,3,4,5\n")
    return ["train", "--data", str(root), "--out", str(tmp / "model"), "--epochs", "1"]


@case("train/crop-not-a-multiple-of-16", "--crop")
def _(tmp: Path) -> list[str]:
    return ["train", "--data", str(_labeled(tmp)), "--out", str(tmp / "model"), "--crop", "100"]


@case("train/batch-size-zero", "--batch-size")
def _(tmp: Path) -> list[str]:
    return ["train", "--data", str(_labeled(tmp)), "--out", str(tmp / "model"),
            "--batch-size", "0"]


@case("train/train-fraction-nan", "--train-fraction")
def _(tmp: Path) -> list[str]:
    return ["train", "--data", str(_labeled(tmp)), "--out", str(tmp / "model"),
            "--train-fraction", "nan"]


@case("train/epochs-negative", "--epochs")
def _(tmp: Path) -> list[str]:
    return ["train", "--data", str(_labeled(tmp)), "--out", str(tmp / "model"),
            "--epochs", "-1"]


@case("train/max-minutes-negative", "--max-minutes")
def _(tmp: Path) -> list[str]:
    return ["train", "--data", str(_labeled(tmp)), "--out", str(tmp / "model"),
            "--max-minutes", "-1"]


@case("train/unknown-backbone", "resnet9000")
def _(tmp: Path) -> list[str]:
    return ["train", "--data", str(_labeled(tmp)), "--out", str(tmp / "model"),
            "--backbone", "resnet9000"]


@case("train/garbage-weights", "weights.pt")
def _(tmp: Path) -> list[str]:
    return ["train", "--data", str(_labeled(tmp)), "--out", str(tmp / "model"),
            "--weights", str(_garbage(tmp / "weights.pt")), "--epochs", "1"]


@case("train/out-is-a-file", "model")
def _(tmp: Path) -> list[str]:
    (tmp / "model").write_text("a file")
    return ["train", "--data", str(_labeled(tmp)), "--out", str(tmp / "model"), "--epochs", "1"]


@case("train/missing-data", "nowhere")
def _(tmp: Path) -> list[str]:
    return ["train", "--data", str(tmp / "nowhere"), "--out", str(tmp / "model")]


# ---- evaluate

@case("evaluate/garbage-model-json", "model.json")
def _(tmp: Path) -> list[str]:
    m = _model(tmp)
    (m / "model.json").write_text('{"bodyparts": [')
    return ["evaluate", str(m), "--pictures", "0"]


@case("evaluate/model-json-stride-zero", "stride")
def _(tmp: Path) -> list[str]:
    m = _model(tmp)
    cfg = json.loads((m / "model.json").read_text())
    cfg["stride"] = 0
    (m / "model.json").write_text(json.dumps(cfg))
    return ["evaluate", str(m), "--pictures", "0"]


@case("evaluate/pcutoff-above-one", "--pcutoff")
def _(tmp: Path) -> list[str]:
    return ["evaluate", str(_model(tmp)), "--pcutoff", "2", "--pictures", "0"]


@case("evaluate/pictures-negative", "--pictures")
def _(tmp: Path) -> list[str]:
    return ["evaluate", str(_model(tmp)), "--pictures", "-1"]


@case("evaluate/truncated-weights", "model.pt")
def _(tmp: Path) -> list[str]:
    m = _model(tmp)
    _truncate(m / "model.pt", 5000)
    return ["evaluate", str(m), "--pictures", "0"]


# ---- analyze

def _an(tmp: Path, *extra: str, videos: list[Path] | None = None,
        model: Path | None = None) -> list[str]:
    vids = videos if videos is not None else [_video(tmp)]
    return ["analyze", *map(str, vids), "--model", str(model or _model(tmp)), "-o",
            str(tmp / "out"), *extra]


@case("analyze/garbage-video", "cam0.mp4")
def _(tmp: Path) -> list[str]:
    return _an(tmp, videos=[_garbage(tmp / "videos" / "cam0.mp4")])


@case("analyze/garbage-video-keeps-earlier-output", "cam0.mp4")
def _(tmp: Path) -> list[str]:
    from tests.fixtures.io2d import write_2d

    (tmp / "out").mkdir()
    write_2d(tmp / "out" / "cam0.h5", np.zeros((3, 2, 2)), np.ones((3, 2)), ["a", "b"],
             csv=True)
    return _an(tmp, "--overwrite", videos=[_garbage(tmp / "videos" / "cam0.mp4")])


@case("analyze/model-json-garbage", "model.json")
def _(tmp: Path) -> list[str]:
    m = _model(tmp)
    (m / "model.json").write_bytes(b"\x00\xff\x00")
    return _an(tmp, model=m)


@case("analyze/truncated-weights", "model.pt")
def _(tmp: Path) -> list[str]:
    m = _model(tmp)
    _truncate(m / "model.pt", 1000)
    return _an(tmp, model=m)


@case("analyze/unknown-filter", "--filter")
def _(tmp: Path) -> list[str]:
    return _an(tmp, "--filter", "kalman")


@case("analyze/outdir-is-a-file", "out")
def _(tmp: Path) -> list[str]:
    (tmp / "out").write_text("a file")
    return _an(tmp)


@case("analyze/two-videos-of-one-stem", "cam0.mp4")
def _(tmp: Path) -> list[str]:
    return _an(tmp, videos=[_video(tmp, folder="day1"), _video(tmp, folder="day2")])


@case("analyze/output-is-a-symlink", "cam0.h5")
def _(tmp: Path) -> list[str]:
    (tmp / "out").mkdir()
    (tmp / "out" / "cam0.h5").symlink_to(_precious(tmp))
    return _an(tmp, "--overwrite")


@case("analyze/output-is-a-folder", "cam0.csv")
def _(tmp: Path) -> list[str]:
    (tmp / "out" / "cam0.csv").mkdir(parents=True)
    return _an(tmp)


@case("analyze/missing-video", "cam5.mp4")
def _(tmp: Path) -> list[str]:
    return _an(tmp, videos=[tmp / "videos" / "cam5.mp4"])


# ---- extract-frames, extract-outliers

@case("extract-frames/garbage-video", "cam0.mp4")
def _(tmp: Path) -> list[str]:
    return ["extract-frames", str(_garbage(tmp / "cam0.mp4")), "-o", str(tmp / "frames")]


@case("extract-frames/out-is-a-file", "frames")
def _(tmp: Path) -> list[str]:
    (tmp / "frames").write_text("x")
    return ["extract-frames", str(_video(tmp)), "-o", str(tmp / "frames"), "-n", "2"]


@case("extract-frames/full-disk", "frames/img", "disk full")
def _(tmp: Path) -> list[str]:
    disk = _full_disk(tmp / "disk")
    return ["extract-frames", str(_video(tmp)), "-o", str(disk / "frames"), "-n", "2"]


@case("extract-frames/negative-count", "-n", usage=True)
def _(tmp: Path) -> list[str]:
    return ["extract-frames", str(_video(tmp)), "-o", str(tmp / "frames"), "-n", "-5"]


def _outliers(tmp: Path, *extra: str, analysis: Path | None = None) -> list[str]:
    a = analysis if analysis is not None else _copy(SAMPLE / "pose2d" / "cam0.h5",
                                                    tmp / "cam0.h5")
    return ["extract-outliers", str(_video(tmp)), "--analysis", str(a), "-o",
            str(tmp / "frames"), *extra]


@case("extract-outliers/truncated-analysis", "cam0.h5")
def _(tmp: Path) -> list[str]:
    return _outliers(tmp, analysis=_truncate(_copy(SAMPLE / "pose2d" / "cam0.h5",
                                                   tmp / "cam0.h5"), 4000))


@case("extract-outliers/pcutoff-nan", "--pcutoff")
def _(tmp: Path) -> list[str]:
    return _outliers(tmp, "--pcutoff", "nan")


@case("extract-outliers/jump-negative", "--jump-px")
def _(tmp: Path) -> list[str]:
    return _outliers(tmp, "--jump-px", "-1")


@case("extract-outliers/garbage-pose3d", "pose3d.csv")
def _(tmp: Path) -> list[str]:
    (tmp / "pose3d.csv").write_text("a,b\n\x00\x01,zz\n")
    return _outliers(tmp, "--pose3d", str(tmp / "pose3d.csv"))


@case("extract-outliers/out-is-a-file", "frames")
def _(tmp: Path) -> list[str]:
    (tmp / "frames").write_text("x")
    return _outliers(tmp)


# ---- synth

@case("synth/size-zero", "--size")
def _(tmp: Path) -> list[str]:
    return ["synth", str(tmp / "s"), "--size", "0x0"]


@case("synth/size-words", "--size")
def _(tmp: Path) -> list[str]:
    return ["synth", str(tmp / "s"), "--size", "big"]


@case("synth/size-impossible", "--size")
def _(tmp: Path) -> list[str]:
    return ["synth", str(tmp / "s"), "--size", "100000x100000", "--frames", "1"]


@case("synth/noise-nan", "--noise-px")
def _(tmp: Path) -> list[str]:
    return ["synth", str(tmp / "s"), "--noise-px", "nan"]


@case("synth/one-camera", "--cameras")
def _(tmp: Path) -> list[str]:
    return ["synth", str(tmp / "s"), "--cameras", "1"]


@case("synth/out-is-a-file", "s")
def _(tmp: Path) -> list[str]:
    (tmp / "s").write_text("a file")
    return ["synth", str(tmp / "s"), "--frames", "2", "--calibration-frames", "2"]


@case("synth/read-only-folder", "ro")
def _(tmp: Path) -> list[str]:
    return ["synth", str(_readonly(tmp / "ro") / "s"), "--frames", "2"]


@case("synth/outlier-rate-nan", "--outlier-rate")
def _(tmp: Path) -> list[str]:
    return ["synth", str(tmp / "s"), "--outlier-rate", "nan"]


@case("synth/size-odd", "--size")
def _(tmp: Path) -> list[str]:
    return ["synth", str(tmp / "s"), "--size", "641x480"]


# ---- init

@case("init/project-is-a-file", "proj")
def _(tmp: Path) -> list[str]:
    (tmp / "proj").write_text("x")
    return ["init", str(tmp / "proj")]


@case("init/read-only-folder", "ro")
def _(tmp: Path) -> list[str]:
    return ["init", str(_readonly(tmp / "ro") / "proj")]


@case("init/garbage-board", "board.toml")
def _(tmp: Path) -> list[str]:
    return ["init", str(tmp / "proj"), "--board", str(_board(tmp, "squares_x = ["))]


@case("init/impossible-board", "squares_x")
def _(tmp: Path) -> list[str]:
    return ["init", str(tmp / "proj"), "--board",
            str(_board(tmp, _board(tmp).read_text().replace("squares_x = 7", "squares_x = 0")))]


@case("init/garbage-skeleton", "skeleton.toml")
def _(tmp: Path) -> list[str]:
    (tmp / "skeleton.toml").write_bytes(b"\xff\xfe bodyparts")
    return ["init", str(tmp / "proj"), "--skeleton", str(tmp / "skeleton.toml")]


@case("init/session-path", "a/b")
def _(tmp: Path) -> list[str]:
    return ["init", str(tmp / "proj"), "--session", "a/b"]


@case("init/individuals-zero", "individuals")
def _(tmp: Path) -> list[str]:
    return ["init", str(tmp / "proj"), "--individuals", "0"]


@case("init/existing-config-kept", "config.toml")
def _(tmp: Path) -> list[str]:
    (tmp / "proj").mkdir()
    (tmp / "proj" / "config.toml").write_text("# my settings\n")
    return ["init", str(tmp / "proj")]


# ---- run (a project)

@case("run/garbage-config", "config.toml")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    (p / "config.toml").write_text("[project\n")
    return ["run", str(p), "--no-progress"]


@case("run/unknown-key", "bogus_key")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    _set_config(p, "[filter]\n", "[filter]\nbogus_key = 1\n")
    return ["run", str(p), "--no-progress"]


@case("run/bad-cam-regex", "cam_regex")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    _set_config(p, 'cam_regex = ""', 'cam_regex = "cam([0-9"')
    return ["run", str(p), "--no-progress"]


@case("run/cam-regex-matching-no-file", "cam_regex")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    _set_config(p, 'cam_regex = ""', 'cam_regex = "-cam([A-Z])$"')
    return ["run", str(p), "--no-progress"]


@case("run/fps-nan", "project.fps")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    _set_config(p, "fps = 100.0", "fps = nan")
    return ["run", str(p), "--no-progress"]


@case("run/lowpass-inf", "lowpass_hz")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    _set_config(p, "lowpass_hz = 0.0", "lowpass_hz = inf")
    return ["run", str(p), "--no-progress"]


@case("run/unknown-step", "smooth")
def _(tmp: Path) -> list[str]:
    return ["run", str(_project(tmp)), "--steps", "triangulate,smooth", "--no-progress"]


@case("run/jobs-negative", "--jobs")
def _(tmp: Path) -> list[str]:
    return ["run", str(_project(tmp)), "--jobs", "-5", "--no-progress"]


@case("run/symlinked-lock", ".tripose.lock")
def _(tmp: Path) -> list[str]:
    from tripose.project.lock import LOCK_NAME

    p = _project(tmp)
    (p / LOCK_NAME).symlink_to(_precious(tmp))
    return ["run", str(p), "--steps", "triangulate", "--no-progress"]


@case("run/symlinked-session-log", "tripose.log")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    (p / "A" / "logs").mkdir()
    (p / "A" / "logs" / "tripose.log").symlink_to(_precious(tmp))
    return ["run", str(p), "--steps", "triangulate", "--no-progress"]


@case("run/output-is-a-symlink", "A.csv")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    (p / "A" / "pose-3d").mkdir()
    (p / "A" / "pose-3d" / "A.csv").symlink_to(_precious(tmp))
    return ["run", str(p), "--steps", "triangulate", "--no-progress"]


@case("run/lock-is-a-folder", ".tripose.lock")
def _(tmp: Path) -> list[str]:
    from tripose.project.lock import LOCK_NAME

    p = _project(tmp)
    (p / LOCK_NAME).mkdir()
    return ["run", str(p), "--steps", "triangulate", "--no-progress"]


@case("run/truncated-2d-file", "cam2.h5")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    f = p / "A" / "pose-2d-dlc" / "cam2.h5"
    data = f.read_bytes()
    f.unlink()  # a hard link of sample_data: replace it, never write through it
    f.write_bytes(data[:3000])
    return ["run", str(p), "--steps", "triangulate", "--no-progress"]


@case("run/garbage-calibration-file", "calibration.toml")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    (p / "calibration.toml").unlink()
    _garbage(p / "calibration.toml")
    return ["run", str(p), "--steps", "triangulate", "--no-progress"]


@case("run/garbage-skeleton", "skeleton.toml")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    (p / "skeleton.toml").write_text("limbs = [[\n")
    return ["run", str(p), "--steps", "triangulate", "--no-progress"]


@case("run/garbage-board", "board.toml")
def _(tmp: Path) -> list[str]:
    p = _project(tmp, calibrate=True)
    (p / "board.toml").write_text("type = 'charuco'\nsquares_x = -2\n")
    return ["run", str(p), "--steps", "calibrate", "--no-progress"]


@case("run/output-folder-is-a-file", "pose-3d")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    (p / "A" / "pose-3d").write_text("a file where the output folder goes")
    return ["run", str(p), "--steps", "triangulate", "--no-progress"]


@case("run/read-only-output-folder", "pose-3d")
def _(tmp: Path) -> list[str]:
    p = _project(tmp)
    _readonly(p / "A" / "pose-3d")
    return ["run", str(p), "--steps", "triangulate", "--no-progress"]


@case("run/missing-project", "nowhere")
def _(tmp: Path) -> list[str]:
    return ["run", str(tmp / "nowhere"), "--no-progress"]


# ---- label (never binds: a guard fails the test if it would)

@case("label/missing-target", "nowhere")
def _(tmp: Path) -> list[str]:
    return ["label", str(tmp / "nowhere"), "--no-browser"]


@case("label/malformed-config-yaml", "config.yaml")
def _(tmp: Path) -> list[str]:
    root = _labeled(tmp)
    (root / "config.yaml").write_text("bodyparts: [a, b\nscorer: : :\n")
    return ["label", str(root), "--no-browser"]


@case("label/corrupt-collected-data", "CollectedData_Tester.h5")
def _(tmp: Path) -> list[str]:
    root = _labeled(tmp)
    folder = root / "labeled-data" / "vid1"
    (folder / "CollectedData_Tester.csv").unlink()
    _garbage(folder / "CollectedData_Tester.h5")
    return ["label", str(root), "--no-browser"]


@case("label/garbage-calibration", "calibration.toml")
def _(tmp: Path) -> list[str]:
    root = _labeled(tmp)
    _garbage(tmp / "calibration.toml")
    return ["label", str(root / "labeled-data"), "--no-browser", "--bodyparts",
            "snout,leftear,rightear", "--calibration", str(tmp / "calibration.toml")]


@case("label/garbage-skeleton", "skeleton.toml")
def _(tmp: Path) -> list[str]:
    root = _labeled(tmp)
    (tmp / "skeleton.toml").write_text("bodyparts = 'snout'\n")
    return ["label", str(root / "labeled-data" / "vid1"), "--no-browser", "--skeleton",
            str(tmp / "skeleton.toml")]


@case("label/empty-bodyparts", "--bodyparts")
def _(tmp: Path) -> list[str]:
    root = _labeled(tmp)
    (root / "labeled-data" / "vid1" / "CollectedData_Tester.h5").unlink()
    (root / "labeled-data" / "vid1" / "CollectedData_Tester.csv").unlink()
    return ["label", str(root / "labeled-data" / "vid1"), "--no-browser", "--bodyparts", ",,"]


@case("label/symlinked-lock", "lock")
def _(tmp: Path) -> list[str]:
    from tripose.label.lock import LABEL_LOCK

    root = _labeled(tmp)
    (root / LABEL_LOCK).symlink_to(_precious(tmp))
    return ["label", str(root), "--no-browser"]


@case("label/port-out-of-range", "--port")
def _(tmp: Path) -> list[str]:
    return ["label", str(_labeled(tmp)), "--no-browser", "--port", "70000"]


# ---- demo

@case("demo/session-not-a-synth-folder", "notsynth")
def _(tmp: Path) -> list[str]:
    (tmp / "notsynth").mkdir()
    return ["demo", "--out", str(tmp / "out"), "--session", str(tmp / "notsynth")]


@case("demo/missing-model", "nomodel")
def _(tmp: Path) -> list[str]:
    return ["demo", "--out", str(tmp / "out"), "--model", str(tmp / "nomodel")]


@case("demo/model-without-evaluation", "evaluation.json")
def _(tmp: Path) -> list[str]:
    m = _model(tmp)
    (m / "evaluation.json").unlink()
    return ["demo", "--out", str(tmp / "out"), "--model", str(m)]


@case("demo/out-is-a-file", "out")
def _(tmp: Path) -> list[str]:
    (tmp / "out").write_text("a file")
    return ["demo", "--out", str(tmp / "out")]


# --------------------------------------------------------------------------------------------
# the checks

_PROGRESS = re.compile(r"\[\d\d:\d\d[^\]]*\]\s*$")  # a tqdm bar (ends with its timings)
_LOG = re.compile(r"^(DEBUG|INFO|WARNING) \S+: ")


def _message_lines(err: str) -> list[str]:
    """stderr less progress bars and log records (a bar redrawn with ``\\r`` is one line)."""
    return [ln for ln in re.split(r"[\r\n]+", err)
            if ln.strip() and not _PROGRESS.search(ln) and not _LOG.match(ln)]


def _named(name: str, err: str) -> bool:
    """Whether ``err`` names ``name``; an option may be named as the library's keyword
    (``--score-threshold``: ``score_threshold``)."""
    forms = {name}
    if name.startswith("--"):
        forms |= {name[2:], name[2:].replace("-", "_")}
    return any(f in err for f in forms)



def _snapshot(paths: list[Path]) -> dict[str, tuple]:
    """Every file under ``paths`` (links not followed, their targets read): bytes digests."""
    out: dict[str, tuple] = {}

    def add(p: Path) -> None:
        if p.is_symlink():
            target = p.resolve()
            body = hashlib.sha256(target.read_bytes()).hexdigest() if target.is_file() else None
            out[str(p)] = ("link", os.readlink(p), body)
        elif p.is_file():
            out[str(p)] = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
        elif p.is_dir() and p.name != "__pycache__":  # numba's and Python's caches
            for child in sorted(p.iterdir()):
                add(child)

    for p in paths:
        if os.access(p, os.R_OK) or p.is_symlink():
            add(p)
    return out


def _inputs_outside(argv: list[str], tmp: Path) -> list[Path]:
    """The existing paths named in ``argv`` outside ``tmp`` (sample_data files read as is)."""
    found = []
    for arg in argv[1:]:  # argv[0] is the command ("triangulate" is also a package folder)
        p = Path(arg.split("=", 1)[-1])
        if p.exists() and tmp not in p.resolve().parents and p.resolve() != REPO:
            found.append(p)
    return found


def _params() -> Iterator:
    for name, c in CASES.items():
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[name])] if name in XFAIL else []
        yield pytest.param(c, id=name, marks=marks)


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """``tripose label`` must fail before it binds a port or writes its lock."""
    import tripose.label.server as server

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("tripose label reached the server: the bad input was accepted")

    monkeypatch.setattr(server, "run", refuse)


def _restore_modes(root: Path) -> None:
    for dirpath, dirnames, _ in os.walk(root):
        for d in dirnames:
            p = Path(dirpath) / d
            if not p.is_symlink():
                p.chmod(0o755)


def test_catalogue_is_large_enough() -> None:
    commands = {name.split("/")[0] for name in CASES}
    assert len(CASES) >= 60
    assert commands >= {"calibrate", "train", "evaluate", "analyze", "extract-frames",
                        "extract-outliers", "triangulate", "export", "synth", "init", "run",
                        "label", "demo"}


@pytest.mark.parametrize("c", list(_params()))
def test_bad_input(c: Case, tmp_path: Path, capsys: pytest.CaptureFixture, no_server: None,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    tmp = tmp_path / "work"
    tmp.mkdir()
    try:
        argv = c.build(tmp)
        watched = [tmp, *_inputs_outside(argv, tmp)]
        before = _snapshot(watched)
        capsys.readouterr()
        code = main(argv)
        after = _snapshot(watched)
    finally:
        _unmount_all()
        _restore_modes(tmp)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert code == 2, f"exit {code}; stderr: {err}"
    if c.usage:
        assert "Usage:" in err or "Error:" in err, err
    else:
        lines = _message_lines(err)
        assert len(lines) == 1 and lines[0].startswith("error: "), err
    for name in c.names:
        assert _named(name, err), f"{name!r} not named in: {err}"
    changed = sorted(k for k, v in before.items() if after.get(k) != v)
    assert not changed, f"modified or removed: {changed}"


# --------------------------------------------------------------------------------------------
# graceful results: names with spaces, unicode and formula characters

FORMULAS = ["=HYPERLINK(\"evil.example\",\"a\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3",
            "naïve paw", "plain"]


def test_formula_bodyparts_are_neutralised_and_round_trip(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    from poses import Poses, load_poses, save_poses

    folder = tmp_path / "dossier é ü"
    inputs = []
    for cam in ("cam0", "cam1"):
        p = load_poses(SAMPLE / "pose2d" / f"{cam}.h5")
        pos, conf = p.single()
        k = len(FORMULAS)
        renamed = Poses.from_numpy(pos[:, :k], conf[:, :k], keypoints=FORMULAS)
        inputs.append(save_poses(renamed, folder / f"{cam} 2d.csv"))
    out_csv, out_trc = folder / "3d out.csv", folder / "3d out.trc"
    for out in (out_csv, out_trc):
        code = main(_tri(tmp_path, inputs=[f"cam{i}={f}" for i, f in enumerate(inputs)],
                         out=out))
        assert code == 0, capsys.readouterr().err
    back = folder / "back.csv"
    assert main(["export", str(out_trc), "-o", str(back)]) == 0
    for path in (*inputs, out_csv, out_trc, back):
        _assert_no_formula_cell(path)
        assert list(load_poses(path).keypoints) == FORMULAS, path.name


def _assert_no_formula_cell(path: Path) -> None:
    """No cell of a CSV / TRC table that a spreadsheet would run as a formula."""
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t" if path.suffix == ".trc" else ","))
    for row in rows:
        for cell in row:
            try:
                float(cell)
                continue  # a number (negative coordinates start with '-')
            except ValueError:
                pass
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (path.name, cell)
