"""Several individuals in one picture: joints folded into one axis, colour families, names.

The drawing code works on ``(n_frames, n_joints, ...)`` arrays. A :class:`Cast` folds the
individuals axis into the joints (individual-major: joint ``j`` of individual ``i`` is
``i * n_keypoints + j``), repeats the skeleton's limbs within each individual, gives each
individual its colour family (:func:`viz3d.colors.individual_colors`) and says where its
name goes (by its head). One individual named by default folds to exactly the single-animal
arrays, colours and no label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from poses import Poses

from . import colors
from .validate import individual_names

__all__ = ["Cast", "head_index", "HEAD_NAMES"]

#: Bodypart names a label sits by, in order of preference (matched within the name, any
#: case); without any, the first bodypart.
HEAD_NAMES = ("nose", "snout", "head", "eye", "ear", "neck")


def head_index(keypoints: Sequence[str] | None, n_keypoints: int) -> int:
    """The bodypart a name label sits by: the first whose name holds ``nose``, else
    ``snout``, ... (:data:`HEAD_NAMES`); else 0."""
    if keypoints is not None and len(keypoints) == n_keypoints:
        low = [str(k).lower() for k in keypoints]
        for word in HEAD_NAMES:
            for j, k in enumerate(low):
                if word in k:
                    return j
    return 0


@dataclass(frozen=True)
class Cast:
    """The individuals drawn together.

    Attributes
    ----------
    names : tuple of str
        One per individual, in order.
    n_keypoints : int
        Joints of each individual.
    head : int
        The keypoint a name label sits by (see :func:`head_index`).
    labelled : bool
        Whether names are written (not for one individual named by default).
    """

    names: tuple[str, ...]
    n_keypoints: int
    head: int = 0
    labelled: bool = False

    @classmethod
    def of(cls, data, shape: tuple[int, ...], keypoints: Sequence[str] | None = None) -> Cast:
        """The cast of checked points of ``shape (..., n_individuals, n_keypoints, D)``.

        ``data`` is what the caller was given (a :class:`poses.Poses` names its
        individuals and keypoints); ``keypoints`` (e.g. the skeleton's bodyparts) win over
        the Poses' for finding the head.
        """
        n_ind, n_kp = int(shape[-3]), int(shape[-2])
        names, labelled = individual_names(data, n_ind)
        if keypoints is None and isinstance(data, Poses):
            keypoints = data.keypoints
        return cls(tuple(names), n_kp, head_index(keypoints, n_kp), labelled)

    @property
    def n_individuals(self) -> int:
        return len(self.names)

    @property
    def n_joints(self) -> int:
        """Joints of the folded axis: ``n_individuals * n_keypoints``."""
        return self.n_individuals * self.n_keypoints

    def fold(self, values: np.ndarray, trailing: int = 1) -> np.ndarray:
        """``(..., n_individuals, n_keypoints, *last)`` -> ``(..., n_joints, *last)``, where
        ``last`` are the ``trailing`` axes after the keypoints (1 for points, 0 for
        scores)."""
        a = np.asarray(values)
        cut = a.ndim - trailing - 2
        return a.reshape(a.shape[:cut] + (self.n_joints,) + a.shape[a.ndim - trailing:])

    def limbs(self, limbs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """The skeleton's limbs repeated within each individual, as folded joint pairs."""
        return [(i * self.n_keypoints + a, i * self.n_keypoints + b)
                for i in range(self.n_individuals) for a, b in limbs]

    def joint_colors(self) -> np.ndarray:
        """``(n_joints, 3)`` uint8: each individual's colour family, folded."""
        return colors.individual_colors(self.n_individuals, self.n_keypoints).reshape(-1, 3)

    def label_colors(self) -> np.ndarray:
        """``(n_individuals, 3)`` uint8: the colour of each name."""
        return colors.individual_label_colors(self.n_individuals)

    def anchors(self, points: np.ndarray) -> np.ndarray:
        """Where each individual's name goes: its head point, or the mean of its finite
        points where the head is missing; NaN where it has none.

        Parameters
        ----------
        points : (..., n_joints, D) folded points

        Returns
        -------
        (..., n_individuals, D)
        """
        p = np.asarray(points, float)
        p = p.reshape(p.shape[:-2] + (self.n_individuals, self.n_keypoints, p.shape[-1]))
        head = p[..., self.head, :]
        ok = np.isfinite(p).all(-1, keepdims=True)
        count = ok.sum(-2)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(ok, p, 0.0).sum(-2) / count
        mean = np.where(count > 0, mean, np.nan)
        return np.where(np.isfinite(head).all(-1, keepdims=True), head, mean)
