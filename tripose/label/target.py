"""What ``tripose label TARGET`` labels: a DeepLabCut project, a tripose session or frames.

:func:`discover` reads a TARGET into a :class:`Target`: its bodyparts, individuals, skeleton,
scorer and its *groups* of views (camera folders seen together, see docs/labeling.md), with
a calibration rig per calibrated group. Everything is checked here, before a port is bound:
bad input raises :class:`~calibration.errors.InputError` with one line naming the file or
option and what to do. Existing label files are read (never written) to check they agree.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from calibration.errors import InputError
from calibration.rig import CameraRig
from calibration.sources import natural_key

from .files import check_label_files, existing_label_files, scorer_of
from .model import CONFIG_TOML, IMAGE_SUFFIXES, Group, Target, View

__all__ = ["Target", "Group", "View", "discover", "IMAGE_SUFFIXES", "CONFIG_TOML"]

log = logging.getLogger(__name__)

_SEPARATORS = "_-. "


def _camera_in(name: str, cameras: list[str]) -> list[str]:
    """Camera names found in a folder name (a name inside a longer found one dropped)."""
    found = [c for c in cameras if c and c in name]
    return [c for c in found if not any(c != o and c in o for o in found)]


def _group_id(name: str, cam: str, default: str) -> str:
    i = name.index(cam)
    left, right = name[:i].rstrip(_SEPARATORS), name[i + len(cam):].lstrip(_SEPARATORS)
    rest = left + ("_" if left and right else "") + right
    return rest.strip(_SEPARATORS) or default


def _make_groups(folders: list[Path], rig: CameraRig | None, calibration: Path | None,
                 default_id: str, where: str) -> dict[str, Group]:
    """Groups of views from frame folders (see docs/labeling.md, multi-view groups)."""
    if rig is None:
        return {f.name: Group(f.name, {f.name: View(f.name, f)}) for f in folders}
    members: dict[str, dict[str, Path]] = {}
    alone: list[Path] = []
    for f in folders:
        cams = _camera_in(f.name, rig.names)
        if len(cams) > 1:
            raise InputError(f"folder {f} names several cameras of {calibration} ({cams}); "
                             f"rename it to hold exactly one camera name")
        if not cams:
            alone.append(f)
            continue
        gid = _group_id(f.name, cams[0], default_id)
        views = members.setdefault(gid, {})
        if cams[0] in views:
            raise InputError(f"folders {views[cams[0]]} and {f} are both camera {cams[0]!r} of "
                             f"group {gid!r}; keep one folder per camera")
        views[cams[0]] = f
    if not members:
        shown = [f.name for f in folders[:6]]
        raise InputError(f"calibration {calibration} names cameras {rig.names}, but no folder "
                         f"of {where} is named after one ({shown}); name the folders <camera> or "
                         f"<prefix>_<camera>, or pass the right --calibration")
    groups: dict[str, Group] = {}
    for gid, views in members.items():
        order = [c for c in rig.names if c in views]
        groups[gid] = Group(gid, {c: View(c, views[c]) for c in order}, rig.subset(order))
    for f in alone:
        if f.name in groups:
            raise InputError(f"folder {f} has the name of camera group {f.name!r}; rename it")
        log.warning("folder %s names no camera of %s: labelled as a view of its own", f,
                    calibration)
        groups[f.name] = Group(f.name, {f.name: View(f.name, f)})
    return dict(sorted(groups.items(), key=lambda kv: natural_key(kv[0])))


def _check_sizes(groups: dict[str, Group]) -> None:
    """The first image of every calibrated view has its camera's size."""
    from PIL import Image

    for g in groups.values():
        if g.rig is None:
            continue
        for cam, view in zip(g.rig.cameras, g.views.values(), strict=True):
            images = view.images()
            if not images or cam.size == (0, 0):
                continue
            try:
                with Image.open(view.folder / images[0]) as im:
                    size = im.size
            except Exception:  # unreadable images are reported when shown (422)
                continue
            if tuple(size) != tuple(cam.size):
                raise InputError(f"{view.folder / images[0]} is {size[0]}x{size[1]} px but "
                                 f"camera {cam.name!r} of the calibration is "
                                 f"{cam.size[0]}x{cam.size[1]}; pass the calibration of these "
                                 f"frames (--calibration)")


def _load_rig(path: Path | None, option: str) -> CameraRig | None:
    if path is None:
        return None
    from calibration.load_rig import load_rig

    if not path.is_file():
        raise InputError(f"{option}: calibration file {path} does not exist")
    return load_rig(path)


def discover(path: str | Path, *, scorer: str | None = None,
             calibration: str | Path | None = None, bodyparts: str | None = None,
             skeleton: str | Path | None = None) -> Target:
    """Read and check a TARGET (see docs/labeling.md).

    Parameters
    ----------
    path : path
        A DeepLabCut project (``config.yaml`` + ``labeled-data/``, or its ``config.yaml``),
        a tripose project session (``PROJECT/<session>`` with ``PROJECT/config.toml``) or a
        frames folder (``FOLDER/img*.png`` or ``FOLDER/<cam>/img*.png``).
    scorer : str, optional
        Label files ``CollectedData_<scorer>``; default the DeepLabCut config's, else the
        one scorer of the existing label files, else ``"tripose"``.
    calibration : path, optional
        calibration.toml grouping camera folders (default beside the frames or the
        session's).
    bodyparts : str, optional
        Comma-separated names (sessions and folders).
    skeleton : path, optional
        Skeleton TOML (bodyparts and limbs).

    Returns
    -------
    Target

    Raises
    ------
    InputError
        One line naming the file or option and what to do.
    """
    from .sources import dlc_target, folder_target, has_images, session_target

    root = Path(path).expanduser()
    if root.name == "config.yaml" and root.is_file():
        root = root.parent
    if not root.is_dir():
        raise InputError(f"TARGET {root} is not a folder; give a DeepLabCut project, a tripose "
                         f"project session or a folder of frames")
    root = root.resolve()
    opts = {"scorer": scorer, "bodyparts": bodyparts,
            "skeleton": Path(skeleton).expanduser() if skeleton else None,
            "calibration": Path(calibration).expanduser().resolve() if calibration else None}
    if (root / "config.yaml").is_file():
        t, folders, source = dlc_target(root, opts)
        where = root / "labeled-data"
    elif (root / CONFIG_TOML).is_file():
        raise InputError(f"{root} is a tripose project; label one of its sessions: tripose "
                         f"label {root}/<session>")
    elif (root.parent / CONFIG_TOML).is_file() and not has_images(root):
        t, folders, source = session_target(root, opts)
        where = root / "labeled-data"
    else:
        t, folders, source = folder_target(root, opts)
        where = root
    if not folders:
        raise InputError(f"no frames (*.png, *.jpg) found in {where}; pick frames with "
                         f"`tripose extract-frames VIDEO -o {where}/<video>` first")
    for f in folders:
        if not f.resolve().is_relative_to(root):
            raise InputError(f"{f} leads outside {root} (a symbolic link); tripose label reads "
                             f"and writes only inside TARGET: copy the frames in instead")
    if not t.scorer:
        found = sorted({scorer_of(p) for p in existing_label_files(folders, None)})
        if len(found) > 1:
            raise InputError(f"label files of several scorers {found} in {where}; choose one "
                             f"with --scorer NAME")
        t.scorer = found[0] if found else "tripose"
    if not re.fullmatch(r"[^/\\\x00]+", t.scorer):
        raise InputError(f"--scorer {t.scorer!r}: a scorer names a file; avoid / and \\")
    t.skeleton = list(dict.fromkeys(t.skeleton))
    check_label_files(existing_label_files(folders, t.scorer), t, source)
    rig = _load_rig(t.calibration, "--calibration")
    t.groups = _make_groups(folders, rig, t.calibration, root.name, str(where))
    _check_sizes(t.groups)
    return t
