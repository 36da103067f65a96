"""The labeling app's plain data: a TARGET's views, groups and labelling scheme.

:func:`tripose.label.target.discover` fills them (a view only lists its folder's images);
:mod:`.files`, :mod:`.sources`, :mod:`.store` and :mod:`.server` read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from calibration.rig import CameraRig
from calibration.sources import natural_key
from poses.io.dlc import SINGLE

__all__ = ["Target", "Group", "View", "IMAGE_SUFFIXES", "CONFIG_TOML"]

#: Image files a view folder holds (what a browser shows).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: A tripose project's config, above its sessions.
CONFIG_TOML = "config.toml"


@dataclass
class View:
    """One camera's folder of frames.

    Attributes
    ----------
    name : str
        The camera name (calibrated groups) or the folder name.
    folder : Path
        Absolute folder of the images (inside the TARGET).
    """

    name: str
    folder: Path

    def images(self) -> list[str]:
        """Image file names in the folder, natural order (read now: frames may be added)."""
        if not self.folder.is_dir():
            return []
        names = [p.name for p in self.folder.iterdir()
                 if not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
                 and p.is_file()]
        return sorted(names, key=natural_key)


@dataclass
class Group:
    """Views seen together: an instant is an image name present in any of them.

    Attributes
    ----------
    id : str
    views : dict of str to View
        In the calibration's camera order (else one view).
    rig : CameraRig or None
        The calibration of these views, in the same order; None when uncalibrated.
    """

    id: str
    views: dict[str, View]
    rig: CameraRig | None = None

    def instants(self) -> list[str]:
        """Image names present in any view, natural order."""
        names = {name for v in self.views.values() for name in v.images()}
        return sorted(names, key=natural_key)


@dataclass
class Target:
    """A discovered TARGET.

    Attributes
    ----------
    kind : {"dlc", "session", "folder"}
    root : Path
        Resolved TARGET folder; nothing outside it is read or written.
    scorer : str
        Label files are ``CollectedData_<scorer>.h5``/``.csv`` in each view folder.
    bodyparts : list of str
        Multi-animal bodyparts first, then unique ones.
    individuals : list of str
        ``[""]`` for one animal; else the individuals, ``"single"`` last when unique
        bodyparts exist.
    unique_bodyparts : list of str
        Bodyparts only ``"single"`` carries (multi-animal DeepLabCut).
    skeleton : list of (str, str)
    groups : dict of str to Group
    calibration : Path or None
    """

    kind: str
    root: Path
    scorer: str
    bodyparts: list[str]
    individuals: list[str]
    skeleton: list[tuple[str, str]]
    groups: dict[str, Group]
    unique_bodyparts: list[str] = field(default_factory=list)
    calibration: Path | None = None

    @property
    def multianimal(self) -> bool:
        """Whether labels have the 4-level (individuals) layout."""
        return self.individuals != [""]

    def pairs(self) -> list[tuple[str, str]]:
        """Every (individual, bodypart) a label file can hold, in column order."""
        if not self.multianimal:
            return [("", b) for b in self.bodyparts]
        out = []
        for ind in self.individuals:
            for b in self.bodyparts:
                if (ind == SINGLE) == (b in self.unique_bodyparts) or not self.unique_bodyparts:
                    out.append((ind, b))
        return out
