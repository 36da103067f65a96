"""DeepLabCut keypoint tables (h5 and csv), single- and multi-animal, read and written.

Coordinate convention: pixels, origin at the centre of the top-left pixel (DeepLabCut's own),
x right, y down; NaN where a keypoint is missing. Values pass through unchanged.

Layouts, as DeepLabCut writes them: columns MultiIndex ``(scorer, bodyparts, coords)`` for
one animal, ``(scorer, individuals, bodyparts, coords)`` for multi-animal projects (2.2+),
whose unique (arena) bodyparts sit under an extra last individual ``"single"``. ``coords``
is ``x, y, likelihood`` (analysis output) or ``x, y`` (labels, ``CollectedData_*``). Label
rows are image paths, one string or (2.2+) a 3-level MultiIndex; analysis rows frame numbers.

Mapping onto :class:`poses.Poses`: keypoints are the bodyparts in column order (multi-animal
ones, then unique ones) and individuals the ``individuals`` values in column order, so
``"single"`` is an individual of its own; an (individual, bodypart) pair without columns is
NaN: real individuals at the unique bodyparts, ``"single"`` at the others. ``attrs`` keeps
``scorer``, ``multianimal`` (4 levels), ``unique_bodyparts``, ``labels`` (no likelihood:
confidence defaults to 1 where labelled), ``image_paths`` (``/``-separated) and
``index_levels``; numeric rows become ``frame_index``. Writing gives back the same layout:
3 levels for one individual named :data:`poses.DEFAULT_INDIVIDUAL` (unless
``attrs["multianimal"]``), else 4 with ``"single"`` holding only ``unique_bodyparts``. Extra
columns of another "scorer" (Lightning Pose's ``set``) are ignored.

Files are written as tripose always did: ``df.to_csv(path)`` and ``df.to_hdf(path,
key="df_with_missing", mode="w", format="table")`` (``"fixed"`` for MultiIndex rows, which
pandas' table format cannot hold).
"""

from __future__ import annotations

import csv as _csv
import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_path
from ..errors import InputError
from ..model import DEFAULT_INDIVIDUAL, Poses
from .cells import neutralize_all, restore_all
from .registry import Format, register

__all__ = ["load_dlc", "save_dlc", "from_dlc_dataframe", "to_dlc_dataframe", "is_dlc_file",
           "read_dlc_table", "write_dlc_table", "SINGLE", "H5_KEY"]

#: Individual that holds DeepLabCut's unique (arena) bodyparts.
SINGLE = "single"
#: Key of the DataFrame in DeepLabCut's h5 files.
H5_KEY = "df_with_missing"
_COORDS = ("x", "y", "likelihood")
_LEVELS3 = ["scorer", "bodyparts", "coords"]
_LEVELS4 = ["scorer", "individuals", "bodyparts", "coords"]
_EXPECT = ("the DeepLabCut table layout: header rows scorer, [individuals,] bodyparts, coords")


# ---------------------------------------------------------------------------- sniffing
def read_csv_head(path: Path, n: int = 5) -> list[list[str]]:
    """The first ``n`` rows of a csv file, as lists of cells."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(itertools.islice(_csv.reader(f), n))


def _is_pandas_h5(path: Path) -> bool:
    import h5py

    if not h5py.is_hdf5(path):
        return False
    with h5py.File(path, "r") as f:
        return f.visititems(lambda _, o: True if isinstance(o, h5py.Group)
                            and "pandas_type" in o.attrs else None) is True


def is_dlc_file(path: str | Path) -> bool:
    """Whether ``path`` holds a DeepLabCut table: a ``.csv`` whose first line starts with
    ``scorer``, or an ``.h5``/``.hdf5`` holding a pandas frame that is not a SLEAP analysis
    file. Never raises."""
    from .sleap import is_sleap_file

    path, suffix = Path(path), Path(path).suffix.lower()
    try:
        if suffix == ".csv" and path.is_file():
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.readline().startswith("scorer")
        return suffix in (".h5", ".hdf5") and path.is_file() and _is_pandas_h5(path) \
            and not is_sleap_file(path)
    except Exception:  # unreadable: not ours
        return False


# ---------------------------------------------------------------------------- reading
def _why(exc: BaseException) -> str:
    """An exception's first line (for one-line error messages)."""
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _read_csv(path: Path) -> pd.DataFrame:
    """A DeepLabCut csv: header rows (3 or 4) and index columns (1 or 3) found from the file.

    The header is parsed here, not by pandas, whose multi-row header reading takes a first
    data row without values (a frame where every keypoint is missing) for index names.
    """
    try:
        head = read_csv_head(path)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file; expected {_EXPECT}") from None
    if not head:
        raise InputError(f"{path}: empty file; expected {_EXPECT}")
    first = [row[0].strip() if row else "" for row in head]
    names = next((n for n in (_LEVELS4, _LEVELS3) if first[:len(n)] == n), None)
    if names is None:
        raise InputError(f"{path}: header rows start with {first[:4]}; expected {_EXPECT}")
    head = head[:len(names)]
    n_index = 1
    while n_index < len(head[-1]) and head[-1][n_index] == "":
        n_index += 1
    if len({len(row) for row in head}) != 1:
        raise InputError(f"{path}: header rows have different lengths; expected {_EXPECT}")
    try:
        df = pd.read_csv(path, header=None, skiprows=len(names),
                         index_col=list(range(n_index)))
    except pd.errors.EmptyDataError:  # header only: no frames
        df = pd.DataFrame(index=pd.RangeIndex(0), columns=range(len(head[0]) - n_index))
    except Exception as exc:  # pandas raises many types on malformed text
        raise InputError(f"{path}: cannot read as a DeepLabCut csv ({_why(exc)}); expected "
                         f"{_EXPECT}") from None
    if df.shape[1] != len(head[0]) - n_index:
        raise InputError(f"{path}: {df.shape[1]} data columns under {len(head[0]) - n_index} "
                         f"header columns; expected {_EXPECT}")
    df.columns = pd.MultiIndex.from_arrays([restore_all(row[n_index:]) for row in head],
                                           names=names)
    df.index.names = [None] * n_index
    return df


def read_dlc_table(path: str | Path) -> pd.DataFrame:
    """The raw DataFrame of a DeepLabCut ``.h5``/``.hdf5`` or ``.csv`` table.

    The csv's header rows (3 or 4) and index columns (1 or 3) are found from the file; an h5
    is read at key ``df_with_missing`` or its only key.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    InputError
        Not a DeepLabCut table (one line naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"DeepLabCut file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix not in (".h5", ".hdf5"):
        raise InputError(f"{path}: expected a DeepLabCut .h5, .hdf5 or .csv file")
    import h5py

    if not h5py.is_hdf5(path):
        what = "empty file" if path.stat().st_size == 0 else "not an HDF5 file"
        raise InputError(f"{path}: {what}; expected an HDF5 file holding a DeepLabCut table")
    try:
        with pd.HDFStore(path, mode="r") as store:
            keys = store.keys()
            key = f"/{H5_KEY}" if f"/{H5_KEY}" in keys else keys[0] if len(keys) == 1 else None
            if key is None:
                raise InputError(f"{path}: holds {len(keys)} pandas DataFrames {keys[:4]}; "
                                 f"expected one DeepLabCut table (key {H5_KEY!r})")
            df = store.get(key)
    except InputError:
        raise
    except Exception as exc:  # pytables/HDF5 errors on non-HDF5 or broken files
        raise InputError(f"{path}: cannot read as a DeepLabCut h5 ({_why(exc)}); expected an HDF5 "
                         f"file holding a pandas DataFrame") from None
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{path}: holds a {type(df).__name__}, expected a DataFrame")
    return df


def _row_index(index: pd.Index):
    """(frame_index or None, image paths or None, index levels)."""
    if isinstance(index, pd.MultiIndex):
        return None, ["/".join(str(v) for v in row) for row in index], index.nlevels
    kind = pd.api.types.infer_dtype(index, skipna=False)
    if kind == "integer":
        return index.to_numpy(np.int64), None, 1
    if kind in ("floating", "mixed-integer-float"):
        vals = index.to_numpy(np.float64)
        if np.isfinite(vals).all() and (vals == np.round(vals)).all():
            return vals.astype(np.int64), None, 1
    return None, [str(v).replace("\\", "/") for v in index], 1


def from_dlc_dataframe(df: pd.DataFrame, where: str = "DeepLabCut data",
                       source_file: str | None = None,
                       source_software: str = "DeepLabCut") -> Poses:
    """Poses from DeepLabCut's DataFrame (single- or multi-animal, labels or analysis).

    Parameters
    ----------
    df : DataFrame
        Columns ``(scorer, [individuals,] bodyparts, coords)``; rows frames or image paths.
    where : str
        Names the data in error messages (the file).
    source_file, source_software : str, optional

    Returns
    -------
    Poses
        ``position (n_frames, n_individuals, n_keypoints, 2)`` px, ``confidence`` the
        likelihood (labels: 1 where labelled); raises InputError for other columns, several
        scorers, duplicated columns, non-numbers or likelihoods outside [0, 1].
    """
    cols = df.columns
    if not isinstance(cols, pd.MultiIndex) or cols.nlevels not in (3, 4):
        n = cols.nlevels if isinstance(cols, pd.MultiIndex) else 1
        raise InputError(f"{where}: {n} column level(s); expected {_EXPECT}")
    multi = cols.nlevels == 4
    lv = [np.asarray(cols.get_level_values(i).astype(str)) for i in range(cols.nlevels)]
    scorers, bodyparts, coords = lv[0], lv[-2], lv[-1]
    inds = lv[1] if multi else np.full(len(cols), DEFAULT_INDIVIDUAL)
    is_xy = np.isin(coords, _COORDS)
    if not is_xy.any():
        what = "no individuals" if multi else "no bodyparts"
        raise InputError(f"{where}: {what}: no x/y/likelihood columns; expected {_EXPECT}")
    scorer = str(scorers[is_xy][0])
    if set(scorers[is_xy]) != {scorer}:
        raise InputError(f"{where}: several scorers {sorted(set(scorers[is_xy]))}; expected "
                         f"one")
    odd = (scorers == scorer) & ~is_xy
    if odd.any():
        raise InputError(f"{where}: unknown coords {sorted(set(coords[odd]))[:3]} (a "
                         f"duplicated column?); expected x, y and likelihood")
    sel = np.flatnonzero(is_xy)
    individuals = list(dict.fromkeys(inds[sel]))
    keypoints = list(dict.fromkeys(bodyparts[sel]))
    ii = pd.Index(individuals).get_indexer(inds[sel])
    kk = pd.Index(keypoints).get_indexer(bodyparts[sel])
    cc = pd.Index(_COORDS).get_indexer(coords[sel])
    present = np.zeros((len(individuals), len(keypoints), 3), dtype=int)
    np.add.at(present, (ii, kk, cc), 1)
    if (present > 1).any():
        i, k, c = np.argwhere(present > 1)[0]
        raise InputError(f"{where}: column ({individuals[i]}, {keypoints[k]}, {_COORDS[c]}) "
                         f"appears more than once; names collide")
    if (present[..., 0] != present[..., 1]).any():
        raise InputError(f"{where}: every bodypart needs both x and y columns")
    block = df.iloc[:, sel]
    try:
        values = block.to_numpy(dtype=np.float64)
    except (ValueError, TypeError):
        bad = [c for c in block.columns
               if pd.to_numeric(block[c], errors="coerce").isna().sum() > block[c].isna().sum()]
        raise InputError(f"{where}: non-numeric values in column "
                         f"{'/'.join(map(str, bad[0])) if bad else '?'}; expected numbers "
                         f"(empty or NaN where missing)") from None
    data = np.full((len(df), len(individuals), len(keypoints), 3), np.nan)
    data[:, ii, kk, cc] = values
    labels = not present[..., 2].any()
    frame_index, paths, levels = _row_index(df.index)
    attrs: dict = {"scorer": scorer, "multianimal": multi}
    if labels:
        attrs["labels"] = True
    if multi and SINGLE in individuals:
        s = individuals.index(SINGLE)
        pairs = present[..., 0].astype(bool)
        others = np.delete(pairs, s, axis=0).any(axis=0)
        unique = [kp for k, kp in enumerate(keypoints) if pairs[s, k] and not others[k]]
        if unique:
            attrs["unique_bodyparts"] = unique
    if paths is not None:
        attrs["image_paths"] = paths
        attrs["index_levels"] = levels
    return Poses(data[..., :2], None if labels else data[..., 2], keypoints=keypoints,
                 individuals=individuals, fps=None, units="px", source_file=source_file,
                 source_software=source_software, frame_index=frame_index, attrs=attrs)


def load_dlc(path: str | Path) -> Poses:
    """Read a DeepLabCut ``.h5``/``.hdf5``/``.csv`` table (labels or analysis output).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Poses
        ``position (n_frames, n_individuals, n_keypoints, 2)`` px (see the module docstring).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    InputError
        Not a DeepLabCut table, or values that are not numbers / likelihoods.
    """
    path = Path(path)
    return from_dlc_dataframe(read_dlc_table(path), where=str(path), source_file=str(path))


# ---------------------------------------------------------------------------- writing
def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".h5", ".hdf5"):
        raise InputError(f"{path}: DeepLabCut files end in .h5, .hdf5 or .csv, got "
                         f"{path.suffix!r}")
    return suffix


def _unique_bodyparts(poses: Poses) -> list[str]:
    if SINGLE not in poses.individuals:
        return []
    return [k for k in poses.attrs.get("unique_bodyparts") or [] if k in poses.keypoints]


def _index(poses: Poses, where: str) -> pd.Index:
    paths = poses.attrs.get("image_paths")
    n = poses.n_frames
    if paths is not None and len(paths) == n:
        levels = int(poses.attrs.get("index_levels", 1))
        if levels <= 1:
            return pd.Index([str(p) for p in paths])
        rows = [tuple(str(p).rsplit("/", levels - 1)) for p in paths]
        if any(len(r) != levels for r in rows):
            raise InputError(f"{where}: attrs['image_paths'] must have {levels} '/'-separated "
                             f"parts each (attrs['index_levels'] = {levels})")
        return pd.MultiIndex.from_tuples(rows)
    if np.array_equal(poses.frame_index, np.arange(n)):
        return pd.RangeIndex(n)
    return pd.Index(poses.frame_index)


def to_dlc_dataframe(poses: Poses, scorer: str | None = None, *, labels: bool | None = None,
                     multianimal: bool | None = None, where: str | None = None) -> pd.DataFrame:
    """``poses`` as DeepLabCut's DataFrame.

    Parameters
    ----------
    poses : Poses
        2D.
    scorer : str, optional
        Default ``poses.attrs["scorer"]``, else ``"tripose"``.
    labels : bool, optional
        Leave out the likelihood (a label file); default ``poses.attrs.get("labels")``.
    multianimal : bool, optional
        4-level columns; default ``poses.attrs.get("multianimal")`` or anything but one
        individual named :data:`poses.DEFAULT_INDIVIDUAL`.
    where : str, optional
        Names the output in error messages.

    Returns
    -------
    DataFrame
        Columns ``(scorer, [individuals,] bodyparts, coords)``, coords ``x, y[, likelihood]``;
        rows ``frame_index`` or ``attrs["image_paths"]``. Raises InputError for 3D poses,
        several individuals with ``multianimal=False``, values the layout would drop.
    """
    if not isinstance(poses, Poses):
        raise InputError(f"{where or 'DeepLabCut output'}: expected Poses, got "
                         f"{type(poses).__name__}")
    where = where or poses.source_file or "poses"
    if poses.is_3d:
        raise InputError(f"{where}: DeepLabCut tables hold 2D keypoints; these poses are 3D")
    scorer = str(scorer or poses.attrs.get("scorer") or "tripose")
    labels = bool(poses.attrs.get("labels")) if labels is None else labels
    if multianimal is None:
        multianimal = bool(poses.attrs.get("multianimal")) or poses.individuals != [
            DEFAULT_INDIVIDUAL]
    if not multianimal and poses.n_individuals != 1:
        raise InputError(f"{where}: the single-animal layout holds one individual; got "
                         f"{poses.n_individuals}")
    coords = ["x", "y"] if labels else list(_COORDS)
    n, n_ind, n_kp = poses.confidence.shape
    data = poses.position if labels else np.concatenate(
        [poses.position, poses.confidence[..., None]], axis=-1)
    index = _index(poses, where)
    if not multianimal:
        cols = pd.MultiIndex.from_product([[scorer], poses.keypoints, coords], names=_LEVELS3)
        return pd.DataFrame(data[:, 0].reshape(n, n_kp * len(coords)), index=index,
                            columns=cols)
    keep = np.ones((n_ind, n_kp), dtype=bool)
    unique = _unique_bodyparts(poses)
    if unique:
        u = np.isin(poses.keypoints, unique)
        keep[:, u] = False
        keep[poses.individuals.index(SINGLE)] = u
        has = np.isfinite(poses.position).any(-1) | np.isfinite(poses.confidence)
        lost = has & ~keep
        if lost.any():
            _, i, k = np.argwhere(lost)[0]
            raise InputError(
                f"{where}: individual {poses.individuals[i]!r} has values at "
                f"{poses.keypoints[k]!r}, which DeepLabCut's layout cannot hold (its unique "
                f"bodyparts {unique} belong to {SINGLE!r} only); fix attrs['unique_bodyparts']")
    flat = np.flatnonzero(keep)  # (individual, bodypart) pairs in DeepLabCut's order
    block = data.reshape(n, n_ind * n_kp, len(coords))
    if flat.size < n_ind * n_kp:
        block = np.take(block, flat, axis=1)
    cols = pd.MultiIndex.from_tuples(
        [(scorer, poses.individuals[f // n_kp], poses.keypoints[f % n_kp], c) for f in flat
         for c in coords], names=_LEVELS4)
    return pd.DataFrame(block.reshape(n, flat.size * len(coords)), index=index, columns=cols)


def write_dlc_table(df: pd.DataFrame, path: str | Path, csv: bool = False) -> Path:
    """Write a DeepLabCut DataFrame atomically: ``.csv`` as csv; ``.h5``/``.hdf5`` as h5 (key
    ``df_with_missing``) and, with ``csv=True``, the ``.csv`` beside it."""
    path = Path(path)
    suffix = _check_suffix(path)
    if suffix != ".csv":
        # pandas' table format holds no MultiIndex rows and writes nothing for 0 rows
        fmt = "fixed" if isinstance(df.index, pd.MultiIndex) or df.empty else "table"
        with atomic_path(path) as tmp:
            df.to_hdf(tmp, key=H5_KEY, mode="w", format=fmt)
    if suffix == ".csv" or csv:
        cells = df.copy(deep=False)  # no formulas in a spreadsheet's header rows
        cells.columns = pd.MultiIndex.from_arrays(
            [neutralize_all(df.columns.get_level_values(i)) for i in range(df.columns.nlevels)],
            names=df.columns.names)
        with atomic_path(path.with_suffix(".csv")) as tmp:
            cells.to_csv(tmp)
    return path


def save_dlc(poses: Poses, path: str | Path, csv: bool = False,
             scorer: str | None = None) -> Path:
    """Write ``poses`` as a DeepLabCut table, atomically.

    Parameters
    ----------
    poses : Poses
        2D; the layout follows from its individuals (see the module docstring).
    path : str or Path
        ``.h5``/``.hdf5`` (key ``df_with_missing``) or ``.csv``.
    csv : bool
        With an h5 path, also write ``path.with_suffix(".csv")``.
    scorer : str, optional
        Default ``poses.attrs["scorer"]``, else ``"tripose"``.

    Returns
    -------
    Path
        ``path``; raises InputError for 3D poses, another suffix, or values the layout
        cannot hold.
    """
    path = Path(path)
    _check_suffix(path)
    return write_dlc_table(to_dlc_dataframe(poses, scorer, where=str(path)), path, csv=csv)


register(Format(
    name="dlc", suffixes=(".h5", ".hdf5", ".csv"),
    description="DeepLabCut h5/csv table (single or multi-animal, labels or analysis)",
    load=load_dlc, save=save_dlc, sniff=is_dlc_file, priority=0))
