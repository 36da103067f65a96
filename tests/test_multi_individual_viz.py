"""viz3d with several animals: each in its own colour family, named by its head, in 3D
pictures, movies, HTML scenes, 2D overlays and the combined movie; one animal as before."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import viz3d
from poses import InputError, Poses
from viz3d._offscreen import _configure_offscreen
from viz3d.colors import (
    bodypart_colors,
    individual_colors,
    individual_hues,
    individual_label_colors,
)
from viz3d.individuals import Cast, head_index
from viz3d.overlay import draw_names

_configure_offscreen()

FRAME = 40
OFFSET = np.array([0.0, 30.0, 0.0])  # mm: the second animal beside the first, apart in views


@pytest.fixture(scope="module")
def sample():
    from calibration import load_rig
    from synth import load_points3d_csv
    from tests.fixtures.io2d import read_2d
    from triangulate import load_skeleton
    from tripose.demo import SAMPLE_DATA

    rig = load_rig(SAMPLE_DATA / "ground_truth" / "calibration.toml")
    skeleton = load_skeleton(SAMPLE_DATA / "skeleton.toml")
    p, _ = load_points3d_csv(SAMPLE_DATA / "ground_truth" / "points3d.csv", skeleton.bodyparts)
    det = [read_2d(SAMPLE_DATA / "pose2d" / f"{n}.h5") for n in rig.names]
    return {"rig": rig, "skeleton": skeleton, "points3d": p,
            "videos": [SAMPLE_DATA / "videos" / f"{n}.mp4" for n in rig.names],
            "points2d": np.stack([d[0] for d in det]), "scores": np.stack([d[1] for d in det])}


@pytest.fixture(scope="module")
def pair(sample):
    """Two animals: the sample forelimb and a copy 30 mm beside it, 3D Poses named."""
    p = sample["points3d"]
    X = np.stack([p, p + OFFSET], axis=1)  # (150, 2, 16, 3)
    return Poses(X, keypoints=list(sample["skeleton"].bodyparts), individuals=["ada", "bo"],
                 fps=100.0, units="mm")


def _read(path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert img is not None
    return img[:, :, ::-1].copy()


def _pinhole(cam, points):
    xc = points @ cam.R.T + cam.tvec
    uv = xc @ cam.matrix.T
    return uv[..., :2] / uv[..., 2:]


def _hue_distance(a, b):
    d = np.abs(np.asarray(a) - np.asarray(b)) % 1.0
    return np.minimum(d, 1.0 - d)


def _family_near(img: np.ndarray, uv: np.ndarray, hues: np.ndarray, radius: int = 3) -> int:
    """Index of the colour family (nearest hue) of the saturated pixels within ``radius``
    px of ``uv``; -1 when there are none."""
    u, v = int(round(uv[0])), int(round(uv[1]))
    h, w = img.shape[:2]
    if not (radius <= u < w - radius and radius <= v < h - radius):
        return -1
    win = img[v - radius:v + radius + 1, u - radius:u + radius + 1]
    hsv = cv2.cvtColor(np.ascontiguousarray(win), cv2.COLOR_RGB2HSV_FULL).reshape(-1, 3)
    hsv = hsv.astype(float) / 255.0
    sat = hsv[(hsv[:, 1] > 0.35) & (hsv[:, 2] > 0.15)]
    if len(sat) < 3:
        return -1
    votes = np.argmin(_hue_distance(sat[:, :1], hues[None]), axis=1)
    return int(np.bincount(votes, minlength=len(hues)).argmax())


# --- colours, folding, names: the pure parts ----------------------------------------------
def test_colour_families_one_hue_per_individual_and_one_animal_unchanged():
    np.testing.assert_array_equal(individual_colors(1, 16)[0], bodypart_colors(16))
    c = individual_colors(3, 16)
    assert c.shape == (3, 16, 3) and c.dtype == np.uint8
    hsv = cv2.cvtColor(c.astype(np.uint8), cv2.COLOR_RGB2HSV_FULL).astype(float) / 255.0
    hues = individual_hues(3)
    for i in range(3):  # every shade of a family is within its hue band, far from the others
        assert _hue_distance(hsv[i, :, 0], hues[i]).max() < 0.04
        for k in set(range(3)) - {i}:
            assert _hue_distance(hsv[i, :, 0], hues[k]).min() > 0.15
    assert len({tuple(x) for x in c.reshape(-1, 3)}) == 48  # every bodypart its own shade
    assert (hsv[:, -1, 2] > hsv[:, 0, 2]).all()  # dark to light along the bodyparts
    assert len(set(np.round(individual_hues(12), 3))) == 12
    assert individual_label_colors(2).shape == (2, 3)


def test_cast_folds_individuals_limbs_and_finds_heads():
    assert head_index(["tail", "Left_Ear", "snout"], 3) == 2  # snout before ear
    assert head_index(["a", "b"], 2) == 0 and head_index(None, 4) == 0
    cast = Cast.of(Poses(np.zeros((5, 2, 3, 3)), keypoints=["tail", "ear", "nose"],
                         individuals=["x", "y"]), (5, 2, 3, 3))
    assert cast.names == ("x", "y") and cast.head == 2 and cast.labelled
    assert cast.limbs([(0, 1), (1, 2)]) == [(0, 1), (1, 2), (3, 4), (4, 5)]
    p = np.arange(2 * 2 * 3 * 3, dtype=float).reshape(2, 2, 3, 3)
    folded = cast.fold(p)
    assert folded.shape == (2, 6, 3)
    np.testing.assert_array_equal(folded[:, 3:], p[:, 1])
    assert cast.fold(np.ones((7, 2, 3)), 0).shape == (7, 6)
    # anchor: the head, else the mean of what is there, else NaN
    f = folded[0].copy()
    f[5] = np.nan  # y's nose missing
    a = cast.anchors(f)
    np.testing.assert_array_equal(a[0], f[2])
    np.testing.assert_allclose(a[1], f[3:5].mean(0))
    f[3:] = np.nan
    assert np.isnan(cast.anchors(f)[1]).all()
    one = Cast.of(np.zeros((5, 3, 3)), (5, 1, 3, 3))
    assert not one.labelled and one.names == ("ind1",)
    np.testing.assert_array_equal(one.joint_colors(), bodypart_colors(3))


def test_draw_names_writes_each_name_above_its_anchor():
    img = np.full((240, 320, 3), 40, np.uint8)
    colours = individual_label_colors(2)
    draw_names(img, np.array([[80.0, 150.0], [240.0, 100.0], ]), ["ada", "bo"], colours)
    draw_names(img, np.array([[np.nan, np.nan]]), ["gone"], colours[:1])  # nothing drawn
    for (u, v), rgb in zip([(80, 150), (240, 100)], colours, strict=True):
        above = img[v - 40:v, u - 40:u + 40].astype(float)
        below = img[v + 2:v + 40, u - 40:u + 40].astype(float)
        assert (above.mean(-1) > 150).sum() > 50  # the light box
        assert (np.linalg.norm(above - rgb, axis=-1) < 60).sum() > 5  # letters in its colour
        assert (below == 40).all()


# --- 3D pictures ----------------------------------------------------------------------------
def test_each_animal_is_drawn_in_its_colour_family_where_the_camera_sees_it(sample, pair,
                                                                             tmp_path):
    rig = sample["rig"]
    cam = rig["cam2"]
    out = viz3d.render_png(pair, sample["skeleton"], tmp_path / "two.png", frame=FRAME,
                           rig=rig, camera_view="cam2", size=cam.size)
    img = _read(out)
    hues = individual_hues(2)
    uv = _pinhole(cam, pair.position[FRAME])  # (2, 16, 2)
    fam = np.array([[_family_near(img, uv[i, j], hues) for j in range(16)] for i in range(2)])
    for i in range(2):
        seen = fam[i][fam[i] >= 0]
        assert len(seen) >= 10, fam  # most joints visible
        assert np.mean(seen == i) >= 0.9, fam  # and in their own animal's family


def test_names_are_written_by_the_heads(sample, pair, tmp_path):
    """Two pictures that differ only in the names differ only near the animals' heads."""
    rig, sk = sample["rig"], sample["skeleton"]
    cam = rig["cam2"]
    a = _read(viz3d.render_png(pair, sk, tmp_path / "a.png", frame=FRAME, rig=rig,
                               camera_view="cam2", size=cam.size))
    longer = pair.replace(individuals=["ada_the_first", "bo_the_second"])
    b = _read(viz3d.render_png(longer, sk, tmp_path / "b.png", frame=FRAME, rig=rig,
                               camera_view="cam2", size=cam.size))
    diff = np.abs(a.astype(int) - b.astype(int)).sum(-1) > 30
    assert diff.sum() > 100
    ys, xs = np.nonzero(diff)
    head = Cast.of(pair, pair.position.shape, sk.bodyparts).head  # shoulder: no head names
    heads = _pinhole(cam, pair.position[FRAME, :, head])  # (2, 2)
    d = np.linalg.norm(np.stack([xs, ys], 1)[:, None] - heads[None], axis=-1).min(1)
    assert np.mean(d < 120) > 0.95, np.percentile(d, [50, 95])


def test_one_animal_renders_as_before(sample, tmp_path):
    """A one-individual Poses named by default draws exactly the single-animal picture."""
    p, sk = sample["points3d"], sample["skeleton"]
    a = _read(viz3d.render_png(p, sk, tmp_path / "a.png", frame=FRAME, size=(320, 240)))
    b = _read(viz3d.render_png(Poses(p[:, None]), sk, tmp_path / "b.png", frame=FRAME,
                               size=(320, 240)))
    c = _read(viz3d.render_png(p[:, None], sk, tmp_path / "c.png", frame=FRAME,
                               size=(320, 240)))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_movie_moves_the_names_with_the_animals(sample, pair, tmp_path):
    from viz3d.render import build_scene

    scene = build_scene(pair.frames(slice(0, 10)), sample["skeleton"], size=(320, 240))
    try:
        assert scene.names is not None and len(scene.names.actors) == 2
        for f in (0, 9):
            scene.show_frame(f)
            pos = np.array([a.GetPosition() for a in scene.names.actors])
            head = pair.position[f, :, scene.cast.head]
            lift = pos - head
            np.testing.assert_allclose(lift, np.broadcast_to(lift[0], lift.shape), atol=1e-9)
            assert 0 < np.linalg.norm(lift[0]) < 10  # mm: just above the head
    finally:
        scene.plotter.close()
    out = viz3d.render_movie(pair, sample["skeleton"], tmp_path / "m.mp4", fps=20,
                             size=(320, 240), frames=range(0, 20, 4), trail=3)
    assert out.stat().st_size > 1000


def test_html_scene_holds_both_animals_and_their_names(sample, pair, tmp_path):
    from viz3d.render import build_scene

    scene = build_scene(pair, sample["skeleton"], frame_label=False, name_labels="mesh")
    try:
        scene.show_frame(FRAME)
        assert scene.joints.n_points == 32 * len(scene._sphere_v)
        assert len(scene.limbs) == 2 * len(sample["skeleton"].limb_indices())
        for i, mesh in enumerate(scene.names.meshes):
            centre = np.asarray(mesh.points).mean(0)
            head = pair.position[FRAME, i, scene.cast.head]
            assert np.linalg.norm(centre - head) < 15  # mm
    finally:
        scene.plotter.close()
    out = viz3d.export_html(pair, sample["skeleton"], tmp_path / "s.html", frame=FRAME)
    assert "vtk" in out.read_text(encoding="utf-8")[:300_000].lower()


# --- 2D overlays and the combined movie -----------------------------------------------------
def _frame(path, index):
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, img = cap.read()
    cap.release()
    assert ok
    return img[:, :, ::-1]


def test_overlay_draws_each_animal_in_its_family_with_its_name(sample, pair, tmp_path):
    n = 6
    rig = sample["rig"]
    proj = rig.project(pair.position[:n])[0]  # (n, 2, 16, 2) camera 0
    det = Poses(proj + 0.5, keypoints=pair.keypoints, individuals=pair.individuals)
    out = viz3d.overlay_2d_video(sample["videos"][0], det, sample["skeleton"],
                                 tmp_path / "o.mp4", reprojected=proj,
                                 scores=np.ones((n, 2, 16)))
    img = np.ascontiguousarray(_frame(out, 3))
    hues = individual_hues(2)
    fam = np.array([[_family_near(img, proj[3, i, j], hues, radius=2) for j in range(16)]
                    for i in range(2)])
    for i in range(2):
        seen = fam[i][fam[i] >= 0]
        assert len(seen) >= 8 and np.mean(seen == i) >= 0.8, fam
    # the light name boxes sit above the heads (the video itself is dark there)
    plain = viz3d.overlay_2d_video(sample["videos"][0], det.sel(individuals=["ada"])
                                   .replace(individuals=["ind1"]), None, tmp_path / "p.mp4")
    diff = np.abs(img.astype(int) - _frame(plain, 3).astype(int)).sum(-1)
    for i in range(2):
        u, v = proj[3, i, 0].round().astype(int)
        assert (diff[v - 30:v - 4, u - 25:u + 25] > 150).sum() > 30


def test_combined_movie_with_two_animals(sample, pair, tmp_path):
    n = 4
    rig = sample["rig"]
    det = np.stack([sample["points2d"][:, :n], rig.project(pair.position[:n, 1])], axis=2)
    out = viz3d.combined_video(sample["videos"], rig, pair.frames(slice(0, n)),
                               sample["skeleton"], tmp_path / "c.mp4", points2d=det,
                               scores=np.ones((4, n, 2, 16)), size=(960, 360), frames=range(n))
    img = np.ascontiguousarray(_frame(out, 2))
    view = img[:, 480:]
    hsv = cv2.cvtColor(view, cv2.COLOR_RGB2HSV_FULL).reshape(-1, 3).astype(float) / 255.0
    sat = hsv[(hsv[:, 1] > 0.4) & (hsv[:, 2] > 0.2)]
    hues = individual_hues(2)
    counts = [(_hue_distance(sat[:, 0], h) < 0.05).sum() for h in hues]
    assert min(counts) > 100, counts  # both animals in the 3D view
    with pytest.raises(InputError, match="points2d holds 1 individuals, expected 2"):
        viz3d.combined_video(sample["videos"], rig, pair.position[:n], None,
                             tmp_path / "bad.mp4", points2d=sample["points2d"][:, :n, None])
