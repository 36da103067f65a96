"""Several synthetic whole mice in an open field: skeleton, body shape and social behaviour.

World frame as in :mod:`synth.rig`: mm, z up, floor at z = 0, the arena centred on the
origin. Every mouse is a chain ``neck - spine1 - spine2 - spine3 - tail_base`` that follows
its neck through the arena (follow-the-leader: each joint keeps its distance to the one ahead
and trails towards where it was), a rigid head (snout and ears) turning and pitching on the
neck, a tail trailing the same way, and four paws under the body stepping in a trot. Rearing
lifts the front of the body about ``spine2`` (a rotation, so lengths stay). Every mouse has
its own size (``scale`` 0.9-1.1); the limbs of :data:`MOUSE_SKELETON` keep their lengths
exactly, the weak limbs (body to paw) within a few mm.

Behaviour is scripted in episodes so that every recording has what breaks trackers:
exploring, following another mouse nose to tail, two mice crossing each other's paths,
rearing, and huddling in contact. Mice steer to goals at bounded speed and turning rate and
are pushed apart where their bodies would overlap, so they touch but do not pass through
each other.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from calibration import Camera, CameraRig
from poses.skeleton import Skeleton

from .rig import look_at

__all__ = ["MOUSE_SKELETON", "MOUSE_CAPSULES", "ARENA_RADIUS", "OPEN_FIELD_CENTER",
           "make_open_field_rig", "simulate_mice", "mouse_capsules", "capsule_visibility",
           "mouse_names"]

#: Radius of the open field's wall, mm (the arena is 2 * 200 mm across, mice stay inside 170).
ARENA_RADIUS = 200.0
#: Where the open-field cameras look, mm.
OPEN_FIELD_CENTER = np.array([0.0, 0.0, 20.0])

_BP = ["snout", "left_ear", "right_ear", "neck", "spine1", "spine2", "spine3", "tail_base",
       "tail_mid", "tail_tip", "forepaw_left", "forepaw_right", "hindpaw_left",
       "hindpaw_right"]
_I = {b: i for i, b in enumerate(_BP)}

#: 14 keypoints; rigid limbs along head, spine and tail; weak limbs from the body to the paws.
MOUSE_SKELETON = Skeleton(
    bodyparts=list(_BP),
    limbs=[("snout", "neck"), ("snout", "left_ear"), ("snout", "right_ear"),
           ("neck", "left_ear"), ("neck", "right_ear"), ("neck", "spine1"),
           ("spine1", "spine2"), ("spine2", "spine3"), ("spine3", "tail_base"),
           ("tail_base", "tail_mid"), ("tail_mid", "tail_tip")],
    weak_limbs=[("spine1", "forepaw_left"), ("spine1", "forepaw_right"),
                ("spine3", "hindpaw_left"), ("spine3", "hindpaw_right")],
    angles={"neck": ("snout", "neck", "spine2"), "back": ("neck", "spine2", "tail_base"),
            "tail": ("spine3", "tail_base", "tail_mid")},
)

# chain segment lengths (mm, scale 1) and resting heights of the chain joints (mm)
_CHAIN = ["neck", "spine1", "spine2", "spine3", "tail_base"]
_CHAIN_LEN = np.array([14.0, 14.0, 14.0, 13.0])
_CHAIN_Z = np.array([19.0, 25.0, 28.0, 25.0, 14.0])
_TAIL_LEN = np.array([38.0, 38.0])
_TAIL_Z = np.array([14.0, 4.0, 2.0])
_HEAD_LEN = 22.0
# ears in the head frame (along the head from the neck, lateral, up), mm
_EAR = np.array([5.0, 8.0, 7.0])
_PAW_Z = 2.0

#: Body capsules ``(a, b, radius mm at scale 1)``: what renders a mouse and what hides
#: keypoints behind it (:func:`capsule_visibility`).
MOUSE_CAPSULES = [("snout", "neck", 7.0), ("neck", "spine1", 10.0), ("spine1", "spine2", 12.5),
                  ("spine2", "spine3", 13.0), ("spine3", "tail_base", 10.0),
                  ("tail_base", "tail_mid", 2.2), ("tail_mid", "tail_tip", 1.4)]

# speeds and behaviour
_MAX_SPEED = 220.0  # mm/s
_MAX_TURN = np.radians(400.0)  # rad/s
_CONTACT = 24.0  # mm between body centrelines of two mice in contact


def mouse_names(n: int) -> list[str]:
    """``mouse1 ... mouseN``."""
    return [f"mouse{k + 1}" for k in range(n)]


def make_open_field_rig(n_cams: int = 6, size: tuple[int, int] = (640, 480),
                        seed: int = 0) -> CameraRig:
    """Cameras on a ring around a 40 cm open field, each seeing the whole arena.

    Parameters
    ----------
    n_cams : int
        2 to 16, named ``cam0 ...``.
    size : (width, height) pixels
    seed : int

    Returns
    -------
    CameraRig
        Units mm; cameras 550-700 mm from the arena centre at 35-70 deg elevation, radial
        distortion k1 in [-0.2, 0.03].
    """
    if not 2 <= int(n_cams) <= 16:
        raise ValueError(f"n_cams must be between 2 and 16, got {n_cams}")
    rng = np.random.default_rng([seed, 77])
    w, h = int(size[0]), int(size[1])
    cams = []
    for i in range(int(n_cams)):
        azimuth = 2 * np.pi * i / n_cams + rng.uniform(-0.12, 0.12)
        elevation = np.radians([40.0, 62.0, 48.0, 70.0][i % 4] + rng.uniform(-4, 4))
        dist = rng.uniform(550.0, 700.0)
        center = OPEN_FIELD_CENTER + dist * np.array(
            [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth),
             np.sin(elevation)])
        R = look_at(center, OPEN_FIELD_CENTER + rng.normal(0, 5.0, 3),
                    roll_deg=rng.uniform(-6, 6))
        fx = (min(w, h) / 2) * dist / (1.12 * ARENA_RADIUS)
        K = np.array([[fx, 0.0, (w - 1) / 2 + rng.normal(0, 5)],
                      [0.0, fx * (1 + rng.normal(0, 0.002)), (h - 1) / 2 + rng.normal(0, 5)],
                      [0.0, 0.0, 1.0]])
        k1 = rng.uniform(-0.2, 0.03)
        cam = Camera(name=f"cam{i}", size=(w, h), matrix=K,
                     dist=np.array([k1, 0.3 * abs(k1) * rng.uniform(-1, 1),
                                    rng.normal(0, 3e-4), rng.normal(0, 3e-4), 0.0]))
        cam.R = R
        cam.tvec = -R @ center
        cams.append(cam)
    return CameraRig(cams, units="mm", metadata={"source": "tripose synth (open field)",
                                                  "seed": int(seed)})


# --- behaviour -------------------------------------------------------------------------------
def _episodes(n_frames: int, n_mice: int, rng: np.random.Generator, fps: float):
    """Goal of every mouse at every frame: ``goal (n_frames, n_mice, 2)`` mm or NaN (follow
    ``leader``), ``leader (n_frames, n_mice)`` index of the mouse followed or -1, ``rear
    (n_frames, n_mice)`` in [0, 1]."""
    goal = np.zeros((n_frames, n_mice, 2))
    leader = np.full((n_frames, n_mice), -1)
    kinds = ["explore", "cross", "follow", "huddle", "explore", "follow", "cross", "huddle"]
    f = 0
    e = int(rng.integers(0, 2))
    r_in = 0.75 * (ARENA_RADIUS - 30.0)
    while f < n_frames:
        length = int(rng.uniform(2.0, 3.5) * fps)
        kind = kinds[e % len(kinds)] if n_mice > 1 else "explore"
        seg = slice(f, min(f + length, n_frames))
        if kind == "explore":
            # two random goals per episode
            for k in range(n_mice):
                half = (seg.stop - seg.start) // 2
                for part in (slice(seg.start, seg.start + half),
                             slice(seg.start + half, seg.stop)):
                    a, r = rng.uniform(0, 2 * np.pi), r_in * np.sqrt(rng.uniform(0.05, 1))
                    goal[part, k] = r * np.cos(a), r * np.sin(a)
        elif kind == "cross":
            a0 = rng.uniform(0, 2 * np.pi)
            for k in range(n_mice):
                a = a0 + np.pi * k / n_mice + (np.pi if k % 2 else 0.0)
                goal[seg, k] = r_in * np.cos(a), r_in * np.sin(a)
        elif kind == "follow":
            order = rng.permutation(n_mice)
            a, r = rng.uniform(0, 2 * np.pi), r_in * 0.8
            goal[seg, order[0]] = r * np.cos(a), r * np.sin(a)
            for k in range(1, n_mice):
                leader[seg, order[k]] = order[k - 1]
        else:  # huddle: side by side around a spot
            c = rng.normal(0, 0.3 * r_in, 2)
            spread = 0.55 * _CONTACT * (n_mice - 1)
            a0 = rng.uniform(0, 2 * np.pi)
            perp = np.array([np.cos(a0), np.sin(a0)])
            for k in range(n_mice):
                goal[seg, k] = c + perp * (-spread + k * 1.1 * _CONTACT)
        f = seg.stop
        e += 1
    # rearing: short bouts, more often while exploring or huddling
    rear = np.zeros((n_frames, n_mice))
    for k in range(n_mice):
        t = int(rng.uniform(0.5, 3.0) * fps)
        while t < n_frames:
            dur = int(rng.uniform(0.6, 1.4) * fps)
            ramp = np.sin(np.linspace(0, np.pi, dur)) ** 0.7
            rear[t:t + dur, k] = ramp[: max(0, min(dur, n_frames - t))]
            t += dur + int(rng.uniform(2.0, 6.0) * fps)
    return goal, leader, rear


def _follow_chain(first: np.ndarray, prev: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Follow-the-leader: joint ``i + 1`` at ``lengths[i]`` from joint ``i``, towards where it
    was. ``first (2,)``, ``prev (n, 2)`` the chain last frame; returns ``(n, 2)``."""
    out = np.empty_like(prev)
    out[0] = first
    for i, L in enumerate(lengths):
        d = prev[i + 1] - out[i]
        n = np.hypot(*d)
        out[i + 1] = out[i] + (d / n if n > 1e-9 else np.array([-1.0, 0.0])) * L
    return out


def simulate_mice(n_frames: int, n_mice: int, rng: np.random.Generator,
                  fps: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """Whole-mouse keypoints of several mice moving together in the open field.

    Parameters
    ----------
    n_frames : int
    n_mice : int
        1 to 12.
    rng : numpy Generator
    fps : float
        Frame rate, Hz.

    Returns
    -------
    points3d : (n_frames, n_mice, 14, 3) mm
        Keypoints of :data:`MOUSE_SKELETON`.
    scales : (n_mice,)
        Size of every mouse relative to the nominal one.
    """
    n_frames, n_mice = int(n_frames), int(n_mice)
    if not 1 <= n_mice <= 12:
        raise ValueError(f"n_mice must be between 1 and 12, got {n_mice}")
    scales = rng.uniform(0.9, 1.1, n_mice)
    goal, leader, rear = _episodes(n_frames, n_mice, rng, fps)
    dt = 1.0 / fps
    # horizontal chain lengths from the 3D lengths and the height differences
    hz = [np.sqrt((_CHAIN_LEN * s) ** 2 - (np.diff(_CHAIN_Z) * s) ** 2) for s in scales]
    tz = [np.sqrt((_TAIL_LEN * s) ** 2 - (np.diff(_TAIL_Z) * s) ** 2) for s in scales]
    # start: spread around the arena, random headings
    chains, tails, heading = [], [], rng.uniform(0, 2 * np.pi, n_mice)
    for k in range(n_mice):
        a = 2 * np.pi * k / n_mice + rng.uniform(-0.3, 0.3)
        p = 0.55 * ARENA_RADIUS * np.array([np.cos(a), np.sin(a)]) * (n_mice > 1)
        back = -np.array([np.cos(heading[k]), np.sin(heading[k])])
        ch = p + np.outer(np.r_[0, np.cumsum(hz[k])], back)
        chains.append(ch)
        tails.append(ch[-1] + np.outer(np.r_[0, np.cumsum(tz[k])], back))
    speed_noise = gaussian_filter1d(rng.normal(0, 1, (n_frames, n_mice)), 0.4 * fps, axis=0)
    speed_noise /= speed_noise.std() + 1e-12
    yaw = gaussian_filter1d(rng.normal(0, 1, (n_frames, n_mice)), 0.15 * fps, axis=0)
    yaw *= np.radians(25) / (yaw.std() + 1e-12)
    pitch = gaussian_filter1d(rng.normal(0, 1, (n_frames, n_mice)), 0.3 * fps, axis=0)
    pitch *= np.radians(12) / (pitch.std() + 1e-12)
    phase = rng.uniform(0, 2 * np.pi, n_mice)
    out = np.empty((n_frames, n_mice, len(_BP), 3))
    speed = np.zeros(n_mice)
    for f in range(n_frames):
        body = np.concatenate(chains)  # every chain joint of every mouse
        owner = np.repeat(np.arange(n_mice), len(_CHAIN))
        for k in range(n_mice):
            neck = chains[k][0]
            if leader[f, k] >= 0:
                lk = leader[f, k]
                g = chains[lk][-1] + (chains[lk][-1] - chains[lk][-2]) / hz[lk][-1] * 20.0
            else:
                g = goal[f, k]
            to_goal = g - neck
            dist = np.hypot(*to_goal)
            want = np.arctan2(to_goal[1], to_goal[0])
            turn = np.angle(np.exp(1j * (want - heading[k])))
            heading[k] += np.clip(turn, -_MAX_TURN * dt, _MAX_TURN * dt)
            target = min(_MAX_SPEED * (0.75 + 0.2 * speed_noise[f, k]), 4.0 * dist)
            target *= max(0.0, np.cos(turn)) * (1.0 - 0.9 * rear[f, k])
            speed[k] += np.clip(target - speed[k], -1200 * dt, 900 * dt)
            step = speed[k] * dt * np.array([np.cos(heading[k]), np.sin(heading[k])])
            # push out of the other mice's bodies and the wall
            new = neck + step
            other = owner != k
            d = new - body[other]
            r = np.hypot(d[:, 0], d[:, 1])
            lim = _CONTACT * 0.5 * (scales[k] + scales[owner[other]])
            close = r < lim
            if close.any():
                new = new + ((lim[close] - r[close])[:, None] * d[close]
                             / np.maximum(r[close], 1e-6)[:, None]).sum(0) * 0.7
            rad = np.hypot(*new)
            if rad > ARENA_RADIUS - 30.0:
                new *= (ARENA_RADIUS - 30.0) / rad
            moved = new - neck
            if np.hypot(*moved) > 1e-6:  # pushed aside: turn a little towards where it went
                heading[k] += 0.3 * np.angle(np.exp(1j * (np.arctan2(moved[1], moved[0])
                                                          - heading[k])))
            chains[k] = _follow_chain(new, chains[k], hz[k])
            tails[k] = _follow_chain(chains[k][-1], tails[k], tz[k])
        for k in range(n_mice):
            out[f, k] = _pose(chains[k], tails[k], scales[k], yaw[f, k], pitch[f, k],
                              rear[f, k], phase[k] + 2 * np.pi * 7.0 * f * dt,
                              min(speed[k] / _MAX_SPEED, 1.0))
    return out, scales


def _pose(chain2, tail2, s, yaw, pitch, rear, gait, moving) -> np.ndarray:
    """The 14 keypoints of one mouse from its chain and tail on the floor plane."""
    P = np.empty((len(_BP), 3))
    for i, name in enumerate(_CHAIN):
        P[_I[name]] = (*chain2[i], _CHAIN_Z[i] * s)
    P[_I["tail_mid"]] = (*tail2[1], _TAIL_Z[1] * s)
    P[_I["tail_tip"]] = (*tail2[2], _TAIL_Z[2] * s)
    fwd = np.r_[chain2[0] - chain2[1], 0.0]
    fwd /= np.linalg.norm(fwd)
    left = np.array([-fwd[1], fwd[0], 0.0])
    # head: yaw about z, pitch down a little, rigid ears
    hy = np.cos(yaw) * fwd + np.sin(yaw) * left
    pt = -np.radians(18) + pitch
    hdir = np.cos(pt) * hy + np.array([0, 0, np.sin(pt)])
    hleft = np.cross(np.array([0, 0, 1.0]), hy)
    hup = np.cross(hdir, hleft)
    neck = P[_I["neck"]]
    P[_I["snout"]] = neck + _HEAD_LEN * s * hdir
    for side, name in ((1, "left_ear"), (-1, "right_ear")):
        P[_I[name]] = neck + s * (_EAR[0] * hdir + side * _EAR[1] * hleft + _EAR[2] * hup)
    # paws: a trot (diagonal pairs in phase), stride shrinking as the mouse slows
    stride = 7.0 * s * moving
    sp1, sp3 = P[_I["spine1"]], P[_I["spine3"]]
    for name, base, side, ph, fwd_off in (("forepaw_left", sp1, 1, 0.0, 5.0),
                                          ("forepaw_right", sp1, -1, np.pi, 5.0),
                                          ("hindpaw_left", sp3, 1, np.pi, 2.0),
                                          ("hindpaw_right", sp3, -1, 0.0, 2.0)):
        lateral = (9.0 if name.startswith("fore") else 11.0) * s
        lift = max(0.0, np.sin(gait + ph)) * 3.0 * moving
        P[_I[name]] = (base[0], base[1], 0.0) + (fwd_off * s + stride * np.cos(gait + ph)) * fwd \
            + side * lateral * left + np.array([0, 0, _PAW_Z + lift])
    if rear > 0:
        # rotate the front (head, neck, spine1, forepaws) up about spine2's lateral axis
        ang = np.radians(65.0) * rear
        pivot = P[_I["spine2"]]
        axis = -left
        c, si = np.cos(ang), np.sin(ang)
        Kx = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        R = np.eye(3) + si * Kx + (1 - c) * Kx @ Kx
        front = [_I[b] for b in ("snout", "left_ear", "right_ear", "neck", "spine1",
                                 "forepaw_left", "forepaw_right")]
        P[front] = (P[front] - pivot) @ R.T + pivot
        # forepaws tuck against the chest instead of hanging in the air
        for name in ("forepaw_left", "forepaw_right"):
            j = _I[name]
            P[j] = P[j] + rear * (0.6 * (P[_I["spine1"]] - P[j]))
    return P


# --- bodies and occlusion --------------------------------------------------------------------
def mouse_capsules(points3d: np.ndarray, scales: np.ndarray):
    """The body capsules of every mouse in every frame.

    Parameters
    ----------
    points3d : (n_frames, n_mice, 14, 3) mm
    scales : (n_mice,)

    Returns
    -------
    a, b : (n_frames, n_mice, n_capsules, 3) mm
        Capsule axis ends.
    radius : (n_mice, n_capsules) mm
    ends : (n_capsules, 2) int
        Keypoint indices of the ends.
    """
    ends = np.array([(_I[a], _I[b]) for a, b, _ in MOUSE_CAPSULES])
    radius = np.outer(scales, [r for _, _, r in MOUSE_CAPSULES])
    return points3d[:, :, ends[:, 0]], points3d[:, :, ends[:, 1]], radius, ends


def _segment_distance(p0, p1, q0, q1):
    """Distance between segments ``p0-p1`` and ``q0-q1`` (broadcast, ``(..., 3)``) and the
    parameter along ``p`` of the closest point."""
    d1, d2, r = p1 - p0, q1 - q0, p0 - q0
    a = (d1 * d1).sum(-1)
    e = (d2 * d2).sum(-1)
    f = (d2 * r).sum(-1)
    c = (d1 * r).sum(-1)
    b = (d1 * d2).sum(-1)
    denom = a * e - b * b
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(denom > 1e-12, np.clip((b * f - c * e) / denom, 0, 1), 0.0)
        t = (b * s + f) / e
        t_c = np.clip(t, 0, 1)
        s = np.where(t != t_c, np.clip((b * t_c - c) / a, 0, 1), s)
    cp = p0 + d1 * s[..., None]
    cq = q0 + d2 * t_c[..., None]
    return np.linalg.norm(cp - cq, axis=-1), s


def capsule_visibility(rig: CameraRig, points3d: np.ndarray, scales: np.ndarray,
                       chunk: int = 64) -> np.ndarray:
    """Which keypoints every camera sees: in the image and not behind a mouse's body.

    A keypoint is hidden when the line of sight from the camera passes through a body capsule
    of another mouse in front of it, or through one of its own mouse's capsules that does not
    end at it (at 0.6 times the radius for keypoints on the body's axis, which labellers
    place on the visible surface above it; whole for the paws under the body).

    Parameters
    ----------
    rig : CameraRig
    points3d : (n_frames, n_mice, 14, 3) mm
    scales : (n_mice,)
    chunk : int
        Frames per vectorized block (memory bound).

    Returns
    -------
    visible : (n_cams, n_frames, n_mice, 14) bool
    """
    P = np.asarray(points3d, float)
    n_frames, n_mice, n_kp, _ = P.shape
    a, b, radius, ends = mouse_capsules(P, scales)
    own_end = (ends[None, :, 0] == np.arange(n_kp)[:, None]) | (
        ends[None, :, 1] == np.arange(n_kp)[:, None])  # (n_kp, n_caps)
    # radius factor (n_mice_point, n_kp, n_mice_caps, n_caps): the own body at 0.6 of its
    # radius for keypoints on its axis, whole for the paws (under the body, not on its axis)
    same = np.eye(n_mice, dtype=bool)[:, None, :, None]
    paw = np.array(["paw" in b for b in _BP])[None, :, None, None]
    factor = np.where(same, np.where(own_end[None, :, None, :], 0.0,
                                     np.where(paw, 1.0, 0.6)), 1.0)
    rad = factor * radius[None, None]
    vis = np.zeros((rig.n_cams, n_frames, n_mice, n_kp), bool)
    proj = rig.project(P.reshape(n_frames, n_mice * n_kp, 3)).reshape(
        rig.n_cams, n_frames, n_mice, n_kp, 2)
    for c, cam in enumerate(rig):
        inside = cam.in_image(proj[c])
        C = cam.center
        for s in range(0, n_frames, chunk):
            e = min(s + chunk, n_frames)
            p = P[s:e, :, :, None, None]  # (f, m, k, 1, 1, 3)
            dist, t = _segment_distance(np.broadcast_to(C, p.shape), p,
                                        a[s:e, None, None], b[s:e, None, None])
            # a hit counts when the closest approach lies in front of the keypoint
            seg = np.linalg.norm(p[..., 0, 0, :] - C, axis=-1)[..., None, None]
            front = t * seg < seg - 0.5
            hidden = ((dist < rad[None]) & front).any(axis=(-1, -2))
            vis[c, s:e] = inside[s:e] & ~hidden
    return vis
