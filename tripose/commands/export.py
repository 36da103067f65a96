"""``tripose export``: a pose-3d file to CSV, TRC, C3D or parquet."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


@app.command()
def export(
    input: Path = typer.Argument(..., help="3D file (pose-3d csv, parquet, trc or c3d)."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write."),
    format: str = typer.Option(None, "--format", help="csv, trc, c3d or parquet (default: "
                               "from the output suffix)."),
    fps: float = typer.Option(None, "--fps", help="Frame rate to store, Hz (CSV input "
                              "carries none; default 100)."),
    units: str = typer.Option(None, "--units", help="Units to store (CSV input carries none; "
                              "default mm)."),
) -> None:
    """Convert 3D points between CSV, TRC (OpenSim), C3D and parquet."""
    from ..project.export import export_pose

    path = export_pose(input, output, format=format, fps=fps, units=units)
    typer.echo(f"wrote {path}")
