"""The train / evaluate / analyze / extract commands, end to end on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tripose.cli import main

from .conftest import write_video


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_commands(dlc_project, tmp_path, capsys):
    model = tmp_path / "model"
    assert main(["train", "--data", str(dlc_project), "--out", str(model), "--epochs", "1",
                 "--batch-size", "4", "--crop", "64", "--train-fraction", "0.8"]) == 0
    assert "test RMSE" in capsys.readouterr().out
    assert main(["evaluate", str(model), "--pictures", "1"]) == 0
    assert json.loads((model / "evaluation.json").read_text())["n_test"] == 4
    video = tmp_path / "v.avi"
    write_video(video, n=10)
    assert main(["analyze", "--model", str(model), "-o", str(tmp_path / "out"), str(video),
                 "--filter", "viterbi"]) == 0
    assert (tmp_path / "out" / "v.h5").is_file() and (tmp_path / "out" / "v.csv").is_file()
    assert main(["extract-frames", str(video), "-o", str(tmp_path / "ld"), "-n", "3"]) == 0
    assert main(["extract-outliers", str(video), "--analysis", str(tmp_path / "out" / "v.h5"),
                 "-o", str(tmp_path / "ld2"), "--pcutoff", "1.0", "-n", "2"]) == 0
    assert len(list((tmp_path / "ld2").glob("*.png"))) == 2


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "no model.json" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path / "no"), "--out", str(tmp_path / "m"),
                 "--epochs", "1"]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("case, needle", [
    ("same_stem", "share the name 'v'"),
    ("bad_filter", "--filter must be median or viterbi"),
    ("missing", "does not exist"),
])
def test_analyze_refuses_before_loading_the_model(tmp_path, capsys, case, needle):
    """Checked before any work: the model folder here does not even exist."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_video(tmp_path / "a" / "v.avi", n=2)
    write_video(tmp_path / "b" / "v.avi", n=2)
    videos = {"same_stem": [tmp_path / "a" / "v.avi", tmp_path / "b" / "v.avi"],
              "bad_filter": [tmp_path / "a" / "v.avi"],
              "missing": [tmp_path / "a" / "nope.avi"]}[case]
    extra = ["--filter", "foo"] if case == "bad_filter" else []
    code = main(["analyze", "--model", str(tmp_path / "no-model"), "-o", str(tmp_path / "out"),
                 *map(str, videos), *extra])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("key, value", [("stride", 0), ("locref_scale", -7.2),
                                        ("bodyparts", []), ("bodyparts", ["a", "a"]),
                                        ("pcutoff", 2.0), ("backbone", "vgg"),
                                        ("sigma", float("nan"))])
def test_impossible_model_settings_are_refused_before_analysis(tmp_path, capsys, key, value):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(Path(__file__).resolve().parents[2] / "sample_data" / "model", model)
    s = json.loads((model / "model.json").read_text())
    s[key] = value
    (model / "model.json").write_text(json.dumps(s))
    video = tmp_path / "v.avi"
    write_video(video, n=3)
    assert main(["analyze", "--model", str(model), "-o", str(tmp_path / "out"), str(video)]) == 2
    err = capsys.readouterr().err
    assert "model.json" in err and key in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "v.h5").exists()
