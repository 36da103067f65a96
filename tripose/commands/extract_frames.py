"""``tripose extract-frames`` and ``tripose extract-outliers``: frames to label."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app


@app.command("extract-frames")
def extract_frames(
    video: Path = typer.Argument(..., metavar="VIDEO|SESSION", help="Video to pick frames "
                                 "from, or a project session folder (PROJECT/<session>): its "
                                 "cameras clustered together, each instant written for every "
                                 "camera."),
    out: Path = typer.Option(None, "-o", "--out", help="labeled-data folder to write "
                             "img<frame>.png into (required with a video; session: default "
                             "SESSION/labeled-data, one folder per camera)."),
    n: int = typer.Option(20, "-n", "--n-frames", help="Frames to pick."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Pick diverse frames (k-means over downsampled frames, DeepLabCut-style)."""
    if n < 1:
        raise typer.BadParameter(f"must be at least 1, got {n}", param_hint="-n")
    if video.is_dir():
        from ..outliers import extract_session_frames

        frames, where = extract_session_frames(video, out, n=n, seed=seed)
        typer.echo(f"picked {len(frames)} instants of session {video.name} into "
                   f"{where}/<camera>/")
        return
    if out is None:
        raise typer.BadParameter("is required with a video (the labeled-data folder to "
                                 "write into)", param_hint="-o/--out")
    from pose2d.extract import extract_frames as run

    frames = run(video, out, n=n, seed=seed)
    typer.echo(f"picked {len(frames)} frames of {video} into {out}")


@app.command("extract-outliers")
def extract_outliers(
    target: Path = typer.Argument(..., metavar="VIDEO|SESSION", help="The analyzed video, or "
                                  "a project session folder (PROJECT/<session>, after "
                                  "`tripose run`): its frames ranked by the rig's 2D and 3D "
                                  "results, written for every camera."),
    analysis: Path = typer.Option(None, "--analysis", help="Video: its `tripose analyze` h5 "
                                  "or csv (required with a video)."),
    out: Path = typer.Option(None, "-o", "--out", help="labeled-data folder to write into "
                             "(required with a video; session: default SESSION/labeled-data, "
                             "one folder per camera)."),
    n: int = typer.Option(20, "-n", "--n-frames", help="Most frames to write."),
    pcutoff: float = typer.Option(0.6, "--pcutoff", help="Likelihood below which a frame is "
                                  "an outlier."),
    jump_px: float = typer.Option(None, "--jump-px", help="Video: per-frame jump (px) that "
                                  "makes a frame an outlier (default 30)."),
    pose3d: Path = typer.Option(None, "--pose3d", help="Video: triangulated CSV (anipose "
                                "columns <bp>_error) for the reprojection criterion."),
    max_reprojection_px: float = typer.Option(15.0, "--max-reprojection-px", help="Reprojection "
                                              "error (px) that makes a frame an outlier."),
    max_disagreement_px: float = typer.Option(None, "--max-disagreement-px", help="Session: "
                                              "distance (px) of a view from the point "
                                              "triangulated from the other views that makes "
                                              "it disagree (default 15)."),
    max_limb_deviation: float = typer.Option(None, "--max-limb-deviation", help="Session: "
                                             "relative deviation of a limb from its median "
                                             "length (default 0.3)."),
    jump_mad: float = typer.Option(None, "--jump-mad", help="Session: 3D speed, in robust "
                                   "standard deviations above the median, that makes a jump "
                                   "(default 10)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Frames to relabel: of a video (low confidence, jumps, reprojection error) or of a
    project session (reprojection, disagreeing views, limb lengths, 3D jumps, low scores;
    diverse poses; every camera, with the network's predictions pre-filled)."""
    from poses.errors import InputError

    session_only = {"--max-disagreement-px": max_disagreement_px,
                    "--max-limb-deviation": max_limb_deviation, "--jump-mad": jump_mad}
    if target.is_dir():
        from ..outliers import extract_session_outliers

        video_only = [name for name, v in (("--analysis", analysis), ("--pose3d", pose3d),
                                           ("--jump-px", jump_px)) if v is not None]
        if video_only:
            raise InputError(f"{', '.join(video_only)}: for a single video; a session folder "
                             f"({target}) reads its own pose-2d and pose-3d results")
        res = extract_session_outliers(
            target, out, n=n, seed=seed, pcutoff=pcutoff,
            max_reprojection_px=max_reprojection_px,
            max_disagreement_px=15.0 if max_disagreement_px is None else max_disagreement_px,
            max_limb_deviation=0.3 if max_limb_deviation is None else max_limb_deviation,
            jump_mad=10.0 if jump_mad is None else jump_mad)
        if not res.frames:
            typer.echo(f"no outlier frames in session {res.session}: no frame is past a "
                       f"threshold; nothing written")
            return
        typer.echo(f"wrote {len(res.frames)} outlier frames of session {res.session} for "
                   f"{len(res.cameras)} cameras into {res.out} ({res.images_written} new images, "
                   f"{res.images_kept} kept; see outliers.csv)")
        return
    if not target.exists() and analysis is None:
        raise InputError(f"{target} does not exist; give an analyzed video (with --analysis "
                         f"and -o) or a project session folder")
    given = [name for name, v in session_only.items() if v is not None]
    if given:
        raise InputError(f"{', '.join(given)}: for a project session folder, not a video")
    if analysis is None or out is None:
        missing = " and ".join(o for o, v in (("--analysis", analysis), ("-o/--out", out))
                               if v is None)
        raise InputError(f"{missing} required with a video ({target}); or give a project "
                         f"session folder")
    from pose2d.extract import extract_outliers as run

    frames = run(target, analysis, out, n=n, pcutoff=pcutoff,
                 jump_px=30.0 if jump_px is None else jump_px, pose3d_csv=pose3d,
                 max_reprojection_px=max_reprojection_px, seed=seed)
    typer.echo(f"wrote {len(frames)} outlier frames of {target} into {out} (see outliers.csv)")
