"""``tripose train``: labeled frames (DeepLabCut project, labeled-data folder, synth session) to
a pose model folder."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


@app.command()
def train(
    data: Path = typer.Option(..., "--data", help="DeepLabCut project folder, one labeled-data "
                              "folder, or a `tripose synth` session."),
    out: Path = typer.Option(..., "--out", help="Model folder to write (resumed when it holds "
                             "a checkpoint)."),
    backbone: str = typer.Option("small", "--backbone", help="small (CPU-fast) or resnet50."),
    weights: Path = typer.Option(None, "--weights", help="Backbone state dict (local file; "
                                 "torchvision ImageNet ResNet keys accepted)."),
    max_minutes: float = typer.Option(None, "--max-minutes", help="Training time budget "
                                      "(default 10 when --epochs is not given)."),
    epochs: int = typer.Option(None, "--epochs", help="Passes over the training frames."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split, initialisation and "
                             "augmentation."),
    train_fraction: float = typer.Option(0.95, "--train-fraction", help="Fraction of frames "
                                         "used for training (DeepLabCut's 0.95)."),
    batch_size: int = typer.Option(8, "--batch-size", help="Frames per step."),
    crop: int = typer.Option(256, "--crop", help="Training crop side, pixels (multiple of 16)."),
) -> None:
    """Train a scoremap + location-refinement network on labeled frames."""
    from pose2d.augment import AugmentConfig
    from pose2d.train import TrainConfig
    from pose2d.train import train as run

    if max_minutes is None and epochs is None:
        max_minutes = 10.0
    cfg = TrainConfig(backbone=backbone, epochs=epochs, max_minutes=max_minutes, seed=seed,
                      train_fraction=train_fraction, batch_size=batch_size,
                      augment=AugmentConfig(crop=crop))
    r = run(data, out, cfg, weights=weights, progress=True)
    rmse = r["test_rmse_px"]
    typer.echo(f"wrote {out}: {r['iterations']} iterations ({r['epochs']:.1f} epochs, "
               f"{r['train_minutes']:.1f} min) on {r['n_train']} frames; test RMSE "
               + (f"{rmse:.2f} px over {r['n_test']} frames" if rmse is not None else "n/a"))
