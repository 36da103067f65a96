"""``tripose demo``: every stage of the pipeline, for real, on the sample session.

On ``sample_data/`` (or a fresh ``tripose synth`` session):

1. **calibration**: ``calibrate()`` from the ChArUco videos, checked against the true rig;
2. **pose2d**: ``pose2d.analyze`` of the behaviour videos with the small model shipped in
   ``sample_data/model/`` (trained by ``tripose train`` on a *separate* synthetic session, see
   :mod:`tripose.demo_model`; ``train=True`` retrains it), checked against the true 2D;
3. **triangulation**: optim (dlt for comparison) through the calibrated rig with the
   session's skeleton, checked against the true 3D after a rigid alignment; anipose CSV;
4. **render**: ``viz3d``'s picture, movie, HTML page and videos-beside-3D movie.

Writes ``out/summary.json``; :func:`format_table` is the short table the command prints.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from calibration import load_rig
from poses.atomic import make_folder, write_text_atomic
from synth import load_points3d_csv, make_session
from synth.preview import session_preview
from triangulate import load_skeleton

from .demo_model import SHIPPED_MODEL, model_record, read_training_record, train_model
from .demo_stages import calibration_stage, pose2d_stage, render_stage, triangulation_stage

__all__ = ["run_demo", "format_table", "SAMPLE_DATA"]

log = logging.getLogger(__name__)
SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"


def _session(out: Path, session, fresh: bool, seed: int) -> Path:
    if fresh or session is None and not (SAMPLE_DATA / "session.json").exists():
        root = out / "session"
        log.info("generating a synthetic session in %s", root)
        make_session(root, n_cams=4, n_frames=150, seed=seed, n_calibration_frames=100, crf=20)
    else:
        root = Path(session) if session is not None else SAMPLE_DATA
    if not (root / "session.json").exists():
        raise FileNotFoundError(f"{root} is not a tripose synth session (no session.json)")
    return root


def run_demo(out: str | Path = "demo_out", session: str | Path | None = None,
             fresh: bool = False, seed: int = 0, train: bool = False,
             model: str | Path | None = None, combined: bool = True) -> dict:
    """Run every stage on a synthetic session and write ``out/summary.json``.

    Parameters
    ----------
    out : output folder
    session : a ``tripose synth`` folder (default: ``sample_data/``)
    fresh : generate a new session into ``out/session`` instead
    seed : seed of the fresh session
    train : retrain the 2D model into ``out/model`` with the shipped model's recorded
        commands (minutes) and use it
    model : a model folder to use instead of ``sample_data/model`` (needs ``evaluation.json``)
    combined : also render the videos-beside-3D movie

    Returns
    -------
    summary : dict (also written to ``out/summary.json``)
    """
    t0 = time.perf_counter()
    out = make_folder(out, "--out folder")
    model_dir = None if train else Path(model) if model is not None else SHIPPED_MODEL
    if model_dir is not None:  # a missing or incomplete model refused before any stage
        from pose2d.model_folder import read_settings

        if not model_dir.is_dir():
            raise FileNotFoundError(f"model folder {model_dir} does not exist")
        read_settings(model_dir)
        record = model_record(model_dir)
    root = _session(out, session, fresh, seed)
    meta = json.loads((root / "session.json").read_text(encoding="utf-8"))
    summary: dict = {"session": str(root), "seed": meta.get("seed"), "seconds": {}}
    if root == out / "session":
        summary["seconds"]["session"] = round(time.perf_counter() - t0, 2)

    truth_rig = load_rig(root / "ground_truth" / "calibration.toml")
    truth3d, _ = load_points3d_csv(root / "ground_truth" / "points3d.csv")
    skeleton = load_skeleton(root / "skeleton.toml")

    rig, summary["calibration"] = calibration_stage(root, out, truth_rig)
    summary["seconds"]["calibration"] = summary["calibration"]["seconds"]

    t = time.perf_counter()
    if model_dir is None:
        model_dir = train_model(out)
        summary["seconds"]["train"] = round(time.perf_counter() - t, 2)
        record = model_record(model_dir)
    if meta.get("seed") == _training_seed(model_dir) and root != SAMPLE_DATA:
        log.warning("the session's seed %s is the model's training session's: the 2D errors "
                    "are not held out", meta.get("seed"))
    tracks, summary["pose2d"] = pose2d_stage(root, out, rig.names, model_dir, record)
    summary["pose2d"]["trained_here"] = bool(train)
    summary["seconds"]["pose2d"] = summary["pose2d"]["seconds"]

    points3d, summary["triangulation"] = triangulation_stage(
        root, out, rig, truth_rig, truth3d, skeleton, float(meta.get("fps", 100.0)), tracks)
    summary["seconds"]["triangulation"] = summary["triangulation"]["seconds"]

    render = render_stage(root, out, rig, points3d, skeleton, tracks, combined=combined)
    summary["render"] = render
    summary["seconds"]["render"] = render["seconds"]
    summary["pictures"] = {"synth_preview": str(session_preview(root, out / "synth_preview.png"))}
    for png in sorted((out / "calibration_report").glob("*.png")):
        summary["pictures"][f"calibration_{png.stem}"] = str(png)
    if render.get("picture"):
        summary["pictures"]["pose3d"] = render["picture"]
    summary["movie"] = render.get("movie")
    summary["html"] = render.get("html")
    summary["combined_video"] = render.get("combined_video")
    summary["seconds"]["total"] = round(time.perf_counter() - t0, 2)
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def _training_seed(model_dir: Path):
    try:
        cmds = read_training_record(model_dir)["commands"]
    except (FileNotFoundError, KeyError):
        return None
    for c in cmds:
        words = c.split()
        if words[:2] == ["tripose", "synth"] and "--seed" in words:
            return int(words[words.index("--seed") + 1])
    return None


def _fmt(x, spec: str = ".2f") -> str:
    return "n/a" if x is None else format(x, spec)


def format_table(s: dict) -> str:
    """The short table ``tripose demo`` prints: stage, figure against the truth, seconds."""
    c, p, tr, r = s["calibration"], s["pose2d"], s["triangulation"], s["render"]
    m = tr["methods"]
    if r["status"] == "ok":
        made = ["picture", "movie", "HTML"] + (["combined video"] if r.get("combined_video")
                                               else [])
        render = ", ".join(made)
    else:
        render = r["status"]
    rows = [
        ("calibration", f"median reprojection {_fmt(c['reprojection_median_px'], '.3f')} px; "
                        f"max centre error {_fmt(c['center_error_mm_max'], '.2f')} mm"),
        ("pose2d", f"test RMSE {_fmt(p['test_rmse_px'])} px (held out, {p['n_test']} frames); "
                   f"videos {_fmt(p['video_rmse_px'])} px ({p['video_frames']} frames)"),
        ("triangulation", f"optim median {_fmt(tr['median_error_mm'], '.3f')} mm, p95 "
                          f"{_fmt(tr['p95_error_mm'], '.3f')} mm (dlt "
                          f"{_fmt(m['dlt']['median_error_mm'], '.3f')} mm)"),
        ("render", render),
    ]
    if "session" in s["seconds"]:
        rows.insert(0, ("session", f"generated: tripose synth --seed {s.get('seed')}"))
    if "train" in s["seconds"]:
        rows.insert(1, ("train", f"{p['iterations']} iterations, "
                                 f"{_fmt(p['train_minutes'], '.1f')} min"))
    secs = dict(s["seconds"])
    w = max(len(f) for _, f in rows)
    lines = [f"{'stage':<14} {'figure (against ground truth)':<{w}} {'seconds':>8}"]
    for stage, fig in rows:
        lines.append(f"{stage:<14} {fig:<{w}} {secs.get(stage, 0.0):>8.1f}")
    lines.append(f"{'total':<14} {'':<{w}} {secs['total']:>8.1f}")
    return "\n".join(lines)
