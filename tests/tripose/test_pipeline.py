"""``tripose run`` on a 2-session project made from sample_data: up-to-date skipping, a killed
run resumed, a Dask cluster, config changes, and the analyze / render plumbing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from tripose.cli import main
from tripose.demo import SAMPLE_DATA
from tripose.project import run_project, sample_project
from tripose.project.runner import KILL_ENV

OUTPUTS = ("calibration/calibration.toml", "A/pose-3d/A.csv", "B/pose-3d/B.csv",
           "A/pose-3d-filtered/A.csv", "B/pose-3d-filtered/B.csv", "A/angles/A.csv",
           "B/angles/B.csv")


def _outputs(root: Path) -> dict[str, bytes]:
    return {p: (root / p).read_bytes() for p in OUTPUTS}


def _ran(summary: dict) -> list[str]:
    return [t for e in summary.values() for t in e["ran"]]


def _set(config: Path, section: str, key: str, value: str) -> None:
    """Replace ``key = ...`` inside ``[section]`` of a config written by the template."""
    lines, current = config.read_text().splitlines(), None
    for i, line in enumerate(lines):
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and line.split(" = ")[0] == key:
            lines[i] = f"{key} = {value}"
    config.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """A calibrated 2-session project run once without interruption (render off)."""
    root = tmp_path_factory.mktemp("ref") / "proj"
    sample_project(root, render=False)
    summary = run_project(root)
    assert summary["calibrate"]["ran"] == ["calibrate:project"]
    assert summary["triangulate"]["ran"] == ["triangulate:A", "triangulate:B"]
    return root


@pytest.fixture
def given(tmp_path) -> Path:
    """A fresh project using the true calibration (no calibrate step: fast)."""
    root = tmp_path / "given"
    sample_project(root, calibrate=False, render=False)
    return root


@pytest.mark.slow
def test_second_run_does_nothing(reference):
    before = {p: (reference / p).stat().st_mtime_ns for p in OUTPUTS}
    summary = run_project(reference)
    assert _ran(summary) == []
    assert summary["triangulate"]["up_to_date"] == ["triangulate:A", "triangulate:B"]
    assert {p: (reference / p).stat().st_mtime_ns for p in OUTPUTS} == before
    # the two sessions hold the same data, so their 3D is the same
    a = (reference / "A/pose-3d/A.csv").read_bytes()
    assert a == (reference / "B/pose-3d/B.csv").read_bytes()
    assert "triangulate:A: done" in (reference / "A/logs/tripose.log").read_text()
    assert "triangulate:B" not in (reference / "A/logs/tripose.log").read_text()


@pytest.mark.slow
def test_killed_run_resumes_to_identical_outputs(reference, tmp_path):
    root = tmp_path / "killed"
    sample_project(root, render=False)
    env = {**os.environ, KILL_ENV: "triangulate:B"}
    proc = subprocess.run([sys.executable, "-m", "tripose", "run", str(root), "--no-progress"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert (root / "A/pose-3d/A.csv").is_file() and (root / "B/pose-3d/B.csv").is_file()
    assert not (root / "B/.tripose/triangulate.json").exists()  # killed before its manifest
    assert not (root / "A/pose-3d-filtered").exists()
    summary = run_project(root)
    assert summary["calibrate"]["up_to_date"] == ["calibrate:project"]
    assert summary["triangulate"] == {"ran": ["triangulate:B"],
                                      "up_to_date": ["triangulate:A"]}
    assert _outputs(root) == _outputs(reference)
    assert _ran(run_project(root)) == []


@pytest.mark.slow
def test_kill_during_calibration(reference, tmp_path):
    """SIGKILL at a moment chosen by the clock: once the first board detections are cached."""
    root = tmp_path / "killed"
    sample_project(root, render=False)
    proc = subprocess.Popen([sys.executable, "-m", "tripose", "run", str(root), "--no-progress",
                             "--jobs", "2"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    cache = root / "calibration" / ".tripose-cache"
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if cache.is_dir() and any(p.suffix == ".npz" for p in cache.iterdir()):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    assert proc.wait(timeout=60) == -9
    assert not (root / "calibration" / "calibration.toml").exists()
    assert not (root / "A" / "pose-3d").exists()
    summary = run_project(root)
    assert summary["calibrate"]["ran"] == ["calibrate:project"]
    assert _outputs(root) == _outputs(reference)


@pytest.mark.slow
def test_dask_cluster_gives_the_same_outputs(reference, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    root = tmp_path / "dask"
    sample_project(root, render=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        summary = run_project(root, scheduler=cluster.scheduler_address)
        assert sorted(summary["triangulate"]["ran"]) == ["triangulate:A", "triangulate:B"]
        assert _ran(run_project(root, scheduler=cluster.scheduler_address)) == []
    assert _outputs(root) == _outputs(reference)
    assert "filter:B: done" in (root / "B/logs/tripose.log").read_text()


@pytest.mark.slow
def test_parallel_jobs_give_the_same_outputs(given, tmp_path):
    other = tmp_path / "seq"
    sample_project(other, calibrate=False, render=False)
    run_project(other)
    summary = run_project(given, n_jobs=2)
    assert summary["calibrate"] == {"ran": [], "up_to_date": []}
    for p in OUTPUTS[1:]:
        assert (given / p).read_bytes() == (other / p).read_bytes(), p


def test_config_change_reruns_only_affected_steps(given):
    run_project(given)
    config = given / "config.toml"
    _set(config, "triangulation", "smooth", "2.0")  # optim only: ransac is unaffected
    assert _ran(run_project(given)) == []
    _set(config, "filter", "fill_gaps", "5")
    assert _ran(run_project(given)) == ["filter:A", "filter:B", "angles:A", "angles:B"]
    _set(config, "triangulation", "method", '"dlt"')
    assert _ran(run_project(given, steps=["triangulate"])) == ["triangulate:A",
                                                                "triangulate:B"]
    assert _ran(run_project(given)) == ["filter:A", "filter:B", "angles:A", "angles:B"]


def test_touched_input_and_deleted_output(given):
    run_project(given)
    h5 = given / "A/pose-2d-dlc/cam0.h5"
    os.utime(h5, ns=(h5.stat().st_atime_ns, h5.stat().st_mtime_ns + 10**9))
    assert _ran(run_project(given)) == []  # same content: nothing to do
    (given / "B/angles/B.csv").unlink()
    assert _ran(run_project(given)) == ["angles:B"]
    from tests.fixtures.io2d import read_2d as from_dlc_file
    from tests.fixtures.io2d import write_2d as to_dlc_file

    cam1 = given / "A/pose-2d-dlc/cam1.h5"
    p, s, bp = from_dlc_file(cam1)
    cam1.unlink()  # a hard link to sample_data: replace, do not write through
    to_dlc_file(cam1, p + 0.5, s, bp)
    assert _ran(run_project(given)) == ["triangulate:A", "filter:A", "angles:A"]


def test_steps_option_and_missing_upstream(given, capsys):
    summary = run_project(given, steps="triangulate,filter")
    assert list(summary) == ["triangulate", "filter"]
    assert not (given / "A/angles").exists()
    shutil.rmtree(given / "B/pose-3d")
    assert main(["run", str(given), "--steps", "filter", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: session B: filter needs") and "pose-3d" in err[-1]


def _fake_viz3d(calls: list) -> types.ModuleType:
    mod = types.ModuleType("viz3d")

    def render_movie(points3d, skeleton, path, fps=30.0, rig=None):
        calls.append(("movie", points3d.shape, fps, rig.n_cams))
        Path(path).write_bytes(b"movie")

    def export_html(points3d, skeleton, path, rig=None):
        calls.append(("html", len(skeleton.bodyparts)))
        Path(path).write_text("<html></html>")

    mod.render_movie, mod.export_html = render_movie, export_html
    return mod


def test_render_step_through_viz3d(given, monkeypatch, caplog):
    _set(given / "config.toml", "render", "enabled", "true")
    monkeypatch.setitem(sys.modules, "viz3d", types.ModuleType("viz3d"))
    summary = run_project(given)
    assert "viz3d lacks" in summary["render"]["skipped"]
    assert "render step skipped" in caplog.text
    calls: list = []
    monkeypatch.setitem(sys.modules, "viz3d", _fake_viz3d(calls))
    summary = run_project(given)
    assert summary["render"]["ran"] == ["render:A", "render:B"]
    assert ("movie", (150, 16, 3), 100.0, 4) in calls and ("html", 16) in calls
    assert (given / "A/videos-3d/A.mp4").read_bytes() == b"movie"
    assert (given / "B/videos-3d/B.html").is_file()
    assert _ran(run_project(given)) == []


@pytest.mark.slow
def test_analyze_step_per_camera(tmp_path, monkeypatch):
    import pose2d.analyze
    from tests.fixtures.io2d import read_2d as from_dlc_file
    from tests.fixtures.io2d import write_2d as to_dlc_file

    root = tmp_path / "an"
    sample_project(root, calibrate=False, render=False)
    model = root / "model"
    model.mkdir()
    (model / "weights.pt").write_bytes(b"w")
    config = root / "config.toml"
    _set(config, "pose2d", "pose_2d_dir", '""')
    _set(config, "pose2d", "model", '"model"')
    seen = []

    def fake(model_dir, videos, out_dir, **kw):
        (v,) = videos
        seen.append(Path(v).name)
        p, s, bp = from_dlc_file(SAMPLE_DATA / "pose2d" / f"{Path(v).stem}.h5")
        out = Path(out_dir) / f"{Path(v).stem}.h5"
        to_dlc_file(out, p, s, bp, csv=True)
        return [{"video": str(v), "output": str(out), "n_frames": len(p)}]

    monkeypatch.setattr(pose2d.analyze, "analyze_videos", fake)
    summary = run_project(root, steps="analyze,triangulate")
    assert summary["analyze"]["ran"] == [f"analyze:{s}:cam{c}" for s in "AB" for c in range(4)]
    assert sorted(seen) == sorted([f"cam{c}.mp4" for c in range(4)] * 2)
    assert sorted(p.name for p in (root / "A/pose-2d").iterdir()) == [
        f"cam{c}{s}" for c in range(4) for s in (".csv", ".h5")]
    ref = tmp_path / "ref"
    sample_project(ref, calibrate=False, render=False)
    run_project(ref, steps="triangulate")
    assert np.array_equal(*(np.genfromtxt(r / "A/pose-3d/A.csv", delimiter=",", skip_header=1)
                            for r in (root, ref)), equal_nan=True)
    assert _ran(run_project(root, steps="analyze")) == []
    (model / "weights.pt").write_bytes(b"w2")  # a retrained model re-runs analyze
    assert len(_ran(run_project(root, steps="analyze"))) == 8


@pytest.mark.slow
def test_render_with_viz3d(tmp_path):
    """The real viz3d on a 10-frame project: movie and HTML per session, then up to date."""
    viz3d = pytest.importorskip("viz3d")
    if not all(hasattr(viz3d, n) for n in ("render_movie", "export_html")):
        pytest.skip("viz3d lacks render_movie / export_html")
    from tests.fixtures.io2d import read_2d as from_dlc_file
    from tests.fixtures.io2d import write_2d as to_dlc_file

    root = tmp_path / "render"
    sample_project(root, calibrate=False, sessions=("A",))
    for h5 in sorted((root / "A/pose-2d-dlc").iterdir()):
        p, s, bp = from_dlc_file(h5)
        h5.unlink()
        to_dlc_file(h5, p[:10], s[:10], bp)
    try:
        summary = run_project(root)
    except Exception as exc:  # no off-screen OpenGL on this machine
        if type(exc).__name__ == "DisplayError":
            pytest.skip(str(exc))
        raise
    assert summary["render"]["ran"] == ["render:A"]
    assert (root / "A/videos-3d/A.mp4").stat().st_size > 1000
    assert "<html" in (root / "A/videos-3d/A.html").read_text()[:2000].lower()
    assert _ran(run_project(root)) == []


@pytest.mark.slow
def test_analyze_with_the_shipped_model_then_triangulate(tmp_path):
    """The real 2D network through the pipeline: sample_data/model over one session's videos,
    then optim through the true calibration; 3D within a few mm of the ground truth."""
    from synth import load_points3d_csv

    model = SAMPLE_DATA / "model"
    if not (model / "model.pt").is_file():
        pytest.skip("sample_data/model is absent")
    root = tmp_path / "net"
    sample_project(root, calibrate=False, render=False, sessions=("A",))
    config = root / "config.toml"
    _set(config, "pose2d", "pose_2d_dir", '""')
    _set(config, "pose2d", "model", f'"{model.as_posix()}"')
    _set(config, "triangulation", "method", '"optim"')
    summary = run_project(root, steps="analyze,triangulate")
    assert summary["analyze"]["ran"] == [f"analyze:A:cam{c}" for c in range(4)]
    assert sorted(p.name for p in (root / "A/pose-2d").glob("*.h5")) == [
        f"cam{c}.h5" for c in range(4)]
    bodyparts = load_points3d_csv(SAMPLE_DATA / "ground_truth" / "points3d.csv")[1]
    got, _ = load_points3d_csv(root / "A/pose-3d/A.csv", bodyparts)
    truth, _ = load_points3d_csv(SAMPLE_DATA / "ground_truth" / "points3d.csv")
    assert got.shape == truth.shape
    err = np.linalg.norm(got - truth, axis=-1)
    assert np.isfinite(err).mean() > 0.8  # low-score points are left out, not guessed
    assert np.nanmedian(err) < 2.0  # mm; the demo measures ~0.5 mm with this model
    assert _ran(run_project(root, steps="analyze,triangulate")) == []


def test_one_run_per_project(given):
    """A second run of a project while one is working is refused with the holder's pid,
    writes nothing, and runs once the holder is gone, even when it was killed."""
    from calibration.errors import InputError

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from tripose.project.lock import project_lock\n"
         f"with project_lock({str(given)!r}):\n"
         "    print('locked', flush=True)\n"
         "    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(InputError, match=f"another `tripose run`.*pid {holder.pid}"):
            run_project(given, steps="triangulate")
        assert not (given / "A" / "pose-3d" / "A.csv").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    summary = run_project(given, steps="triangulate")
    assert summary["triangulate"]["ran"] == ["triangulate:A", "triangulate:B"]
    assert (given / "A" / "pose-3d" / "A.csv").exists()


def test_render_step_skipped_without_pyvista(given, monkeypatch):
    """``import viz3d`` works without PyVista (it is imported on first use); the render step
    and the demo ask viz3d which modules are missing instead of failing mid-render."""
    import importlib.util

    import viz3d
    from tripose.demo_stages import render_stage

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyvista" else real(name, *a))
    assert viz3d.missing_dependencies() == ["pyvista"]
    _set(given / "config.toml", "render", "enabled", "true")
    summary = run_project(given, steps="triangulate,filter,render")
    assert "pyvista" in summary["render"]["skipped"] and summary["render"]["ran"] == []
    assert not (given / "A/videos-3d/A.mp4").exists()
    part = render_stage(given, given / "demo-out", None, np.zeros((2, 3, 3)), None, None)
    assert part["status"] == "viz3d unavailable" and "pyvista" in part["reason"]


@pytest.mark.parametrize("key, value, needle", [
    ("reference_point", '"tail_tip"', "tail_tip"),
    ("axes", '["x:shoulder:nosuch"]', "nosuch"),
    ("axes", '["w:shoulder:elbow"]', "AXIS:FROM:TO"),
    ("lowpass_hz", "80.0", "80"),
])
def test_filter_settings_checked_before_any_step(given, capsys, key, value, needle):
    _set(given / "config.toml", "filter", key, value)
    assert main(["run", str(given), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: config.toml") and needle in err[0]
    assert not (given / "A" / "pose-3d").exists()  # nothing ran
