"""Board detection in one image: OpenCV 5's CharucoDetector and chessboard finders, and the
choice of how a camera sees the board.

ChArUco detection tries OpenCV's legacy layout, inverted prints and mirrored views on the first
frames where markers are found and keeps the variant that finds the most corners. Detections
are dense arrays (NaN where a corner is not seen) so later stages stay vectorized. Whole
videos and image folders, in parallel over cameras and with a cache: :mod:`.detect_sources`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from .board import Board

__all__ = ["Detections", "Variant", "detect_image", "VARIANTS"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Variant:
    """How the board appears: OpenCV's legacy layout, inverted print, mirrored view, and
    whether its contrast is too low for the fast pass's threshold (``low_contrast``: use
    OpenCV's default adaptive-threshold constant of 7 grey levels instead of 10)."""

    legacy: bool = False
    inverted: bool = False
    mirrored: bool = False
    low_contrast: bool = False


VARIANTS = tuple(Variant(lg, inv, mir) for mir in (False, True) for inv in (False, True)
                 for lg in (False, True))


@dataclass
class Detections:
    """One camera's board corners over its frames.

    Attributes
    ----------
    camera : str
    image_size : (width, height) pixels
    frame_ids : (n_frames,) int
        Frames that were examined (every ``step``-th, less those the motion sampler
        skipped).
    corners : (n_frames, n_corners, 2) float64 pixels
        NaN where a corner was not detected.
    variant : Variant
    extra : object
        What ``detect_sources(then=...)`` computed for this camera (not cached).
    """

    camera: str
    image_size: tuple[int, int]
    frame_ids: np.ndarray
    corners: np.ndarray
    variant: Variant = field(default_factory=Variant)
    extra: object = field(default=None, repr=False, compare=False)

    @property
    def n_found(self) -> np.ndarray:
        """(n_frames,) corners found per frame."""
        return np.isfinite(self.corners[..., 0]).sum(-1)


def _trimmed_board(board: Board, legacy: bool):
    """The board on a dictionary cut to the board's own markers (ids ``0..n_markers-1``).

    OpenCV identifies each marker candidate by comparing it with every marker of the
    dictionary (first match within the error-correction tolerance, in id order), so with a
    large dictionary such as DICT_4X4_1000 most of the detection time goes there. The first
    ``n_markers`` entries with the same correction tolerance identify the board's markers
    exactly as the full dictionary does; candidates matching a later id were discarded anyway.
    """
    full = board.aruco_dictionary()
    ids = np.ravel(board.cv2_board(legacy=legacy).getIds())
    n = len(ids)
    if not np.array_equal(ids, np.arange(n)):  # not OpenCV's default ids: keep the dictionary
        return board.cv2_board(legacy=legacy)
    sub = cv2.aruco.Dictionary(np.ascontiguousarray(full.bytesList[:n]), full.markerSize,
                               full.maxCorrectionBits)
    b = cv2.aruco.CharucoBoard((board.squares_x, board.squares_y), board.square_length,
                               board.marker_length, sub)
    b.setLegacyPattern(bool(legacy))
    return b


_FAST_CONSTANT = 10.0  # grey levels below the local mean (7x7 window) that count as dark
_LOW_CONTRAST_CONSTANT = 7.0  # OpenCV's default
_MIN_MARKER_PERIMETER_PX = 32.0


class _Detector:
    """Board detector for one variant (kept per process; OpenCV objects are not picklable)."""

    def __init__(self, board: Board, variant: Variant) -> None:
        self.board = board
        self.variant = variant
        if board.type == "charuco":
            cv_board = _trimmed_board(board, variant.legacy)
            cparams = cv2.aruco.CharucoParameters()
            cparams.tryRefineMarkers = True
            # fast path: one adaptive-threshold pass; the full multi-scale search (OpenCV's
            # default windows 3..23) only when the fast pass finds some but few markers.
            # The fast pass thresholds 10 grey levels below the local mean (OpenCV: 7): image
            # noise in flat areas then gives far fewer specks, whose contours took most of
            # the time; a camera whose board is too faint for it is found while probing
            # and keeps OpenCV's 7 (``Variant.low_contrast``)
            fast = cv2.aruco.DetectorParameters()
            fast.adaptiveThreshWinSizeMin = fast.adaptiveThreshWinSizeMax = 7
            fast.adaptiveThreshConstant = (_LOW_CONTRAST_CONSTANT if variant.low_contrast
                                           else _FAST_CONSTANT)
            self.fast = cv2.aruco.CharucoDetector(cv_board, cparams, fast)
            self.cv = cv2.aruco.CharucoDetector(cv_board, cparams, cv2.aruco.DetectorParameters())
            self.n_markers = len(cv_board.getIds())
        self.shape: tuple[int, ...] = ()

    def _fit_to(self, shape: tuple[int, ...]) -> None:
        """Marker size bounds for this image size (OpenCV's are fractions of its larger
        side, 0.03 .. 4): contours of a perimeter under 32 px (markers under 8 px a side,
        < 1.4 px per cell of a 4x4 code: unreadable) or over twice the larger side (a marker
        half the image wide) are dropped before their shape is examined."""
        self.shape = shape
        rate = max(0.03, _MIN_MARKER_PERIMETER_PX / max(shape))
        for det in (self.fast, self.cv):
            p = det.getDetectorParameters()
            p.minMarkerPerimeterRate, p.maxMarkerPerimeterRate = rate, 2.0
            det.setDetectorParameters(p)

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        """(n_corners, 2) pixels, NaN where not found."""
        out = np.full((self.board.n_corners, 2), np.nan)
        if self.board.type == "charuco" and gray.shape != self.shape:
            self._fit_to(gray.shape)
        img = 255 - gray if self.variant.inverted else gray
        if self.variant.mirrored:
            img = cv2.flip(img, 1)
        if self.board.type == "charuco":
            corners, ids, _, marker_ids = self.fast.detectBoard(img)
            n_found = 0 if marker_ids is None else len(marker_ids)
            if 0 < n_found < 0.5 * self.n_markers:  # a board is there, but hard to read
                corners, ids, _, marker_ids = self.cv.detectBoard(img)
            if corners is None or ids is None or len(ids) == 0:
                return out
            out[np.asarray(ids).ravel()] = np.asarray(corners, dtype=np.float64).reshape(-1, 2)
        else:
            pattern = self.board.inner_corners
            # FAST_CHECK: a frame without the board is rejected in ~3 ms instead of the
            # classic search's 70-260 ms (640x480); a board it misses goes to the SB finder
            flags = (cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
                     | cv2.CALIB_CB_FAST_CHECK)
            found, corners = cv2.findChessboardCorners(img, pattern, flags=flags)
            if found:
                corners = cv2.cornerSubPix(
                    img, corners.astype(np.float32), (5, 5), (-1, -1),
                    (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-3))
            else:
                found, corners = cv2.findChessboardCornersSB(img, pattern)
            if not found:
                return out
            out[:] = corners.reshape(-1, 2)
        if self.variant.mirrored:
            out[:, 0] = gray.shape[1] - 1 - out[:, 0]
        return out


def detect_image(gray: np.ndarray, board: Board, variant: Variant | None = None) -> np.ndarray:
    """Detect board corners in one grey image.

    Parameters
    ----------
    gray : (h, w) uint8
    board : Board
    variant : Variant, optional
        Default: the board's legacy/inverted flags, not mirrored; a ChArUco board not found
        that way is looked for again with the low-contrast threshold.

    Returns
    -------
    corners : (n_corners, 2) pixels, NaN where not found
    """
    if variant is not None:
        return _Detector(board, variant)(gray)
    variant = Variant(bool(board.legacy), bool(board.inverted), False)
    out = _Detector(board, variant)(gray)
    if board.type == "charuco" and not np.isfinite(out[:, 0]).any():
        out = _Detector(board, replace(variant, low_contrast=True))(gray)
    return out


def _candidate_variants(board: Board) -> list[Variant]:
    if board.type != "charuco":
        return [Variant(False, bool(board.inverted), False)]
    legacy = [board.legacy] if board.legacy is not None else [False, True]
    inverted = [board.inverted] if board.inverted is not None else [False, True]
    return [v for v in VARIANTS if v.legacy in legacy and v.inverted in inverted]


def _n_corners(det: _Detector, frames: list[np.ndarray]) -> int:
    return int(sum(np.isfinite(det(f)[:, 0]).sum() for f in frames))


def _choose_variant(frames: list[np.ndarray], board: Board,
                    camera: str) -> tuple[Variant | None, int]:
    """The variant that finds the most corners on a few frames (None when none works) and
    how many corners it found there.

    ChArUco variants are compared with the low-contrast threshold (OpenCV's default, which
    also reads boards seen small or at a grazing angle); a camera keeps that threshold only
    where the fast pass's finds far fewer corners (a faint print or a dim camera).
    """
    cands = _candidate_variants(board)
    if board.type == "charuco":
        cands = [replace(v, low_contrast=True) for v in cands]
    best, best_n = None, 0
    for v in cands:
        n = _n_corners(_Detector(board, v), frames)
        if n > best_n * 1.05:  # prefer the plain variants unless another does clearly better
            best, best_n = v, n
    if best is not None and board.type == "charuco":
        fast = replace(best, low_contrast=False)
        if _n_corners(_Detector(board, fast), frames) >= 0.7 * best_n:
            best = fast
        unusual = [name.replace("_", " ") for name in ("legacy", "inverted", "mirrored",
                                                       "low_contrast") if getattr(best, name)]
        log.log(logging.INFO if unusual else logging.DEBUG,
                "camera %s: board seen %s (%d corners on %d probe frames)", camera,
                ", ".join(unusual) or "as printed", best_n, len(frames))
    return best, best_n


def _has_markers(gray: np.ndarray, board: Board) -> bool:
    """Whether at least two markers of the board's dictionary show, in any variant: the
    image or its negative (inverted prints), each as it is or flipped (a mirrored view's
    codes are mirrored too, and 5x5 or 6x6 mirrored codes match no code of the dictionary).
    ChArUco boards only (a checkerboard has nothing to probe)."""
    det = cv2.aruco.ArucoDetector(board.aruco_dictionary(), cv2.aruco.DetectorParameters())
    for img in (gray, 255 - gray):
        for view in (img, cv2.flip(img, 1)):
            _, ids, _ = det.detectMarkers(view)
            if ids is not None and len(ids) >= 2:
                return True
    return False
