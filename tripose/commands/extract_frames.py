"""``tripose extract-frames`` and ``tripose extract-outliers``: frames to label."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


@app.command("extract-frames")
def extract_frames(
    video: Path = typer.Argument(..., help="Video to pick frames from."),
    out: Path = typer.Option(..., "-o", "--out", help="labeled-data folder to write "
                             "img<frame>.png into."),
    n: int = typer.Option(20, "-n", "--n-frames", help="Frames to pick."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Pick diverse frames (k-means over downsampled frames, DeepLabCut-style)."""
    from pose2d.extract import extract_frames as run

    frames = run(video, out, n=n, seed=seed)
    typer.echo(f"picked {len(frames)} frames of {video} into {out}")


@app.command("extract-outliers")
def extract_outliers(
    video: Path = typer.Argument(..., help="The analyzed video."),
    analysis: Path = typer.Option(..., "--analysis", help="Its `tripose analyze` h5 or csv."),
    out: Path = typer.Option(..., "-o", "--out", help="labeled-data folder to write into."),
    n: int = typer.Option(20, "-n", "--n-frames", help="Most frames to write."),
    pcutoff: float = typer.Option(0.6, "--pcutoff", help="Likelihood below which a frame is "
                                  "an outlier."),
    jump_px: float = typer.Option(30.0, "--jump-px", help="Per-frame jump (px) that makes a "
                                  "frame an outlier."),
    pose3d: Path = typer.Option(None, "--pose3d", help="Triangulated CSV (anipose columns "
                                "<bp>_error) for the reprojection criterion."),
    max_reprojection_px: float = typer.Option(15.0, "--max-reprojection-px", help="Reprojection "
                                              "error (px) that makes a frame an outlier."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Frames with low confidence, jumps or high 3D reprojection error, for relabeling."""
    from pose2d.extract import extract_outliers as run

    frames = run(video, analysis, out, n=n, pcutoff=pcutoff, jump_px=jump_px,
                 pose3d_csv=pose3d, max_reprojection_px=max_reprojection_px, seed=seed)
    typer.echo(f"wrote {len(frames)} outlier frames of {video} into {out} (see outliers.csv)")
