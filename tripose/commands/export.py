"""``tripose export``: any pose file to CSV, TRC, C3D, parquet, movement netCDF, NWB or
DeepLabCut h5."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


@app.command()
def export(
    input: Path = typer.Argument(..., help="Pose file: DeepLabCut h5/csv, SLEAP h5, Lightning "
                                 "Pose csv, OpenPose json folder, anipose / pose-3d csv, trc, "
                                 "c3d, parquet, movement .nc or .nwb."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write; its suffix picks "
                                "the format: .csv .trc .c3d .parquet .nc .nwb .h5 (DeepLabCut)."),
    format: str = typer.Option(None, "--format", help="csv, trc, c3d, parquet, nc, nwb, h5 or "
                               "a format name such as anipose, dlc, movement (default: from "
                               "the output suffix)."),
    fps: float = typer.Option(None, "--fps", help="Frame rate to store, Hz (CSV input "
                              "carries none; TRC and C3D then get 100)."),
    units: str = typer.Option(None, "--units", help="Units to store (CSV input carries none; "
                              "TRC and C3D then get mm)."),
) -> None:
    """Convert pose files: every format tripose reads to CSV, TRC (OpenSim), C3D, parquet,
    movement netCDF, NWB (ndx-pose) or DeepLabCut h5."""
    from ..project.export import export_pose

    path = export_pose(input, output, format=format, fps=fps, units=units)
    typer.echo(f"wrote {path}")
