"""Labels on disk: read and write one instant of a group, with provenance and versions.

Writing an instant rewrites each changed view's whole label files (see :mod:`.files`):
other images' rows keep their values and row keys. ``machinelabels-iter*.h5`` (newest
iteration) pre-fills views without labels at an instant; it is never written.

A view's *version* is its label file's ``mtime_ns-size-inode`` (``"none"`` when absent): a
write whose versions differ from the files on disk raises :class:`Conflict`, writing nothing.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from calibration.errors import InputError
from calibration.sources import natural_key
from poses.io.dlc import load_dlc

from .files import (
    SOURCES,
    Table,
    external,
    file_version,
    label_file,
    new_row,
    provenance_file,
    read_table,
    write_table,
)

if TYPE_CHECKING:
    from .model import Group, Target, View

__all__ = ["LabelStore", "Conflict", "BadRequest"]

log = logging.getLogger(__name__)
_ITER = re.compile(r"^machinelabels-iter(\d+)\.h5$")
#: The rig's reprojections written beside them by ``extract-outliers`` (hints, never labels).
_REPROJ = re.compile(r"^reprojections-iter(\d+)\.h5$")

class Conflict(Exception):
    """A view's label file changed on disk since the versions the client sent.

    Attributes
    ----------
    current : dict
        The instant as it is now (the GET body's points/invisible/prefill/versions).
    """

    def __init__(self, message: str, current: dict):
        super().__init__(message)
        self.current = current


class BadRequest(ValueError):
    """A request body that does not fit the target (one line)."""


# ------------------------------------------------------------------------------ the store
class LabelStore:
    """Reads and writes the labels of a :class:`~tripose.label.target.Target`, thread-safe.

    Parameters
    ----------
    target : Target
    """

    def __init__(self, target: Target):
        self.target = target
        self._lock = threading.RLock()
        self._tables: dict[Path, tuple[str, str, Table]] = {}
        self._machine: dict[Path, tuple[str, dict[str, list[dict]]]] = {}

    # --- reading ---------------------------------------------------------------------
    def version(self, view: View) -> str:
        """The view's label-file version (``"none"`` when it has none)."""
        h5 = label_file(view.folder, self.target.scorer)
        if h5.is_file():
            return file_version(h5)
        return file_version(label_file(view.folder, self.target.scorer, ".csv"))

    def table(self, view: View) -> Table:
        """The view's labels (cached while its files are unchanged)."""
        with self._lock:
            key = (self.version(view),
                   file_version(provenance_file(view.folder, self.target.scorer)))
            hit = self._tables.get(view.folder)
            if hit is None or hit[:2] != key:
                hit = (*key, read_table(self.target, view))
                self._tables[view.folder] = hit
            return hit[2]

    def _prefill(self, view: View, image: str, pattern: re.Pattern = _ITER) -> list[dict]:
        """The newest ``<prefix>-iter<N>.h5`` file's points at ``image`` (``pattern``:
        :data:`_ITER` for predictions, :data:`_REPROJ` for the rig's reprojections)."""
        prefix = "machinelabels" if pattern is _ITER else "reprojections"
        files = [(int(m.group(1)), p) for p in view.folder.glob(f"{prefix}-iter*.h5")
                 if (m := pattern.match(p.name)) and p.is_file()]
        if not files:
            return []
        path = max(files)[1]
        version = file_version(path)
        hit = self._machine.get(path)
        if hit is None or hit[0] != version:
            hit = (version, self._read_machine(path))
            self._machine[path] = hit
        return hit[1].get(image, [])

    def _read_machine(self, path: Path) -> dict[str, list[dict]]:
        try:
            poses = load_dlc(path)
        except (InputError, OSError, ValueError) as exc:
            log.warning("%s: not read for pre-filling (%s)", path, exc)
            return {}
        paths = poses.attrs.get("image_paths") or [str(f) for f in poses.frame_index]
        known = set(self.target.pairs())
        out: dict[str, list[dict]] = {}
        for f, p in enumerate(paths):
            items = []
            for i, ind in enumerate(poses.individuals):
                for k, bp in enumerate(poses.keypoints):
                    x, y = poses.position[f, i, k]
                    if (external(ind), bp) in known and np.isfinite(x) and np.isfinite(y):
                        like = poses.confidence[f, i, k]
                        items.append({"individual": external(ind), "bodypart": bp,
                                      "x": float(x), "y": float(y),
                                      "likelihood": float(like) if np.isfinite(like) else None,
                                      "source": "model"})
            out[p.rsplit("/", 1)[-1]] = items
        return out

    def instant(self, group: Group, image: str) -> dict:
        """``points``, ``invisible``, ``prefill`` and ``versions`` of an instant (the GET
        body's label part), every view of the group present."""
        pairs = self.target.pairs()
        out: dict[str, dict] = {"points": {}, "invisible": {}, "prefill": {}, "reprojected": {},
                                "versions": {}}
        with self._lock:
            for name, view in group.views.items():
                table = self.table(view)
                r = table.row_of(image)
                pts, inv = [], []
                for p, (ind, bp) in enumerate(pairs):
                    src = table.prov.get((image, ind, bp), "human")
                    if r is not None and np.isfinite(table.xy[r, p]).all():
                        pts.append({"individual": ind, "bodypart": bp,
                                    "x": float(table.xy[r, p, 0]), "y": float(table.xy[r, p, 1]),
                                    "source": "human" if src == "invisible" else src})
                    elif src == "invisible" and (image, ind, bp) in table.prov:
                        inv.append([ind, bp])
                out["points"][name] = pts
                out["invisible"][name] = inv
                if not pts and not inv:
                    pre = self._prefill(view, image)
                    if pre:
                        out["prefill"][name] = pre
                hints = self._prefill(view, image, _REPROJ)
                if hints:
                    out["reprojected"][name] = [{**h, "source": "reprojected"} for h in hints]
                out["versions"][name] = self.version(view)
        return out

    def summary(self, group: Group) -> list[dict]:
        """Per instant: ``id``, ``n_labeled`` (views with a point or an invisible mark),
        ``n_views`` (views holding the image) and ``n_points`` (labelled points, all views)."""
        pairs = self.target.pairs()
        with self._lock:
            tables = {n: self.table(v) for n, v in group.views.items()}
        images = {n: set(v.images()) for n, v in group.views.items()}
        labelled = {n: t.labelled(pairs) for n, t in tables.items()}
        points: dict[str, int] = {}
        for t in tables.values():
            counts = np.isfinite(t.xy).all(-1).sum(-1)
            for row, c in zip(t.rows, counts, strict=True):
                name = row[-1].rsplit("/", 1)[-1]
                points[name] = points.get(name, 0) + int(c)
        return [{"id": iid, "n_labeled": sum(iid in labelled[n] for n in group.views),
                 "n_views": sum(iid in images[n] for n in group.views),
                 "n_points": points.get(iid, 0)} for iid in group.instants()]

    # --- writing ---------------------------------------------------------------------
    def _parse(self, items: Any, view: str, invisible: bool) -> dict[tuple[str, str], Any]:
        where = f"{'invisible' if invisible else 'points'}[{view!r}]"
        if not isinstance(items, list):
            raise BadRequest(f"{where} must be a list")
        allowed = set(self.target.pairs())
        out: dict[tuple[str, str], Any] = {}
        for it in items:
            if invisible:
                if not (isinstance(it, list) and len(it) == 2):
                    raise BadRequest(f"{where}: entries are [individual, bodypart], got {it!r}")
                key, value = (str(it[0]), str(it[1])), "invisible"
            else:
                if not isinstance(it, dict):
                    raise BadRequest(f"{where}: entries are objects, got {it!r}")
                key = (str(it.get("individual") or ""), str(it.get("bodypart")))
                x, y, src = it.get("x"), it.get("y"), it.get("source") or "human"
                if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           and np.isfinite(v) for v in (x, y)):
                    raise BadRequest(f"{where}: {key[1]!r} needs numbers x and y, got {x!r}, "
                                     f"{y!r}")
                if src not in SOURCES[:3]:
                    raise BadRequest(f"{where}: source {src!r} is not one of {SOURCES[:3]}")
                value = (float(x), float(y), src)
            if key not in allowed:
                raise BadRequest(f"{where}: unknown (individual, bodypart) {list(key)}; "
                                 f"individuals {self.target.individuals}, bodyparts "
                                 f"{self.target.bodyparts}")
            if key in out:
                raise BadRequest(f"{where}: {list(key)} given twice")
            out[key] = value
        return out

    def write_instant(self, group: Group, image: str, body: Any) -> dict[str, str]:
        """Replace the labels of the views ``body`` names at one instant.

        Parameters
        ----------
        group : Group
        image : str
            The instant (an image name of the group).
        body : dict
            ``{"versions": {view: str}, "points": {view: [{individual, bodypart, x, y,
            source}]}, "invisible": {view: [[individual, bodypart]]}}``; views left out are
            unchanged.

        Returns
        -------
        dict of str to str
            Every view's version after writing.

        Raises
        ------
        BadRequest
            A malformed body; KeyError for a view not in the group.
        Conflict
            A written view's version differs from the file on disk (nothing written).
        """
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object with versions, points, invisible")
        versions, points, invis = (body.get(k) or {} for k in ("versions", "points",
                                                                "invisible"))
        if not all(isinstance(d, dict) for d in (versions, points, invis)):
            raise BadRequest("versions, points and invisible must be objects keyed by view")
        names = list(dict.fromkeys([*points, *invis]))
        for n in names:
            if n not in group.views:
                raise KeyError(f"group {group.id!r} has no view {n!r}")
        wanted = {}
        for n in names:
            pts = self._parse(points.get(n, []), n, False)
            inv = self._parse(invis.get(n, []), n, True)
            both = sorted(set(pts) & set(inv))
            if both:
                raise BadRequest(f"view {n!r}: {list(both[0])} is both a point and invisible")
            wanted[n] = {**pts, **inv}
        pairs = self.target.pairs()
        with self._lock:
            stale = [n for n in names if versions.get(n) != self.version(group.views[n])]
            if stale:
                raise Conflict(f"labels of view(s) {stale} changed on disk; reload",
                               self.instant(group, image))
            for n in names:
                self._write_view(group.views[n], image, wanted[n], pairs)
            return {n: self.version(v) for n, v in group.views.items()}

    def _write_view(self, view: View, image: str, want: dict, pairs: list) -> None:
        table = self.table(view)
        xy = np.full((len(pairs), 2), np.nan)
        prov = {}
        for p, key in enumerate(pairs):
            if key in want:
                v = want[key]
                prov[(image, *key)] = v if v == "invisible" else v[2]
                if v != "invisible":
                    xy[p] = v[:2]
        r = table.row_of(image)
        old_xy = table.xy[r] if r is not None else np.full_like(xy, np.nan)
        old_prov = {}
        for p, key in enumerate(pairs):
            was = table.prov.get((image, *key))
            if np.isfinite(old_xy[p]).all():
                old_prov[(image, *key)] = "human" if was in (None, "invisible") else was
            elif was == "invisible":
                old_prov[(image, *key)] = was
        if np.array_equal(old_xy, xy, equal_nan=True) and old_prov == prov:
            return  # nothing changes: leave the files (and the version) alone
        if image not in view.images():
            raise BadRequest(f"view {view.name!r} has no image {image!r} to label")
        rows, new_xy = list(table.rows), table.xy.copy()
        if r is None:
            rows.append(new_row(table, view.folder.name, image))
            new_xy = np.concatenate([new_xy, xy[None]])
            keys = [natural_key(row[-1].rsplit("/", 1)[-1]) for row in table.rows]
            if keys == sorted(keys):
                order = sorted(range(len(rows)),
                               key=lambda i: natural_key(rows[i][-1].rsplit("/", 1)[-1]))
                rows, new_xy = [rows[i] for i in order], new_xy[order]
        else:
            new_xy[r] = xy
        new_prov = {k: s for k, s in table.prov.items() if k[0] != image} | prov
        write_table(self.target, view, Table(rows, new_xy, new_prov, table.levels))
