"""``tripose evaluate``: train/test errors of a model folder into evaluation.json."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


@app.command()
def evaluate(
    model_dir: Path = typer.Argument(..., help="Model folder written by `tripose train`."),
    data: Path = typer.Option(None, "--data", help="The labeled data, when it has moved since "
                              "training."),
    pcutoff: float = typer.Option(None, "--pcutoff", help="Likelihood cutoff (default 0.6)."),
    pictures: int = typer.Option(20, "--pictures", help="Test frames to draw (0: none)."),
) -> None:
    """Write MODEL_DIR/evaluation.json (DeepLabCut's train/test RMSE, per bodypart, PCK)."""
    from pose2d.evaluate import evaluate as run

    r = run(model_dir, data=data, pcutoff=pcutoff, pictures=pictures)

    def fmt(v):
        return "n/a" if v is None else f"{v:.2f} px"

    typer.echo(f"wrote {model_dir / 'evaluation.json'}: train RMSE {fmt(r['train_rmse_px'])} "
               f"({r['n_train']} frames), test RMSE {fmt(r['test_rmse_px'])} ({r['n_test']} "
               f"frames); with p-cutoff {r['pcutoff']:g}: train "
               f"{fmt(r['train_rmse_pcutoff_px'])}, test {fmt(r['test_rmse_pcutoff_px'])}")
