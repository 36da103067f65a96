"""The demo's 2D model: the one shipped in ``sample_data/model/`` and the commands that made it.

``sample_data/model/training.json`` records the exact commands (``tripose synth`` of a
separate training session, ``tripose train``, ``tripose evaluate``) with ``{session}`` and
``{model}`` placeholders, the environment they ran in and what they produced.
``tripose demo --train`` runs the same commands into ``OUT/`` and uses that model instead.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import sys
from pathlib import Path

__all__ = ["SHIPPED_MODEL", "read_training_record", "training_commands", "train_model",
           "model_record"]

log = logging.getLogger(__name__)
SHIPPED_MODEL = Path(__file__).resolve().parents[1] / "sample_data" / "model"


def read_training_record(model_dir: str | Path = SHIPPED_MODEL) -> dict:
    """``training.json`` of a model folder (the commands that made it and their results)."""
    path = Path(model_dir) / "training.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the demo's model folder records the "
                                f"commands that made it there")
    return json.loads(path.read_text(encoding="utf-8"))


def training_commands(record: dict, session: str | Path, model: str | Path) -> list[list[str]]:
    """The recorded commands as argument lists (``tripose`` first) for ``session``/``model``."""
    return [[a.format(session=session, model=model) for a in shlex.split(c)]
            for c in record["commands"]]


def train_model(out: str | Path, record: dict | None = None) -> Path:
    """Run the shipped model's recorded commands into ``out/train_session`` and ``out/model``.

    Each command runs as ``python -m tripose ...`` in the recorded environment
    (``OMP_NUM_THREADS``); an existing ``out/model`` with the same settings is resumed
    by ``tripose train``.

    Returns
    -------
    Path of the new model folder (with ``training.json``).
    """
    out = Path(out)
    record = record or read_training_record()
    session, model = out / "train_session", out / "model"
    env = {**os.environ, **record.get("env", {})}
    for argv in training_commands(record, session, model):
        if argv[0] != "tripose":
            raise ValueError(f"training.json: commands must start with 'tripose', got {argv[0]}")
        if argv[1] == "synth" and (session / "session.json").is_file():
            log.info("reusing the training session %s", session)
            continue
        log.info("running %s", shlex.join(argv))
        subprocess.run([sys.executable, "-m", "tripose", *argv[1:]], check=True, env=env)
    new = {k: v for k, v in record.items() if k in ("commands", "env", "notes")}
    new["session"], new["model"] = str(session), str(model)
    ev = json.loads((model / "evaluation.json").read_text(encoding="utf-8"))
    new["result"] = _result(ev)
    (model / "training.json").write_text(json.dumps(new, indent=2) + "\n", encoding="utf-8")
    return model


def _result(ev: dict) -> dict:
    keys = ("train_rmse_px", "test_rmse_px", "test_rmse_pcutoff_px", "n_train", "n_test",
            "iterations", "train_minutes", "pck_test")
    return {k: ev.get(k) for k in keys}


def model_record(model_dir: str | Path) -> dict:
    """What the summary says about a model: its held-out test RMSE and how it was made."""
    model_dir = Path(model_dir)
    ev_path = model_dir / "evaluation.json"
    if not ev_path.is_file():
        raise FileNotFoundError(f"{ev_path} is missing; run `tripose evaluate {model_dir}`")
    ev = json.loads(ev_path.read_text(encoding="utf-8"))
    rec = {"model": str(model_dir), **_result(ev)}
    tr = model_dir / "training.json"
    if tr.is_file():
        rec["commands"] = json.loads(tr.read_text(encoding="utf-8")).get("commands")
    return rec
