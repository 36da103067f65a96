"""The labeling app's HTTP API against real truth: a synthetic calibrated 4-camera rig."""

from __future__ import annotations

import os

import httpx
import numpy as np
import pandas as pd
import pytest
from starlette.testclient import TestClient

from tripose.label.server import create_app
from tripose.label.target import discover

TOKEN = "test-token"
H = {"X-Tripose-Token": TOKEN}


@pytest.fixture
def client(synth_frames):
    target = discover(synth_frames["root"])
    with TestClient(create_app(target, TOKEN)) as c:
        yield c


def gid_of(client) -> str:
    return client.get("/api/meta", headers=H).json()["groups"][0]["id"]


def polyline_distance(curve: list, point: np.ndarray) -> float:
    """Smallest distance (px) from ``point`` to a polyline's segments."""
    P = np.asarray(curve, dtype=float)
    a, b = P[:-1], P[1:]
    d = b - a
    t = np.clip(((point - a) * d).sum(1) / np.maximum((d * d).sum(1), 1e-12), 0, 1)
    return float(np.min(np.linalg.norm(a + t[:, None] * d - point, axis=1)))


# ------------------------------------------------------------------------ token and paths
def test_token_missing_wrong_right(client):
    assert client.get("/api/meta").status_code == 401
    assert client.get("/api/meta").json()["error"]
    assert client.get("/api/meta?token=nope").status_code == 403
    assert client.get("/api/meta", headers={"X-Tripose-Token": "nope"}).status_code == 403
    assert client.get(f"/api/meta?token={TOKEN}").status_code == 200
    assert client.get("/api/meta", headers=H).status_code == 200
    assert client.get("/").status_code == 401


def test_page_has_the_token_and_static_files_need_it(client):
    page = client.get(f"/?token={TOKEN}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "{{TOKEN}}" not in page.text
    assert client.get("/static/app.js").status_code == 401
    js = client.get(f"/static/app.js?token={TOKEN}")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert client.get(f"/static/..%2F..%2Fcli.py?token={TOKEN}").status_code == 404
    assert client.get(f"/static/nothing.js?token={TOKEN}").status_code == 404


def test_meta(client, synth_frames):
    m = client.get("/api/meta", headers=H).json()
    assert m["kind"] == "folder" and m["individuals"] == [""]
    assert m["bodyparts"] == synth_frames["bodyparts"]
    assert m["skeleton"] == synth_frames["limbs"]
    assert set(m["colors"]) == set(m["bodyparts"])
    assert all(len(c) == 7 and c.startswith("#") for c in m["colors"].values())
    (g,) = m["groups"]
    assert g["views"] == synth_frames["views"] and g["calibrated"] and g["n_instants"] == 3


def test_images_and_traversal(client, synth_frames, tmp_path):
    gid = gid_of(client)
    r = client.get(f"/api/image/{gid}/cam0/img0000.png", headers=H)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content == (synth_frames["root"] / "cam0" / "img0000.png").read_bytes()
    for bad in ("/api/image/..%2F..", f"/api/image/{gid}/cam0/..%2F..%2Fcalibration.toml",
                f"/api/image/{gid}/cam0/..%2Fcam1%2Fimg0000.png",
                f"/api/image/{gid}/nocam/img0000.png", "/api/image/nogroup/cam0/img0000.png",
                f"/api/image/{gid}/cam0/img9999.png"):
        r = client.get(bad, headers=H)
        assert r.status_code == 404, bad
        assert "error" in r.json()
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"\x89PNG secret")
    os.symlink(outside, synth_frames["root"] / "cam0" / "img0099.png")
    r = client.get(f"/api/image/{gid}/cam0/img0099.png", headers=H)
    assert r.status_code == 404 and b"secret" not in r.content


def test_unreadable_image_is_422(client, synth_frames):
    (synth_frames["root"] / "cam1" / "img0007.png").write_bytes(b"not a png")
    r = client.get(f"/api/image/{gid_of(client)}/cam1/img0007.png", headers=H)
    assert r.status_code == 422 and "error" in r.json()


def test_instants_and_instant_body(client, synth_frames):
    gid = gid_of(client)
    rows = client.get(f"/api/groups/{gid}/instants", headers=H).json()
    assert [r["id"] for r in rows] == synth_frames["images"]
    assert all(r["n_views"] == 4 and r["n_labeled"] == 0 for r in rows)
    body = client.get(f"/api/groups/{gid}/instants/img0001.png", headers=H).json()
    assert body["id"] == "img0001.png"
    assert set(body["views"]) == set(synth_frames["views"])
    v = body["views"]["cam2"]
    assert v["exists"] and (v["width"], v["height"]) == (640, 480)
    img = client.get(v["image"])  # the URL carries the token: usable as an <img> src
    assert img.status_code == 200 and img.content[:4] == b"\x89PNG"
    assert body["points"] == {v: [] for v in synth_frames["views"]}
    assert all(s == "none" for s in body["versions"].values())
    assert client.get(f"/api/groups/{gid}/instants/nope.png", headers=H).status_code == 404


# ------------------------------------------------------------------------ geometry
@pytest.mark.parametrize("instant", [0, 2])
def test_epipolar_curve_passes_through_the_truth(client, synth_frames, instant):
    gid, px = gid_of(client), synth_frames["pixels"]
    for src in synth_frames["views"]:
        for j in range(len(synth_frames["bodyparts"])):
            x, y = px[src][instant, j]
            r = client.post(f"/api/groups/{gid}/epipolar", headers=H,
                            json={"view": src, "x": float(x), "y": float(y)})
            assert r.status_code == 200
            curves = r.json()["curves"]
            assert set(curves) == set(synth_frames["views"]) - {src}
            for other, curve in curves.items():
                assert 2 <= len(curve) <= 200
                assert polyline_distance(curve, px[other][instant, j]) < 1.0, (src, other, j)
                pts = np.asarray(curve)
                assert (pts >= -20.001).all() and (pts[:, 0] <= 659.001).all() \
                    and (pts[:, 1] <= 499.001).all()


def test_epipolar_curve_is_curved_by_distortion(client, synth_frames):
    """The curve follows the lens: its points are off the straight chord somewhere."""
    gid, px = gid_of(client), synth_frames["pixels"]
    x, y = px["cam0"][0, 0]
    curves = client.post(f"/api/groups/{gid}/epipolar", headers=H,
                         json={"view": "cam0", "x": float(x), "y": float(y)}).json()["curves"]
    bends = []
    for curve in curves.values():
        P = np.asarray(curve)
        a, b = P[0], P[-1]
        n = np.array([-(b - a)[1], (b - a)[0]]) / np.linalg.norm(b - a)
        bends.append(np.abs((P - a) @ n).max())
    assert max(bends) > 1.0


def test_triangulate_two_views_reprojects_onto_the_truth(client, synth_frames):
    gid, px, views = gid_of(client), synth_frames["pixels"], synth_frames["views"]
    for j in range(len(synth_frames["bodyparts"])):
        given = {v: px[v][1, j].tolist() for v in views[:2]}
        r = client.post(f"/api/groups/{gid}/triangulate", headers=H, json={"points": given})
        assert r.status_code == 200
        out = r.json()
        assert np.allclose(out["point3d"], synth_frames["points3d"][1, j], atol=0.05)
        for v in views[2:]:
            assert np.linalg.norm(np.array(out["reprojected"][v]) - px[v][1, j]) < 0.5
        assert set(out["errors"]) == set(views[:2]) and max(out["errors"].values()) < 0.01
        assert out["flagged"] == []


@pytest.mark.parametrize("n_views", [3, 4])
def test_a_perturbed_view_is_flagged(client, synth_frames, n_views):
    gid, px, views = gid_of(client), synth_frames["pixels"], synth_frames["views"]
    for j in range(len(synth_frames["bodyparts"])):
        given = {v: px[v][0, j].tolist() for v in views[:n_views]}
        bad = views[2]
        given[bad] = (px[bad][0, j] + [30.0, 0.0]).tolist()
        out = client.post(f"/api/groups/{gid}/triangulate", headers=H,
                          json={"points": given}).json()
        assert out["flagged"] == [bad], j
        assert out["errors"][bad] > 25
        assert np.allclose(out["point3d"], synth_frames["points3d"][0, j], atol=0.05)
        clean = {v: px[v][0, j].tolist() for v in views[:n_views]}
        out = client.post(f"/api/groups/{gid}/triangulate", headers=H,
                          json={"points": clean}).json()
        assert out["flagged"] == []


def test_geometry_bad_requests(client, synth_frames):
    gid = gid_of(client)
    url = f"/api/groups/{gid}"
    assert client.post(f"{url}/epipolar", headers=H, content=b"{not json").status_code == 400
    assert client.post(f"{url}/epipolar", headers=H,
                       json={"view": "cam0", "x": "a", "y": 1}).status_code == 400
    assert client.post(f"{url}/epipolar", headers=H,
                       json={"view": "camX", "x": 1, "y": 1}).status_code == 404
    assert client.post(f"{url}/triangulate", headers=H,
                       json={"points": {"cam0": [1, 2]}}).status_code == 400
    assert client.post(f"{url}/triangulate", headers=H,
                       json={"points": {"cam0": [1, 2], "camX": [1, 2]}}).status_code == 404
    assert client.post("/api/groups/none/triangulate", headers=H,
                       json={"points": {}}).status_code == 404


# ------------------------------------------------------------------------ saving
def _put(client, gid, iid, body):
    return client.put(f"/api/groups/{gid}/instants/{iid}", headers=H, json=body)


def test_put_get_roundtrip_and_files(client, synth_frames):
    gid, root = gid_of(client), synth_frames["root"]
    cur = client.get(f"/api/groups/{gid}/instants/img0001.png", headers=H).json()
    points = {"cam0": [{"individual": "", "bodypart": "snout", "x": 101.25, "y": 55.5,
                        "source": "human"},
                       {"individual": "", "bodypart": "neck", "x": 120.0, "y": 60.125,
                        "source": "triangulated"}],
              "cam1": [{"individual": "", "bodypart": "back", "x": 3.5, "y": 4.0,
                        "source": "model"}]}
    invisible = {"cam0": [["", "tail_base"]], "cam1": []}
    r = _put(client, gid, "img0001.png", {"versions": cur["versions"], "points": points,
                                          "invisible": invisible})
    assert r.status_code == 200, r.text
    versions = r.json()["versions"]
    assert versions["cam0"] != "none" and versions["cam2"] == "none"
    got = client.get(f"/api/groups/{gid}/instants/img0001.png", headers=H).json()
    assert got["versions"] == versions
    key = lambda p: p["bodypart"]  # noqa: E731
    for v in ("cam0", "cam1"):
        assert sorted(got["points"][v], key=key) == sorted(points[v], key=key)
    assert got["invisible"] == {"cam0": [["", "tail_base"]], "cam1": [], "cam2": [], "cam3": []}
    df = pd.read_hdf(root / "cam0" / "CollectedData_tripose.h5")
    assert list(df.columns.names) == ["scorer", "bodyparts", "coords"]
    row = ("labeled-data", "cam0", "img0001.png")
    assert df.loc[row, ("tripose", "snout", "x")] == 101.25
    assert df.loc[row, ("tripose", "neck", "y")] == 60.125
    assert np.isnan(df.loc[row, ("tripose", "tail_base", "x")])
    assert (root / "cam0" / "CollectedData_tripose.csv").is_file()
    prov = pd.read_csv(root / "cam0" / "CollectedData_tripose.provenance.csv",
                       keep_default_na=False)
    assert list(prov.columns) == ["image", "individual", "bodypart", "source"]
    assert set(map(tuple, prov[["bodypart", "source"]].values)) == {
        ("snout", "human"), ("neck", "triangulated"), ("tail_base", "invisible")}
    assert not (root / "cam2" / "CollectedData_tripose.h5").exists()
    rows = client.get(f"/api/groups/{gid}/instants", headers=H).json()
    assert [r["n_labeled"] for r in rows] == [0, 2, 0]


def test_other_rows_are_kept_and_deleting_removes(client, synth_frames):
    gid, root = gid_of(client), synth_frames["root"]

    def save(iid, pts):
        cur = client.get(f"/api/groups/{gid}/instants/{iid}", headers=H).json()
        body = {"versions": cur["versions"], "points": {"cam3": pts}}
        assert _put(client, gid, iid, body).status_code == 200

    p = lambda b, x, y: {"individual": "", "bodypart": b, "x": x, "y": y}  # noqa: E731
    save("img0002.png", [p("snout", 1.0 / 3, 2.0 / 7), p("back", 300.0, 200.0)])
    save("img0000.png", [p("snout", 10.0, 20.0)])
    path = root / "cam3" / "CollectedData_tripose.h5"
    before = pd.read_hdf(path)
    assert [r[2] for r in before.index] == ["img0000.png", "img0002.png"]
    save("img0000.png", [p("ear_left", 11.0, 21.0)])  # snout deleted, ear_left added
    after = pd.read_hdf(path)
    pd.testing.assert_series_equal(after.loc[("labeled-data", "cam3", "img0002.png")],
                                   before.loc[("labeled-data", "cam3", "img0002.png")])
    row = after.loc[("labeled-data", "cam3", "img0000.png")]
    assert np.isnan(row[("tripose", "snout", "x")]) and row[("tripose", "ear_left", "x")] == 11
    got = client.get(f"/api/groups/{gid}/instants/img0000.png", headers=H).json()
    assert [q["bodypart"] for q in got["points"]["cam3"]] == ["ear_left"]
    assert got["points"]["cam3"][0]["source"] == "human"


def test_stale_version_is_409_and_writes_nothing(client, synth_frames):
    gid, root = gid_of(client), synth_frames["root"]
    cur = client.get(f"/api/groups/{gid}/instants/img0000.png", headers=H).json()
    pt = {"individual": "", "bodypart": "snout", "x": 5.0, "y": 6.0}
    ok = _put(client, gid, "img0000.png", {"versions": cur["versions"], "points": {"cam0": [pt]}})
    assert ok.status_code == 200
    path = root / "cam0" / "CollectedData_tripose.h5"
    data = path.read_bytes()
    moved = {**pt, "x": 50.0}
    r = _put(client, gid, "img0000.png", {"versions": cur["versions"],
                                          "points": {"cam0": [moved], "cam1": [moved]}})
    assert r.status_code == 409
    body = r.json()
    assert body["error"] and body["current"]["points"]["cam0"][0]["x"] == 5.0
    assert body["current"]["versions"] == ok.json()["versions"]
    assert path.read_bytes() == data
    assert not (root / "cam1" / "CollectedData_tripose.h5").exists()


def test_bad_put_bodies(client):
    gid = gid_of(client)
    cur = client.get(f"/api/groups/{gid}/instants/img0000.png", headers=H).json()
    v = cur["versions"]
    bad = [{"versions": v, "points": {"cam0": [{"individual": "", "bodypart": "wing", "x": 1,
                                                "y": 1}]}},
           {"versions": v, "points": {"cam0": [{"individual": "", "bodypart": "snout",
                                                "x": "1", "y": 1}]}},
           {"versions": v, "points": {"cam0": [{"individual": "", "bodypart": "snout", "x": 1,
                                                "y": 1, "source": "magic"}]}},
           {"versions": v, "points": {"cam0": [{"bodypart": "snout", "x": 1, "y": 1}]},
            "invisible": {"cam0": [["", "snout"]]}},
           {"versions": v, "points": {"cam0": "x"}}, [1, 2]]
    for body in bad:
        r = _put(client, gid, "img0000.png", body)
        assert r.status_code == 400, body
        assert "error" in r.json()
    r = _put(client, gid, "img0000.png", {"versions": v, "points": {"camX": []}})
    assert r.status_code == 404


def test_machinelabels_prefill(client, synth_frames):
    from poses.io.dlc import save_dlc
    from poses.model import Poses

    gid, root, px = gid_of(client), synth_frames["root"], synth_frames["pixels"]
    bps = synth_frames["bodyparts"]
    n = len(bps)

    def machine(name, offset):
        pos = px["cam1"][:, None, :, :] + offset
        conf = np.full((3, 1, n), 0.75)
        save_dlc(Poses(pos, conf, keypoints=bps, individuals=["ind1"],
                       attrs={"scorer": "net", "index_levels": 3,
                              "image_paths": [f"labeled-data/cam1/{i}"
                                              for i in synth_frames["images"]]}),
                 root / "cam1" / name)

    machine("machinelabels-iter1.h5", 0.0)
    machine("machinelabels-iter0.h5", 99.0)  # older iteration: not used
    got = client.get(f"/api/groups/{gid}/instants/img0002.png", headers=H).json()
    pre = got["prefill"]["cam1"]
    assert len(pre) == n and {p["source"] for p in pre} == {"model"}
    for p in pre:
        j = bps.index(p["bodypart"])
        assert np.allclose([p["x"], p["y"]], px["cam1"][2, j]) and p["likelihood"] == 0.75
        assert p["individual"] == ""
    assert "cam0" not in got["prefill"]
    # once a view has labels at the instant, no pre-fill there
    body = {"versions": got["versions"], "points": {"cam1": [
        {"individual": "", "bodypart": "snout", "x": 1.0, "y": 2.0}]}}
    assert _put(client, gid, "img0002.png", body).status_code == 200
    got = client.get(f"/api/groups/{gid}/instants/img0002.png", headers=H).json()
    assert "cam1" not in got["prefill"]
    assert not list(root.glob("*/machinelabels*.csv"))
    # the rig's reprojections (extract-outliers) are hints at every instant, labelled or not
    machine("reprojections-iter0.h5", 3.0)
    got = client.get(f"/api/groups/{gid}/instants/img0002.png", headers=H).json()
    hints = got["reprojected"]["cam1"]
    assert {p["source"] for p in hints} == {"reprojected"} and len(hints) == n
    for p in hints:
        assert np.allclose([p["x"], p["y"]], px["cam1"][2, bps.index(p["bodypart"])] + 3.0)
    assert "cam0" not in got["reprojected"]
    assert got["points"]["cam1"] == [{"individual": "", "bodypart": "snout", "x": 1.0,
                                      "y": 2.0, "source": "human"}]


def test_a_real_server_serves_the_page(label_server):
    url, token = label_server["url"], label_server["token"]
    r = httpx.get(f"{url}/?token={token}")
    assert r.status_code == 200 and token in r.text
    assert httpx.get(f"{url}/api/meta").status_code == 401
    meta = httpx.get(f"{url}/api/meta", headers={"X-Tripose-Token": token}).json()
    assert meta["groups"][0]["views"] == label_server["frames"]["views"]
