"""Skeletons: bodypart names, limbs (pairs with fixed length), weak limbs and angles."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import toml

from .atomic import write_text_atomic
from .errors import InputError

__all__ = ["Skeleton", "load_skeleton", "save_skeleton", "skeleton_from_dict"]


@dataclass
class Skeleton:
    """Bodyparts and the rigid structure linking them.

    Parameters
    ----------
    bodyparts : list of str
        Keypoint names; their order is the ``n_joints`` axis for inputs that carry no names.
    limbs : list of (str, str)
        Pairs whose distance is constant (strong constraint in triangulation).
    weak_limbs : list of (str, str)
        Pairs whose distance is nearly constant (weak constraint).
    angles : dict of str to (str, str, str)
        Named joint angles ``a-b-c`` (vertex at ``b``), degrees.
    """

    bodyparts: list[str]
    limbs: list[tuple[str, str]] = field(default_factory=list)
    weak_limbs: list[tuple[str, str]] = field(default_factory=list)
    angles: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bodyparts = [str(b) for b in self.bodyparts]
        if not self.bodyparts:
            raise ValueError("skeleton bodyparts is empty; list at least one bodypart name")
        dup = sorted({b for b in self.bodyparts if self.bodyparts.count(b) > 1})
        if dup:
            raise ValueError(f"skeleton bodyparts repeat {dup}")
        known = set(self.bodyparts)
        for key in ("limbs", "weak_limbs"):
            pairs = []
            for item in getattr(self, key):
                if len(item) != 2:
                    raise ValueError(f"skeleton {key} entry {list(item)} must name 2 bodyparts")
                a, b = str(item[0]), str(item[1])
                bad = [x for x in (a, b) if x not in known]
                if bad:
                    raise ValueError(
                        f"skeleton {key} entry [{a!r}, {b!r}] names unknown bodypart(s) {bad}; "
                        f"bodyparts: {self.bodyparts}"
                    )
                pairs.append((a, b))
            setattr(self, key, pairs)
        angles = {}
        for name, triple in dict(self.angles).items():
            if len(triple) != 3 or any(str(x) not in known for x in triple):
                raise ValueError(
                    f"skeleton angle {name!r} = {list(triple)} must name 3 known bodyparts; "
                    f"bodyparts: {self.bodyparts}"
                )
            angles[str(name)] = tuple(str(x) for x in triple)
        self.angles = angles

    @property
    def n_joints(self) -> int:
        """Number of bodyparts."""
        return len(self.bodyparts)

    def index(self, name: str) -> int:
        """Position of bodypart ``name``."""
        try:
            return self.bodyparts.index(name)
        except ValueError:
            raise KeyError(
                f"unknown bodypart {name!r}; bodyparts: {self.bodyparts}"
            ) from None

    def limb_indices(self, weak: bool = False) -> list[tuple[int, int]]:
        """Limbs (or weak limbs) as index pairs into :attr:`bodyparts`."""
        pairs = self.weak_limbs if weak else self.limbs
        return [(self.index(a), self.index(b)) for a, b in pairs]

    def on_bodyparts(self, bodyparts: list[str]) -> Skeleton:
        """The same limbs, weak limbs and angles (by name) over another bodypart order.

        Used when the data's bodyparts (a 2D file's order, or a superset) differ from the
        skeleton file's; raises ``ValueError`` when a limb names a bodypart not in the data.
        """
        return Skeleton(bodyparts=list(bodyparts), limbs=self.limbs, weak_limbs=self.weak_limbs,
                        angles=self.angles)


def skeleton_from_dict(d: dict, where: str = "skeleton") -> Skeleton:
    """A skeleton from parsed TOML (``bodyparts``, ``limbs``, ``weak_limbs``, ``angles``)."""
    if "bodyparts" not in d:
        raise InputError(f"{where}: missing key 'bodyparts' (a list of bodypart names)")
    allowed = {"bodyparts", "limbs", "weak_limbs", "angles"}
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {unknown}; expected {sorted(allowed)}")
    for key, typ in (("bodyparts", list), ("limbs", list), ("weak_limbs", list),
                     ("angles", dict)):
        if key in d and not isinstance(d[key], typ):
            raise InputError(f"{where}: {key} must be a {typ.__name__}, "
                             f"got {type(d[key]).__name__}")
    try:
        return Skeleton(bodyparts=d["bodyparts"], limbs=d.get("limbs", []),
                        weak_limbs=d.get("weak_limbs", []), angles=d.get("angles", {}))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from None


def load_skeleton(path: str | Path) -> Skeleton:
    """Read a skeleton TOML file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"skeleton file not found: {path}")
    try:
        data = toml.load(path)
    except (toml.TomlDecodeError, UnicodeDecodeError, IndexError) as exc:
        raise InputError(f"skeleton file {path} is not valid TOML: {exc}") from None
    return skeleton_from_dict(data, where=f"skeleton file {path}")


def save_skeleton(skeleton: Skeleton, path: str | Path) -> Path:
    """Write a skeleton TOML file atomically."""
    d: dict = {"bodyparts": skeleton.bodyparts, "limbs": [list(p) for p in skeleton.limbs]}
    if skeleton.weak_limbs:
        d["weak_limbs"] = [list(p) for p in skeleton.weak_limbs]
    if skeleton.angles:
        d["angles"] = {k: list(v) for k, v in skeleton.angles.items()}
    return write_text_atomic(path, toml.dumps(d))
