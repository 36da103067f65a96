"""A damaged detection cache is ignored and rebuilt, never a crash (#16)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from calibration import load_board
from calibration.api import calibrate

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00garbage" * 64)


def _flipped_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # inside the compressed corners: a CRC error
    path.write_bytes(bytes(raw))


def _wrong_shape(path: Path) -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, image_size=np.array([640, 480]), frame_ids=np.arange(3),
                        corners=np.zeros((3, 2, 2)), variant=np.zeros(4, bool))
    path.write_bytes(buf.getvalue())


def _empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    inputs = [str(SAMPLE / "calibration" / f"cam{i}.mp4") for i in range(4)]
    board = load_board(SAMPLE / "board.toml")
    res = calibrate(inputs, board, cache_dir=cache)
    return inputs, board, cache, res


@pytest.mark.parametrize("damage", [_truncated, _garbage, _flipped_byte, _wrong_shape, _empty])
def test_damaged_cache_is_rebuilt(reference, tmp_path, damage, caplog):
    inputs, board, cache, ref = reference
    files = sorted(cache.glob("detections-cam1-*.npz"))
    assert len(files) == 1
    target = tmp_path / files[0].name
    for f in cache.glob("detections-*.npz"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    damage(target)
    res = calibrate(inputs, board, cache_dir=tmp_path)
    assert "cannot be read" in caplog.text and "cam1" in caplog.text
    for a, b in zip(res.rig, ref.rig, strict=True):
        np.testing.assert_allclose(a.matrix, b.matrix, rtol=1e-9)
        np.testing.assert_allclose(a.tvec, b.tvec, rtol=1e-9, atol=1e-9)
    with zipfile.ZipFile(target) as zf:  # rewritten whole
        assert zf.testzip() is None
    np.testing.assert_array_equal(np.load(target)["corners"], np.load(files[0])["corners"])
