"""The identity timeline figure of docs/multi_animal.md.

Three mice seen by three cameras, 2,000 frames of detections labelled with identities that
swap 2% of the time (``--identity``): the setting of RESULTS' harder table where the tracker
swapped two mice in contact once. Top: the label every camera's instance of each output
individual carried (the input, with its swaps); middle: who each individual is against the
truth, for the tracker's own track (thin, upper) and for the output after the labels were
used (thick, lower; one colour all along = no identity switch), with the overruled label runs
and repaired track swaps marked; bottom: the tracker's confidence.

    .venv/bin/python -m benchmarks.triangulate.figure_identity
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.triangulate.bench_multi_animal import reconstruct, scene  # noqa: E402
from synth.mice import mouse_names  # noqa: E402
from synth.multi_detections import simulate_multi_detections  # noqa: E402
from synth.scoring import score_tracks  # noqa: E402
from triangulate.associate import associate  # noqa: E402
from triangulate.identity import resolve_identities  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "docs" / "images" / "multi_animal"
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


def main() -> None:
    K, C, N = 3, 3, 2000
    P, rig, vis, exact = scene(K, C, N, seed=3)
    det = simulate_multi_detections(exact, vis, (640, 480), np.random.default_rng(4),
                                    identity=True, identity_swap_rate=0.02,
                                    names=mouse_names(K))
    A = associate(rig, det.points2d, det.scores, K)
    ident = resolve_identities(A.assignment, A.confidence, det.slot_names, "auto", A.n_started)
    asg = ident.assignment(A.assignment)
    score = score_tracks(P, reconstruct(rig, det, asg), vis)
    # the tracker's tracks in the order of the names they held at the start
    first = ident.track[np.flatnonzero((ident.track >= 0).all(1))[0]]
    raw = score_tracks(P, reconstruct(rig, det, A.assignment[:, :, first]), vis)
    labels = list(dict.fromkeys(det.slot_names))
    fig, axes = plt.subplots(3, 1, figsize=(11, 6.5), sharex=True,
                             gridspec_kw={"height_ratios": [1.6, 1.2, 1.2]})
    ax = axes[0]
    for i in range(K):
        for c in range(C):
            slot = asg[c, :, i]
            lab = np.where(slot >= 0, np.array([labels.index(s) for s in det.slot_names])[
                np.maximum(slot, 0)], -1)
            y = i * (C + 1) + c
            for li in range(len(labels)):
                x = np.flatnonzero(lab == li)
                colour = COLOURS[li] if labels[li] in ident.names else "#7f7f7f"
                ax.scatter(x, np.full(x.size, y), s=5, marker="s", color=colour, lw=0)
    ax.set_yticks([i * (C + 1) + C / 2 - 0.5 for i in range(K)], ident.names)
    ax.set_title("input: label of each camera's instance (a row per camera) by output "
                 "individual; off-colour = swapped label", fontsize=10)
    ax.invert_yaxis()
    ax = axes[1]
    for a in range(K):
        for sc, dy, size in ((raw, -0.2, 1), (score, 0.15, 4)):
            m = sc.matched[:, a]
            for i in range(K):
                x = np.flatnonzero(m == i)
                ax.scatter(x, np.full(x.size, i + dy), s=size, marker="s", color=COLOURS[a],
                           lw=0)
    for r in ident.repaired:
        if r["kind"] == "label":
            ax.axvline(r["start"], color="0.75", lw=0.4, zorder=0)
        else:
            ax.axvline(r["frame"], color="k", lw=1.2, ls="--")
    ax.set_yticks(range(K), ident.names)
    ax.invert_yaxis()
    n_label = sum(r["kind"] == "label" for r in ident.repaired)
    ax.set_title(f"true mouse (colour) of the tracker's track (thin: {raw.id_switches} "
                 f"switches) and of the output (thick: {score.id_switches}); grey: {n_label} "
                 f"overruled label runs; dashed: repaired track swap", fontsize=10)
    ax = axes[2]
    for i, k in enumerate(first):
        ax.plot(A.confidence[:, k], lw=0.6, color=COLOURS[i],
                label=f"track that starts as {ident.names[i]}")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("confidence")
    ax.set_xlabel("frame (100 fps)")
    ax.legend(loc="lower right", fontsize=8, ncol=K)
    ax.set_title("assignment confidence of the tracker (drops where mice touch)",
                 fontsize=10)
    fig.tight_layout()
    OUT.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT / "identity_timeline.png", dpi=110)
    print(OUT / "identity_timeline.png", score.id_switches)


if __name__ == "__main__":
    main()
