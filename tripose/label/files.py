"""Label files of one view folder: DeepLabCut's table and tripose's provenance sidecar.

``CollectedData_<scorer>.h5`` + ``.csv`` (DeepLabCut's layout, written through
:func:`poses.io.dlc.save_dlc`, atomically) and ``CollectedData_<scorer>.provenance.csv``
(``image, individual, bodypart, source``; a labelled point without a row is ``human``). A
:class:`Table` holds a folder's labels with the row keys as found, so rewriting the file keeps
every other image's row as it was.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from calibration.errors import InputError
from calibration.sources import natural_key
from poses.atomic import write_text_atomic
from poses.io.dlc import load_dlc, save_dlc
from poses.model import DEFAULT_INDIVIDUAL, Poses

if TYPE_CHECKING:
    from .model import Target, View

__all__ = ["Table", "SOURCES", "label_file", "provenance_file", "existing_label_files",
           "scorer_of", "read_label_file", "check_label_files", "file_version", "read_table",
           "write_table", "new_row", "external"]

#: Provenance of a labelled point (``invisible``: marked, NaN in the table).
SOURCES = ("human", "triangulated", "model", "invisible")
_PROV_COLUMNS = ["image", "individual", "bodypart", "source"]

def label_file(folder: Path, scorer: str, suffix: str = ".h5") -> Path:
    """``folder/CollectedData_<scorer><suffix>``."""
    return folder / f"CollectedData_{scorer}{suffix}"


def provenance_file(folder: Path, scorer: str) -> Path:
    """``folder/CollectedData_<scorer>.provenance.csv``."""
    return label_file(folder, scorer, ".provenance.csv")


def existing_label_files(folders: list[Path], scorer: str | None) -> list[Path]:
    """Label files of ``scorer`` (any scorer when None) in the folders: the h5, else the csv."""
    out = []
    for f in folders:
        pattern = f"CollectedData_{scorer}" if scorer is not None else "CollectedData_*"
        h5 = [p for p in f.glob(pattern + ".h5") if p.is_file()]
        have = {p.stem for p in h5}
        out += h5 + [p for p in f.glob(pattern + ".csv") if p.is_file() and p.stem not in have
                     and not p.name.endswith(".provenance.csv")]
    return sorted(out, key=natural_key)


def scorer_of(path: Path) -> str:
    """The scorer a label file's name says (``CollectedData_<scorer>.h5``)."""
    return path.stem[len("CollectedData_"):]


def read_label_file(path: Path) -> Poses:
    """A label file, or InputError naming it (it is then never overwritten)."""
    try:
        return load_dlc(path)
    except (InputError, OSError, ValueError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{path} cannot be read as DeepLabCut labels ({first}); tripose label "
                         f"never overwrites it: repair it or move it away, then run again") \
            from None


def check_label_files(files: list[Path], target: Target, source: str) -> None:
    """Every existing label file holds the target's bodyparts and individuals.

    Raises
    ------
    InputError
        Naming the file and ``source`` (where the target's bodyparts come from).
    """
    for path in files:
        poses = read_label_file(path)
        if sorted(poses.keypoints) != sorted(target.bodyparts):
            raise InputError(f"{source} lists bodyparts {target.bodyparts} but {path} labels "
                             f"{list(poses.keypoints)}; make them agree (edit {source} or move "
                             f"the label file away)")
        multi = bool(poses.attrs.get("multianimal"))
        if multi != target.multianimal:
            what = "several individuals" if multi else "one animal"
            raise InputError(f"{path} labels {what} ({list(poses.individuals)}) but {source} "
                             f"describes {'one animal' if multi else 'several'}; make them "
                             f"agree")
        wanted = target.individuals if multi else [DEFAULT_INDIVIDUAL]
        extra = [i for i in poses.individuals if i not in wanted]
        if extra:
            raise InputError(f"{path} labels individuals {extra} that {source} does not list "
                             f"({[i for i in wanted if i]}); make them agree")


def file_version(path: Path) -> str:
    """``mtime_ns-size-inode`` of a file, ``"none"`` when absent."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "none"
    return f"{st.st_mtime_ns}-{st.st_size}-{st.st_ino}"


# ------------------------------------------------------------------------------ tables
@dataclass
class Table:
    """One view's labels: rows (DeepLabCut row keys), points per (individual, bodypart)
    pair in ``Target.pairs()`` order, and provenance."""

    rows: list[tuple[str, ...]]
    xy: np.ndarray                          # (n_rows, n_pairs, 2) px
    prov: dict[tuple[str, str, str], str]   # (image, individual, bodypart) -> source
    levels: int = 3

    def row_of(self, image: str) -> int | None:
        for i, row in enumerate(self.rows):
            if row[-1].rsplit("/", 1)[-1] == image:
                return i
        return None

    def labelled(self, pairs: list[tuple[str, str]]) -> set[str]:
        """Image names with a point or an invisible mark."""
        names = {r[-1].rsplit("/", 1)[-1] for r, ok in
                 zip(self.rows, np.isfinite(self.xy).all(-1).any(-1), strict=True) if ok}
        return names | {k[0] for k, s in self.prov.items() if s == "invisible"
                        and (k[1], k[2]) in pairs}


def external(individual: str) -> str:
    return "" if individual == DEFAULT_INDIVIDUAL else individual


def _read_provenance(path: Path) -> dict[tuple[str, str, str], str]:
    if not path.is_file():
        return {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path} cannot be read ({exc}); repair it or move it away") from None
    out = {}
    for r in rows:
        if r.get("source") in SOURCES and r.get("image") and r.get("bodypart"):
            out[(r["image"], r.get("individual") or "", r["bodypart"])] = r["source"]
    return out


def _prov_text(prov: dict[tuple[str, str, str], str], order: list[str]) -> str:
    rank = {name: i for i, name in enumerate(order)}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_PROV_COLUMNS)
    for key in sorted(prov, key=lambda k: (rank.get(k[0], len(rank)), natural_key(k[0]))):
        w.writerow([*key, prov[key]])
    return buf.getvalue()


def read_table(target: Target, view: View) -> Table:
    pairs = target.pairs()
    h5, csv_path = (label_file(view.folder, target.scorer, s) for s in (".h5", ".csv"))
    path = h5 if h5.is_file() else csv_path if csv_path.is_file() else None
    prov = _read_provenance(provenance_file(view.folder, target.scorer))
    if path is None:
        return Table([], np.full((0, len(pairs), 2), np.nan), prov)
    poses = read_label_file(path)
    levels = int(poses.attrs.get("index_levels", 1))
    paths = poses.attrs.get("image_paths") or [str(f) for f in poses.frame_index]
    rows = [tuple(p.rsplit("/", levels - 1)) if levels > 1 else (p,) for p in paths]
    inds = [external(i) for i in poses.individuals]
    xy = np.full((len(rows), len(pairs), 2), np.nan)
    for p, (ind, bp) in enumerate(pairs):
        if ind in inds and bp in poses.keypoints:
            xy[:, p] = poses.position[:, inds.index(ind), list(poses.keypoints).index(bp)]
    return Table(rows, xy, prov, levels)


def write_table(target: Target, view: View, table: Table) -> None:
    pairs = target.pairs()
    internal = target.individuals if target.multianimal else [DEFAULT_INDIVIDUAL]
    pos = np.full((len(table.rows), len(internal), len(target.bodyparts), 2), np.nan)
    for p, (ind, bp) in enumerate(pairs):
        pos[:, internal.index(ind or DEFAULT_INDIVIDUAL), target.bodyparts.index(bp)] = \
            table.xy[:, p]
    attrs: dict[str, Any] = {"scorer": target.scorer, "labels": True,
                             "multianimal": target.multianimal,
                             "image_paths": ["/".join(r) for r in table.rows],
                             "index_levels": table.levels}
    if target.unique_bodyparts:
        attrs["unique_bodyparts"] = list(target.unique_bodyparts)
    poses = Poses(pos, keypoints=target.bodyparts, individuals=internal, units="px",
                  source_software="tripose label", attrs=attrs)
    names = [r[-1].rsplit("/", 1)[-1] for r in table.rows]
    write_text_atomic(provenance_file(view.folder, target.scorer), _prov_text(table.prov, names))
    save_dlc(poses, label_file(view.folder, target.scorer), csv=True, scorer=target.scorer)


def new_row(table: Table, folder: str, image: str) -> tuple[str, ...]:
    """A row key for a new image, shaped like the table's others."""
    prefixes = {r[:-1] if table.levels > 1 else tuple(r[0].split("/")[:-1]) for r in table.rows}
    parts = ["labeled-data", folder]
    if len(prefixes) == 1:
        only = next(iter(prefixes))
        parts = list(only) if table.levels > 1 else "/".join(only).split("/")
    if table.levels == 1:
        return ("/".join([*parts, image]),)
    return (*parts[-(table.levels - 1):], image)
