"""``tripose triangulate``: 2D keypoint files of a calibrated rig to a 3D file."""

from __future__ import annotations

from pathlib import Path

import typer

from calibration.errors import InputError

from ..cli import app


def _parse_axis(text: str) -> tuple[str, str, str]:
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in ("x", "y", "z") or not all(parts):
        raise InputError(f"--axis must look like AXIS:FROM:TO (e.g. x:tail:nose), got {text!r}")
    return parts[0], parts[1], parts[2]


@app.command()
def triangulate(
    inputs: list[str] = typer.Argument(
        ..., help="2D files, PATH or NAME=PATH (name defaults to the file stem): DeepLabCut "
        "h5/csv (single or multi-animal), SLEAP analysis h5, Lightning Pose csv, NWB, "
        "movement .nc, or an OpenPose/Pose2Sim JSON folder (keypoint names from --skeleton)."),
    calibration: Path = typer.Option(..., "--calibration", "-c", help="Calibration TOML."),
    output: Path = typer.Option(..., "--output", "-o", help="Output file (csv, trc, c3d, "
                                "parquet, nc, nwb); several individuals are kept apart."),
    skeleton: Path = typer.Option(None, "--skeleton", "-s", help="Skeleton TOML (limbs for "
                                  "optim, angles)."),
    method: str = typer.Option("ransac", "--method", "-m", help="dlt, ransac or optim."),
    score_threshold: float = typer.Option(0.5, "--score-threshold", help="Drop detections "
                                          "scoring below this (0 to 1)."),
    reproj_threshold: float = typer.Option(10.0, "--reproj-threshold", help="Inlier "
                                           "threshold, pixels (ransac, optim)."),
    format: str = typer.Option(None, "--format", help="csv, trc, c3d, parquet, nc or nwb "
                               "(default: from the output suffix)."),
    truncate: bool = typer.Option(False, "--truncate", help="Cut cameras to the shortest "
                                  "recording when frame counts differ."),
    fps: float = typer.Option(100.0, "--fps", help="Frame rate, Hz (TRC/C3D, low-pass)."),
    median_filter: int = typer.Option(0, "--median-filter", help="2D running median window, "
                                      "odd frames (0 off)."),
    fill_gaps: int = typer.Option(0, "--fill-gaps", help="Interpolate 3D gaps up to N "
                                  "frames."),
    lowpass_hz: float = typer.Option(None, "--lowpass", help="Zero-phase low-pass cutoff, Hz."),
    smooth: float = typer.Option(None, "--smooth", help="optim: temporal smoothness weight "
                                 "(default automatic)."),
    axis: list[str] = typer.Option(None, "--axis", help="Align: AXIS:FROM:TO, once or twice."),
    reference_point: str = typer.Option(None, "--reference-point", help="Align: bodypart "
                                        "placed at the origin."),
    angles: Path = typer.Option(None, "--angles", help="Write the skeleton's joint angles "
                                "(degrees) to this CSV."),
    individuals: int = typer.Option(None, "--individuals", help="The most animals present "
                                    "(default: the most individuals any input names; 1 for "
                                    "single-animal files). Several: instances are associated "
                                    "across views and tracked over time."),
    identity: str = typer.Option("auto", "--identity", help="Are the inputs' individual "
                                 "names identities (the same animal in every camera)? auto "
                                 "(measured), yes or no."),
    report: Path = typer.Option(None, "--report", help="Write a JSON report: per individual "
                                "coverage, reprojection error, identity confidence, suspected "
                                "and repaired swaps."),
) -> None:
    """Triangulate synchronized 2D keypoints into 3D points (anipose pose-3d columns)."""
    from poses.io import parse_inputs
    from triangulate.files import triangulate_files

    if individuals is not None and individuals < 1:
        raise InputError(f"--individuals must be at least 1, got {individuals}")
    if identity not in ("auto", "yes", "no"):
        raise InputError(f"--identity must be one of auto, yes, no; got {identity!r}")
    options = {"score_threshold": score_threshold, "reproj_threshold": reproj_threshold,
               "median_filter": median_filter}
    if smooth is not None:
        if method != "optim":
            raise InputError("--smooth applies to --method optim only")
        options["smooth"] = smooth
    result, paths = triangulate_files(
        calibration, parse_inputs(inputs), output, skeleton=skeleton, method=method,
        format=format, truncate=truncate, fps=fps, fill_gaps=fill_gaps, lowpass_hz=lowpass_hz,
        axes=[_parse_axis(a) for a in axis] if axis else None, reference_point=reference_point,
        angles_out=angles, individuals=individuals, identity=identity, report_out=report,
        **options)
    for msg in result.warnings:
        typer.echo(f"warning: {msg}", err=True)
    typer.echo(f"wrote {', '.join(str(p) for p in paths)}: {result!r}")
    report = result.extra.get("report")
    if report is not None and "identity" in report:
        for ind in report["individuals"]:
            conf = ind["identity_confidence"]["mean"]
            err = ind["reprojection_error_px"]
            typer.echo(f"  {ind['name']}: {ind['keypoints_reconstructed']:.0%} of keypoints, "
                       f"reprojection {'-' if err is None else f'{err:.2f} px'}, identity "
                       f"confidence {'-' if conf is None else f'{conf:.2f}'}, "
                       f"{len(ind['suspected_swaps'])} suspected / "
                       f"{len(ind['repaired_swaps'])} repaired swap(s)")
