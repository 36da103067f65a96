"""Project config validation, ``tripose init``, and the layout's bad-input messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from calibration.errors import InputError
from tripose.cli import main
from tripose.project import (
    SCHEMA,
    init_project,
    load_config,
    open_project,
    run_project,
    sample_project,
    validate_config,
)
from tripose.project.config import config_template

OUTPUT_DIRS = ("pose-2d", "pose-3d", "pose-3d-filtered", "angles", "videos-3d", ".tripose")


# --- config ---------------------------------------------------------------------------
def test_defaults_fill_every_key():
    cfg = validate_config({})
    assert set(cfg) == set(SCHEMA)
    for section, keys in SCHEMA.items():
        assert set(cfg[section]) == set(keys)
    assert cfg["triangulation"]["method"] == "ransac"
    assert cfg["project"]["fps"] == 100.0


def test_template_round_trips(tmp_path):
    (tmp_path / "config.toml").write_text(config_template())
    assert load_config(tmp_path) == validate_config({})
    over = config_template({"triangulation": {"method": "optim"}, "filter": {"axes": ["x:a:b"]}})
    (tmp_path / "config.toml").write_text(over)
    cfg = load_config(tmp_path / "config.toml")
    assert cfg["triangulation"]["method"] == "optim" and cfg["filter"]["axes"] == ["x:a:b"]


@pytest.mark.parametrize("data, words", [
    ({"triangulation": {"bogus": 1}}, ["'bogus'", "[triangulation]", "score_threshold"]),
    ({"bogus": {}}, ["section", "'bogus'", "triangulation"]),
    ({"triangulation": {"score_threshold": "high"}},
     ["triangulation.score_threshold", "must be a float", "got str 'high'"]),
    ({"filter": {"fill_gaps": 2.5}}, ["filter.fill_gaps", "must be a int", "got float 2.5"]),
    ({"filter": {"fill_gaps": True}}, ["filter.fill_gaps", "got bool True"]),
    ({"render": {"html": "yes"}}, ["render.html", "must be a bool", "got str"]),
    ({"project": {"sessions": "A"}}, ["project.sessions", "list of str", "got str 'A'"]),
    ({"project": {"sessions": ["A", 2]}}, ["project.sessions", "list of str"]),
    ({"project": {"skeleton": 3}}, ["project.skeleton", "str or table", "got int 3"]),
    ({"triangulation": {"method": "best"}}, ["triangulation.method", "'optim'", "'best'"]),
    ({"triangulation": {"score_threshold": 1.5}}, ["score_threshold", "[0, 1]", "1.5"]),
    ({"triangulation": {"median_filter": 4}}, ["median_filter", "odd"]),
    ({"project": {"fps": 0}}, ["project.fps", "> 0.0"]),
    ({"filter": 3}, ["[filter] must be a table"]),
    ({"triangulation": {"individuals": 0}}, ["triangulation.individuals", "must be >= 1",
                                             "got 0"]),
    ({"triangulation": {"individuals": "two"}}, ["triangulation.individuals", "must be a int",
                                                 "got str 'two'"]),
])
def test_bad_config_names_key_and_type(data, words):
    with pytest.raises(InputError) as err:
        validate_config(data, where="cfg")
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_int_is_a_float_and_inline_tables():
    cfg = validate_config({"triangulation": {"reproj_threshold": 5},
                           "project": {"skeleton": {"bodyparts": ["a", "b"]}}})
    assert cfg["triangulation"]["reproj_threshold"] == 5.0
    assert isinstance(cfg["triangulation"]["reproj_threshold"], float)
    assert cfg["project"]["skeleton"] == {"bodyparts": ["a", "b"]}


def test_invalid_toml_and_missing_config(tmp_path):
    with pytest.raises(InputError, match="tripose init"):
        load_config(tmp_path)
    (tmp_path / "config.toml").write_text("[project\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(tmp_path)


def test_cli_prints_one_line_and_exits_2(tmp_path, capsys):
    init_project(tmp_path / "p", sessions=["s1"])
    cfg = tmp_path / "p" / "config.toml"
    cfg.write_text(cfg.read_text().replace("fisheye = false", "fisheye = false\nlens = 1"))
    assert main(["run", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown key(s) ['lens'] in [calibration]" in err[0]


# --- init -----------------------------------------------------------------------------
def test_init_command(tmp_path, capsys):
    from tripose.demo import SAMPLE_DATA

    root = tmp_path / "proj"
    assert main(["init", str(root), "--session", "day1", "--session", "day2", "--board",
                 str(SAMPLE_DATA / "board.toml"), "--skeleton",
                 str(SAMPLE_DATA / "skeleton.toml")]) == 0
    assert load_config(root) == validate_config({})
    for s in ("day1", "day2"):
        assert (root / s / "videos-raw").is_dir() and (root / s / "calibration").is_dir()
    assert (root / "board.toml").read_bytes() == (SAMPLE_DATA / "board.toml").read_bytes()
    assert main(["init", str(root)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["init", str(root), "--force"]) == 0
    with pytest.raises(InputError, match="plain folder name"):
        init_project(tmp_path / "q", sessions=["calibration"])
    with pytest.raises(InputError, match="does not exist"):
        init_project(tmp_path / "q", board=tmp_path / "nope.toml")
    # an empty session: a clear message, nothing written
    with pytest.raises(InputError, match="session day1: no 2D files"):
        run_project(root)


# --- layout: bad inputs, nothing written ----------------------------------------------
@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "proj"
    sample_project(root, calibrate=False, render=False)
    return root


def _nothing_written(root: Path) -> bool:
    return not any((root / s / d).exists() for s in ("A", "B") for d in OUTPUT_DIRS)


def _edit(root: Path, old: str, new: str) -> None:
    cfg = root / "config.toml"
    text = cfg.read_text()
    assert old in text
    cfg.write_text(text.replace(old, new))


def test_missing_session(project):
    _edit(project, "sessions = []", 'sessions = ["A", "C"]')
    with pytest.raises(InputError, match=r"session folder\(s\) \['C'\]"):
        run_project(project)
    assert _nothing_written(project)


def test_no_session(tmp_path):
    init_project(tmp_path / "p")
    with pytest.raises(InputError, match="no session in"):
        open_project(tmp_path / "p")


def test_missing_camera(project):
    (project / "B/pose-2d-dlc/cam3.h5").unlink()
    with pytest.raises(InputError) as err:
        run_project(project)
    msg = str(err.value)
    assert "session B" in msg and "missing ['cam3']" in msg and "videos-raw" in msg
    (project / "B/videos-raw/cam3.mp4").unlink()
    with pytest.raises(InputError, match=r"session B: cameras .* missing \['cam3'\]"):
        run_project(project)
    assert _nothing_written(project)


def test_camera_not_in_calibration(project):
    for d, suffix in (("videos-raw", ".mp4"), ("pose-2d-dlc", ".h5")):
        shutil.copyfile(project / "A" / d / f"cam0{suffix}", project / "A" / d / f"cam9{suffix}")
    with pytest.raises(InputError, match=r"session A: .*not calibrated \['cam9'\]"):
        run_project(project)
    assert _nothing_written(project)


def _short_video(path: Path, n: int) -> None:
    path.unlink()
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 100.0, (64, 48))
    for _ in range(n):
        w.write(np.zeros((48, 64, 3), np.uint8))
    w.release()


def test_videos_of_different_lengths(project):
    _short_video(project / "B/videos-raw/cam2.mp4", 10)
    with pytest.raises(InputError) as err:
        run_project(project)
    msg = str(err.value)
    assert "session B" in msg and "different lengths" in msg and "cam2: 10" in msg
    assert "cam0: 150" in msg and "triangulation.truncate" in msg
    assert _nothing_written(project)


def test_2d_files_of_different_lengths(project):
    from tests.fixtures.io2d import read_2d as from_dlc_file
    from tests.fixtures.io2d import write_2d as to_dlc_file

    h5 = project / "B/pose-2d-dlc/cam1.h5"
    p, s, bp = from_dlc_file(h5)
    h5.unlink()
    to_dlc_file(h5, p[:120], s[:120], bp)
    with pytest.raises(InputError) as err:
        run_project(project)
    assert "session B" in str(err.value) and "triangulation.truncate = true" in str(err.value)
    assert not (project / "B/pose-3d/B.csv").exists()
    _edit(project, "truncate = false", "truncate = true")
    run_project(project, steps="triangulate")
    assert len((project / "B/pose-3d/B.csv").read_text().splitlines()) == 121


def test_missing_calibration_and_board(project, tmp_path):
    (project / "calibration.toml").unlink()
    with pytest.raises(InputError, match="calibration_file .* does not exist"):
        run_project(project)
    _edit(project, 'calibration_file = "calibration.toml"', 'calibration_file = ""')
    with pytest.raises(InputError, match="session A: no calibration"):
        run_project(project)
    (project / "calibration").mkdir()
    for c in range(4):
        shutil.copyfile(project / f"A/videos-raw/cam{c}.mp4",
                        project / "calibration" / f"cam{c}.mp4")
    (project / "board.toml").unlink()
    with pytest.raises(InputError, match=r"calibration.board: file .*board.toml"):
        run_project(project)
    assert _nothing_written(project)


def test_cam_regex_and_session_calibration(project):
    from tripose.demo import SAMPLE_DATA

    for s in ("A", "B"):
        for d in ("videos-raw", "pose-2d-dlc"):
            for f in sorted((project / s / d).iterdir()):
                f.rename(f.with_name(f"trial1-{f.name}"))
    _edit(project, 'cam_regex = ""', 'cam_regex = "-(cam[0-9])$"')
    # session A brings its own calibration.toml; B uses the project's given file
    _edit(project, 'calibration_file = "calibration.toml"', 'calibration_file = ""')
    (project / "A" / "calibration").mkdir()
    truth = SAMPLE_DATA / "ground_truth" / "calibration.toml"
    shutil.copyfile(truth, project / "A" / "calibration" / "calibration.toml")
    with pytest.raises(InputError, match="session B: no calibration"):
        open_project(project)
    (project / "calibration").mkdir()
    shutil.move(project / "calibration.toml", project / "calibration" / "calibration.toml")
    proj = open_project(project)
    a, b = proj.sessions
    assert a.cameras == ["cam0", "cam1", "cam2", "cam3"]
    assert a.calibration == project / "A" / "calibration" / "calibration.toml"
    assert b.calibration == project / "calibration" / "calibration.toml"
    assert proj.calibrations == {}
    run_project(project, steps="triangulate")
    assert (project / "A/pose-3d/A.csv").read_bytes() == (project / "B/pose-3d/B.csv").read_bytes()
    _edit(project, 'cam_regex = "-(cam[0-9])$"', 'cam_regex = "-(CAM[0-9])$"')
    with pytest.raises(InputError, match="does not match project.cam_regex"):
        open_project(project)


def test_init_sample_and_progress(tmp_path, capsys):
    root = tmp_path / "s"
    assert main(["init", str(root), "--sample"]) == 0
    proj = open_project(root)
    assert [s.name for s in proj.sessions] == ["A", "B"]
    assert list(proj.calibrations) == [root.resolve() / "calibration" / "calibration.toml"]
    capsys.readouterr()
    _edit(root, 'calibration_file = ""', 'calibration_file = "../given.toml"')
    from tripose.demo import SAMPLE_DATA

    shutil.copyfile(SAMPLE_DATA / "ground_truth" / "calibration.toml", tmp_path / "given.toml")
    run_project(root, steps="triangulate", progress=True)
    err = capsys.readouterr().err
    assert "triangulate: 100%" in err and "2/2" in err
    run_project(root, steps="filter", progress=False)
    assert capsys.readouterr().err == ""


def test_init_with_bad_values_writes_nothing(tmp_path):
    with pytest.raises(InputError, match="triangulation.method"):
        init_project(tmp_path / "p", sessions=["s"],
                     overrides={"triangulation": {"method": "best"}})
    assert not (tmp_path / "p").exists()
