"""Outputs of the demo, ``tripose run`` and ``tripose triangulate`` for a before/after check.

Run it at two commits (``PYTHONPATH=<checkout> python benchmarks/poses/byte_identity.py OUT``)
and compare ``OUT/sha256.json``: the pose data model moved every reader and writer, and the
3D CSVs must stay byte-identical. The demo, the project run (render off) and three
``tripose triangulate`` calls (dlt, ransac, optim with the skeleton; TRC beside) are run.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tripose = [sys.executable, "-m", "tripose"]
    subprocess.run([*tripose, "demo", "--out", str(out / "demo")], check=True,
                   stdout=subprocess.DEVNULL)
    from tripose.project import run_project, sample_project

    proj = out / "project"
    sample_project(proj, calibrate=False, render=False)
    run_project(proj)
    demo = out / "demo"
    cams = sorted((demo / "pose-2d").glob("*.h5"))
    inputs = [f"{c.stem}={c}" for c in cams]
    calib = demo / "calibration.toml"
    skel = Path("sample_data/skeleton.toml").resolve()  # run from the repository root
    for method in ("dlt", "ransac", "optim"):
        cmd = [*tripose, "triangulate", *inputs, "-c", str(calib), "-m", method,
               "-o", str(out / f"tri_{method}.csv")]
        if method == "optim":
            cmd += ["-s", str(skel)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*tripose, "triangulate", *inputs, "-c", str(calib), "-m", "dlt",
                    "-o", str(out / "tri_dlt.trc")], check=True, stdout=subprocess.DEVNULL)
    files = sorted([*out.glob("demo/pose-3d/*.csv"), *out.glob("project/*/pose-3d*/*.csv"),
                    *out.glob("project/*/angles/*.csv"), *out.glob("tri_*")])
    sums = {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    (out / "sha256.json").write_text(json.dumps(sums, indent=1) + "\n")
    print(json.dumps(sums, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
