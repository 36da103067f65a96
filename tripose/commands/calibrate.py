"""``tripose calibrate``: board videos or images from N cameras to calibration.toml."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


def _check_outputs(output: Path, report: Path | None, inputs: list[str], board: Path,
                   intrinsics: Path | None) -> None:
    """Refuse, before the detection, outputs that cannot be written or would replace an
    input (the board, the --intrinsics calibration, a camera's video)."""
    from calibration.errors import InputError
    from poses.atomic import check_output, check_output_folder, same_file

    check_output(output, "-o")
    if report is not None:
        check_output_folder(report, "--report")
    sources = [("--board", board), ("--intrinsics", intrinsics)]
    sources += [("input", Path(p)) for i in inputs for p in {i, i.split("=", 1)[-1]}]
    for what, src in sources:
        if src is not None and same_file(output, src):
            raise InputError(f"-o {output} would write over the {what} file {src}; choose "
                             f"another output path")


@app.command()
def calibrate(
    inputs: list[str] = typer.Argument(..., help="PATH or NAME=PATH per camera: a video, a "
                                       "folder of images, or a quoted glob of images."),
    board: Path = typer.Option(..., "--board", help="Board TOML (ours, sleap-anipose's or "
                               "anipose's [calibration] keys)."),
    output: Path = typer.Option(..., "-o", "--output", help="calibration.toml to write."),
    report: Path = typer.Option(None, "--report", help="Folder for report.json and pictures."),
    fisheye: bool = typer.Option(False, "--fisheye", help="Fisheye (Kannala-Brandt) lenses."),
    intrinsics: Path = typer.Option(None, "--intrinsics", help="Keep the intrinsics of this "
                                    "calibration.toml (cameras matched by name)."),
    step: int = typer.Option(1, "--step", help="Examine every STEP-th frame."),
    distortion: str = typer.Option("k1k2p1p2", "--distortion", help="Pinhole distortion "
                                   "model: none, k1, k1k2, k1k2p1p2, k1k2p1p2k3."),
    cache: Path = typer.Option(None, "--cache", help="Detection cache folder (default: "
                               ".tripose-cache beside the output)."),
    jobs: int = typer.Option(None, "--jobs", "-j", help="Cameras decoded at a time and "
                             "detection threads (default: the number of cores)."),
    sample: str = typer.Option("all", "--sample", help="Frames to examine: all, or motion "
                               "(skip frames that look like the last examined one: board "
                               "held still, static scene)."),
    motion_threshold: float = typer.Option(1.0, "--motion-threshold", help="With --sample "
                                           "motion: mean grey-level change of a thumbnail "
                                           "below which a frame is skipped."),
    max_views: int = typer.Option(150, "--max-views", help="Board views in the bundle "
                                  "adjustment: those seen by the most cameras, with every "
                                  "camera's and camera pair's best views kept."),
) -> None:
    """Calibrate a rig: intrinsics, extrinsics and a robust bundle adjustment."""
    from calibration import load_board
    from calibration.api import calibrate as run
    from calibration.errors import InputError
    from calibration.sampling import SAMPLING

    if step < 1:
        raise InputError(f"--step must be at least 1, got {step}")
    if sample not in SAMPLING:
        raise InputError(f"--sample must be {' or '.join(SAMPLING)}, got {sample!r}")
    _check_outputs(output, report, inputs, board, intrinsics)
    b = load_board(board)
    cache_dir = cache if cache is not None else output.resolve().parent / ".tripose-cache"
    result = run(inputs, b, fisheye=fisheye, intrinsics=intrinsics, step=step,
                 cache_dir=cache_dir, n_jobs=jobs, progress=True, distortion_model=distortion,
                 sample=sample, motion_threshold=motion_threshold, max_views=max_views)
    result.rig.save(output)
    r = result.report
    typer.echo(f"wrote {output}: {result.rig.n_cams} cameras, median reprojection "
               f"{r['reprojection_median_px']:.3f} px, rmse {r['reprojection_rmse_px']:.3f} px")
    for name, c in r["cameras"].items():
        med = c["reprojection_median_px"]
        seen = [k.replace("_", " ") for k, v in c.get("board_variant", {}).items() if v]
        typer.echo(f"  {name:>12s}: {c['n_detections']:5d} detections, median "
                   f"{med if med is not None else float('nan'):.3f} px"
                   + (f" (board seen {', '.join(seen)})" if seen else ""))
    bl = r["board_length_error"]
    if bl["median_abs"] is not None:
        typer.echo(f"  square length check: median |error| {bl['median_abs']:.3f} "
                   f"{bl['units']} over {bl['n_pairs']} corner pairs")
    if report is not None:
        from ..calibration_report import write_calibration_report

        typer.echo(f"report: {write_calibration_report(result, report)}")
