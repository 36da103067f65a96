"""``tripose synth``: a synthetic session with exact ground truth."""

from __future__ import annotations

from pathlib import Path

import typer

from calibration.errors import InputError

from ..cli import app

#: Largest image side ``--size`` takes (8K video is 7680 wide).
MAX_SIDE = 8192


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(
            f"--size must look like WIDTHxHEIGHT (e.g. 640x480), got {text!r}"
        ) from None
    if w < 64 or h < 64 or w % 2 or h % 2:
        raise InputError(f"--size must be even and at least 64x64 pixels, got {w}x{h}")
    if w > MAX_SIDE or h > MAX_SIDE:
        raise InputError(f"--size must be at most {MAX_SIDE}x{MAX_SIDE} pixels, got {w}x{h}")
    return w, h


@app.command()
def synth(
    out: Path = typer.Argument(..., help="Output folder for the session."),
    cameras: int = typer.Option(4, "--cameras", help="Number of cameras (2 to 16)."),
    frames: int = typer.Option(300, "--frames", help="Behaviour frames per camera (>= 1)."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives identical truth."),
    size: str = typer.Option("640x480", "--size", help="Image size WIDTHxHEIGHT in pixels."),
    noise_px: float = typer.Option(1.0, "--noise-px", help="Detector noise (pixels, std)."),
    outlier_rate: float = typer.Option(
        0.05, "--outlier-rate", help="Fraction of confident outlier detections (0 to 1)."
    ),
    crf: int = typer.Option(12, "--crf", help="Video quality (x264 CRF, 0 = lossless)."),
    calibration_frames: int = typer.Option(
        None, "--calibration-frames", help="Frames of the ChArUco video (default: frames, 60-300)."
    ),
    animals: int = typer.Option(1, "--animals", help="Mice (1: the forelimb reaching session; "
                                "2 to 12: whole mice in a 40 cm open field, detections in "
                                "DeepLabCut multi-animal format)."),
    identity: bool = typer.Option(False, "--identity", help="Several animals: label the "
                                  "detections with the mice's names (swapped now and then) "
                                  "instead of in arbitrary order."),
    identity_swap_rate: float = typer.Option(0.02, "--identity-swap-rate", help="With "
                                             "--identity: fraction of labels swapped."),
    false_positives: float = typer.Option(0.05, "--false-positives", help="Several animals: "
                                          "false-positive instances, fraction of all."),
    videos: bool = typer.Option(True, "--videos/--no-videos", help="Several animals: render "
                                "the calibration and behaviour videos (off: truth, "
                                "calibration and detections only, fast)."),
) -> None:
    """Generate a synthetic rig, ChArUco and behaviour videos, and their exact ground truth."""
    import synth as synth_api

    if not 2 <= cameras <= 16:
        raise InputError(f"--cameras must be between 2 and 16, got {cameras}")
    if frames < 1:
        raise InputError(f"--frames must be at least 1, got {frames}")
    if not 0 <= noise_px < float("inf"):
        raise InputError(f"--noise-px must be a finite number >= 0, got {noise_px}")
    if not 0 <= outlier_rate <= 1:
        raise InputError(f"--outlier-rate must be within [0, 1], got {outlier_rate}")
    if calibration_frames is not None and calibration_frames < 1:
        raise InputError(f"--calibration-frames must be at least 1, got {calibration_frames}")
    if not 0 <= crf <= 51:
        raise InputError(f"--crf must be within [0, 51], got {crf}")
    if not 1 <= animals <= 12:
        raise InputError(f"--animals must be between 1 and 12, got {animals}")
    for value, name in ((identity_swap_rate, "--identity-swap-rate"),
                        (false_positives, "--false-positives")):
        if not 0 <= value < 1:
            raise InputError(f"{name} must be within [0, 1), got {value}")
    if animals > 1:
        from synth.social import make_social_session

        session = make_social_session(
            out, n_animals=animals, n_cams=cameras, n_frames=frames, seed=seed,
            size=_parse_size(size), noise_px=noise_px, false_positive_rate=false_positives,
            identity=identity, identity_swap_rate=identity_swap_rate,
            n_calibration_frames=calibration_frames, crf=crf, render=videos)
        typer.echo(f"wrote synthetic session of {animals} mice to {session.root}")
        return
    session = synth_api.make_session(
        out, n_cams=cameras, n_frames=frames, seed=seed, size=_parse_size(size),
        noise_px=noise_px, outlier_rate=outlier_rate, n_calibration_frames=calibration_frames,
        crf=crf,
    )
    typer.echo(f"wrote synthetic session to {session.root}")
