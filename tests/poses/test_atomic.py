"""Atomic writes: a killed run's temporaries are cleaned by the next write (#16)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from poses.atomic import _prefix, atomic_path, write_text_atomic


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_of_a_killed_run_are_removed(tmp_path):
    target = tmp_path / "pose3d.csv"
    prefix = _prefix(target)
    stale = tmp_path / f"{prefix}{_dead_pid()}-abc.csv"
    live = tmp_path / f"{prefix}{os.getpid()}-def.csv"  # a writer still at work
    other_host = tmp_path / f".pose3d.csv.tripose-otherhost-{_dead_pid()}-ghi.csv"
    other_file = tmp_path / f".{prefix[1:]}not-a-pid.csv"
    unrelated = tmp_path / f"{_prefix(tmp_path / 'angles.csv')}{_dead_pid()}-x.csv"
    for p in (stale, live, other_host, other_file, unrelated):
        p.write_bytes(b"x" * 1000)
    write_text_atomic(target, "frame\n0\n")
    assert target.read_text() == "frame\n0\n"
    assert not stale.exists()
    assert live.exists() and other_host.exists() and other_file.exists() and unrelated.exists()


def test_a_stale_symlink_is_removed_not_followed(tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    link = out / f"{_prefix(out / 'a.csv')}{_dead_pid()}-zz.csv"
    link.symlink_to(precious)
    write_text_atomic(out / "a.csv", "a\n")
    assert not link.is_symlink() and precious.read_text() == "keep"


def test_temporary_named_for_its_target_and_gone_after(tmp_path):
    target = tmp_path / "x.h5"
    with atomic_path(target) as tmp:
        assert tmp.name.startswith(f"{_prefix(target)}{os.getpid()}-") and tmp.suffix == ".h5"
        Path(tmp).write_bytes(b"1")
    assert target.read_bytes() == b"1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.h5"]
