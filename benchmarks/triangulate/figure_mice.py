"""The pictures of docs/multi_animal.md: three mice in contact in 3D, and an overlay frame.

Three synthetic mice, six cameras, detections without identity (5% false positives): the
frame where the three are closest together is drawn from the reconstruction (association,
tracking, RANSAC per individual) in 3D, and one camera's rendered image with the detections
and the reprojected skeletons, each animal named.

    .venv/bin/python -m benchmarks.triangulate.figure_mice
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from benchmarks.triangulate.bench_multi_animal import reconstruct, scene
from synth.mice import MOUSE_SKELETON
from synth.multi_detections import simulate_multi_detections
from triangulate.associate import associate
from triangulate.identity import resolve_identities

OUT = Path(__file__).resolve().parents[2] / "docs" / "images" / "multi_animal"


def main() -> None:
    import cv2

    from poses import Poses, Skeleton
    from synth.preview import read_frame
    from synth.render_mice import render_mice_video
    from viz3d import overlay_2d_video, render_png

    K, C, N = 3, 6, 1500
    P, rig, vis, exact, scales = scene(K, C, N, seed=1, scales=True)
    det = simulate_multi_detections(exact, vis, (640, 480), np.random.default_rng(2))
    A = associate(rig, det.points2d, det.scores, K)
    ident = resolve_identities(A.assignment, A.confidence, None, "no", A.n_started)
    asg = ident.assignment(A.assignment)
    X = reconstruct(rig, det, asg)  # (N, K, 14, 3)
    c = np.nanmean(P, axis=2)[..., :2]
    d = np.linalg.norm(c[:, :, None] - c[:, None], axis=-1).max(axis=(1, 2))
    f = int(np.argmin(d[20:-20]) + 20)
    print(f"frame {f}: largest distance between the mice's centres {d[f]:.1f} mm")
    OUT.mkdir(parents=True, exist_ok=True)
    # the frame and its neighbours only, so that the view frames the mice, not the arena
    poses = Poses(X[f - 1:f + 2], keypoints=MOUSE_SKELETON.bodyparts, individuals=ident.names,
                  units="mm")
    # draw the paws' weak limbs too (the body-to-paw segments)
    shown = Skeleton(MOUSE_SKELETON.bodyparts,
                     limbs=MOUSE_SKELETON.limbs + MOUSE_SKELETON.weak_limbs)
    render_png(poses, shown, OUT / "mice_contact_3d.png", frame=1)
    # one camera's image around that frame at 1280x960 (the same rig, twice the pixels),
    # with the reconstruction reprojected
    from synth.mice import make_open_field_rig

    hi = make_open_field_rig(C, (1280, 960), seed=1)
    cam = int(np.argmax([(vis[i, f].sum()) for i in range(C)]))
    a, b = f - 5, f + 6
    reproj = hi.project(X[a:b].reshape(b - a, -1, 3))[cam].reshape(b - a, K, 14, 2)
    with tempfile.TemporaryDirectory() as tmp:
        clip = render_mice_video(hi[cam], P[a:b], scales, Path(tmp) / "clip.mp4",
                                 np.random.default_rng(5), crf=8)
        ov = overlay_2d_video(clip, Poses(reproj, keypoints=MOUSE_SKELETON.bodyparts,
                                          individuals=ident.names),
                              MOUSE_SKELETON, Path(tmp) / "overlay.mp4", reprojected=reproj,
                              label=f"{hi.names[cam]}, frame {f}")
        image = read_frame(ov, f - a)
    centre = np.nanmean(reproj[f - a].reshape(-1, 2), axis=0)
    x0 = int(np.clip(centre[0] - 300, 0, 1280 - 600))
    y0 = int(np.clip(centre[1] - 225, 0, 960 - 450))
    cv2.imwrite(str(OUT / "mice_overlay.png"), image[y0:y0 + 450, x0:x0 + 600])
    print(OUT / "mice_contact_3d.png", OUT / "mice_overlay.png")


if __name__ == "__main__":
    main()
