"""Active learning on a synthetic session: outlier frames against random frames.

A ``tripose synth`` session (4 cameras, ``--frames`` frames, rendered videos) becomes a tripose
project session (``PROJECT/S/videos-raw/<cam>.mp4``, the true calibration, the synth
skeleton). An *instant* is one frame number in every camera.

- round 0 (shared by both strategies): ``--per-round`` random instants are labelled;
- labelling goes through the labeling app's own HTTP API: the frames are written into
  ``S/labeled-data/<cam>/img<frame>.png``, ``tripose label S --no-browser`` runs as a
  subprocess, and for every instant the script GETs it and PUTs the ground-truth 2D points
  of every camera (``ground_truth/pose2d/<cam>.h5``; keypoints the truth marks occluded are
  marked invisible) with source ``human``, checking the 200. Training reads the
  ``CollectedData_tripose`` files the app wrote;
- each round trains the default backbone of ``tripose train`` (``small``) from scratch on the
  session's labelled frames (``train_fraction=1.0``, seed 0, ``--minutes`` of training), runs
  the pipeline's ``analyze`` and ``triangulate`` steps (``pose-2d/<cam>.h5``,
  ``pose-3d/S.csv``, RANSAC) and measures the 3D error against ``ground_truth/points3d.csv``
  and the 2D RMSE against the true projections (visible keypoints), over all frames and over
  the frames never labelled;
- then each strategy picks the next ``--per-round`` instants among those not labelled yet:
  ``outliers``: :func:`tripose.outliers.extract_session_outliers` (``tripose extract-outliers
  S -n N --seed r``, into a scratch folder); it does not know which frames are labelled, so
  when it re-picks labelled frames it is asked again for more (``n`` + the number re-picked)
  until ``--per-round`` new frames come back, and the best-scored new ones are taken (when
  its candidates, frames past a threshold, run short, seeded random unlabelled frames fill
  the round, counted in the result); ``random``: a seeded draw among the unlabelled frames;
- the strategies run in separate copies of the round-0 project, interleaved round by round
  (outliers then random) so that both see similar load on a shared machine; torch gets
  ``--threads`` (default 1) threads.

    python -m benchmarks.pose2d.active_learning --minutes 5 --work /tmp/tripose_al

Writes ``benchmarks/results/active_learning_synth.json`` (after every round) and
``docs/images/active_learning.png``. Each round's ``pose-2d``/``pose-3d`` files are kept in
``WORK/<strategy>/results_round<r>`` (round 0: ``WORK/round0/results``): besides the errors over
every triangulated point, the table gives the error over the points that every round of both
strategies triangulated (``err3d_common``), which the share of points triangulated does not
move. ``--remeasure`` measures an earlier run's models again (analysis, no training).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
FIGURE = REPO / "docs" / "images" / "active_learning.png"
SESSION = "S"
STRATEGIES = ("outliers", "random")


# -- the session -------------------------------------------------------------------------

def make_synth(path: Path, frames: int, seed: int) -> None:
    """``tripose synth PATH --frames N`` (4 cameras, 640x480) unless it exists."""
    from tripose.cli import main

    if (path / "ground_truth" / "points3d.csv").is_file():
        return
    code = main(["synth", str(path), "--frames", str(frames), "--seed", str(seed),
                 "--calibration-frames", "1"])
    if code:
        raise RuntimeError(f"tripose synth exited with {code}")


def make_project(root: Path, synth: Path) -> Path:
    """Project ``root`` with session ``S`` holding the synth videos and true calibration."""
    from tripose.project import init_project

    init_project(root, sessions=[SESSION], skeleton=synth / "skeleton.toml",
                 overrides=_overrides())
    shutil.copyfile(synth / "ground_truth" / "calibration.toml", root / "calibration.toml")
    for video in sorted((synth / "videos").glob("*.mp4")):
        dst = root / SESSION / "videos-raw" / video.name
        try:
            os.link(video, dst)
        except OSError:
            shutil.copyfile(video, dst)
    return root / SESSION


def _overrides() -> dict:
    return {"calibration": {"calibration_file": "calibration.toml"},
            "render": {"enabled": False}, "angles": {"enabled": False}}


def _copy_project(src: Path, dst: Path) -> None:
    def link_or_copy(a, b):
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)
    shutil.copytree(src, dst, copy_function=lambda a, b: (
        link_or_copy(a, b) if str(a).endswith(".mp4") else shutil.copy2(a, b)))


class Truth:
    """The synth session's exact 2D (per camera) and 3D, by the project's keypoint order."""

    def __init__(self, synth: Path, cams: list[str]):
        from poses import load_poses
        from synth.session import load_points3d_csv

        self.X, self.keypoints = load_points3d_csv(synth / "ground_truth" / "points3d.csv")
        self.cams = cams
        xy, vis = [], []
        for cam in cams:
            p = load_poses(synth / "ground_truth" / "pose2d" / f"{cam}.h5")
            idx = [p.keypoints.index(k) for k in self.keypoints]
            xy.append(p.position[:, 0][:, idx])
            c = p.confidence[:, 0][:, idx]
            vis.append((c >= 0.5) & np.isfinite(xy[-1]).all(-1))
        self.xy = np.stack(xy)            # (C, F, K, 2) px
        self.visible = np.stack(vis)      # (C, F, K)
        self.n_frames = self.X.shape[0]


# -- labelling through the app ------------------------------------------------------------

class LabelApp:
    """``tripose label SESSION --no-browser`` in a subprocess; JSON requests with the token."""

    def __init__(self, session: Path):
        exe = Path(sys.executable).with_name("tripose")
        cmd = [str(exe)] if exe.is_file() else [sys.executable, "-m", "tripose"]
        self.proc = subprocess.Popen([*cmd, "label", str(session), "--no-browser"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http"):
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.close()
            raise RuntimeError(f"tripose label printed {line!r}; {err.strip()}")
        url = urllib.parse.urlparse(line)
        self.base = f"{url.scheme}://{url.netloc}"
        self.token = urllib.parse.parse_qs(url.query)["token"][0]
        # the URL is printed once the port is bound, before uvicorn listens on it: a client
        # that connects at once can be refused for a moment
        deadline = time.monotonic() + 60
        while True:
            try:
                self.request("GET", "/api/meta")
                break
            except urllib.error.URLError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise
                time.sleep(0.1)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"X-Tripose-Token": self.token,
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _q(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def label_from_truth(session: Path, frames: list[int], names: list[str], truth: Truth) -> dict:
    """Label ``frames`` (images ``names`` in every camera folder) with the true 2D points
    through the app's HTTP API; returns counts."""
    placed = invisible = 0
    with LabelApp(session) as app:
        status, meta = app.request("GET", "/api/meta")
        assert status == 200, meta
        groups = [g for g in meta["groups"] if sorted(g["views"]) == sorted(truth.cams)]
        assert len(groups) == 1, meta["groups"]
        gid = groups[0]["id"]
        bodyparts = meta["bodyparts"]
        assert set(bodyparts) == set(truth.keypoints), (bodyparts, truth.keypoints)
        kidx = {k: i for i, k in enumerate(truth.keypoints)}
        for f, iid in zip(frames, names, strict=True):
            status, inst = app.request("GET", f"/api/groups/{_q(gid)}/instants/{_q(iid)}")
            assert status == 200, (iid, inst)
            assert all(inst["views"][c]["exists"] for c in truth.cams), (iid, inst["views"])
            points, hidden = {}, {}
            for c, cam in enumerate(truth.cams):
                points[cam], hidden[cam] = [], []
                for bp in bodyparts:
                    k = kidx[bp]
                    if truth.visible[c, f, k]:
                        x, y = truth.xy[c, f, k]
                        points[cam].append({"individual": "", "bodypart": bp, "x": float(x),
                                            "y": float(y), "source": "human"})
                    else:
                        hidden[cam].append(["", bp])
                placed += len(points[cam])
                invisible += len(hidden[cam])
            status, out = app.request("PUT", f"/api/groups/{_q(gid)}/instants/{_q(iid)}",
                                      {"versions": inst["versions"], "points": points,
                                       "invisible": hidden})
            if status != 200:
                raise RuntimeError(f"PUT {iid}: {status} {out}")
        status, listing = app.request("GET", f"/api/groups/{_q(gid)}/instants")
        assert status == 200
        done = {r["id"]: r["n_labeled"] for r in listing}
        assert all(done.get(n) == len(truth.cams) for n in names), "unlabelled instants left"
    return {"points": placed, "invisible": invisible, "instants_labelled_total":
            sum(1 for v in done.values() if v)}


def labelled_frames(session: Path) -> set[int]:
    """Frame numbers of the images with a CollectedData row (every camera folder)."""
    import pandas as pd

    frames = set()
    for h5 in (session / "labeled-data").glob("*/CollectedData_*.h5"):
        df = pd.read_hdf(h5, "df_with_missing")
        for row in df.index:
            name = row[-1] if isinstance(row, tuple) else str(row).rsplit("/", 1)[-1]
            frames.add(int(Path(name).stem[3:]))
    return frames


# -- picking -------------------------------------------------------------------------------

def pick_random(n_frames: int, exclude: set[int], n: int, seed: list[int]) -> list[int]:
    pool = np.array(sorted(set(range(n_frames)) - exclude))
    return sorted(int(f) for f in np.random.default_rng(seed).choice(pool, n, replace=False))


def pick_outliers(session: Path, scratch: Path, exclude: set[int], n: int, seed: int) -> dict:
    """``extract-outliers -n N --seed seed`` into ``scratch``; asked again for more while it
    re-picks labelled frames; the best-scored ``n`` new frames."""
    from tripose.outliers import extract_session_outliers

    ask, calls = n, []
    while True:
        res = extract_session_outliers(session, scratch, n=ask, seed=seed)
        new = [f for f in res.frames if f not in exclude]
        calls.append({"n": ask, "picked": len(res.frames), "new": len(new)})
        candidates = int((res.table["score"] > 1).sum())
        if len(new) >= n or len(res.frames) < ask or ask >= candidates:
            break
        ask += n - len(new)
    score = res.table.set_index("frame")["score"]
    new.sort(key=lambda f: -score[f])
    chosen = new[:n]
    topped = n - len(chosen)
    if topped:  # fewer candidates than needed: random unlabelled frames fill the round
        chosen += pick_random(len(res.table), exclude | set(chosen), topped, [seed, 99])
    reasons = res.table.set_index("frame").loc[chosen, "reason"].value_counts().to_dict()
    return {"frames": sorted(chosen), "calls": calls, "candidates": candidates,
            "repicked_labelled": calls[0]["picked"] - calls[0]["new"],
            "topped_up_random": topped,
            "reasons": {str(k): int(v) for k, v in reasons.items()},
            "scores": [float(score[f]) for f in sorted(chosen)]}


def add_frames(session: Path, frames: list[int], cams: list[str], basis: int,
               scratch: Path | None = None) -> list[str]:
    """Images of ``frames`` in ``labeled-data/<cam>/``: copied from what extract-outliers
    wrote into ``scratch``, or written from the videos."""
    from pose2d.extract import frame_image_name, write_frames

    names = [frame_image_name(f, basis) for f in frames]
    for cam in cams:
        out = session / "labeled-data" / cam
        out.mkdir(parents=True, exist_ok=True)
        todo = []
        for f, name in zip(frames, names, strict=True):
            if scratch is not None and (scratch / cam / name).is_file():
                shutil.copyfile(scratch / cam / name, out / name)
            else:  # random picks, and outlier picks topped up by rank
                todo.append(f)
        if todo:
            write_frames(session / "videos-raw" / f"{cam}.mp4", todo, out, n_frames=basis)
    return names


# -- a round: train, analyze, triangulate, measure ----------------------------------------

def analyze_session(project: Path, model: Path) -> None:
    """The pipeline's ``analyze`` and ``triangulate`` steps with ``model``."""
    from tripose.project import init_project, run_project

    init_project(project, sessions=[SESSION], model=model, overrides=_overrides(), force=True)
    run_project(project, steps=["analyze", "triangulate"], force=True)


def keep_results(session: Path, keep: Path) -> None:
    """Copy the round's ``pose-2d/<cam>.h5`` and ``pose-3d/S.csv`` into ``keep``."""
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(session / "pose-3d" / f"{SESSION}.csv", keep / "pose3d.csv")
    for h5 in (session / "pose-2d").glob("*.h5"):
        shutil.copyfile(h5, keep / h5.name)


def load_3d(path: Path, truth: Truth) -> np.ndarray:
    """A pose-3d CSV as ``(n_frames, n_keypoints, 3)`` in the truth's keypoint order."""
    from poses import load_poses

    p3 = load_poses(path, format="anipose")
    X = np.full_like(truth.X, np.nan)
    fi = p3.frame_index
    ok = (fi >= 0) & (fi < truth.n_frames)
    kk = [p3.keypoints.index(k) for k in truth.keypoints]
    X[fi[ok]] = p3.position[ok, 0][:, kk]
    return X


def _stats3(e: np.ndarray) -> dict:
    f = e[np.isfinite(e)]
    out = {"fraction_triangulated": float(np.isfinite(e).mean()),
           "within_1mm": float((f <= 1.0).sum() / e.size),
           "within_2mm": float((f <= 2.0).sum() / e.size)}
    if not f.size:
        return {"median_mm": None, "mean_mm": None, "p95_mm": None, **out}
    return {"median_mm": float(np.median(f)), "mean_mm": float(f.mean()),
            "p95_mm": float(np.percentile(f, 95)), **out}


def measure(keep: Path, truth: Truth, labelled: list[int]) -> dict:
    """3D error (mm) and 2D RMSE (px, visible keypoints) of a round's kept results, over
    every frame and over the frames never labelled. ``within_1mm``/``within_2mm``: shares of
    all (frame, keypoint) points triangulated that close (untriangulated ones count as
    misses)."""
    from poses import load_poses

    mask = np.ones(truth.n_frames, bool)
    mask[labelled] = False                       # frames never labelled
    e3 = np.linalg.norm(load_3d(keep / "pose3d.csv", truth) - truth.X, axis=-1)  # (F, K) mm
    d2 = []
    for c, cam in enumerate(truth.cams):
        p2 = load_poses(keep / f"{cam}.h5")
        k2 = [p2.keypoints.index(k) for k in truth.keypoints]
        xy = p2.position[:truth.n_frames, 0][:, k2]
        d = np.linalg.norm(xy - truth.xy[c], axis=-1)
        d2.append(np.where(truth.visible[c], d, np.nan))
    d2 = np.stack(d2)                            # (C, F, K) px, NaN where not visible

    def rmse(d):
        f = d[np.isfinite(d)]
        return float(np.sqrt(np.mean(f ** 2))) if f.size else None

    per_kp = {k: (float(np.median(e3[np.isfinite(e3[:, j]), j]))
                  if np.isfinite(e3[:, j]).any() else None)
              for j, k in enumerate(truth.keypoints)}
    return {"n_labelled_instants": len(labelled), "results_dir": str(keep),
            "err3d_all": _stats3(e3), "err3d_unlabelled": _stats3(e3[mask]),
            "rmse2d_px_all": rmse(d2), "rmse2d_px_unlabelled": rmse(d2[:, mask]),
            "err3d_median_by_keypoint_mm": per_kp}


def train_config(n_images: int, minutes: float, steps: int | None, seed: int):
    """The round's :class:`~pose2d.train.TrainConfig`: ``minutes`` of training, or with
    ``steps`` the whole number of epochs closest to that many steps (``ceil(n / batch)``
    steps an epoch), whatever the machine's load."""
    from pose2d.train import TrainConfig

    cfg = TrainConfig(backbone="small", max_minutes=minutes, seed=seed, train_fraction=1.0)
    if steps:
        per_epoch = max(1, math.ceil(n_images / cfg.batch_size))
        cfg = replace(cfg, max_minutes=None, epochs=max(1, round(steps / per_epoch)))
    return cfg


def train_and_measure(project: Path, model: Path, keep: Path, truth: Truth, minutes: float,
                      seed: int, steps: int | None = None) -> dict:
    from pose2d.dataset import load_labeled_data
    from pose2d.train import train

    session = project / SESSION
    labelled = sorted(labelled_frames(session))
    if model.exists():
        shutil.rmtree(model)
    t0 = time.perf_counter()
    data = load_labeled_data(session)
    cfg = train_config(len(data), minutes, steps, seed)
    tr = train(data, model, cfg, progress=False)
    t1 = time.perf_counter()
    analyze_session(project, model)
    t2 = time.perf_counter()
    keep_results(session, keep)
    return {**measure(keep, truth, labelled), "model_dir": str(model),
            "n_train_images": tr["n_train"], "iterations": tr["iterations"],
            "train_epochs_asked": cfg.epochs,
            "epochs": tr["epochs"], "train_minutes": tr["train_minutes"],
            "train_s": t1 - t0, "analyze_triangulate_s": t2 - t1}


def _entries(result: dict) -> list[dict]:
    return [result["round0"], *(r for s in STRATEGIES for r in result["strategies"][s])]


def add_common(result: dict, truth: Truth) -> None:
    """``err3d_common`` in every round: the 3D error over the points that every round of
    both strategies triangulated (the same points for all, so coverage does not move it)."""
    Xs = [load_3d(Path(e["results_dir"]) / "pose3d.csv", truth) for e in _entries(result)]
    common = np.all([np.isfinite(X).all(-1) for X in Xs], axis=0)
    result["common_points"] = {"n": int(common.sum()), "fraction_of_all": float(common.mean())}
    for e, X in zip(_entries(result), Xs, strict=True):
        err = np.linalg.norm(X - truth.X, axis=-1)[common]
        e["err3d_common"] = ({"median_mm": float(np.median(err)), "mean_mm": float(err.mean()),
                              "p95_mm": float(np.percentile(err, 95))} if err.size else
                             {"median_mm": None, "mean_mm": None, "p95_mm": None})


def remeasure(result: dict, work: Path, synth: Path, truth: Truth) -> None:
    """Measure the rounds of an earlier run again from its models: rounds whose results were
    not kept are analyzed and triangulated again in a scratch project."""
    scratch = work / "remeasure" / "proj"
    paths = {id(result["round0"]): (work / "round0" / "model", work / "round0" / "results")}
    for s in STRATEGIES:
        for i, r in enumerate(result["strategies"][s]):
            paths[id(r)] = (work / s / f"model_round{i + 1}", work / s / f"results_round{i + 1}")
    labelled = {id(result["round0"]): list(result["round0"]["picked"]["frames"])}
    for s in STRATEGIES:
        done = list(result["round0"]["picked"]["frames"])
        for r in result["strategies"][s]:
            done = done + list(r["picked"]["frames"])
            labelled[id(r)] = sorted(done)
    for e in _entries(result):
        model, keep = (Path(e["model_dir"]), Path(e["results_dir"])) if "results_dir" in e \
            else paths[id(e)]
        if not (keep / "pose3d.csv").is_file():
            if not (scratch / SESSION).is_dir():
                make_project(scratch, synth)
            analyze_session(scratch, model)
            keep_results(scratch / SESSION, keep)
        before = e.get("err3d_all", {}).get("median_mm")
        e.update(measure(keep, truth, sorted(labelled[id(e)])), model_dir=str(model))
        print(f"remeasured {keep}: 3D median {_f(e['err3d_all']['median_mm'], 4)} mm "
              f"(recorded {_f(before, 4)})", flush=True)


# -- output --------------------------------------------------------------------------------

def _value(r: dict, key: str, sub: str | None) -> float:
    v = (r.get(key) or {}).get(sub) if sub else r.get(key)
    return np.nan if v is None else v


def plot(result: dict, png: Path) -> None:
    """3D median error (all triangulated points; the points every round triangulated) and
    2D RMSE against labelled instants, one line per strategy from the shared round 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    common = result.get("common_points", {}).get("fraction_of_all", 0.0)
    panels = (("err3d_all", "median_mm", "3D error, median (mm)",
               "every triangulated point"),
              ("err3d_common", "median_mm", "3D error, median (mm)",
               f"points triangulated in every run ({100 * common:.0f}% of all)"),
              ("rmse2d_px_all", None, "2D RMSE (px)", "every visible point, 4 cameras"))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    r0 = result["round0"]
    for ax, (key, sub, label, title) in zip(axes, panels, strict=True):
        for strategy, color in zip(STRATEGIES, ("C3", "C0"), strict=True):
            rows = [r0, *result["strategies"][strategy]]
            x = [r["n_labelled_instants"] for r in rows]
            y = [_value(r, key, sub) for r in rows]
            ax.plot(x, y, marker="o", color=color,
                    label="extract-outliers" if strategy == "outliers" else "random")
        ax.set(xlabel="labelled instants (x 4 cameras)", ylabel=label, ylim=(0, None))
        ax.set_title(title, fontsize=9)
        ax.set_xticks([r["n_labelled_instants"] for r in [r0, *result["strategies"]["random"]]])
        ax.grid(alpha=0.3)
    axes[0].legend()
    budget = (f"~{result['steps']} training steps" if result.get("steps") else
              f"{result['minutes']:g} min of CPU training")
    fig.suptitle(f"Active learning on a synthetic session ({result['frames']} frames x 4 "
                 f"cameras; {budget} per round, from scratch; one seed)", fontsize=10)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)


def _f(value, digits: int = 2) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def table(result: dict) -> str:
    """The markdown table of every round."""
    lines = ["| round | labelled instants | strategy | 3D median (mm) | 3D mean (mm) | "
             "points triangulated | within 1 mm | 3D median, common points (mm) | 3D mean, "
             "common points (mm) | 2D RMSE (px) | training steps |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    r0 = result["round0"]
    rows = [(0, "shared (random)", r0)]
    for i in range(len(result["strategies"]["random"])):
        for s in STRATEGIES:
            if i < len(result["strategies"][s]):
                rows.append((i + 1, s, result["strategies"][s][i]))
    for rnd, s, r in rows:
        e = r["err3d_all"]
        c = r.get("err3d_common", {})
        within = e.get("within_1mm")
        lines.append(f"| {rnd} | {r['n_labelled_instants']} | {s} | {_f(e['median_mm'])} | "
                     f"{_f(e['mean_mm'])} | {100 * e['fraction_triangulated']:.1f}% | "
                     + (f"{100 * within:.1f}%" if within is not None else "n/a")
                     + f" | {_f(c.get('median_mm'))} | {_f(c.get('mean_mm'))} | "
                     f"{_f(r['rmse2d_px_all'])} | {r['iterations']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (see the module docstring); prints one line per round."""
    import torch

    from benchmarks.common import RESULTS, save_result
    from tripose.project.layout import video_frame_count

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=3.0, help="training budget per round")
    ap.add_argument("--steps", type=int, default=None, help="train each round for about this "
                    "many steps instead (whole epochs; --minutes is then ignored): the same "
                    "training however loaded the machine is")
    ap.add_argument("--work", type=Path, default=Path("/tmp/tripose_active_learning"))
    ap.add_argument("--frames", type=int, default=400, help="frames of the synth session")
    ap.add_argument("--per-round", type=int, default=20, help="instants labelled per round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds after round 0")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: on a shared "
                    "2-core machine two threads contend with the other jobs and train ~9x "
                    "slower)")
    ap.add_argument("--name", default="active_learning_synth")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--remeasure", action="store_true", help="measure the rounds of the run "
                    "in results/<name>.json again from the models in --work (no training): "
                    "adds the metrics of a newer version of this script")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    work = args.work
    synth = work / "synth"

    def finish(result: dict, truth: Truth) -> None:
        add_common(result, truth)
        print(save_result(args.name, result))
        print(table(result))
        if not args.no_plot:
            plot(result, FIGURE)
            print(FIGURE)

    if args.remeasure:
        result = json.loads((RESULTS / f"{args.name}.json").read_text(encoding="utf-8"))
        result.pop("environment", None)
        truth = Truth(synth, result["cameras"])
        remeasure(result, work, synth, truth)
        result["remeasure_s"] = time.perf_counter() - t_start
        finish(result, truth)
        return
    make_synth(synth, args.frames, args.seed)
    for d in ("round0", *STRATEGIES):
        if (work / d).exists():
            shutil.rmtree(work / d)
    session = make_project(work / "round0" / "proj", synth)
    cams = sorted(p.stem for p in (session / "videos-raw").glob("*.mp4"))
    truth = Truth(synth, cams)
    basis = max([*(video_frame_count(session / "videos-raw" / f"{c}.mp4") for c in cams),
                 truth.n_frames])
    result = {"benchmark": "active_learning", "frames": truth.n_frames, "cameras": cams,
              "minutes": None if args.steps else args.minutes, "steps": args.steps,
              "per_round": args.per_round, "rounds": args.rounds,
              "seed": args.seed, "threads": args.threads, "backbone": "small",
              "synth": f"tripose synth --frames {args.frames} --seed {args.seed} (640x480)",
              "strategies": {s: [] for s in STRATEGIES}}

    def report(tag: str, r: dict) -> None:
        e = r["err3d_all"]
        print(f"{tag:16s} {r['n_labelled_instants']:3d} instants: 3D median "
              f"{_f(e['median_mm'], 3)} mm, mean {_f(e['mean_mm'], 3)} mm, "
              f"{100 * e['fraction_triangulated']:.1f}% triangulated, 2D RMSE "
              f"{_f(r['rmse2d_px_all'])} px "
              f"({r['iterations']} steps, train {r['train_s']:.0f} s, analyze+triangulate "
              f"{r['analyze_triangulate_s']:.0f} s; {time.perf_counter() - t_start:.0f} s "
              f"elapsed)", flush=True)
        result["wall_s"] = time.perf_counter() - t_start
        save_result(args.name, result)

    frames = pick_random(truth.n_frames, set(), args.per_round, [args.seed, 0])
    t = time.perf_counter()
    names = add_frames(session, frames, cams, basis)
    lab = label_from_truth(session, frames, names, truth)
    t_label = time.perf_counter() - t
    r0 = train_and_measure(work / "round0" / "proj", work / "round0" / "model",
                           work / "round0" / "results", truth, args.minutes, args.seed,
                           args.steps)
    r0.update(picked={"frames": frames}, labelling=lab, label_s=t_label)
    result["round0"] = r0
    report("round 0", r0)
    for s in STRATEGIES:
        _copy_project(work / "round0" / "proj", work / s / "proj")
    for rnd in range(1, args.rounds + 1):
        for s in STRATEGIES:
            proj = work / s / "proj"
            sess = proj / SESSION
            done = labelled_frames(sess)
            t = time.perf_counter()
            if s == "outliers":
                scratch = work / s / "picks" / f"round{rnd}"
                picked = pick_outliers(sess, scratch, done, args.per_round, seed=rnd - 1)
                names = add_frames(sess, picked["frames"], cams, basis, scratch=scratch)
            else:
                picked = {"frames": pick_random(truth.n_frames, done, args.per_round,
                                                [args.seed, rnd])}
                names = add_frames(sess, picked["frames"], cams, basis)
            assert not set(picked["frames"]) & done
            lab = label_from_truth(sess, picked["frames"], names, truth)
            t_label = time.perf_counter() - t
            r = train_and_measure(proj, work / s / f"model_round{rnd}",
                                  work / s / f"results_round{rnd}", truth, args.minutes,
                                  args.seed, args.steps)
            r.update(picked=picked, labelling=lab, label_s=t_label)
            result["strategies"][s].append(r)
            report(f"round {rnd} {s}", r)
    result["wall_s"] = time.perf_counter() - t_start
    finish(result, truth)


if __name__ == "__main__":
    main()
