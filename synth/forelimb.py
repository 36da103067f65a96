"""A synthetic mouse forelimb: skeleton, segment sizes and reach-grasp-retract kinematics.

World frame as in :mod:`synth.rig`: mm, z up, floor at z = 0. The (right) forelimb
reaches along +x from a shoulder behind and above :data:`~synth.rig.ARENA_CENTER` to
a pellet just in front of and below it.

Kinematic chain (every rotation composes on the right, in the parent's frame):

- shoulder ``B Rz(azimuth) Ry(-elevation) Rx(humeral rotation)``: upper arm along local x,
  where the fixed ``B`` points x down and back, so the reach stays far from gimbal lock;
- elbow ``Rz(flexion)``: forearm along the rotated x;
- wrist ``Rx(pronation) Rz(flexion) Ry(deviation)``: the hand frame, x distal, y palmar
  (digits curl towards +y), z across the hand towards digit 2 (a right paw);
- digit ``n``: metacarpal fanned by ``Ry(-fan_n)`` to its knuckle, then the digit turned by
  ``Ry(-splay * fan_n)``, ``Rz(mcp_n)`` to the middle joint and ``Rz(pip_n)`` to the tip.

Joint-angle keyframes come from an analytic inverse kinematics of task-space poses (wrist
position, elbow swivel, palm normal, grip) and are joined by minimum-jerk segments plus a
little smoothed noise, so every segment keeps its length exactly and the acceleration stays
bounded.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from poses.skeleton import Skeleton

from .rig import ARENA_CENTER

__all__ = [
    "FORELIMB_SKELETON",
    "DIGITS",
    "SEGMENT_LENGTHS",
    "SEGMENT_RADII",
    "JOINT_RADII",
    "PALM_SEMI_AXES",
    "SHOULDER",
    "PELLET",
    "simulate_reach",
    "forelimb_points",
]

#: Digit names, medial (index) to lateral (little finger); the pollex is not modelled.
DIGITS = ("d2", "d3", "d4", "d5")

_BODYPARTS = ["shoulder", "elbow", "wrist", "palm"] + [
    f"{d}_{p}" for d in DIGITS for p in ("knuckle", "middle", "tip")
]
_LIMBS = [("shoulder", "elbow"), ("elbow", "wrist"), ("wrist", "palm")]
for _d in DIGITS:
    _LIMBS += [("palm", f"{_d}_knuckle"), (f"{_d}_knuckle", f"{_d}_middle"),
               (f"{_d}_middle", f"{_d}_tip")]

#: 16 bodyparts, 15 rigid limbs, elbow / wrist / digit-3 knuckle angles.
FORELIMB_SKELETON = Skeleton(
    bodyparts=_BODYPARTS,
    limbs=_LIMBS,
    angles={
        "elbow": ("shoulder", "elbow", "wrist"),
        "wrist": ("elbow", "wrist", "palm"),
        "d3_knuckle": ("palm", "d3_knuckle", "d3_middle"),
    },
)

# --- sizes (mm) -------------------------------------------------------------------------
_L_UPPER, _L_FORE, _L_PALM = 15.0, 17.0, 5.0
#: Per digit: palm-to-knuckle (metacarpal), proximal and distal phalanx lengths, mm.
_L_DIGIT = {"d2": (4.6, 3.8, 3.2), "d3": (5.4, 4.2, 3.6), "d4": (5.4, 4.1, 3.5),
            "d5": (4.4, 3.6, 3.0)}
#: Fan angle of each metacarpal in the palm plane (deg, positive towards +z).
_FAN_DEG = {"d2": 33.0, "d3": 11.0, "d4": -11.0, "d5": -33.0}

#: Length of every limb of :data:`FORELIMB_SKELETON`, mm.
SEGMENT_LENGTHS: dict[tuple[str, str], float] = {
    ("shoulder", "elbow"): _L_UPPER,
    ("elbow", "wrist"): _L_FORE,
    ("wrist", "palm"): _L_PALM,
}
#: Capsule radius of every limb for rendering, mm.
SEGMENT_RADII: dict[tuple[str, str], float] = {
    ("shoulder", "elbow"): 2.9,
    ("elbow", "wrist"): 2.1,
    ("wrist", "palm"): 1.6,
}
#: Sphere radius at every bodypart for rendering (at least its segments' radii), mm; the palm
#: is drawn as a flat ellipsoid instead, :data:`PALM_SEMI_AXES`.
JOINT_RADII: dict[str, float] = {"shoulder": 3.3, "elbow": 2.6, "wrist": 2.0, "palm": 1.6}
for _d in DIGITS:
    _k, _m, _t = f"{_d}_knuckle", f"{_d}_middle", f"{_d}_tip"
    SEGMENT_LENGTHS.update({("palm", _k): _L_DIGIT[_d][0], (_k, _m): _L_DIGIT[_d][1],
                            (_m, _t): _L_DIGIT[_d][2]})
    SEGMENT_RADII.update({("palm", _k): 1.25, (_k, _m): 1.05, (_m, _t): 0.85})
    JOINT_RADII.update({_k: 1.3, _m: 1.1, _t: 0.9})

#: Semi-axes of the palm ellipsoid centred on the palm keypoint (distal, palmar, across), mm.
PALM_SEMI_AXES = (4.6, 1.6, 3.0)

#: Nominal shoulder position (world mm); it sways by about 0.5 mm.
SHOULDER = ARENA_CENTER + np.array([-20.0, -5.0, 8.0])
#: Mean pellet position (world mm); each reach aims within a few mm of it.
PELLET = ARENA_CENTER + np.array([12.0, 0.0, -5.0])

_SPLAY = 1.35  # digits diverge more than their metacarpals
_ELBOW_REF = np.array([-0.25, -0.55, -0.8])  # elbow points back, out (-y) and down


def _base_frame() -> np.ndarray:
    """Shoulder base rotation: x along the typical upper arm (down, a little forward/out)."""
    x = np.array([0.3, -0.3, -1.0])
    x /= np.linalg.norm(x)
    z = np.cross(x, [0.0, 1.0, 0.0])
    z /= np.linalg.norm(z)
    return np.stack([x, np.cross(z, x), z], axis=1)


_BASE = _base_frame()
# joint-angle channels of the trajectory
_ARM = ("azimuth", "elevation", "humeral", "elbow", "pronation", "wrist_flex", "wrist_dev")
_N_Q = len(_ARM) + 2 * len(DIGITS) + 1  # + mcp per digit, pip per digit, spread


# --- rotations (vectorized over a leading axis) ------------------------------------------
def _rot(axis: int, angle: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rotations by ``angle`` (n,) radians about coordinate ``axis``."""
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    R = np.zeros(a.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R[..., axis, axis] = 1.0
    R[..., i, i] = c
    R[..., j, j] = c
    R[..., i, j] = -s
    R[..., j, i] = s
    return R


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


# --- forward kinematics --------------------------------------------------------------------
def forelimb_points(q: np.ndarray, shoulder: np.ndarray) -> np.ndarray:
    """Bodypart positions from joint angles (forward kinematics).

    Parameters
    ----------
    q : (n_frames, 16) radians
        Shoulder azimuth, elevation, humeral rotation; elbow flexion; pronation, wrist
        flexion, wrist deviation; knuckle flexion of d2..d5; middle-joint flexion of d2..d5;
        digit spread (a factor on the fan angles, 1 is the nominal fan).
    shoulder : (n_frames, 3) or (3,) mm
        Shoulder position, world frame.

    Returns
    -------
    points3d : (n_frames, 16, 3) mm
        In the order of ``FORELIMB_SKELETON.bodyparts``.
    """
    q = np.atleast_2d(np.asarray(q, dtype=np.float64))
    if q.shape[-1] != _N_Q:
        raise ValueError(f"q must have shape (n_frames, {_N_Q}), got {q.shape}")
    n = q.shape[0]
    S = np.broadcast_to(np.asarray(shoulder, dtype=np.float64), (n, 3))
    az, el, hum, elb, pro, wfl, wdv = q[:, :7].T
    mcp, pip, spread = q[:, 7:11], q[:, 11:15], q[:, 15]

    R_sh = _BASE @ _rot(2, az) @ _rot(1, -el) @ _rot(0, hum)  # (n, 3, 3)
    E = S + _L_UPPER * R_sh[:, :, 0]
    R_fa = R_sh @ _rot(2, elb)
    W = E + _L_FORE * R_fa[:, :, 0]
    R_h = R_fa @ _rot(0, pro) @ _rot(2, wfl) @ _rot(1, wdv)
    P = W + _L_PALM * R_h[:, :, 0]
    out = [S, E, W, P]
    for k, d in enumerate(DIGITS):
        l_meta, l_prox, l_dist = _L_DIGIT[d]
        fan = np.radians(_FAN_DEG[d]) * spread
        K = P + l_meta * (R_h @ _rot(1, -fan))[:, :, 0]
        R_d = R_h @ _rot(1, -_SPLAY * fan) @ _rot(2, mcp[:, k])
        M = K + l_prox * R_d[:, :, 0]
        T = M + l_dist * (R_d @ _rot(2, pip[:, k]))[:, :, 0]
        out += [K, M, T]
    return np.stack(out, axis=1)


# --- inverse kinematics of one task-space pose ---------------------------------------------
def _pose_to_q(wrist, swivel, palm_normal, wrist_flex, wrist_dev, mcp, pip, spread):
    """Joint angles (16,) that put the wrist at ``wrist`` with the palm facing
    ``palm_normal``; the shoulder is :data:`SHOULDER`."""
    v = np.asarray(wrist, float) - SHOULDER
    D = np.clip(np.linalg.norm(v), abs(_L_UPPER - _L_FORE) + 1.0, 0.96 * (_L_UPPER + _L_FORE))
    a = _unit(v)
    d1 = (_L_UPPER**2 - _L_FORE**2 + D**2) / (2 * D)
    h = np.sqrt(max(_L_UPPER**2 - d1**2, 0.0))
    r = _unit(_ELBOW_REF - (_ELBOW_REF @ a) * a)
    b = np.cross(a, r)
    E = SHOULDER + d1 * a + h * (np.cos(swivel) * r + np.sin(swivel) * b)
    W = SHOULDER + D * a
    u = (E - SHOULDER) / _L_UPPER
    f = (W - E) / _L_FORE
    u_base = _BASE.T @ u
    az, el = np.arctan2(u_base[1], u_base[0]), np.arcsin(np.clip(u_base[2], -1, 1))
    elbow = np.arccos(np.clip(u @ f, -1, 1))
    y_arm = _unit(f - (f @ u) * u)
    R0 = _BASE @ _rot(2, az) @ _rot(1, -el)
    hum = np.arctan2(y_arm @ R0[:, 2], y_arm @ R0[:, 1])
    R_fa = R0 @ _rot(0, hum) @ _rot(2, elbow)
    n = _unit(np.asarray(palm_normal, float))
    n_perp = n - (n @ f) * f
    pro = np.arctan2(n_perp @ R_fa[:, 2], n_perp @ R_fa[:, 1])
    return np.concatenate([[az, el, hum, elbow, pro, wrist_flex, wrist_dev],
                           np.broadcast_to(mcp, 4), np.broadcast_to(pip, 4), [spread]])


def _reach_keyframes(duration: float, rng: np.random.Generator):
    """Times (k,) s and joint angles (k, 16) of reach-grasp-retract cycles."""
    deg = np.radians
    times, poses = [], []

    def add(t, wrist, swivel, normal, wflex, wdev, grip, spread):
        # grip 0 = digits extended, 1 = closed around the pellet; per-digit jitter
        g = np.clip(grip + rng.normal(0, 0.06, 4), -0.1, 1.1)
        mcp = deg(-12 + 82 * g) + deg(np.array([0.0, 2.0, 4.0, 8.0])) * grip
        pip = deg(6 + 78 * g) + deg(np.array([0.0, 3.0, 5.0, 9.0])) * grip
        times.append(t)
        poses.append(_pose_to_q(wrist, swivel, normal, deg(wflex), deg(wdev), mcp, pip, spread))

    rest = ARENA_CENTER + np.array([-9.0, -6.0, -7.0])
    t = 0.0
    add(t, rest + rng.normal(0, 1.0, 3), rng.normal(0, 0.1), (0.3, 0.6, -1.0), 15, 0, 0.55, 0.7)
    while t < duration:
        speed = rng.uniform(0.7, 1.25)  # > 1 is faster
        pellet = PELLET + np.clip(rng.normal(0, [2.5, 2.5, 1.5]), -5, 5)
        down = np.array([rng.normal(0.15, 0.1), rng.normal(0.25, 0.15), -1.0])
        # lift: hand rises and draws back a little, digits curl
        t += rng.uniform(0.08, 0.14) / speed
        add(t, rest + [-2.0, 1.0, 6.0] + rng.normal(0, 1.0, 3), rng.normal(0.1, 0.1),
            (0.2, 0.9, -0.6), rng.uniform(20, 35), rng.uniform(-5, 5), 0.75, 0.6)
        # advance: hand over and behind the pellet, digits open and spread, palm down
        t += rng.uniform(0.12, 0.2) / speed
        add(t, pellet + [-8.0, 0.0, 4.5] + rng.normal(0, 1.0, 3), rng.normal(-0.1, 0.12),
            down, rng.uniform(-20, -5), rng.uniform(-8, 8), rng.uniform(-0.05, 0.1),
            rng.uniform(1.05, 1.3))
        # grasp: wrist drops onto the pellet while the digits close
        t += rng.uniform(0.08, 0.13) / speed
        add(t, pellet + [-6.5, 0.0, 2.0] + rng.normal(0, 0.6, 3), rng.normal(-0.1, 0.1),
            down, rng.uniform(5, 20), rng.uniform(-6, 6), rng.uniform(0.8, 1.0),
            rng.uniform(0.6, 0.8))
        # retract towards the mouth: supinate, flex the wrist, hold the grip
        t += rng.uniform(0.18, 0.3) / speed
        add(t, ARENA_CENTER + [-13.0, 2.0, 5.0] + rng.normal(0, 1.2, 3), rng.normal(0.25, 0.15),
            (-0.3, 1.0, 0.3 + rng.normal(0, 0.2)), rng.uniform(25, 45), rng.uniform(-8, 8),
            rng.uniform(0.85, 1.0), 0.6)
        # release and return to rest, sometimes pausing there
        t += rng.uniform(0.15, 0.25) / speed
        add(t, rest + rng.normal(0, 1.0, 3), rng.normal(0, 0.1), (0.3, 0.6, -1.0),
            rng.uniform(5, 20), 0, rng.uniform(0.3, 0.6), 0.75)
        if rng.random() < 0.5:
            t += rng.uniform(0.05, 0.2)
            times.append(t)
            poses.append(poses[-1].copy())
    q = np.array(poses)
    q[:, :7] = np.unwrap(q[:, :7], axis=0)  # interpolate angles the short way round
    return np.array(times), q


def _minimum_jerk(times: np.ndarray, keys: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Piecewise minimum-jerk interpolation: zero velocity and acceleration at every key."""
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    s = np.clip((t - times[i]) / (times[i + 1] - times[i]), 0.0, 1.0)
    blend = s**3 * (10 - 15 * s + 6 * s**2)
    return keys[i] + (keys[i + 1] - keys[i]) * blend[:, None]


def _smooth_noise(rng, n: int, k: int, sigma_frames: float) -> np.ndarray:
    """(n, k) Gaussian-smoothed white noise of unit standard deviation."""
    pad = int(4 * sigma_frames) + 1
    x = gaussian_filter1d(rng.standard_normal((n + 2 * pad, k)), sigma_frames, axis=0)
    x = x[pad:pad + n]
    return x / (np.std(x, axis=0, keepdims=True) + 1e-12) if n > 1 else x * 0.0


def simulate_reach(n_frames: int, rng: np.random.Generator, fps: float = 100.0) -> np.ndarray:
    """Repeated reach, grasp and retract movements of the forelimb towards a pellet.

    Each cycle lifts the paw, advances it over the pellet with the digits extended and spread,
    closes them on the pellet, supinates and brings the paw back towards the mouth, then
    returns to rest. Targets, timing and postures vary between cycles; a little smoothed noise
    on every joint angle and a ~0.5 mm sway of the shoulder make no two cycles alike.

    Parameters
    ----------
    n_frames : int
        At least 1.
    rng : numpy.random.Generator
        All randomness; the same seed gives identical points.
    fps : float
        Frame rate; the movement is defined in seconds.

    Returns
    -------
    points3d : (n_frames, 16, 3) mm
        World frame, bodyparts in the order of ``FORELIMB_SKELETON.bodyparts``. Every limb
        keeps its length in :data:`SEGMENT_LENGTHS` to rounding error; all points stay within
        40 mm of :data:`~synth.rig.ARENA_CENTER`.
    """
    if isinstance(n_frames, bool) or int(n_frames) != n_frames or n_frames < 1:
        raise ValueError(f"n_frames must be a positive integer, got {n_frames!r}")
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n = int(n_frames)
    t = np.arange(n) / float(fps)
    times, keys = _reach_keyframes(t[-1] + 0.5, rng)
    q = _minimum_jerk(times, keys, t)
    sigma = 0.12 * fps
    amp = np.radians([2.0, 2.0, 3.0, 2.5, 5.0, 4.0, 3.0] + [4.0] * 8)
    q[:, :15] += amp * _smooth_noise(rng, n, 15, sigma)
    q[:, 15] += 0.04 * _smooth_noise(rng, n, 1, sigma)[:, 0]
    shoulder = SHOULDER + 0.5 * _smooth_noise(rng, n, 3, 0.25 * fps)
    return forelimb_points(q, shoulder)
