"""The import-layer check (`lint-imports`, [tool.importlinter] in pyproject.toml) holds on the
source and fails when a forbidden import is added.

Each case lints a copy of the packages (their .py files and pyproject.toml) in a temporary
folder: import-linter puts its working directory first on sys.path, so it analyses the copy,
not the editable install (the broken copies failing shows it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import toml

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["poses", "calibration", "pose2d", "triangulate", "viz3d", "tripose", "synth"]
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def copy_sources(dest: Path) -> Path:
    for package in PACKAGES:
        for src in (REPO / package).rglob("*.py"):
            target = dest / src.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
    shutil.copyfile(REPO / "pyproject.toml", dest / "pyproject.toml")
    return dest


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-c", LINT, "--no-cache", "--no-logo"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)


def append(path: Path, line: str) -> None:
    with open(path, "a") as fh:
        fh.write(f"\n{line}\n")


def test_config_names_every_package():
    config = toml.load(REPO / "pyproject.toml")["tool"]["importlinter"]
    assert sorted(config["root_packages"]) == sorted(PACKAGES)
    assert sorted(PACKAGES) == sorted(
        p.name for p in REPO.iterdir() if (p / "__init__.py").is_file() and p.name != "tests"
        and p.name != "benchmarks")


def test_the_source_keeps_the_layers(tmp_path):
    proc = lint_imports(copy_sources(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


LAYERS = "Layers: tripose > synth > viz3d > triangulate > calibration > poses"
POSES = "poses imports none of the other packages"
POSE2D = "pose2d imports only poses"
ONLY_APP_POSE2D = "Only the app imports pose2d"
NOT_THE_APP = "Nothing imports the app (tripose)"


def broken_contracts(output: str) -> set[str]:
    return {line.removesuffix(" BROKEN") for line in output.splitlines()
            if line.endswith(" BROKEN")}


# Contracts count indirect imports: pose2d -> poses -> triangulate breaks pose2d's too.
@pytest.mark.parametrize(
    "module, line, broken",
    [
        ("poses/model.py", "import triangulate", {LAYERS, POSES, POSE2D}),
        ("pose2d/model.py", "import calibration", {POSE2D}),
        ("calibration/camera.py", "from pose2d import model", {ONLY_APP_POSE2D}),
        # a lazy import inside a function counts too (tripose imports pose2d)
        ("synth/rig.py", "def _app():\n    import tripose.demo", {
            LAYERS, NOT_THE_APP, ONLY_APP_POSE2D}),
    ],
    ids=["poses->triangulate", "pose2d->calibration", "calibration->pose2d", "synth->tripose"],
)
def test_a_forbidden_import_breaks_the_check(tmp_path, module, line, broken):
    root = copy_sources(tmp_path)
    append(root / module, line)
    proc = lint_imports(root)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert broken_contracts(out) == broken, out
