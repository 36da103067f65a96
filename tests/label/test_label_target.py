"""TARGET discovery, the label files' layouts, bad input (one line, exit 2) and the lock."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pandas as pd
import pytest
from starlette.testclient import TestClient

from calibration.errors import InputError
from calibration.save_rig import to_anipose_toml
from poses.io.dlc import load_dlc, save_dlc
from poses.model import Poses
from tripose.cli import main
from tripose.label.lock import LABEL_LOCK, label_lock
from tripose.label.server import create_app
from tripose.label.target import discover

H = {"X-Tripose-Token": "t"}


def cli(capsys, *args) -> tuple[int, str]:
    code = main(["label", *map(str, args), "--no-browser"])
    err = capsys.readouterr().err
    return code, err


def one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for w in words:
        assert w in lines[0], (w, lines[0])


def put(client, gid, iid, views: dict, invisible: dict | None = None):
    cur = client.get(f"/api/groups/{gid}/instants/{iid}", headers=H).json()
    body = {"versions": cur["versions"], "points": views, "invisible": invisible or {}}
    r = client.put(f"/api/groups/{gid}/instants/{iid}", headers=H, json=body)
    assert r.status_code == 200, r.text
    return r


# ------------------------------------------------------------------------ discovery
def test_frames_folder_with_calibration(synth_frames):
    t = discover(synth_frames["root"])
    assert t.kind == "folder" and t.scorer == "tripose" and t.individuals == [""]
    assert t.bodyparts == synth_frames["bodyparts"]
    assert [list(e) for e in t.skeleton] == synth_frames["limbs"]
    (g,) = t.groups.values()
    assert g.id == "frames" and list(g.views) == synth_frames["views"]
    assert g.rig is not None and g.rig.names == synth_frames["views"]
    assert g.instants() == synth_frames["images"]


def test_groups_by_camera_name_in_folder_names(synth_frames, tmp_path):
    root = tmp_path / "many"
    for session in ("session1", "session2"):
        for cam in synth_frames["views"]:
            shutil.copytree(synth_frames["root"] / cam, root / f"{session}_{cam}")
    shutil.copytree(synth_frames["root"] / "cam0", root / "other")
    (root / "other" / "img0000.png").rename(root / "other" / "img0005.png")
    t = discover(root, calibration=synth_frames["root"] / "calibration.toml",
                 skeleton=synth_frames["root"] / "skeleton.toml")
    assert list(t.groups) == ["other", "session1", "session2"]
    assert list(t.groups["session2"].views) == synth_frames["views"]
    assert t.groups["session2"].views["cam1"].folder == root / "session2_cam1"
    assert t.groups["other"].rig is None and list(t.groups["other"].views) == ["other"]
    # without a calibration every folder is a group of one view
    t = discover(root, bodyparts="a,b")
    assert len(t.groups) == 9 and all(len(g.views) == 1 for g in t.groups.values())


def test_single_view_folder_and_bodyparts_from_labels(dlc_project, tmp_path):
    folder = tmp_path / "frames"
    shutil.copytree(dlc_project["folder"], folder)
    with pytest.raises(InputError, match="--bodyparts"):
        discover(folder)
    t = discover(folder, bodyparts="nose,ear,tail", scorer="bob")
    (g,) = t.groups.values()
    assert g.id == "frames" and list(g.views) == ["frames"]
    with TestClient(create_app(t, "t")) as c:
        put(c, "frames", "img0001.png", {"frames": [{"individual": "", "bodypart": "ear",
                                                      "x": 1.0, "y": 2.0}]})
    assert (folder / "CollectedData_bob.h5").is_file()
    t = discover(folder)  # the existing labels give bodyparts and scorer
    assert t.bodyparts == ["nose", "ear", "tail"] and t.scorer == "bob"


def test_dlc_project_rows_and_training_reads_them(dlc_project):
    from pose2d.dataset import load_labeled_data

    t = discover(dlc_project["root"])
    assert t.kind == "dlc" and t.scorer == "alice" and t.bodyparts == dlc_project["bodyparts"]
    assert t.skeleton == [("nose", "ear"), ("ear", "tail")]
    assert list(t.groups) == ["vid1"] and t.groups["vid1"].rig is None
    with TestClient(create_app(t, "t")) as c:
        meta = c.get("/api/meta", headers=H).json()
        assert meta["kind"] == "dlc" and meta["groups"][0]["calibrated"] is False
        assert c.post("/api/groups/vid1/epipolar", headers=H,
                      json={"view": "vid1", "x": 1, "y": 1}).status_code == 400
        for i, iid in enumerate(("img0002.png", "img0000.png")):
            put(c, "vid1", iid, {"vid1": [
                {"individual": "", "bodypart": b, "x": 10.0 * i + k, "y": 20.0 + k}
                for k, b in enumerate(dlc_project["bodyparts"])]})
    df = pd.read_hdf(dlc_project["folder"] / "CollectedData_alice.h5", "df_with_missing")
    assert list(df.index) == [("labeled-data", "vid1", "img0000.png"),
                              ("labeled-data", "vid1", "img0002.png")]
    assert df.columns.get_level_values(0).unique().tolist() == ["alice"]
    csv_df = load_dlc(dlc_project["folder"] / "CollectedData_alice.csv")
    assert np.array_equal(csv_df.position, load_dlc(dlc_project["folder"] /
                                                    "CollectedData_alice.h5").position,
                          equal_nan=True)
    data = load_labeled_data(dlc_project["root"])
    assert len(data.images) == 2


def test_existing_one_level_rows_stay_one_level(dlc_project):
    bps, folder = dlc_project["bodyparts"], dlc_project["folder"]
    pos = np.array([[[[1.5, 2.5], [np.nan, np.nan], [7.0, 8.0]]]])
    path = folder / "CollectedData_alice.h5"
    save_dlc(Poses(pos, keypoints=bps, attrs={"scorer": "alice", "labels": True,
                                              "image_paths": ["labeled-data/vid1/img0003.png"],
                                              "index_levels": 1}), path, csv=True)
    before = pd.read_hdf(path)
    with TestClient(create_app(discover(dlc_project["root"]), "t")) as c:
        got = c.get("/api/groups/vid1/instants/img0003.png", headers=H).json()
        assert [p["source"] for p in got["points"]["vid1"]] == ["human", "human"]
        put(c, "vid1", "img0001.png", {"vid1": [{"individual": "", "bodypart": "tail",
                                                 "x": 3.0, "y": 4.0}]})
    after = pd.read_hdf(path)
    assert list(after.index) == ["labeled-data/vid1/img0001.png",
                                 "labeled-data/vid1/img0003.png"]
    pd.testing.assert_series_equal(after.loc["labeled-data/vid1/img0003.png"],
                                   before.loc["labeled-data/vid1/img0003.png"])


def test_multi_animal_dlc_project(dlc_project):
    cfg = dlc_project["config"]
    text = cfg.read_text().replace("multianimalproject: false", "multianimalproject: true")
    text = text.replace("bodyparts:\n- nose\n- ear\n- tail\n",
                        "bodyparts: MULTI!\nmultianimalbodyparts:\n- nose\n- ear\n"
                        "uniquebodyparts:\n- tail\nindividuals:\n- mus1\n- mus2\n")
    cfg.write_text(text)
    t = discover(dlc_project["root"])
    assert t.individuals == ["mus1", "mus2", "single"] and t.bodyparts == ["nose", "ear", "tail"]
    assert t.unique_bodyparts == ["tail"]
    with TestClient(create_app(t, "t")) as c:
        pts = [{"individual": "mus2", "bodypart": "ear", "x": 5.0, "y": 6.0},
               {"individual": "single", "bodypart": "tail", "x": 7.0, "y": 8.0}]
        put(c, "vid1", "img0001.png", {"vid1": pts}, {"vid1": [["mus1", "nose"]]})
        got = c.get("/api/groups/vid1/instants/img0001.png", headers=H).json()
        key = lambda p: p["individual"]  # noqa: E731
        assert sorted(got["points"]["vid1"], key=key) == sorted(
            [{**p, "source": "human"} for p in pts], key=key)
        assert got["invisible"]["vid1"] == [["mus1", "nose"]]
        bad = c.put("/api/groups/vid1/instants/img0001.png", headers=H, json={
            "versions": got["versions"], "points": {"vid1": [
                {"individual": "mus1", "bodypart": "tail", "x": 1, "y": 1}]}})
        assert bad.status_code == 400
    df = pd.read_hdf(dlc_project["folder"] / "CollectedData_alice.h5")
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert df.loc[("labeled-data", "vid1", "img0001.png"), ("alice", "mus2", "ear", "y")] == 6


def test_tripose_session(synth_frames, tmp_path):
    project = tmp_path / "proj"
    session = project / "session1"
    for cam in synth_frames["views"]:
        shutil.copytree(synth_frames["root"] / cam, session / "labeled-data" / cam)
    (project / "config.toml").write_text('[project]\nskeleton = "skel.toml"\n')
    shutil.copy(synth_frames["root"] / "skeleton.toml", project / "skel.toml")
    (session / "calibration").mkdir()
    shutil.copy(synth_frames["root"] / "calibration.toml",
                session / "calibration" / "calibration.toml")
    t = discover(session)
    assert t.kind == "session" and t.bodyparts == synth_frames["bodyparts"]
    (g,) = t.groups.values()
    assert g.id == "session1" and g.rig is not None and list(g.views) == synth_frames["views"]
    with pytest.raises(InputError, match="label one of its sessions"):
        discover(project)


# ------------------------------------------------------------------------ bad input (CLI)
def test_no_frames(capsys, tmp_path, dlc_project):
    (tmp_path / "empty").mkdir()
    one_line_error(*cli(capsys, tmp_path / "empty", "--bodyparts", "a"), "extract-frames")
    shutil.rmtree(dlc_project["folder"])
    one_line_error(*cli(capsys, dlc_project["root"]), "no frames", "extract-frames")
    one_line_error(*cli(capsys, tmp_path / "missing"), "not a folder")


def test_config_disagrees_with_existing_labels(capsys, dlc_project):
    path = dlc_project["folder"] / "CollectedData_alice.h5"
    save_dlc(Poses(np.ones((1, 1, 2, 2)), keypoints=["nose", "paw"],
                   attrs={"scorer": "alice", "labels": True, "index_levels": 3,
                          "image_paths": ["labeled-data/vid1/img0000.png"]}), path)
    data = path.read_bytes()
    code, err = cli(capsys, dlc_project["root"])
    one_line_error(code, err, "config.yaml", str(path), "paw", "tail")
    assert path.read_bytes() == data


def test_corrupt_labels_are_named_and_kept(capsys, dlc_project):
    path = dlc_project["folder"] / "CollectedData_alice.h5"
    path.write_bytes(b"garbage, not HDF5")
    one_line_error(*cli(capsys, dlc_project["root"]), str(path), "never overwrites")
    assert path.read_bytes() == b"garbage, not HDF5"


def test_calibration_matching_no_folder(capsys, synth_frames, dlc_project):
    cal = synth_frames["root"] / "calibration.toml"
    one_line_error(*cli(capsys, dlc_project["root"], "--calibration", cal), str(cal),
                   "cam0", "--calibration")
    one_line_error(*cli(capsys, dlc_project["root"], "--calibration", "/nope/cal.toml"),
                   "/nope/cal.toml")


def test_calibration_of_other_image_sizes(capsys, synth_frames):
    rig = synth_frames["rig"].copy()
    for cam in rig.cameras:
        cam.size = (800, 600)
    to_anipose_toml(rig, synth_frames["root"] / "calibration.toml")
    one_line_error(*cli(capsys, synth_frames["root"]), "640x480", "800x600")


def test_bodyparts_conflicts(capsys, dlc_project, synth_frames):
    one_line_error(*cli(capsys, dlc_project["root"], "--bodyparts", "nose,tail"),
                   "--bodyparts", "config.yaml")
    skel = synth_frames["root"] / "skeleton.toml"
    one_line_error(*cli(capsys, synth_frames["root"], "--bodyparts", "snout,neck",
                        "--skeleton", skel), "--skeleton", "ear_left")
    one_line_error(*cli(capsys, synth_frames["root"], "--bodyparts", "a,a"), "repeats")
    one_line_error(*cli(capsys, synth_frames["root"], "--port", "70000"), "--port")


def test_bodyparts_disagree_with_labels_in_a_folder(capsys, synth_frames):
    save_dlc(Poses(np.ones((1, 1, 1, 2)), keypoints=["snout"],
                   attrs={"scorer": "tripose", "labels": True, "index_levels": 3,
                          "image_paths": ["labeled-data/cam0/img0000.png"]}),
             synth_frames["root"] / "cam0" / "CollectedData_tripose.h5")
    one_line_error(*cli(capsys, synth_frames["root"]), "skeleton.toml",
                   "CollectedData_tripose.h5")


# ------------------------------------------------------------------------ the lock
def test_second_instance_is_refused(capsys, synth_frames):
    lock = synth_frames["root"] / LABEL_LOCK
    info = {"pid": os.getpid(), "host": socket.gethostname(), "port": 8765}
    lock.write_text(json.dumps(info))
    code, err = cli(capsys, synth_frames["root"])
    one_line_error(code, err, f"{synth_frames['root']} is already open in tripose label "
                              f"(pid {os.getpid()}, http://127.0.0.1:8765/); close it first")
    assert json.loads(lock.read_text()) == info


def test_stale_lock_is_replaced_and_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / LABEL_LOCK
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "port": 1}))
    with label_lock(tmp_path) as set_port:
        held = json.loads(lock.read_text())
        assert held["pid"] == os.getpid() and held["port"] is None
        set_port(4321)
        assert json.loads(lock.read_text())["port"] == 4321
        with pytest.raises(InputError, match="already open"):
            with label_lock(tmp_path):
                pass
    assert not lock.exists()


def test_a_linked_lock_is_refused(tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_text("keep")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / LABEL_LOCK).symlink_to(precious)
    with pytest.raises(InputError, match="symbolic link"):
        with label_lock(tmp_path / "t"):
            pass
    assert precious.read_text() == "keep"


@pytest.mark.slow
def test_command_prints_the_address_serves_and_cleans_up(synth_frames):
    root = synth_frames["root"]
    proc = subprocess.Popen([sys.executable, "-m", "tripose", "label", str(root),
                             "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline().strip()
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{32})", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
        port, token = int(m.group(1)), m.group(2)
        assert json.loads((root / LABEL_LOCK).read_text())["port"] == port
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/meta",
                              headers={"X-Tripose-Token": token})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["kind"] == "folder"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
    assert not (root / LABEL_LOCK).exists()


def test_a_frame_folder_linked_from_outside_is_refused(capsys, dlc_project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(dlc_project["folder"], elsewhere)
    (dlc_project["root"] / "labeled-data" / "vid2").symlink_to(elsewhere)
    one_line_error(*cli(capsys, dlc_project["root"]), "vid2", "outside")
