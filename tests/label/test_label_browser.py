"""The labeling page in a real browser (Playwright driving a local Chromium).

What the issue asks the page to prove: it loads with the token and not without; a click puts
the selected bodypart on the clicked image pixel (zoom 1 and 3, device pixel ratio 1 and 2);
two clicked views give proposals in the other two and epipolar curves through the truth;
saving writes DeepLabCut files pandas reads; a reload shows the same labels; undo/redo (and
the file follows); dragging moves a point; a file changed on disk behind the page raises the
conflict banner and neither side is dropped. Skipped when Playwright or Chromium is missing.

``TRIPOSE_LABEL_SCREENSHOTS=DIR`` also writes the README's screenshots into DIR.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

sync_api = pytest.importorskip("playwright.sync_api")


def _chromium() -> str | None:
    for path in (os.environ.get("TRIPOSE_CHROMIUM"), "/usr/bin/chromium",
                 shutil.which("chromium"), shutil.which("chromium-browser"),
                 shutil.which("google-chrome")):
        if path and Path(path).is_file():
            return path
    return None


CHROMIUM = _chromium()
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader"]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no Chromium (set TRIPOSE_CHROMIUM or install the chromium package)")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        except Exception as exc:  # a broken browser install is not this test's subject
            pytest.skip(f"Chromium does not start: {exc}")
        yield b
        b.close()


class Page:
    """A page of the app and helpers that speak image pixels."""

    def __init__(self, browser, server: dict, viewport=(1600, 900), dpr: float = 1):
        self.server = server
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]},
                                     device_scale_factor=dpr)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        # errors of the page (a 409 is expected where a test makes a conflict)
        self.page.on("console", lambda m: self.errors.append(f"{m.text} {m.location}")
                     if m.type == "error" and "status of 409" not in m.text else None)
        self.open()

    def open(self, reload: bool = False) -> None:
        if reload:
            self.page.reload()
        else:
            self.page.goto(f"{self.server['url']}/?token={self.server['token']}")
        self.page.wait_for_function("window.tripose && window.tripose.state().instant !== null",
                                    timeout=20000)
        self.idle()

    def idle(self) -> None:
        assert self.page.evaluate("window.tripose.idle()"), "the page stayed busy"

    def state(self) -> dict:
        return self.page.evaluate("window.tripose.state()")

    def client(self, view: str, x: float, y: float) -> tuple[float, float]:
        c = self.page.evaluate("([v, x, y]) => window.tripose.imageToClient(v, x, y)",
                               [view, float(x), float(y)])
        return c["x"], c["y"]

    def click(self, view: str, x: float, y: float) -> None:
        self.page.mouse.click(*self.client(view, x, y))
        self.idle()

    def drag(self, view: str, xy0, xy1) -> None:
        a, b = self.client(view, *xy0), self.client(view, *xy1)
        self.page.mouse.move(*a)
        self.page.mouse.down()
        self.page.mouse.move(*b, steps=8)
        self.page.mouse.up()
        self.idle()

    def zoom(self, view: str, z: float, x: float, y: float) -> None:
        self.page.evaluate("([v, z, x, y]) => window.tripose.setZoom(v, z, x, y)",
                           [view, float(z), float(x), float(y)])

    def select(self, bodypart: str) -> None:
        self.page.evaluate("(b) => window.tripose.selectBodypart(b)", bodypart)

    def key(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.idle()

    def label(self, view: str, bodypart: str, individual: str = "") -> dict | None:
        found = [p for p in self.state()["labels"][view]
                 if p["bodypart"] == bodypart and p["individual"] == individual]
        return found[0] if found else None

    def close(self) -> None:
        assert not self.errors, self.errors
        self.page.close()


@pytest.fixture
def synth_page(browser, label_server):
    page = Page(browser, label_server)
    yield page
    page.close()


def h5_file(server: dict, view: str) -> Path:
    target = server["target"]
    folder = next(v.folder for g in target.groups.values() for n, v in g.views.items()
                  if n == view)
    return folder / f"CollectedData_{target.scorer}.h5"


def read_point(path: Path, image: str, bodypart: str) -> tuple[float, float]:
    """(x, y) of a bodypart at an image in a DeepLabCut label file (NaN when not labelled)."""
    if not path.exists():
        return float("nan"), float("nan")
    df = pd.read_hdf(path, "df_with_missing")
    rows = [i for i, r in enumerate(df.index) if (r[-1] if isinstance(r, tuple) else str(r))
            .rsplit("/", 1)[-1] == image]
    if not rows:
        return float("nan"), float("nan")
    scorer = df.columns.get_level_values(0)[0]
    row = df.iloc[rows[0]]
    return float(row[(scorer, bodypart, "x")]), float(row[(scorer, bodypart, "y")])


def polyline_distance(points, xy) -> float:
    """Distance from a point to a polyline."""
    p = np.asarray(points, float)
    q = np.asarray(xy, float)
    a, b = p[:-1], p[1:]
    ab = b - a
    t = np.clip(((q - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-12), 0, 1)
    return float(np.min(np.linalg.norm(a + t[:, None] * ab - q, axis=1)))


# ----------------------------------------------------------------------------- tests
def test_token_required(browser, label_server):
    page = browser.new_page()
    try:
        for url, status in ((f"{label_server['url']}/", 401),
                            (f"{label_server['url']}/?token=wrong", 403),
                            (f"{label_server['url']}/static/app.js", 401)):
            response = page.goto(url)
            assert response.status == status, url
            assert page.evaluate("typeof window.tripose") == "undefined"
            assert page.locator("#views").count() == 0
    finally:
        page.close()
    ok = Page(browser, label_server)
    try:
        s = ok.state()
        assert s["instant"] == label_server["frames"]["images"][0]
        assert sorted(s["labels"]) == sorted(label_server["frames"]["views"])
        assert ok.page.locator("section.view").count() == 4
    finally:
        ok.close()


@pytest.mark.parametrize("dpr", [1, 2])
def test_click_places_the_bodypart_on_the_pixel(browser, label_server, dpr):
    frames = label_server["frames"]
    view, image = frames["views"][0], frames["images"][0]
    page = Page(browser, label_server, dpr=dpr)
    try:
        s = page.state()
        assert s["bodypart"] == frames["bodyparts"][0] and s["saved"]
        targets = {}
        for bp, z, (x, y) in ((frames["bodyparts"][0], 1, (123.4, 234.6)),
                              (frames["bodyparts"][1], 3, (301.7, 88.2)),
                              (frames["bodyparts"][2], 3, (0.3, 479.4))):
            assert page.state()["bodypart"] == bp  # the click advanced to it
            page.zoom(view, z, x, y)
            assert page.state()["views"][view]["zoom"] == pytest.approx(z)
            page.click(view, x, y)
            got = page.label(view, bp)
            assert got is not None and got["source"] == "human"
            assert abs(got["x"] - x) < 1 and abs(got["y"] - y) < 1, (got, x, y)
            targets[bp] = (x, y)
        assert page.state()["saved"]
        # the DeepLabCut file has them (pandas reads it), NaN elsewhere
        path = h5_file(label_server, view)
        for bp, (x, y) in targets.items():
            fx, fy = read_point(path, image, bp)
            assert abs(fx - x) < 1 and abs(fy - y) < 1
        assert np.isnan(read_point(path, image, frames["bodyparts"][3])[0])
        df = pd.read_hdf(path, "df_with_missing")
        assert df.columns.names == ["scorer", "bodyparts", "coords"]
        assert not any(h5_file(label_server, v).exists() for v in frames["views"][1:])
        prov = pd.read_csv(path.with_name(path.name.replace(".h5", ".provenance.csv")))
        assert set(prov["source"]) == {"human"} and len(prov) == 3
    finally:
        page.close()


def test_drawn_image_matches_the_pixel_mapping(browser, label_server):
    """At zoom 8 and device pixel ratio 2, the screen pixel at imageToClient(x, y) shows image
    pixel (x, y): a one-pixel grid line of the picture is where the mapping says."""
    frames = label_server["frames"]
    view = frames["views"][1]
    img = cv2.imread(str(frames["root"] / view / frames["images"][0]))[..., ::-1].astype(float)
    # a pixel of a vertical grid line (x = 40k) with bright neighbours left and right
    x = 200
    ys = [y for y in range(60, 420)
          if min(np.abs(img[y, x - 1] - img[y, x]).sum(), np.abs(img[y, x + 1] - img[y, x])
                 .sum()) > 60]
    assert ys
    y = ys[len(ys) // 2]
    page = Page(browser, label_server, dpr=2)
    try:
        page.zoom(view, 8, x, y)
        page.idle()
        for xi, yi in ((x, y), (x - 1, y), (x + 1, y)):
            cx, cy = page.client(view, xi, yi)
            for dx, dy in ((-2.5, 0), (2.5, 0), (0, -2.5), (0, 2.5), (0, 0)):
                png = page.page.screenshot(clip={"x": cx + dx - 0.5, "y": cy + dy - 0.5,
                                                 "width": 1, "height": 1})
                got = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
                rgb = got.reshape(-1, 3)[:, ::-1].astype(float).mean(0)
                assert np.abs(rgb - img[yi, xi]).max() < 14, (xi, yi, dx, dy, rgb, img[yi, xi])
    finally:
        page.close()


def test_zoom_pan_and_help(browser, label_server):
    frames = label_server["frames"]
    view = frames["views"][0]
    page = Page(browser, label_server)
    try:
        fit = page.state()["views"][view]
        # the wheel zooms about the cursor: the image point under it stays under it (within
        # the half pixel that a wheel event's integer coordinates round away)
        cx, cy = page.client(view, 250, 150)
        page.page.mouse.move(cx, cy)
        page.page.mouse.wheel(0, -300)
        page.idle()
        v = page.state()["views"][view]
        assert v["zoom"] > 1.5 * fit["zoom"]
        assert page.client(view, 250, 150) == pytest.approx((cx, cy), abs=0.75)
        cx, cy = page.client(view, 250, 150)
        # right-drag pans by the mouse's travel
        page.page.mouse.down(button="right")
        page.page.mouse.move(cx + 40, cy - 25, steps=5)
        page.page.mouse.up(button="right")
        page.idle()
        assert page.client(view, 250, 150) == pytest.approx((cx + 40, cy - 25), abs=0.75)
        # space + drag pans too, and neither placed a point
        page.page.keyboard.down(" ")
        page.page.mouse.down()
        page.page.mouse.move(cx, cy, steps=5)
        page.page.mouse.up()
        page.page.keyboard.up(" ")
        page.idle()
        assert page.client(view, 250, 150) == pytest.approx((cx, cy), abs=0.75)
        assert not page.state()["labels"][view]
        # + and - zoom the view under the mouse, 0 fits it again
        z = page.state()["views"][view]["zoom"]
        page.key("+")
        assert page.state()["views"][view]["zoom"] == pytest.approx(z * 1.25)
        page.key("-")
        page.key("0")
        assert page.state()["views"][view] == pytest.approx(fit)
        # ? shows the shortcuts
        assert not page.page.locator("#help").is_visible()
        page.key("?")
        assert page.page.locator("#help").is_visible()
        assert "Ctrl" in page.page.locator("#help").inner_text()
        page.key("?")
        assert not page.page.locator("#help").is_visible()
    finally:
        page.close()


def test_two_views_give_proposals_and_epipolar_curves(browser, label_server):
    frames = label_server["frames"]
    views, truth = frames["views"], frames["pixels"]
    i, j = 0, 0  # instant, bodypart
    bp = frames["bodyparts"][j]
    page = Page(browser, label_server)
    try:
        page.click(views[0], *truth[views[0]][i, j])
        curves = page.page.evaluate("window.tripose.epipolarCurves()")
        assert not curves[views[0]]
        for v in views[1:]:
            assert curves[v], v
            assert min(polyline_distance(c, truth[v][i, j]) for c in curves[v]) < 2, v
        assert page.state()["bodypart"] == frames["bodyparts"][1]
        page.key("1")  # back to the first bodypart
        assert page.state()["bodypart"] == bp
        page.click(views[1], *truth[views[1]][i, j])
        proposals = page.state()["proposals"]
        assert not proposals[views[0]] and not proposals[views[1]]
        for v in views[2:]:
            (p,) = [p for p in proposals[v] if p["bodypart"] == bp]
            assert np.hypot(p["x"] - truth[v][i, j, 0], p["y"] - truth[v][i, j, 1]) < 2, v
        # proposals are not saved until accepted
        assert np.isnan(read_point(h5_file(label_server, views[2]), frames["images"][i], bp)[0])
        # accept one by clicking it, the other with "a"
        p2 = next(p for p in proposals[views[2]] if p["bodypart"] == bp)
        page.click(views[2], p2["x"], p2["y"])
        assert page.label(views[2], bp)["source"] == "triangulated"
        page.page.mouse.move(*page.client(views[3], 5, 5))
        page.key("a")
        got = page.label(views[3], bp)
        assert got["source"] == "triangulated"
        assert np.hypot(*(np.array([got["x"], got["y"]]) - truth[views[3]][i, j])) < 2
        assert not any(page.state()["proposals"].values())
        for v in views:
            x, y = read_point(h5_file(label_server, v), frames["images"][i], bp)
            assert np.hypot(x - truth[v][i, j, 0], y - truth[v][i, j, 1]) < 2, v
        # a point 25 px off in the fourth view disagrees with the three others
        bp2 = frames["bodyparts"][1]
        page.select(bp2)
        for v in views[:3]:
            page.select(bp2)
            page.click(v, *truth[v][i, 1])
        page.select(bp2)
        page.click(views[3], truth[views[3]][i, 1, 0] + 25, truth[views[3]][i, 1, 1])
        tri = page.page.evaluate("window.tripose.triangulations()")
        assert views[3] in tri[bp2]["flagged"] and views[0] not in tri[bp2]["flagged"]
        head = page.page.locator(f'section.view[data-view="{views[3]}"] .view-status')
        assert "disagree" in head.inner_text()
    finally:
        page.close()


def test_reload_shows_the_same_labels(browser, label_server):
    frames = label_server["frames"]
    views = frames["views"]
    page = Page(browser, label_server)
    try:
        page.click(views[0], 100.25, 200.5)
        page.click(views[2], 300, 150)
        page.page.mouse.move(*page.client(views[1], 10, 10))
        page.key("v")  # the current bodypart is invisible in views[1]
        before = page.state()
        assert before["saved"] and before["invisible"][views[1]]
        page.open(reload=True)
        after = page.state()
        assert after["instant"] == before["instant"]
        assert after["labels"] == before["labels"]
        assert after["invisible"] == before["invisible"]
    finally:
        page.close()


def test_undo_redo_and_the_file_follows(browser, label_server):
    frames = label_server["frames"]
    view, image = frames["views"][0], frames["images"][0]
    bp0, bp1 = frames["bodyparts"][:2]
    path = h5_file(label_server, view)
    page = Page(browser, label_server)
    try:
        page.click(view, 50, 60)
        page.click(view, 70, 80)
        assert page.label(view, bp1) is not None
        page.key("Control+z")
        assert page.label(view, bp1) is None and page.label(view, bp0) is not None
        assert np.isnan(read_point(path, image, bp1)[0])
        assert read_point(path, image, bp0) == pytest.approx((50, 60), abs=1)
        page.key("Control+Shift+z")
        assert page.label(view, bp1)["x"] == pytest.approx(70, abs=1)
        assert read_point(path, image, bp1) == pytest.approx((70, 80), abs=1)
        page.key("Control+z")
        page.key("Control+z")
        assert not page.state()["labels"][view]
        assert np.isnan(read_point(path, image, bp0)[0])
        page.key("Control+y")
        assert page.label(view, bp0) is not None and page.label(view, bp1) is None
        assert read_point(path, image, bp0) == pytest.approx((50, 60), abs=1)
        # Delete removes the current bodypart's point in the view under the mouse
        page.select(bp0)
        page.page.mouse.move(*page.client(view, 300, 300))
        page.key("Delete")
        assert page.label(view, bp0) is None
        assert np.isnan(read_point(path, image, bp0)[0])
        page.key("Control+z")
        assert page.label(view, bp0) is not None
    finally:
        page.close()


def test_drag_moves_a_point(browser, label_server):
    frames = label_server["frames"]
    views, truth = frames["views"], frames["pixels"]
    bp0 = frames["bodyparts"][0]
    page = Page(browser, label_server)
    try:
        page.zoom(views[0], 2, 200, 200)
        page.click(views[0], 200, 200)
        page.drag(views[0], (200, 200), (212.5, 190))
        got = page.label(views[0], bp0)
        assert got["x"] == pytest.approx(212.5, abs=1) and got["y"] == pytest.approx(190, abs=1)
        assert len(page.state()["labels"][views[0]]) == 1
        assert read_point(h5_file(label_server, views[0]), frames["images"][0], bp0) == \
            pytest.approx((212.5, 190), abs=1)
        # a dragged proposal becomes a human point where it is dropped
        page.drag(views[0], (212.5, 190), tuple(truth[views[0]][0, 0]))
        page.select(bp0)
        page.click(views[1], *truth[views[1]][0, 0])
        (p,) = [p for p in page.state()["proposals"][views[2]] if p["bodypart"] == bp0]
        page.drag(views[2], (p["x"], p["y"]), (p["x"] + 10, p["y"] + 5))
        got = page.label(views[2], bp0)
        assert got["source"] == "human"
        assert got["x"] == pytest.approx(p["x"] + 10, abs=1)
    finally:
        page.close()


def test_switching_instants_saves_to_the_right_instant(browser, label_server):
    frames = label_server["frames"]
    view = frames["views"][0]
    img0, img1 = frames["images"][:2]
    bp0 = frames["bodyparts"][0]
    path = h5_file(label_server, view)
    page = Page(browser, label_server)
    try:
        page.page.mouse.click(*page.client(view, 111, 222))
        page.page.keyboard.press("ArrowRight")  # before the autosave fires
        page.idle()
        assert page.state()["instant"] == img1
        assert read_point(path, img0, bp0) == pytest.approx((111, 222), abs=1)
        assert not page.state()["labels"][view]
        page.select(bp0)
        page.click(view, 333, 144)
        page.key(",")
        assert page.state()["instant"] == img0
        assert page.label(view, bp0)["x"] == pytest.approx(111, abs=1)
        assert read_point(path, img1, bp0) == pytest.approx((333, 144), abs=1)
        assert read_point(path, img0, bp0) == pytest.approx((111, 222), abs=1)
    finally:
        page.close()


def _rewrite_h5(path: Path, image: str, bodypart: str, xy) -> None:
    df = pd.read_hdf(path, "df_with_missing")
    scorer = df.columns.get_level_values(0)[0]
    row = [i for i, r in enumerate(df.index) if str(r[-1] if isinstance(r, tuple) else r)
           .endswith(image)][0]
    df.iloc[row, df.columns.get_loc((scorer, bodypart, "x"))] = xy[0]
    df.iloc[row, df.columns.get_loc((scorer, bodypart, "y"))] = xy[1]
    tmp = path.with_name(f".{path.name}.tmp")  # atomic, as the server's readers expect
    df.to_hdf(tmp, key="df_with_missing", mode="w")
    os.replace(tmp, path)


def test_conflict_banner_when_the_file_changed_on_disk(browser, label_server):
    frames = label_server["frames"]
    view, image = frames["views"][0], frames["images"][0]
    bp0, bp1, bp2 = frames["bodyparts"][:3]
    path = h5_file(label_server, view)
    page = Page(browser, label_server)
    try:
        page.click(view, 100, 100)
        assert page.state()["saved"]
        _rewrite_h5(path, image, bp0, (150, 160))  # someone else edits the file
        page.click(view, 200, 200)  # bp1
        s = page.state()
        assert s["conflict"] and not s["saved"] and s["status"] == "conflict"
        banner = page.page.locator("#banner")
        assert banner.is_visible() and "changed on disk" in banner.inner_text()
        assert read_point(path, image, bp0) == (150, 160)  # nothing written
        assert np.isnan(read_point(path, image, bp1)[0])
        # leaving is refused while the conflict stands
        page.key("ArrowRight")
        assert page.state()["instant"] == image
        # keep mine: the page's labels overwrite the file
        page.page.click("#keep-mine")
        page.idle()
        assert page.state()["saved"] and not banner.is_visible()
        assert read_point(path, image, bp0) == pytest.approx((100, 100), abs=1)
        assert read_point(path, image, bp1) == pytest.approx((200, 200), abs=1)
        # again, and this time reload from disk (Ctrl+Z brings the page's labels back)
        _rewrite_h5(path, image, bp0, (50, 55))
        page.click(view, 300, 300)  # bp2
        assert banner.is_visible()
        page.page.click("#reload-disk")
        page.idle()
        assert not banner.is_visible() and page.state()["saved"]
        assert page.label(view, bp0)["x"] == pytest.approx(50) and page.label(view, bp2) is None
        assert read_point(path, image, bp0) == (50, 55)
        page.key("Control+z")
        assert page.label(view, bp2)["x"] == pytest.approx(300, abs=1)
        assert read_point(path, image, bp2) == pytest.approx((300, 300), abs=1)
    finally:
        page.close()


def _machine_labels(folder: Path, images: list[str], bodyparts: list[str], rng) -> dict:
    """A machinelabels-iter0.h5 (DeepLabCut's refinement input) with predictions."""
    cols = pd.MultiIndex.from_product([["DLC_resnet50"], bodyparts, ["x", "y", "likelihood"]],
                                      names=["scorer", "bodyparts", "coords"])
    index = pd.MultiIndex.from_tuples([("labeled-data", folder.name, im) for im in images])
    values = np.empty((len(images), len(bodyparts), 3))
    values[..., 0] = rng.uniform(30, 290, values.shape[:2])
    values[..., 1] = rng.uniform(30, 210, values.shape[:2])
    values[..., 2] = 0.9
    pd.DataFrame(values.reshape(len(images), -1), index=index, columns=cols).to_hdf(
        folder / "machinelabels-iter0.h5", key="df_with_missing", mode="w")
    return {im: values[i] for i, im in enumerate(images)}


def test_single_view_project_and_refinement(browser, dlc_project, label_server_factory):
    folder, images, bps = dlc_project["folder"], dlc_project["images"], dlc_project["bodyparts"]
    predicted = _machine_labels(folder, images[1:], bps, np.random.default_rng(3))
    server = label_server_factory(dlc_project["root"])
    page = Page(browser, server, viewport=(1200, 800))
    path = folder / "CollectedData_alice.h5"
    try:
        s = page.state()
        (view,) = s["labels"]
        # one view: the full width of the views area
        box = page.page.locator("section.view").bounding_box()
        main = page.page.locator("#views").bounding_box()
        assert box["width"] > main["width"] - 20
        page.click(view, 10.5, 20.25)
        page.click(view, 300, 200)
        page.page.mouse.move(*page.client(view, 150, 100))
        page.key("v")  # tail invisible
        df = pd.read_hdf(path, "df_with_missing")
        assert list(df.index[0]) == ["labeled-data", "vid1", images[0]]
        assert read_point(path, images[0], "nose") == pytest.approx((10.5, 20.25), abs=1e-3)
        assert read_point(path, images[0], "ear") == pytest.approx((300, 200), abs=1e-3)
        assert np.isnan(read_point(path, images[0], "tail")[0])
        prov = pd.read_csv(folder / "CollectedData_alice.provenance.csv")
        assert dict(zip(prov["bodypart"], prov["source"], strict=True)) == \
            {"nose": "human", "ear": "human", "tail": "invisible"}
        # refinement: the predictions are shown as "model" points; browsing writes nothing
        version = path.stat().st_mtime_ns
        page.key("ArrowRight")
        s = page.state()
        assert s["instant"] == images[1] and s["saved"]
        assert {p["bodypart"]: p["source"] for p in s["labels"][view]} == \
            {bp: "model" for bp in bps}
        page.key("ArrowRight")
        assert path.stat().st_mtime_ns == version
        assert np.isnan(read_point(path, images[1], "nose")[0])
        # moving one makes it human; the others are saved as "model"
        pred = predicted[images[2]]
        page.drag(view, pred[0, :2], (pred[0, 0] + 8, pred[0, 1] + 4))
        got = {p["bodypart"]: p for p in page.state()["labels"][view]}
        assert got["nose"]["source"] == "human" and got["ear"]["source"] == "model"
        assert read_point(path, images[2], "nose") == pytest.approx(
            (pred[0, 0] + 8, pred[0, 1] + 4), abs=1)
        assert read_point(path, images[2], "ear") == pytest.approx(tuple(pred[1, :2]), abs=1e-3)
        prov = pd.read_csv(folder / "CollectedData_alice.provenance.csv")
        here = prov[prov["image"] == images[2]]
        assert dict(zip(here["bodypart"], here["source"], strict=True)) == \
            {"nose": "human", "ear": "model", "tail": "model"}
        assert np.isnan(read_point(path, images[1], "nose")[0])  # never touched
    finally:
        page.close()


MULTI_CONFIG = """\
Task: mice
scorer: bob
date: Jan1
multianimalproject: true
identity: false
project_path: {root}
individuals:
- m1
- m2
uniquebodyparts:
- corner
multianimalbodyparts:
- nose
- tail
bodyparts: MULTI!
skeleton:
- - nose
  - tail
iteration: 0
"""


def test_multi_animal_project(browser, dlc_project, label_server_factory):
    root, folder, image = dlc_project["root"], dlc_project["folder"], dlc_project["images"][0]
    (root / "config.yaml").write_text(MULTI_CONFIG.format(root=root), encoding="utf-8")
    server = label_server_factory(root)
    page = Page(browser, server, viewport=(1200, 800))
    try:
        (view,) = page.state()["labels"]
        assert page.page.locator("#individual").is_visible()
        assert page.page.locator("#bodyparts li").all_inner_texts()[0].split()[1] == "nose"
        assert page.page.locator("#bodyparts li").count() == 2  # m1: nose, tail
        placed = [("m1", "nose", (20, 30)), ("m1", "tail", (60, 70)), ("m2", "nose", (100, 40))]
        for ind, bp, xy in placed:
            s = page.state()
            assert (s["individual"], s["bodypart"]) == (ind, bp)  # advanced to it
            page.click(view, *xy)
        page.page.select_option("#individual", "single")
        page.idle()
        assert page.state()["bodypart"] == "corner"
        page.click(view, 5, 6)
        placed.append(("single", "corner", (5, 6)))
        df = pd.read_hdf(folder / "CollectedData_bob.h5", "df_with_missing")
        assert df.columns.names == ["scorer", "individuals", "bodyparts", "coords"]
        for ind, bp, (x, y) in placed:
            assert df.loc[("labeled-data", "vid1", image), ("bob", ind, bp, "x")] == \
                pytest.approx(x, abs=1e-3)
            assert df.loc[("labeled-data", "vid1", image), ("bob", ind, bp, "y")] == \
                pytest.approx(y, abs=1e-3)
        assert np.isnan(df.loc[("labeled-data", "vid1", image), ("bob", "m2", "tail", "x")])
    finally:
        page.close()


def _save_png(png: bytes, path: Path) -> None:
    """A screenshot as a 256-colour dithered PNG (a quarter of the size, colours kept)."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    img.quantize(256, method=Image.Quantize.FASTOCTREE,
                 dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)


def test_screenshots(browser, label_server, label_server_factory, tmp_path):
    """The README's screenshots (only with TRIPOSE_LABEL_SCREENSHOTS=DIR)."""
    out = os.environ.get("TRIPOSE_LABEL_SCREENSHOTS")
    if not out:
        pytest.skip("set TRIPOSE_LABEL_SCREENSHOTS=DIR to write the screenshots")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frames = label_server["frames"]
    views, truth, bps = frames["views"], frames["pixels"], frames["bodyparts"]
    page = Page(browser, label_server, viewport=(1600, 900))
    try:
        for j, bp in enumerate(bps):  # every bodypart in two views, three in a third
            for v in views[:2] + (views[2:3] if j < 3 else []):
                page.select(bp)
                # one point off by 14 px: flagged, it disagrees with the other views
                page.click(v, *(truth[v][0, j] + ((14, 0) if (v, j) == (views[2], 2) else 0)))
        page.select(bps[4])
        page.page.mouse.move(*page.client(views[3], *truth[views[3]][0, 4]))
        page.idle()
        _save_png(page.page.screenshot(), out / "label_multiview.png")
    finally:
        page.close()
    # one camera's frames as a single-view folder, zoomed on the animal
    single = tmp_path / "single"
    single.mkdir()
    for name in frames["images"]:
        shutil.copy(frames["root"] / views[0] / name, single / name)
    server = label_server_factory(single, skeleton=frames["root"] / "skeleton.toml")
    page = Page(browser, server, viewport=(1280, 720))
    try:
        (view,) = page.state()["labels"]
        px = truth[views[0]][0]
        for j in range(len(bps) - 1):
            page.click(view, *px[j])
        page.zoom(view, 3.2, *px.mean(0))
        page.page.mouse.move(*page.client(view, *px[2]))
        page.idle()
        _save_png(page.page.screenshot(), out / "label_single.png")
    finally:
        page.close()
