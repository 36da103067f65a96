"""Bundle-adjustment view selection: the frames seen by most cameras, no camera or link lost."""

from __future__ import annotations

import numpy as np

from calibration.api import _choose_views


def test_views_seen_by_most_cameras_without_losing_a_camera_or_a_link():
    rng = np.random.default_rng(0)
    valid = rng.random((4, 400)) < 0.7  # cameras 0-3 see the board in most frames
    valid[3] = False
    valid[3, 390:] = True  # camera 3 only in the last 10 frames ...
    valid[:3, 390:] = False
    valid[2, 390:395] = True  # ... which camera 2 shares in 5 of them
    chosen = _choose_views(valid, max_views=50)
    assert np.all(np.diff(chosen) > 0)
    assert 50 <= len(chosen) <= 50 + 10
    assert valid[3, chosen].sum() == 10  # every view of the rarely seen camera is kept
    assert (valid[2, chosen] & valid[3, chosen]).sum() == 5  # and its link to camera 2
    # the remaining views are those seen by the most cameras
    rest = np.setdiff1d(chosen, np.arange(390, 400))
    dropped = np.setdiff1d(np.flatnonzero(valid.any(0)), chosen)
    assert valid[:, rest].sum(0).min() >= valid[:, dropped].sum(0).max() - 1
    # few frames: all of them
    np.testing.assert_array_equal(_choose_views(valid[:, :30], 150),
                                  np.flatnonzero(valid[:, :30].any(0)))
