"""Detection speed-ups that must not change what is found: the board-sized ArUco dictionary,
decoding videos straight to grey, motion-aware frame sampling, per-camera intrinsics in the
detection workers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from calibration import Board
from calibration.detect import Variant, _Detector
from calibration.detect_sources import detect_source, detect_sources
from calibration.sampling import MotionSampler
from calibration.sources import _open_luma, parse_inputs, video_frames

SIZE = (640, 480)


def _board_frame(board: Board, shift: tuple[float, float], angle: float = 0.0,
                 scale: float = 0.5, noise: float = 2.0, seed: int = 0) -> np.ndarray:
    """(480, 640) uint8: the printed board, rotated, scaled and shifted, on a grey scene."""
    art = board.render(pixels_per_square=60)
    h, w = art.shape
    A = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    A[:, 2] += np.array(shift) + (np.array(SIZE) - (w, h)) / 2
    img = cv2.warpAffine(art, A, SIZE, flags=cv2.INTER_AREA, borderValue=110)
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, noise, img.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def board():
    return Board("charuco", 7, 5, 12.0, 9.0, "DICT_4X4_1000")


def test_board_sized_dictionary_finds_the_same_corners(board):
    full_board = board.cv2_board(legacy=False)
    params = cv2.aruco.DetectorParameters()
    params.adaptiveThreshWinSizeMin = params.adaptiveThreshWinSizeMax = 7
    params.adaptiveThreshConstant = 10  # our fast pass
    params.minMarkerPerimeterRate, params.maxMarkerPerimeterRate = 32 / 640, 2.0
    cparams = cv2.aruco.CharucoParameters()
    cparams.tryRefineMarkers = True
    reference = cv2.aruco.CharucoDetector(full_board, cparams, params)
    ours = _Detector(board, Variant())
    n = 0
    for k, (dx, ang) in enumerate([(-100, 0), (0, 20), (80, -35), (40, 60)]):
        img = _board_frame(board, (dx, 10 * k), ang, seed=k)
        got = ours(img)
        corners, ids, _, _ = reference.detectBoard(img)
        want = np.full_like(got, np.nan)
        want[np.ravel(ids)] = np.asarray(corners).reshape(-1, 2)
        np.testing.assert_array_equal(got, want)
        n += np.isfinite(got[:, 0]).sum()
    assert n >= 4 * 20


def _write_video(path, frames):
    from synth.video import VideoWriter

    with VideoWriter(path, SIZE, crf=12) as vw:
        for f in frames:
            vw.write(f)
    return path


def test_grey_decoding_matches_bgr_decoding(board, tmp_path):
    frames = [_board_frame(board, (5 * k - 40, 3 * k), 4 * k, seed=k) for k in range(12)]
    video = _write_video(tmp_path / "cam.mp4", frames)
    assert _open_luma(video, SIZE) is not None  # the luma path is the one exercised
    luma = list(video_frames(video, "cam", 1, SIZE, luma=True))
    bgr = list(video_frames(video, "cam", 1, SIZE, luma=False))
    assert [i for i, _ in luma] == [i for i, _ in bgr] == list(range(12))
    assert max(np.abs(a.astype(int) - b).max()
               for (_, a), (_, b) in zip(luma, bgr, strict=True)) <= 1
    det = _Detector(board, Variant())
    ca = np.stack([det(g) for _, g in luma])
    cb = np.stack([det(g) for _, g in bgr])
    np.testing.assert_array_equal(np.isfinite(ca), np.isfinite(cb))
    assert np.isfinite(ca).sum() > 12 * 20
    assert np.nanmax(np.abs(ca - cb)) < 0.01
    # every step-th frame, also through the first frames read while probing the stream
    assert [i for i, _ in video_frames(video, "cam", 5, SIZE)] == [0, 5, 10]


def test_motion_sampler_drops_duplicates_keeps_new_views(board):
    views = [(-120, 0), (-120, 0), (-120, 0), (0, 30), (0, 30), (100, -20), (-120, 0)]
    frames = [_board_frame(board, (dx, 20), ang, seed=k) for k, (dx, ang) in enumerate(views)]
    sampler = MotionSampler(threshold=1.0)
    kept = [k for k, f in enumerate(frames) if sampler.keep(f)]
    # sensor noise alone does not make a new view; each move does, also back to an old place
    assert kept == [0, 3, 5, 6]
    assert (sampler.n_seen, sampler.n_kept) == (7, 4)
    # a small board moving in a corner of a still scene is a new view too
    still = np.full((480, 640), 110, np.uint8)
    small = still.copy()
    small[20:80, 20:80] = 0
    s = MotionSampler(threshold=1.0)
    assert [s.keep(still), s.keep(still), s.keep(small)] == [True, False, True]
    # max_gap keeps one frame in every max_gap even when nothing moves
    s = MotionSampler(threshold=1.0, max_gap=3)
    assert [s.keep(still) for _ in range(7)] == [True, False, False, True, False, False, True]
    with pytest.raises(ValueError):
        MotionSampler(threshold=-1)


def test_motion_sampling_in_detection(board, tmp_path):
    views = [(-100, 0)] * 4 + [(0, 25)] * 4 + [(90, -30)] * 4
    frames = [_board_frame(board, (dx, 0), ang, seed=k) for k, (dx, ang) in enumerate(views)]
    folder = tmp_path / "cam0"
    folder.mkdir()
    for k, f in enumerate(frames):
        cv2.imwrite(str(folder / f"frame{k:03d}.png"), f)
    src = parse_inputs([f"a={folder}", f"b={folder}"])[0]
    every = detect_source(src, board, variant=Variant())
    motion = detect_source(src, board, variant=Variant(), sample="motion")
    assert list(motion.frame_ids) == [0, 4, 8]
    np.testing.assert_array_equal(motion.corners, every.corners[[0, 4, 8]])
    with pytest.raises(ValueError):
        detect_source(src, board, variant=Variant(), sample="some")


def test_per_camera_work_in_the_detection_workers(board, tmp_path):
    frames = [_board_frame(board, (20 * k - 60, 0), 10 * k, seed=k) for k in range(4)]
    for cam in ("a", "b"):
        (tmp_path / cam).mkdir()
        for k, f in enumerate(frames):
            cv2.imwrite(str(tmp_path / cam / f"f{k:02d}.png"), f)
    sources = parse_inputs([str(tmp_path / "a"), str(tmp_path / "b")])
    dets = detect_sources(sources, board, n_jobs=2, then=lambda d: int(d.n_found.sum()))
    assert [d.extra for d in dets] == [int(d.n_found.sum()) for d in dets]
    assert dets[0].extra > 4 * 20

    def fails(d):
        raise RuntimeError(d.camera)

    # an error is kept for the caller, which raises it in camera order
    dets = detect_sources(sources, board, n_jobs=2, then=fails)
    assert [str(d.extra) for d in dets] == ["a", "b"]


def _faint(img: np.ndarray, contrast: float, seed: int) -> np.ndarray:
    """The frame with its contrast around grey 110 scaled by ``contrast``, plus 1 level of
    noise (a faint print or a dim camera)."""
    rng = np.random.default_rng(seed)
    out = 110 + (img.astype(float) - 110) * contrast + rng.normal(0, 1.0, img.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def test_low_contrast_boards_found_by_probing(board, tmp_path):
    """The fast pass's threshold (10 grey levels) misses a board printed at ~1/10 contrast;
    probing finds that OpenCV's 7 does better and keeps it for that camera only."""
    views = [(20 * k - 60, 10 * k - 20) for k in range(6)]
    clean = [_board_frame(board, v, 8 * k, noise=0.0, seed=k) for k, v in enumerate(views)]
    for cam, contrast in (("dim", 0.1), ("bright", 1.0)):
        (tmp_path / cam).mkdir()
        for k, f in enumerate(clean):
            cv2.imwrite(str(tmp_path / cam / f"f{k:02d}.png"), _faint(f, contrast, k))
    dim, bright = parse_inputs([str(tmp_path / "dim"), str(tmp_path / "bright")])
    fast_only = detect_source(dim, board, variant=Variant())
    assert (fast_only.n_found == 0).sum() >= 4  # the case this guards against
    got = detect_source(dim, board)
    assert got.variant.low_contrast and not detect_source(bright, board).variant.low_contrast
    assert (got.n_found >= 12).all()
    # the faint board's corners are where the same view's clean rendering puts them
    truth = np.stack([_Detector(board, Variant())(f) for f in clean])
    seen = np.isfinite(got.corners[..., 0])
    assert np.isfinite(truth[..., 0])[seen].all()
    assert np.abs(got.corners - truth)[seen].max() < 0.5
    # one image without probing: looked for again with the low-contrast threshold
    from calibration.detect import detect_image

    k = int(np.argmin(fast_only.n_found))
    one = detect_image(_faint(clean[k], 0.1, k), board)
    np.testing.assert_array_equal(one, got.corners[k])


@pytest.mark.parametrize("pix_fmt, extra", [("yuvj420p", []), ("yuv420p", ["-color_range", "pc"])])
def test_grey_decoding_of_full_range_videos(board, tmp_path, pix_fmt, extra):
    """Full-range streams (yuvj420p, or yuv420p tagged pc) are told from limited-range ones
    on their first frame: their luma is kept as it is, not stretched from 16..235."""
    import imageio_ffmpeg

    frames = [_board_frame(board, (6 * k - 30, 2 * k), 5 * k, seed=k) for k in range(6)]
    frames[0][:40, :40] = 0  # full black and white, which a wrong range would clip
    frames[0][:40, 40:80] = 255
    video = tmp_path / "full.mp4"
    gen = imageio_ffmpeg.write_frames(str(video), SIZE, fps=30, codec="libx264",
                                      pix_fmt_in="gray", pix_fmt_out=pix_fmt, quality=None,
                                      macro_block_size=1, ffmpeg_log_level="error",
                                      output_params=["-crf", "8", *extra])
    gen.send(None)
    for f in frames:
        gen.send(np.ascontiguousarray(f))
    gen.close()
    opened = _open_luma(video, SIZE)
    assert opened is not None  # still the fast path
    np.testing.assert_array_equal(opened[2], np.arange(256))  # full range: identity
    opened[0].release()
    luma = [g for _, g in video_frames(video, "cam", 1, SIZE, luma=True)]
    bgr = [g for _, g in video_frames(video, "cam", 1, SIZE, luma=False)]
    assert max(np.abs(a.astype(int) - b).max() for a, b in zip(luma, bgr, strict=True)) <= 1
    assert max(np.abs(a.astype(int) - f).mean() for a, f in zip(luma, frames, strict=True)) < 1.0


def test_checkerboard_frames_without_the_board(tmp_path):
    """Checkerboard videos often show no board for long stretches: those frames are
    rejected (OpenCV's FAST_CHECK), and the board frames give the corners of OpenCV's classic
    finder refined as before."""
    board = Board("checkerboard", 10, 7, 30.0)
    rng = np.random.default_rng(3)
    scene = cv2.GaussianBlur(rng.integers(0, 255, (480, 640)).astype(np.uint8), (0, 0), 5)
    frames = []
    for k in range(6):
        if k % 2:
            frames.append(np.clip(scene + rng.normal(0, 2, scene.shape), 0, 255)
                          .astype(np.uint8))
        else:
            frames.append(_board_frame(board, (15 * k - 40, 10), 6 * k, scale=0.45, seed=k))
    folder = tmp_path / "cam"
    folder.mkdir()
    for k, f in enumerate(frames):
        cv2.imwrite(str(folder / f"f{k}.png"), f)
    got = detect_source(parse_inputs([f"a={folder}", f"b={folder}"])[0], board)
    assert (got.n_found[1::2] == 0).all() and (got.n_found[::2] == board.n_corners).all()
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
    for k in range(0, 6, 2):
        ok, ref = cv2.findChessboardCorners(frames[k], board.inner_corners, flags=flags)
        assert ok
        ref = cv2.cornerSubPix(frames[k], ref, (5, 5), (-1, -1),
                               (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-3))
        np.testing.assert_allclose(got.corners[k], ref.reshape(-1, 2), atol=1e-4)


def test_variant_chosen_when_the_board_shows_late(tmp_path):
    """No board in the first 60 frames: the plain variant is only a guess, and a mirrored
    5x5 board showing later is still recognised (losing a few frames, not the camera)."""
    board = Board("charuco", 7, 5, 12.0, 9.0, "DICT_5X5_100")
    rng = np.random.default_rng(5)
    folder = tmp_path / "cam"
    folder.mkdir()
    n_blank, n_board = 65, 20
    for k in range(n_blank + n_board):
        if k < n_blank:
            f = np.clip(110 + rng.normal(0, 2, (480, 640)), 0, 255).astype(np.uint8)
        else:
            f = cv2.flip(_board_frame(board, (3 * (k - n_blank) - 30, 0), k - n_blank,
                                      seed=k), 1)
        cv2.imwrite(str(folder / f"f{k:03d}.png"), f)
    got = detect_source(parse_inputs([f"a={folder}", f"b={folder}"])[0], board)
    assert got.variant.mirrored
    assert (got.n_found[:n_blank] == 0).all()
    # lost: up to 10 frames before the next probe, then the 3 probe frames
    assert (got.n_found[n_blank:] > 0).sum() >= n_board - 10 - 3


def test_grey_decoding_undecided_range_uses_bgr(tmp_path):
    """A video opening on a black frame does not tell its range: it is read through BGR."""
    import imageio_ffmpeg

    frames = [np.zeros((480, 640), np.uint8)] + [np.full((480, 640), 60 * k, np.uint8)
                                                 for k in range(1, 4)]
    video = tmp_path / "black_intro.mp4"
    gen = imageio_ffmpeg.write_frames(str(video), SIZE, fps=30, codec="libx264",
                                      pix_fmt_in="gray", pix_fmt_out="yuvj420p", quality=None,
                                      macro_block_size=1, ffmpeg_log_level="error",
                                      output_params=["-crf", "8"])
    gen.send(None)
    for f in frames:
        gen.send(np.ascontiguousarray(f))
    gen.close()
    assert _open_luma(video, SIZE) is None
    got = [g for _, g in video_frames(video, "cam", 1, SIZE)]
    assert max(np.abs(a.astype(int) - f).max() for a, f in zip(got, frames, strict=True)) <= 2
