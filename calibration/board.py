"""Calibration boards: ChArUco and checkerboard geometry (a data class, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Board", "ARUCO_DICTIONARIES", "BOARD_TYPES"]

BOARD_TYPES = ("charuco", "checkerboard")
ARUCO_DICTIONARIES = tuple(
    f"DICT_{b}X{b}_{n}" for b in (4, 5, 6, 7) for n in (50, 100, 250, 1000)
) + ("DICT_ARUCO_ORIGINAL", "DICT_APRILTAG_16h5", "DICT_APRILTAG_25h9", "DICT_APRILTAG_36h10",
     "DICT_APRILTAG_36h11", "DICT_ARUCO_MIP_36h12")


@dataclass
class Board:
    """A planar calibration target.

    Parameters
    ----------
    type : {"charuco", "checkerboard"}
    squares_x, squares_y : int
        Squares along the board's x (width) and y (height) axes. A checkerboard has
        ``(squares_x - 1) x (squares_y - 1)`` inner corners.
    square_length : float
        Side of one square; its unit becomes the calibration's unit (e.g. mm).
    marker_length : float
        Side of one ArUco marker (ChArUco only), same unit.
    dictionary : str
        OpenCV ArUco dictionary name, e.g. ``"DICT_4X4_50"`` (ChArUco only).
    legacy : bool or None
        OpenCV's pre-4.6 ChArUco layout; ``None`` means detect automatically.
    inverted : bool or None
        White markers on black; ``None`` means detect automatically.
    units : str
        Unit of the lengths (informative; written to calibration metadata).
    """

    type: str = "charuco"
    squares_x: int = 7
    squares_y: int = 5
    square_length: float = 1.0
    marker_length: float = 0.75
    dictionary: str = "DICT_4X4_50"
    legacy: bool | None = None
    inverted: bool | None = None
    units: str = "mm"

    def __post_init__(self) -> None:
        if self.type not in BOARD_TYPES:
            raise ValueError(f"board type must be one of {BOARD_TYPES}, got {self.type!r}")
        for key in ("squares_x", "squares_y"):
            v = getattr(self, key)
            if int(v) != v or int(v) < 2:
                raise ValueError(f"board {key} must be a whole number >= 2, got {v!r}")
            setattr(self, key, int(v))
        if not float(self.square_length) > 0:
            raise ValueError(f"board square_length must be > 0, got {self.square_length!r}")
        self.square_length = float(self.square_length)
        if self.type == "charuco":
            if not 0 < float(self.marker_length) < self.square_length:
                raise ValueError(
                    f"board marker_length must be > 0 and smaller than square_length "
                    f"({self.square_length}), got {self.marker_length!r}"
                )
            self.marker_length = float(self.marker_length)
            if self.dictionary not in ARUCO_DICTIONARIES:
                raise ValueError(
                    f"board dictionary {self.dictionary!r} is not an OpenCV ArUco dictionary; "
                    f"use e.g. 'DICT_4X4_50' (choices: {', '.join(ARUCO_DICTIONARIES)})"
                )
            n_markers = (self.squares_x * self.squares_y) // 2
            size = int(self.dictionary.rsplit("_", 1)[1]) if self.dictionary[5].isdigit() else None
            if size is not None and n_markers > size:
                raise ValueError(
                    f"a {self.squares_x} x {self.squares_y} ChArUco board needs {n_markers} "
                    f"markers but {self.dictionary} holds {size}; choose a larger dictionary"
                )

    # --- geometry --------------------------------------------------------------------
    @property
    def inner_corners(self) -> tuple[int, int]:
        """Inner corners along x and y: ``(squares_x - 1, squares_y - 1)``."""
        return self.squares_x - 1, self.squares_y - 1

    @property
    def n_corners(self) -> int:
        """Number of inner (chessboard) corners; ChArUco corner ids run over these."""
        nx, ny = self.inner_corners
        return nx * ny

    @property
    def size(self) -> tuple[float, float]:
        """Board width and height in board units."""
        return self.squares_x * self.square_length, self.squares_y * self.square_length

    def object_points(self) -> np.ndarray:
        """Inner-corner coordinates on the board plane.

        Returns
        -------
        points : (n_corners, 3) board units
            Row ``i`` is ChArUco corner id ``i`` (OpenCV's ``getChessboardCorners``) or the
            ``i``-th corner in ``findChessboardCorners`` order; z = 0.
        """
        nx, ny = self.inner_corners
        gx, gy = np.meshgrid(np.arange(1, nx + 1), np.arange(1, ny + 1))
        pts = np.zeros((nx * ny, 3))
        pts[:, 0] = gx.ravel() * self.square_length
        pts[:, 1] = gy.ravel() * self.square_length
        if self.type == "checkerboard":
            pts[:, :2] -= self.square_length  # first inner corner at the origin
        return pts

    # --- OpenCV objects --------------------------------------------------------------
    def aruco_dictionary(self):
        """The ``cv2.aruco.Dictionary`` of this board."""
        import cv2

        return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))

    def cv2_board(self, legacy: bool | None = None):
        """The ``cv2.aruco.CharucoBoard`` (ChArUco only).

        Parameters
        ----------
        legacy : bool, optional
            Overrides :attr:`legacy` (``None`` there means False here).
        """
        import cv2

        if self.type != "charuco":
            raise ValueError("cv2_board() is for ChArUco boards; this one is a checkerboard")
        b = cv2.aruco.CharucoBoard(
            (self.squares_x, self.squares_y), self.square_length, self.marker_length,
            self.aruco_dictionary(),
        )
        use_legacy = self.legacy if legacy is None else legacy
        b.setLegacyPattern(bool(use_legacy))
        return b

    def render(self, pixels_per_square: int = 100, margin_squares: float = 0.5) -> np.ndarray:
        """A printable image of the board.

        Parameters
        ----------
        pixels_per_square : int
        margin_squares : float
            White border around the board, in squares.

        Returns
        -------
        image : (H, W) uint8
            The board occupies ``[m, m + squares_y * pps) x [m, m + squares_x * pps)`` with
            ``m = round(margin_squares * pixels_per_square)``; inverted when ``inverted``.
        """
        pps = int(pixels_per_square)
        m = int(round(margin_squares * pps))
        w, h = self.squares_x * pps, self.squares_y * pps
        if self.type == "charuco":
            inner = self.cv2_board().generateImage((w, h), marginSize=0, borderBits=1)
        else:
            yy, xx = np.mgrid[0:h, 0:w]
            inner = np.where(((yy // pps) + (xx // pps)) % 2 == 0, 0, 255).astype(np.uint8)
        img = np.full((h + 2 * m, w + 2 * m), 255, np.uint8)
        img[m:m + h, m:m + w] = inner
        if self.inverted:
            img = 255 - img
        return img
