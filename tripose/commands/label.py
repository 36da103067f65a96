"""``tripose label``: the local labeling web app (docs/labeling.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


@app.command()
def label(
    target: Path = typer.Argument(..., help="DeepLabCut project, tripose project session "
                                  "(PROJECT/<session>) or folder of frames (FOLDER/img*.png "
                                  "or FOLDER/<cam>/img*.png)."),
    port: int = typer.Option(0, "--port", help="Port to listen on (0: a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser."),
    scorer: str = typer.Option(None, "--scorer", help="Write CollectedData_<scorer> (default: "
                               "the DeepLabCut config's or the existing files')."),
    calibration: Path = typer.Option(None, "--calibration", help="calibration.toml grouping "
                                     "camera folders into multi-view instants."),
    bodyparts: str = typer.Option(None, "--bodyparts", help="Comma-separated bodyparts "
                                  "(folders and sessions)."),
    skeleton: Path = typer.Option(None, "--skeleton", help="Skeleton TOML (bodyparts, limbs)."),
) -> None:
    """Label frames of one or several cameras in the browser (autosaved DeepLabCut files)."""
    from calibration.errors import InputError
    from tripose.label.lock import label_lock
    from tripose.label.server import run
    from tripose.label.target import discover

    if not 0 <= port <= 65535:
        raise InputError(f"--port must be between 0 and 65535, got {port}")
    found = discover(target, scorer=scorer, calibration=calibration, bodyparts=bodyparts,
                     skeleton=skeleton)
    with label_lock(found.root) as set_port:
        run(found, host=host, port=port, open_browser=not no_browser, on_bound=set_port)
