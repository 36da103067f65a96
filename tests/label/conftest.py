"""Fixtures of the labeling app's tests (server side and the browser tests).

- ``synth_frames``: a calibrated 4-camera frames folder with known 3D truth;
- ``dlc_project``: a small single-view DeepLabCut project;
- ``label_server``: the app serving ``synth_frames`` on 127.0.0.1 in a background thread;
- ``label_server_factory``: the same for any TARGET (``factory(path, **discover_options)``).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from calibration.save_rig import to_anipose_toml
from poses.skeleton import Skeleton, save_skeleton
from synth.rig import ARENA_CENTER, make_rig

#: Bodyparts and limbs of the synthetic animal.
BODYPARTS = ["snout", "ear_left", "ear_right", "neck", "back", "tail_base"]
LIMBS = [("snout", "ear_left"), ("snout", "ear_right"), ("ear_left", "neck"),
         ("ear_right", "neck"), ("neck", "back"), ("back", "tail_base")]
#: Body-frame offsets (mm) of the bodyparts: x forward, y left, z up.
_SHAPE = np.array([[30.0, 0, 6], [18, 7, 10], [18, -7, 10], [10, 0, 6], [-8, 0, 8],
                   [-28, 0, 4]])
SIZE = (640, 480)
MARGIN_PX = 40.0


def draw_background(size: tuple[int, int], seed: int) -> np.ndarray:
    """A textured 8-bit BGR picture: a gradient, a grid and a few coloured blobs.

    Parameters
    ----------
    size : (width, height) px
    seed : int

    Returns
    -------
    image : (height, width, 3) uint8
    """
    w, h = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.empty((h, w, 3), np.uint8)
    img[..., 0] = (90 + 60 * xx / w).astype(np.uint8)
    img[..., 1] = (100 + 50 * yy / h).astype(np.uint8)
    img[..., 2] = (120 + 40 * (xx + yy) / (w + h)).astype(np.uint8)
    for x in range(0, w, 40):
        cv2.line(img, (x, 0), (x, h - 1), (70, 80, 90), 1)
    for y in range(0, h, 40):
        cv2.line(img, (0, y), (w - 1, y), (70, 80, 90), 1)
    for _ in range(7):
        center = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (int(rng.uniform(15, 60)), int(rng.uniform(10, 40)))
        color = tuple(int(c) for c in rng.uniform(30, 230, 3))
        cv2.ellipse(img, center, axes, float(rng.uniform(0, 180)), 0, 360, color, -1,
                    cv2.LINE_AA)
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def _animal(rng: np.random.Generator) -> np.ndarray:
    """One pose (n_bodyparts, 3) mm near the arena centre."""
    heading = rng.uniform(0, 2 * np.pi)
    c, s = np.cos(heading), np.sin(heading)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    shift = np.array([rng.uniform(-12, 12), rng.uniform(-12, 12), -30.0])
    return ARENA_CENTER + shift + _SHAPE @ rot.T


@pytest.fixture
def synth_frames(tmp_path: Path) -> dict:
    """A 4-camera frames folder ``root/<cam>/img000N.png`` (3 instants) with its calibration.

    Returns
    -------
    dict
        ``root`` (Path), ``rig`` (CameraRig, radial distortion k1 != 0 in every camera),
        ``views`` (4 camera names), ``bodyparts``, ``limbs``, ``images`` (3 file names),
        ``points3d`` (n_instants, n_bodyparts, 3) mm and ``pixels`` {view: (n_instants,
        n_bodyparts, 2) px} (distorted truth, every point at least 40 px inside each image).
        ``root`` also holds ``calibration.toml`` (anipose) and ``skeleton.toml``.
    """
    root = tmp_path / "frames"
    rig = make_rig(4, SIZE, seed=2)
    for cam in rig.cameras:
        assert abs(cam.dist[0]) > 0.05
    rng = np.random.default_rng(7)
    poses = []
    while len(poses) < 3:
        p = _animal(rng)
        px = rig.project(p)
        inside = ((px[..., 0] >= MARGIN_PX) & (px[..., 0] <= SIZE[0] - 1 - MARGIN_PX)
                  & (px[..., 1] >= MARGIN_PX) & (px[..., 1] <= SIZE[1] - 1 - MARGIN_PX))
        if inside.all():
            poses.append(p)
    points3d = np.stack(poses)
    pixels_all = rig.project(points3d)
    images = [f"img{i:04d}.png" for i in range(len(points3d))]
    for c, cam in enumerate(rig.cameras):
        (root / cam.name).mkdir(parents=True)
        for i, name in enumerate(images):
            img = draw_background(SIZE, seed=100 * c + i)
            for j in range(len(BODYPARTS)):  # the "animal": soft blobs near each bodypart
                x, y = pixels_all[c, i, j]
                cv2.circle(img, (int(round(x + 3)), int(round(y - 2))), 9, (60, 60, 60), -1,
                           cv2.LINE_AA)
            assert cv2.imwrite(str(root / cam.name / name), img)
    to_anipose_toml(rig, root / "calibration.toml")
    save_skeleton(Skeleton(bodyparts=BODYPARTS, limbs=LIMBS), root / "skeleton.toml")
    return {"root": root, "rig": rig, "views": rig.names, "bodyparts": list(BODYPARTS),
            "limbs": [list(x) for x in LIMBS], "images": images, "points3d": points3d,
            "pixels": {cam.name: pixels_all[c] for c, cam in enumerate(rig.cameras)}}


DLC_CONFIG = """\
Task: reach
scorer: alice
date: Jan1
multianimalproject: false
identity:
project_path: {root}
video_sets:
  videos/vid1.mp4:
    crop: 0, 320, 0, 240
bodyparts:
- nose
- ear
- tail
start: 0
stop: 1
numframes2pick: 4
skeleton:
- - nose
  - ear
- - ear
  - tail
skeleton_color: black
pcutoff: 0.6
dotsize: 12
alphavalue: 0.7
colormap: rainbow
iteration: 0
default_net_type: resnet_50
TrainingFraction:
- 0.95
"""


@pytest.fixture
def dlc_project(tmp_path: Path) -> dict:
    """A single-view DeepLabCut project: ``config.yaml`` (scorer ``alice``, bodyparts
    ``nose, ear, tail``) and ``labeled-data/vid1/img000N.png`` (4 images, 320x240), no labels.

    Returns
    -------
    dict
        ``root``, ``config``, ``folder`` (labeled-data/vid1), ``images``, ``bodyparts``,
        ``scorer``.
    """
    root = tmp_path / "reach-alice-2024-01-01"
    folder = root / "labeled-data" / "vid1"
    folder.mkdir(parents=True)
    (root / "config.yaml").write_text(DLC_CONFIG.format(root=root), encoding="utf-8")
    images = [f"img{i:04d}.png" for i in range(4)]
    for i, name in enumerate(images):
        assert cv2.imwrite(str(folder / name), draw_background((320, 240), seed=500 + i))
    return {"root": root, "config": root / "config.yaml", "folder": folder, "images": images,
            "bodyparts": ["nose", "ear", "tail"], "scorer": "alice"}


@contextlib.contextmanager
def serve(path: Path, **options) -> Iterator[dict]:
    """Discover ``path`` as a TARGET and serve it on 127.0.0.1 (a free port) in a thread.

    Yields
    ------
    dict
        ``url`` (``http://127.0.0.1:PORT``), ``token``, ``target`` (the discovered Target)
        and ``app``.
    """
    import secrets

    import uvicorn

    from tripose.label.server import create_app
    from tripose.label.target import discover

    target = discover(path, **options)
    token = secrets.token_urlsafe(24)
    app = create_app(target, token)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the label server did not start")
        time.sleep(0.02)
    try:
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "target": target, "app": app}
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def label_server(synth_frames: dict) -> Iterator[dict]:
    """The app serving ``synth_frames`` (``url``, ``token``, ``target``, ``app``, plus
    ``frames``: the synth_frames dict); stopped at teardown."""
    with serve(synth_frames["root"]) as info:
        yield {**info, "frames": synth_frames}


@pytest.fixture
def label_server_factory() -> Iterator:
    """``factory(path, **discover_options) -> dict`` like :func:`label_server` for any
    TARGET; every server started is stopped at teardown."""
    with contextlib.ExitStack() as stack:
        yield lambda path, **options: stack.enter_context(serve(Path(path), **options))
