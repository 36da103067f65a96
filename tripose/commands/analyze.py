"""``tripose analyze``: a pose model over videos to DeepLabCut h5 + csv."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


@app.command()
def analyze(
    videos: list[Path] = typer.Argument(..., help="Videos to analyze."),
    model: Path = typer.Option(..., "--model", help="Model folder written by `tripose train`."),
    outdir: Path = typer.Option(..., "-o", "--outdir", help="Folder for <video stem>.h5/.csv."),
    batch_size: int = typer.Option(16, "--batch-size", help="Frames per inference batch."),
    filter: str = typer.Option(None, "--filter", help="2D filter: median or viterbi."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Redo videos whose output "
                                   "exists."),
) -> None:
    """Keypoints and likelihoods of every frame, DeepLabCut's single-animal format."""
    from pose2d.analyze import analyze_videos

    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
    for r in analyze_videos(model, videos, outdir, batch_size=batch_size, overwrite=overwrite,
                            filter=filter):
        if r.get("skipped"):
            typer.echo(f"skipped {r['video']}: {r['output']} exists")
        else:
            typer.echo(f"wrote {r['output']}: {r['n_frames']} frames at {r['fps']:.0f} fps")
