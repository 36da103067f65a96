"""The three kinds of TARGET: bodyparts, individuals, skeleton, scorer and calibration of a
DeepLabCut project, a tripose project session or a frames folder (see docs/labeling.md).

Each reader returns a :class:`~tripose.label.target.Target` without groups, its frame
folders, and where its bodyparts come from (named in messages); :func:`.target.discover`
groups the folders and checks the rest.
"""

from __future__ import annotations

import logging
from pathlib import Path

from calibration.errors import InputError
from calibration.sources import natural_key
from poses.io.dlc import SINGLE
from poses.skeleton import Skeleton, load_skeleton, skeleton_from_dict

from .files import existing_label_files, read_label_file
from .model import CONFIG_TOML, Target, View

__all__ = ["dlc_target", "session_target", "folder_target", "has_images", "subfolders",
           "parse_bodyparts"]

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------ config files
def _read_yaml(path: Path) -> dict:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - PyYAML comes with the dependencies
        from pose2d.dataset import read_dlc_config

        try:
            return read_dlc_config(path)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = (str(exc).splitlines() or ["?"])[0]
        raise InputError(f"{path} is not valid YAML ({first}); fix the file") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a DeepLabCut config (key: value lines)")
    return data


def _names(value, where: str, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise InputError(f"{where}: {key} must be a list of names, got {value!r}")
    names = [str(v) for v in value]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{where}: {key} repeats {dup}")
    return names


def _edges(pairs, bodyparts: list[str], where: str) -> list[tuple[str, str]]:
    out = []
    for item in pairs or []:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            log.warning("%s: skeleton entry %r is not a pair of bodyparts; ignored", where, item)
            continue
        a, b = str(item[0]), str(item[1])
        if a in bodyparts and b in bodyparts:
            out.append((a, b))
        else:
            log.warning("%s: skeleton edge [%s, %s] names an unknown bodypart; ignored",
                        where, a, b)
    return out


def _read_skeleton(path: Path, option: str) -> Skeleton:
    try:
        return load_skeleton(path)
    except FileNotFoundError:
        raise InputError(f"{option}: skeleton file {path} does not exist") from None


def parse_bodyparts(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [b.strip() for b in str(text).split(",") if b.strip()]
    if not names:
        raise InputError("--bodyparts: give names separated by commas, e.g. --bodyparts "
                         "snout,ear_left,tail")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"--bodyparts repeats {dup}")
    return names


# ------------------------------------------------------------------------------ folders
def has_images(folder: Path) -> bool:
    return bool(View(folder.name, folder).images())


def subfolders(folder: Path) -> list[Path]:
    """Frame folders below ``folder`` (hidden ones and DeepLabCut's ``*_labeled`` left out)."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
                   and not p.name.endswith("_labeled") and has_images(p)), key=natural_key)



# ------------------------------------------------------------------------------ discovery
def dlc_target(root: Path, o: dict) -> tuple[Target, list[Path], str]:
    cfg_path = root / "config.yaml"
    cfg = _read_yaml(cfg_path)
    where = str(cfg_path)
    multi = bool(cfg.get("multianimalproject"))
    if multi:
        bodyparts = _names(cfg.get("multianimalbodyparts"), where, "multianimalbodyparts")
        unique = _names(cfg.get("uniquebodyparts"), where, "uniquebodyparts")
        individuals = _names(cfg.get("individuals"), where, "individuals")
        if not individuals:
            raise InputError(f"{where}: a multi-animal project needs 'individuals'")
        if SINGLE in individuals:
            raise InputError(f"{where}: an individual may not be called {SINGLE!r} (DeepLabCut "
                             f"keeps unique bodyparts under it)")
        individuals += [SINGLE] if unique else []
        bodyparts += unique
    else:
        bodyparts = _names(cfg.get("bodyparts"), where, "bodyparts")
        unique, individuals = [], [""]
    if not bodyparts:
        raise InputError(f"{where} lists no bodyparts; add them to config.yaml")
    given = parse_bodyparts(o.get("bodyparts"))
    if given is not None and given != bodyparts:
        raise InputError(f"--bodyparts {given} conflicts with {where} (bodyparts {bodyparts}); "
                         f"leave --bodyparts out or edit config.yaml")
    scorer = o.get("scorer") or cfg.get("scorer")
    if not scorer:
        raise InputError(f"{where} has no scorer; add 'scorer: NAME' or pass --scorer NAME")
    if o.get("skeleton"):
        edges = _edges(_read_skeleton(Path(o["skeleton"]), "--skeleton").limbs, bodyparts,
                       "--skeleton")
    else:
        edges = _edges(cfg.get("skeleton"), bodyparts, where)
    calibration = o.get("calibration") or (root / "calibration.toml")
    folders = subfolders(root / "labeled-data")
    t = Target("dlc", root, str(scorer), bodyparts, individuals, edges, {},
               unique_bodyparts=unique,
               calibration=calibration if o.get("calibration") or calibration.is_file()
               else None)
    return t, folders, where


def session_target(root: Path, o: dict) -> tuple[Target, list[Path], str]:
    from tripose.project.config import load_config

    project = root.parent
    cfg = load_config(project / CONFIG_TOML)
    where = str(project / CONFIG_TOML)
    skel = None
    if o.get("skeleton"):
        skel = _read_skeleton(Path(o["skeleton"]), "--skeleton")
    else:
        spec = cfg["project"]["skeleton"]
        if isinstance(spec, dict):
            skel = skeleton_from_dict(spec, where=f"{where} [project] skeleton")
        elif spec:
            path = Path(spec).expanduser()
            path = path if path.is_absolute() else project / path
            if path.is_file():
                skel = load_skeleton(path)
            elif not o.get("bodyparts"):
                raise InputError(f"project.skeleton: file {path} does not exist; create it or "
                                 f"pass --bodyparts a,b,c")
    calibration = o.get("calibration")
    given = cfg["calibration"]["calibration_file"]
    if calibration is None and given:
        calibration = Path(given).expanduser()
        calibration = calibration if calibration.is_absolute() else project / calibration
    for cand in (root / "calibration" / "calibration.toml",
                 project / "calibration" / "calibration.toml"):
        if calibration is None and cand.is_file():
            calibration = cand
    folders = subfolders(root / "labeled-data")
    t, source = _from_skeleton(root, "session", skel, o, where, folders)
    t.calibration = calibration
    return t, folders, source


def folder_target(root: Path, o: dict) -> tuple[Target, list[Path], str]:
    skel, source = None, "--bodyparts"
    if o.get("skeleton"):
        skel = _read_skeleton(Path(o["skeleton"]), "--skeleton")
        source = "--skeleton"
    elif (root / "skeleton.toml").is_file():
        skel = load_skeleton(root / "skeleton.toml")
        source = str(root / "skeleton.toml")
    folders = [root] if has_images(root) else subfolders(root)
    t, source = _from_skeleton(root, "folder", skel, o, source, folders)
    calibration = o.get("calibration") or (root / "calibration.toml")
    t.calibration = calibration if o.get("calibration") or calibration.is_file() else None
    return t, folders, source


def _from_skeleton(root: Path, kind: str, skel: Skeleton | None, o: dict, source: str,
                   folders: list[Path] | None = None) -> tuple[Target, str]:
    """A session's or folder's target: bodyparts from --bodyparts, the skeleton or the
    existing label files (their individuals too)."""
    given = parse_bodyparts(o.get("bodyparts"))
    individuals, unique = [""], []
    if given is not None:
        bodyparts, source = given, "--bodyparts"
        if skel is not None:
            bad = sorted({b for limb in skel.limbs for b in limb if b not in given})
            if bad and o.get("skeleton"):
                raise InputError(f"--skeleton {o['skeleton']} links bodyparts {bad} that "
                                 f"--bodyparts {given} leaves out; make them agree")
    elif skel is not None:
        bodyparts = list(skel.bodyparts)
    else:
        files = existing_label_files(folders or [], o.get("scorer"))
        if not files:
            raise InputError(f"{root}: no bodyparts known: pass --bodyparts a,b,c or --skeleton "
                             f"FILE, or put a skeleton.toml in {root}")
        first = read_label_file(files[0])
        bodyparts, source = list(first.keypoints), str(files[0])
        if first.attrs.get("multianimal"):
            individuals = list(first.individuals)
            unique = list(first.attrs.get("unique_bodyparts") or [])
    edges = _edges(skel.limbs if skel else [], bodyparts, source)
    t = Target(kind, root, o.get("scorer") or "", bodyparts, individuals, edges, {},
               unique_bodyparts=unique)
    return t, source
