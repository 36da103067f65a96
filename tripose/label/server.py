"""The labeling app's HTTP server (Starlette): the page, its files and the JSON API.

See docs/labeling.md for the API. Every request needs the token (query ``token`` or header
``X-Tripose-Token``); only files inside the TARGET (and the page's own files) are served,
symbolic links leading outside refused; errors are ``{"error": "one line"}``.
"""

from __future__ import annotations

import hmac
import json
import logging
import mimetypes
import secrets
import socket
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from calibration.errors import InputError
from viz3d.colors import bodypart_colors

from .geometry import epipolar_curves, triangulate_views
from .model import IMAGE_SUFFIXES, Group, Target
from .store import BadRequest, Conflict, LabelStore

__all__ = ["create_app", "run", "new_token", "TOKEN_HEADER", "STATIC"]

log = logging.getLogger(__name__)

#: The page's files.
STATIC = Path(__file__).resolve().parent / "static"
#: Header that may carry the token instead of the query.
TOKEN_HEADER = "x-tripose-token"
_CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                  ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
                  ".html": "text/html", ".svg": "image/svg+xml", ".json": "application/json"}
_NO_STORE = {"Cache-Control": "no-store"}


def new_token() -> str:
    """A fresh random token (``secrets.token_urlsafe(24)``)."""
    return secrets.token_urlsafe(24)


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=_NO_STORE)


class TokenMiddleware:
    """Refuse requests without the token (401) or with a wrong one (403)."""

    def __init__(self, app, token: str):
        self.app, self.token = app, token.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = [v for k, v in scope.get("headers", []) if k.decode("latin-1").lower()
                 == TOKEN_HEADER]
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given += [v.encode() for v in query.get("token", [])]
        if not given:
            response = _error(401, "missing token: open the address tripose label printed "
                                   "(it ends in ?token=...)")
        elif not all(hmac.compare_digest(g, self.token) for g in given):
            response = _error(403, "wrong token: open the address tripose label printed")
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def _inside(path: Path, root: Path) -> Path:
    """``path`` resolved (links followed), or 404 when it leads outside ``root``."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise ApiError(404, f"{path.name}: no such file") from None
    if not real.is_relative_to(root) or not real.is_file():
        raise ApiError(404, f"{path.name}: not a file inside the target")
    return real


def _within(path: Path, root: Path) -> bool:
    """Whether ``path`` (links followed) is a file inside ``root``."""
    try:
        _inside(path, root)
    except ApiError:
        return False
    return True


def _json_safe(a: Any) -> Any:
    """Numbers of an array as JSON (NaN and inf as null)."""
    arr = np.asarray(a, dtype=np.float64)
    return [None if not np.isfinite(v) else float(v) for v in arr.ravel()] if arr.ndim else (
        float(arr) if np.isfinite(arr) else None)


def _image_size(path: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return int(im.size[0]), int(im.size[1])
    except Exception:  # PIL raises many types on unreadable files
        return None


def create_app(target: Target, token: str, store: LabelStore | None = None) -> Starlette:
    """The app serving ``target``.

    Parameters
    ----------
    target : Target
        From :func:`tripose.label.target.discover`.
    token : str
        Every request must carry it.
    store : LabelStore, optional
        Default a new one over ``target``.

    Returns
    -------
    Starlette
        An ASGI app (wrapped in the token check).
    """
    store = store or LabelStore(target)
    root = target.root
    static_root = STATIC

    def group_of(gid: str) -> Group:
        g = target.groups.get(gid)
        if g is None:
            raise ApiError(404, f"unknown group {gid!r}; groups: {list(target.groups)}")
        return g

    def instant_of(g: Group, iid: str) -> str:
        if iid not in g.instants():
            raise ApiError(404, f"group {g.id!r} has no instant {iid!r}")
        return iid

    async def body_of(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "the request body must be JSON") from None

    def image_url(g: Group, view: str, iid: str) -> str:
        return (f"/api/image/{quote(g.id, safe='')}/{quote(view, safe='')}/"
                f"{quote(iid, safe='')}?token={quote(token, safe='')}")

    def instant_body(g: Group, iid: str) -> dict:
        views = {}
        for name, v in g.views.items():
            path = v.folder / iid
            exists = iid in v.images() and _within(path, root)
            size = _image_size(path) if exists else None
            if size is None and g.rig is not None:
                size = g.rig[name].size
            views[name] = {"image": image_url(g, name, iid), "exists": exists,
                           "width": size[0] if size else None,
                           "height": size[1] if size else None}
        return {"id": iid, "views": views, **store.instant(g, iid)}

    async def page(request: Request) -> Response:
        index = static_root / "index.html"
        if not index.is_file():
            raise ApiError(404, "the labeling page is not installed (tripose/label/static)")
        html = index.read_text(encoding="utf-8").replace("{{TOKEN}}", token)
        return HTMLResponse(html, headers=_NO_STORE)

    async def static(request: Request) -> Response:
        rel = request.path_params["path"]
        path = _inside(static_root / rel, static_root)
        kind = _CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
        return FileResponse(path, media_type=kind or "application/octet-stream",
                            headers=_NO_STORE)

    async def meta(request: Request) -> Response:
        colors = bodypart_colors(len(target.bodyparts))
        return JSONResponse({
            "target": str(root), "kind": target.kind, "scorer": target.scorer,
            "bodyparts": target.bodyparts, "individuals": target.individuals,
            "unique_bodyparts": target.unique_bodyparts,
            "skeleton": [list(e) for e in target.skeleton],
            "colors": {b: "#{:02x}{:02x}{:02x}".format(*map(int, c))
                       for b, c in zip(target.bodyparts, colors, strict=True)},
            "groups": [{"id": g.id, "views": list(g.views), "calibrated": g.rig is not None,
                        "n_instants": len(g.instants()),
                        "units": g.rig.units if g.rig is not None else None}
                       for g in target.groups.values()],
        }, headers=_NO_STORE)

    def instants(request: Request) -> Response:
        g = group_of(request.path_params["gid"])
        return JSONResponse(store.summary(g), headers=_NO_STORE)

    def get_instant(request: Request) -> Response:
        g = group_of(request.path_params["gid"])
        return JSONResponse(instant_body(g, instant_of(g, request.path_params["iid"])),
                            headers=_NO_STORE)

    async def put_instant(request: Request) -> Response:
        g = group_of(request.path_params["gid"])
        iid = instant_of(g, request.path_params["iid"])
        body = await body_of(request)
        try:
            versions = await run_in_threadpool(store.write_instant, g, iid, body)
        except Conflict as exc:
            current = instant_body(g, iid)
            raise ApiError(409, str(exc), current=current) from None
        except KeyError as exc:
            raise ApiError(404, str(exc.args[0] if exc.args else exc)) from None
        except BadRequest as exc:
            raise ApiError(400, str(exc)) from None
        return JSONResponse({"versions": versions}, headers=_NO_STORE)

    def image(request: Request) -> Response:
        g = group_of(request.path_params["gid"])
        view = g.views.get(request.path_params["view"])
        iid = request.path_params["iid"]
        if view is None:
            raise ApiError(404, f"group {g.id!r} has no view {request.path_params['view']!r}")
        if iid not in view.images() or Path(iid).suffix.lower() not in IMAGE_SUFFIXES:
            raise ApiError(404, f"view {view.name!r} has no image {iid!r}")
        path = _inside(view.folder / iid, root)
        if _image_size(path) is None:
            raise ApiError(422, f"{view.folder / iid} cannot be read as an image")
        return FileResponse(path, media_type=_CONTENT_TYPES[path.suffix.lower()],
                            headers={"Cache-Control": "private, max-age=60"})

    def calibrated(g: Group):
        if g.rig is None:
            raise ApiError(400, f"group {g.id!r} has no calibration; pass --calibration")
        return g.rig

    def number(d: dict, key: str) -> float:
        v = d.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise ApiError(400, f"{key!r} must be a finite number, got {v!r}")
        return float(v)

    async def epipolar(request: Request) -> Response:
        g = group_of(request.path_params["gid"])
        rig = calibrated(g)
        body = await body_of(request)
        if not isinstance(body, dict):
            raise ApiError(400, "expected {\"view\", \"x\", \"y\"}")
        view = body.get("view")
        if view not in g.views:
            raise ApiError(404, f"group {g.id!r} has no view {view!r}")
        curves = await run_in_threadpool(epipolar_curves, rig, view,
                                         (number(body, "x"), number(body, "y")))
        return JSONResponse({"curves": {k: np.round(v, 3).tolist() for k, v in curves.items()}},
                            headers=_NO_STORE)

    async def triangulate(request: Request) -> Response:
        g = group_of(request.path_params["gid"])
        rig = calibrated(g)
        body = await body_of(request)
        points = body.get("points") if isinstance(body, dict) else None
        if not isinstance(points, dict):
            raise ApiError(400, "expected {\"points\": {VIEW: [x, y], ...}}")
        for v, xy in points.items():
            if v not in g.views:
                raise ApiError(404, f"group {g.id!r} has no view {v!r}")
            if not (isinstance(xy, list) and len(xy) == 2):
                raise ApiError(400, f"points[{v!r}] must be [x, y]")
            number({"x": xy[0], "y": xy[1]}, "x"), number({"x": xy[0], "y": xy[1]}, "y")
        if len(points) < 2:
            raise ApiError(400, f"triangulation needs 2 or more views, got {len(points)}")
        res = await run_in_threadpool(
            triangulate_views, rig, {v: (float(x), float(y)) for v, (x, y) in points.items()})
        return JSONResponse({
            "point3d": _json_safe(res["point3d"]), "units": rig.units,
            "reprojected": {k: _json_safe(v) for k, v in res["reprojected"].items()},
            "errors": {k: _json_safe(v) for k, v in res["errors"].items()},
            "flagged": res["flagged"], "threshold": res["threshold"]}, headers=_NO_STORE)

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error(exc.status, exc.message, **exc.extra)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        what = {404: "not found", 405: "method not allowed"}.get(exc.status_code, exc.detail)
        return _error(exc.status_code, f"{request.method} {request.url.path}: {what}")

    async def on_input_error(request: Request, exc: Exception) -> Response:
        return _error(422, (str(exc).splitlines() or ["unreadable input"])[0])

    async def on_other(request: Request, exc: Exception) -> Response:
        log.exception("tripose label: %s %s failed", request.method, request.url.path)
        return _error(500, f"internal error: {type(exc).__name__}: {exc}".splitlines()[0])

    routes = [
        Route("/", page), Route("/static/{path:path}", static),
        Route("/api/meta", meta),
        Route("/api/groups/{gid}/instants", instants),
        Route("/api/groups/{gid}/instants/{iid}", get_instant, methods=["GET"]),
        Route("/api/groups/{gid}/instants/{iid}", put_instant, methods=["PUT"]),
        Route("/api/image/{gid}/{view}/{iid}", image),
        Route("/api/groups/{gid}/epipolar", epipolar, methods=["POST"]),
        Route("/api/groups/{gid}/triangulate", triangulate, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={
        ApiError: on_api_error, HTTPException: on_http_error, InputError: on_input_error,
        Exception: on_other})
    app.add_middleware(TokenMiddleware, token=token)
    return app


def _open_soon(url: str) -> None:
    import webbrowser

    threading.Timer(0.5, lambda: webbrowser.open(url)).start()


def run(target: Target, host: str = "127.0.0.1", port: int = 0, open_browser: bool = True,
        on_bound=None) -> None:
    """Serve ``target`` until interrupted (uvicorn, log level warning).

    Binds ``host:port`` (0: a free port), prints ``http://HOST:PORT/?token=TOKEN`` on stdout
    (flushed) and opens the browser unless told not to.

    Parameters
    ----------
    target : Target
    host : str
    port : int
    open_browser : bool
    on_bound : callable, optional
        Called with the bound port and the address (``http://HOST:PORT/``, no token) before
        serving (the lock records them).
    """
    import uvicorn

    token = new_token()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, int(port)))
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another "
                             f"--port (0 picks a free one)") from None
        sock.listen(128)  # connections made as soon as the URL is printed wait in the queue
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        if on_bound is not None:
            on_bound(bound, f"http://{shown}:{bound}/")
        url = f"http://{shown}:{bound}/?token={token}"
        print(url, flush=True)
        sys.stdout.flush()
        if open_browser:
            _open_soon(url)
        app = create_app(target, token)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        server.run(sockets=[sock])
    finally:
        sock.close()
