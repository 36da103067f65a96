"""``tripose demo``: every stage that exists, on the sample session."""

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
) -> None:
    """Run the pipeline on the sample data and write OUT/summary.json."""
    from ..demo import run_demo

    s = run_demo(out, session=session, fresh=fresh, seed=seed)
    typer.echo(f"session      {s['session']}")
    c = s["calibration"]
    typer.echo(f"calibration  {c['source']}: median reprojection "
               f"{c['reprojection_median_px']:.3f} px, max focal error "
               f"{c['focal_error_pct_max']:.3f}%, max rotation error "
               f"{c['rotation_error_deg_max']:.3f} deg, max centre error "
               f"{c['center_error_mm_max']:.3f} mm ({c['seconds']:.1f} s)")
    for method, r in s.get("triangulation", {}).items():
        if isinstance(r, dict):
            typer.echo(f"triangulate  {method:7s} median {r['median_error_mm']:.3f} mm   "
                       f"p95 {r['p95_error_mm']:.3f} mm   {r['seconds']:.2f} s")
    typer.echo(f"pictures     {', '.join(s['pictures'].values())}")
    typer.echo(f"summary      {Path(out) / 'summary.json'}  ({s['seconds']} s)")
