"""Calibration report: ``report.json`` and pictures (coverage, rig with board poses, residuals).

Pictures are drawn with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from poses.atomic import atomic_path, make_folder, write_text_atomic

from .rotation import rodrigues_to_matrix

__all__ = ["write_report", "plot_coverage", "plot_rig", "plot_residuals"]


def _figure(nrows: int = 1, ncols: int = 1, size=(6, 4), **kw):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(nrows, ncols, figsize=size, squeeze=False, **kw)


def _save(plt, fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return path


def plot_coverage(result, path: str | Path) -> Path:
    """Per camera: every detected corner over the image frame, coloured by residual."""
    rig, corners = result.rig, result.corners
    n = rig.n_cams
    ncols = min(n, 4)
    nrows = int(np.ceil(n / ncols))
    plt, fig, axes = _figure(nrows, ncols, size=(4 * ncols, 3.4 * nrows))
    for c, cam in enumerate(rig):
        ax = axes[c // ncols][c % ncols]
        pts = corners[c].reshape(-1, 2)
        pts = pts[np.isfinite(pts[:, 0])]
        w, h = cam.size
        ax.scatter(pts[:, 0], pts[:, 1], s=1, alpha=0.3, c="tab:blue", rasterized=True)
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)
        ax.set_aspect("equal")
        cov = _coverage_fraction(pts, (w, h))
        ax.set_title(f"{cam.name}: {len(pts)} corners, {cov:.0%} of image", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for k in range(n, nrows * ncols):
        axes[k // ncols][k % ncols].axis("off")
    fig.suptitle("board corner coverage per camera")
    return _save(plt, fig, Path(path))


def _coverage_fraction(pts: np.ndarray, size, grid=(16, 12)) -> float:
    if not len(pts):
        return 0.0
    gx = np.clip((pts[:, 0] / size[0] * grid[0]).astype(int), 0, grid[0] - 1)
    gy = np.clip((pts[:, 1] / size[1] * grid[1]).astype(int), 0, grid[1] - 1)
    return len(np.unique(gy * grid[0] + gx)) / (grid[0] * grid[1])


def plot_rig(result, path: str | Path, max_boards: int = 60) -> Path:
    """The cameras (centres, optical axes, names) and board poses in 3D."""
    rig = result.rig
    plt, fig, axes = _figure(size=(6.5, 5.5), subplot_kw={"projection": "3d"})
    ax = axes[0][0]
    obj = result.board.object_points()
    nx, ny = result.board.inner_corners
    outline = obj[[0, nx - 1, nx * ny - 1, nx * (ny - 1), 0]]
    idx = np.linspace(0, len(result.board_rvecs) - 1, min(max_boards,
                                                           len(result.board_rvecs))).astype(int)
    for k in idx:
        R = rodrigues_to_matrix(result.board_rvecs[k])
        o = outline @ R.T + result.board_tvecs[k]
        ax.plot(o[:, 0], o[:, 1], o[:, 2], color="0.6", lw=0.6)
    centers = rig.centers
    span = np.ptp(np.r_[centers, result.board_tvecs], axis=0).max() if len(
        result.board_tvecs) else 1.0
    for cam, c in zip(rig, centers, strict=True):
        z = cam.R[2] * span * 0.15
        ax.plot(*np.c_[c, c + z], color="tab:red", lw=1.5)
        ax.scatter(*c, color="tab:red", s=15)
        ax.text(*c, f" {cam.name}", fontsize=8)
    ax.set_xlabel(f"x ({rig.units})")
    ax.set_ylabel(f"y ({rig.units})")
    ax.set_zlabel(f"z ({rig.units})")
    pts = np.r_[centers, result.board_tvecs]
    mid, half = pts.mean(0), np.ptp(pts, 0).max() / 2 + 1e-9
    ax.set_xlim(mid[0] - half, mid[0] + half)
    ax.set_ylim(mid[1] - half, mid[1] + half)
    ax.set_zlim(mid[2] - half, mid[2] + half)
    ax.set_title(f"rig ({rig.n_cams} cameras) and {len(idx)} board poses", fontsize=10)
    return _save(plt, fig, Path(path))


def plot_residuals(result, path: str | Path) -> Path:
    """Histogram of reprojection errors per camera (inliers), outliers counted."""
    rig = result.rig
    err = np.linalg.norm(result.residuals, axis=-1)
    plt, fig, axes = _figure(size=(6.5, 4))
    ax = axes[0][0]
    hi = np.percentile(err[result.inlier], 99.5) if result.inlier.any() else 1.0
    bins = np.linspace(0, max(hi, 1e-3), 50)
    for c, cam in enumerate(rig):
        m = (result.cam_idx == c) & result.inlier
        ax.hist(err[m], bins=bins, histtype="step", lw=1.2,
                label=f"{cam.name} (median {np.median(err[m]) if m.any() else np.nan:.2f} px)")
    ax.set_xlabel("reprojection error (px)")
    ax.set_ylabel("corners")
    ax.legend(fontsize=8)
    ax.set_title(f"bundle-adjusted residuals ({(~result.inlier).sum()} outliers removed)",
                 fontsize=10)
    return _save(plt, fig, Path(path))


def write_report(result, out_dir: str | Path) -> Path:
    """Write ``report.json`` and the pictures into ``out_dir``.

    Returns
    -------
    Path
        The ``report.json`` file; its ``pictures`` key lists the PNG files.
    """
    out = make_folder(out_dir, "report folder")
    pics = {
        "coverage": plot_coverage(result, out / "coverage.png").name,
        "rig": plot_rig(result, out / "rig.png").name,
        "residuals": plot_residuals(result, out / "residuals.png").name,
    }
    report = dict(result.report)
    report["pictures"] = pics
    return write_text_atomic(out / "report.json", json.dumps(report, indent=2) + "\n")
