"""``tripose init``: a new project folder with a commented config.toml and empty sessions."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


@app.command()
def init(
    project: Path = typer.Argument(..., help="Project folder to create."),
    session: list[str] = typer.Option(None, "--session", help="Session folder to create (with "
                                      "videos-raw/ and calibration/); repeat for several."),
    board: Path = typer.Option(None, "--board", help="Board TOML copied in as board.toml."),
    skeleton: Path = typer.Option(None, "--skeleton", help="Skeleton TOML copied in as "
                                  "skeleton.toml."),
    model: Path = typer.Option(None, "--model", help="2D model folder of `tripose train`."),
    sample: bool = typer.Option(False, "--sample", help="Fill the project with two sessions "
                                "(A, B) of the synthetic sample data instead."),
    individuals: int = typer.Option(None, "--individuals", help="Most animals present in "
                                    "a recording (triangulation.individuals); default: as "
                                    "many as the 2D files name."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config.toml."),
) -> None:
    """Create a project: config.toml (every key, commented) and session folders."""
    from ..project import init_project, sample_project

    if sample:
        extra = {} if individuals is None else {"triangulation": {"individuals": individuals}}
        path = sample_project(project, sessions=session or ("A", "B"), overrides=extra)
    else:
        path = init_project(project, sessions=session or (), board=board, skeleton=skeleton,
                            model=model, force=force, individuals=individuals)
    typer.echo(f"wrote {path}")
    if not sample:
        typer.echo("next: put <cam>.mp4 videos in SESSION/videos-raw/ and board videos in "
                   "SESSION/calibration/ (or PROJECT/calibration/), then `tripose run "
                   f"{project}`")
