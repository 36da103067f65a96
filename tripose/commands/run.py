"""``tripose run``: the project pipeline, resumable, parallel over sessions and cameras."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


@app.command()
def run(
    project: Path = typer.Argument(..., help="Project folder (holding config.toml)."),
    steps: list[str] = typer.Option(None, "--steps", help="Steps to run (repeat or comma "
                                    "separate): calibrate, analyze, triangulate, filter, "
                                    "angles, render. Default: all."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel tasks (-1: every core)."),
    scheduler: str = typer.Option(None, "--scheduler", help="Run the tasks on an existing "
                                  "Dask cluster, e.g. tcp://HOST:8786."),
    force: bool = typer.Option(False, "--force", help="Re-run the steps even when up to "
                               "date."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars."),
) -> None:
    """Run calibrate, analyze, triangulate, filter, angles and render on every session,
    skipping outputs that are up to date."""
    from ..project import run_project

    summary = run_project(project, steps=steps or None, n_jobs=jobs, scheduler=scheduler,
                          progress=progress, force=force)
    for step, entry in summary.items():
        if "skipped" in entry:
            typer.echo(f"{step:>11s}: skipped ({entry['skipped']})")
        else:
            typer.echo(f"{step:>11s}: {len(entry['ran'])} ran, {len(entry['up_to_date'])} up "
                       f"to date")
