"""Running a trained network on frames: normalisation, padding, batching, decoding.

On CPUs with bfloat16 matrix units (AMX, recent AVX-512) inference runs in bfloat16 with a
channels-last layout, several times faster than float32; ``precision="float32"`` turns it off.
The same code runs on CUDA when ``device="cuda"``.
"""

from __future__ import annotations

import numpy as np
import torch

from .model import MEAN, STD, decode, decode_topk
from .validators import check_frames

__all__ = ["Predictor", "to_tensor", "bf16_supported", "resolve_device"]


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"``: CUDA when available, else CPU; otherwise ``torch.device(device)``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def bf16_supported() -> bool:
    """Whether this CPU has fast bfloat16 matrix instructions (AMX or AVX512-BF16)."""
    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        fn = getattr(torch.cpu, probe, None)
        if fn is not None:
            try:
                if fn():
                    return True
            except RuntimeError:
                pass
    return False


def to_tensor(batch: np.ndarray, device: str | torch.device = "cpu",
              channels_last: bool = True) -> torch.Tensor:
    """uint8 RGB ``(B, H, W, 3)`` to a normalised float ``(B, 3, H, W)`` tensor."""
    t = torch.from_numpy(np.ascontiguousarray(batch)).to(device)
    t = t.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN, device=t.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=t.device).view(1, 3, 1, 1)
    t = (t - mean) / std
    return t.contiguous(memory_format=torch.channels_last) if channels_last else t.contiguous()


class Predictor:
    """Keypoints and confidences for batches of frames of any size.

    Parameters
    ----------
    net : PoseNet
    settings : dict
        ``model.json`` (``locref_scale``, ``stride``).
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    precision : {"auto", "float32", "bfloat16"}
        ``auto``: bfloat16 on CUDA and on CPUs with AMX, else float32.
    """

    def __init__(self, net, settings: dict, device: str = "auto", precision: str = "auto"):
        if precision not in ("auto", "float32", "bfloat16"):
            raise ValueError(f"precision must be auto, float32 or bfloat16; got {precision!r}")
        self.device = resolve_device(str(device))
        self.net = net.to(self.device).eval().to(memory_format=torch.channels_last)
        self.locref_scale = float(settings["locref_scale"])
        self.stride = int(settings["stride"])
        if precision == "auto":
            precision = ("bfloat16" if self.device.type == "cuda" or bf16_supported()
                         else "float32")
        self.precision = precision

    def __call__(self, frames: np.ndarray, top_k: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Predict.

        Parameters
        ----------
        frames : (B, H, W, 3) uint8 RGB
        top_k : int
            0: the best peak per bodypart; ``k > 0``: the ``k`` best local maxima.

        Returns
        -------
        xy : (B, J, 2) float64 pixels in the frame (``(B, J, k, 2)`` with ``top_k``)
        confidence : (B, J) float64 in [0, 1] (``(B, J, k)`` with ``top_k``)
        """
        frames = check_frames(frames)
        b, h, w = frames.shape[:3]
        ph, pw = -h % 16, -w % 16
        if ph or pw:
            frames = np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)))
        x = to_tensor(frames, self.device)
        bf = self.precision == "bfloat16"
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16,
                                                    enabled=bf):
            score, locref = self.net(x)
        if top_k:
            xy, conf = decode_topk(score.float(), locref.float(), self.locref_scale, top_k,
                                   self.stride)
        else:
            xy, conf = decode(score.float(), locref.float(), self.locref_scale, self.stride)
        return xy.cpu().numpy().astype(np.float64), conf.cpu().numpy().astype(np.float64)
