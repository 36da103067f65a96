"""``tripose demo``: every stage, for real, on the sample session."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


@app.command()
def demo(
    out: Path = typer.Option(Path("demo_out"), "--out", help="Output folder."),
    session: Path = typer.Option(None, "--session", help="A tripose synth folder "
                                 "(default: sample_data/)."),
    fresh: bool = typer.Option(False, "--fresh", help="Generate a new synthetic session."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fresh session."),
    train: bool = typer.Option(False, "--train", help="Retrain the 2D model into OUT/model "
                               "with the commands recorded in sample_data/model/training.json "
                               "(about 15 minutes) and use it."),
    model: Path = typer.Option(None, "--model", help="Use this 2D model folder instead of "
                               "sample_data/model (it needs evaluation.json)."),
    combined: bool = typer.Option(True, "--combined/--no-combined", help="Also render the "
                                  "videos beside the 3D skeleton."),
) -> None:
    """Calibrate, analyze (2D network), triangulate and render the sample session; write
    OUT/summary.json and print a table of the figures against the ground truth."""
    from ..demo import format_table, run_demo

    s = run_demo(out, session=session, fresh=fresh, seed=seed, train=train, model=model,
                 combined=combined)
    typer.echo(f"session  {s['session']}")
    typer.echo(format_table(s))
    for what in ("pictures", "movie", "html", "combined_video"):
        v = s.get(what)
        if v:
            typer.echo(f"{what:<9} {', '.join(v.values()) if isinstance(v, dict) else v}")
    typer.echo(f"summary  {Path(out) / 'summary.json'}")
