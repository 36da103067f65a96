"""Training loop: seeded split, augmentation, checkpoints, resume, a wall-clock budget.

Determinism: the split, the weight initialisation and every batch (frames and augmentation)
are functions of the seed and the iteration number, so a run repeats, and a resumed run
continues exactly where the checkpoint left off. With ``max_minutes`` the learning-rate
schedule follows the elapsed training time, so where a run stops depends on the machine.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from poses.atomic import write_json_atomic

from .augment import AugmentConfig, augment_batch
from .dataset import LabeledFrames, load_labeled_data, make_split, swap_pairs
from .inference import Predictor, bf16_supported, resolve_device, to_tensor
from .metrics import error_summary, predict_frames
from .model import OUTPUT_STRIDE, PoseNet
from .model_folder import load_state, read_settings, save_state, write_settings
from .targets import make_targets, pose_loss
from .weights import default_weights, load_backbone

__all__ = ["TrainConfig", "train", "PRETRAINED_DEFAULTS"]

log = logging.getLogger(__name__)

#: Settings that ``None`` fields of :class:`TrainConfig` take when a backbone starts from
#: (ImageNet) weights, by backbone; other runs get False.
PRETRAINED_DEFAULTS = {"efficientnet-lite0": {"freeze_bn": True, "freeze_early": True}}


@dataclass
class TrainConfig:
    """Training settings.

    Attributes
    ----------
    backbone : {"small", "efficientnet-lite0", "resnet50"}
        ``small`` (default) trains from scratch, with cheap steps; ``efficientnet-lite0``
        starts from ImageNet weights (:func:`pose2d.weights.default_weights`) unless
        ``pretrained`` is False or other weights are given.
    pretrained : bool
        Load the backbone's packaged ImageNet weights when :func:`train` gets no ``weights``
        (only backbones of :data:`pose2d.model.PRETRAINED` have any).
    epochs : int or None
        Passes over the training frames; None: until ``max_minutes``.
    max_minutes : float or None
        Wall-clock budget of training steps (periodic test evaluation is not counted).
    seed : int
    train_fraction : float
        DeepLabCut's TrainingFraction (0.95 by default).
    n_train_frames : int or None
        Train on only this many of the split's training frames (a seeded choice; the test
        frames stay those of the split), e.g. for a learning curve over labeling effort.
    batch_size : int
    lr : float
        Peak Adam learning rate (cosine decay to 2% of it).
    weight_decay : float
    backbone_lr_factor : float
        The backbone's learning rate relative to ``lr`` (the head always gets ``lr``).
    freeze_bn : bool or None
        Keep the backbone's batch-norm statistics fixed (eval mode) while training; its scale
        and shift are still trained. None: True when the backbone starts from weights of
        :data:`PRETRAINED_DEFAULTS` backbones, else False.
    freeze_early : bool or None
        Do not train the backbone's layers up to stride 4 (stem and first stage; as
        detectron2's ``FREEZE_AT=2``): fewer weights to fit from few frames, and the costliest
        part of the backward pass skipped. None: as ``freeze_bn``.
    sigma : float
        Scoremap target width, pixels.
    radius : float
        Location-refinement target radius, pixels.
    locref_scale : float
        Pixels per locref unit (DeepLabCut's locref_stdev).
    locref_weight : float
    precision : {"auto", "float32", "bfloat16"}
        Autocast precision of training steps (``auto``: bfloat16 where the CPU has AMX).
    eval_every_s : float
        Training seconds between test-set evaluations (learning curve); 0 disables.
    checkpoint_every_s : float
    augment : AugmentConfig
    """

    backbone: str = "small"
    pretrained: bool = True
    epochs: int | None = None
    max_minutes: float | None = None
    seed: int = 0
    train_fraction: float = 0.95
    n_train_frames: int | None = None
    batch_size: int = 8
    lr: float = 2e-3
    weight_decay: float = 1e-4
    backbone_lr_factor: float = 1.0
    freeze_bn: bool | None = None
    freeze_early: bool | None = None
    sigma: float = 5.0
    radius: float = 12.0
    locref_scale: float = 7.2
    locref_weight: float = 1.0
    precision: str = "auto"
    eval_every_s: float = 30.0
    checkpoint_every_s: float = 60.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def check(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        from .model import BACKBONES

        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {', '.join(BACKBONES)}; "
                             f"got {self.backbone!r}")
        if self.epochs is None and self.max_minutes is None:
            raise ValueError("give epochs or max_minutes (or both) to bound training")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise ValueError(f"max_minutes must be positive, got {self.max_minutes}")
        if not 0 < self.train_fraction <= 1:
            raise ValueError(f"train_fraction must be within (0, 1], got {self.train_fraction}")
        if self.n_train_frames is not None and self.n_train_frames < 1:
            raise ValueError(f"n_train_frames must be at least 1, got {self.n_train_frames}")
        if self.backbone_lr_factor < 0:
            raise ValueError(f"backbone_lr_factor must be >= 0, got {self.backbone_lr_factor}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.precision not in ("auto", "float32", "bfloat16"):
            raise ValueError(f"precision must be auto, float32 or bfloat16; "
                             f"got {self.precision!r}")
        if self.augment.crop % 16 or self.augment.crop < 32:
            raise ValueError(f"augment.crop must be a multiple of 16 and >= 32, "
                             f"got {self.augment.crop}")


def _settings(cfg: TrainConfig, data: LabeledFrames) -> dict:
    return {
        "backbone": cfg.backbone, "bodyparts": data.bodyparts, "scorer": data.scorer,
        "stride": OUTPUT_STRIDE, "sigma": cfg.sigma, "radius": cfg.radius,
        "locref_scale": cfg.locref_scale, "swap_pairs": swap_pairs(data.bodyparts),
        "data": data.source, "seed": cfg.seed, "train_fraction": cfg.train_fraction,
        "training": {k: v for k, v in asdict(cfg).items() if k != "augment"},
        "augment": cfg.augment.to_dict(), "pcutoff": 0.6,
    }


def _check_resume(out: Path, settings: dict, split: dict) -> None:
    old = read_settings(out)
    for key in ("backbone", "bodyparts", "seed", "train_fraction"):
        if old.get(key) != settings[key]:
            raise ValueError(f"{out} holds a model trained with {key}={old.get(key)!r}, not "
                             f"{settings[key]!r}; pass another --out, or the same settings to "
                             f"resume")
    import json

    old_split = json.loads((out / "split.json").read_text(encoding="utf-8"))
    if (old_split["train"] != split["train"] or old_split["test"] != split["test"]
            or old_split.get("extra") != split.get("extra")):
        raise ValueError(f"the labeled frames differ from those {out} was trained on "
                         f"(split.json); pass another --out to train on the new labels")


def _cut_train(train_idx: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """The first ``n`` training frames of a seeded permutation (sorted), or all of them."""
    if n is None or n >= len(train_idx):
        return train_idx
    return np.sort(np.random.default_rng([seed, 3]).permutation(train_idx)[:n])


def _resolve(cfg: TrainConfig, pretrained: bool) -> TrainConfig:
    """``cfg`` with its None fields set (:data:`PRETRAINED_DEFAULTS`)."""
    defaults = PRETRAINED_DEFAULTS.get(cfg.backbone, {}) if pretrained else {}
    return replace(cfg, **{k: bool(defaults.get(k, False)) for k in ("freeze_bn", "freeze_early")
                           if getattr(cfg, k) is None})


def _early_modules(net: PoseNet) -> list[torch.nn.Module]:
    bb = net.backbone
    return [m for name, m in bb.named_modules()
            if any(name == p or name.startswith(p + ".") for p in bb.early)]


def _freeze_early(net: PoseNet) -> None:
    for m in _early_modules(net):
        for p in m.parameters(recurse=False):
            p.requires_grad_(False)


def _set_train_mode(net: PoseNet, cfg: TrainConfig) -> None:
    """``net.train()``, with frozen batch norms (``freeze_bn``, ``freeze_early``) in eval mode."""
    net.train()
    frozen = list(net.backbone.modules()) if cfg.freeze_bn else (
        _early_modules(net) if cfg.freeze_early else [])
    for m in frozen:
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()


def _lr_factor(progress: float, iteration: int, warmup: int = 100) -> float:
    warm = min(1.0, (iteration + 1) / warmup)
    return warm * (0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


def train(data: str | Path | LabeledFrames, out: str | Path, cfg: TrainConfig | None = None,
          weights: str | Path | None = None, progress: bool = True,
          device: str = "auto", extra: LabeledFrames | None = None) -> dict:
    """Train a pose network and write the model folder.

    Parameters
    ----------
    data : path or LabeledFrames
        See :func:`pose2d.dataset.load_labeled_data`.
    out : str or Path
        The model folder (created; resumed when it holds a checkpoint of the same settings).
    cfg : TrainConfig
    weights : str or Path, optional
        Backbone weights (local file) for transfer learning; ignored when resuming.
    progress : bool
        Show a progress bar with the loss.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    extra : LabeledFrames, optional
        Frames added to the training set only, after the split of ``data`` (pseudo-labels of
        multi-view bootstrapping): never tested on, listed under ``"extra"`` in split.json.
        Same bodyparts as ``data``.

    Returns
    -------
    dict
        Summary: iterations, epochs, training seconds, final loss, last test RMSE.
    """
    cfg = cfg or TrainConfig(max_minutes=10.0)
    cfg.check()
    device = resolve_device(str(device))
    out = Path(out)
    if not isinstance(data, LabeledFrames):
        data = load_labeled_data(data)
    train_idx, test_idx = make_split(len(data), cfg.train_fraction, cfg.seed)
    train_idx = _cut_train(train_idx, cfg.n_train_frames, cfg.seed)
    split = {"seed": cfg.seed, "train_fraction": cfg.train_fraction,
             "train": [data.names[i] for i in train_idx],
             "test": [data.names[i] for i in test_idx], "n_skipped_unlabeled": data.n_skipped}
    if extra is not None:
        if list(extra.bodyparts) != list(data.bodyparts):
            raise ValueError(f"extra training frames label bodyparts {extra.bodyparts}, not "
                             f"{data.bodyparts}")
        split["extra"] = list(extra.names)
    ckpt_path = out / "checkpoint.pt"
    resuming = ckpt_path.is_file()
    if resuming:  # unset choices as the run made them
        old = read_settings(out).get("training", {})
        cfg = replace(cfg, **{k: old[k] for k in ("freeze_bn", "freeze_early")
                              if getattr(cfg, k) is None and old.get(k) is not None})
    elif weights is None and cfg.pretrained:
        weights = default_weights(cfg.backbone)
        if weights is not None:
            log.info("%s backbone: ImageNet weights from %s", cfg.backbone, weights)
    cfg = _resolve(cfg, pretrained=weights is not None)
    settings = _settings(cfg, data)
    torch.manual_seed(cfg.seed)
    net = PoseNet(len(data.bodyparts), cfg.backbone).to(device)
    net = net.to(memory_format=torch.channels_last)
    if cfg.freeze_early:
        _freeze_early(net)
    groups: list = [{"params": list(net.parameters())}]
    if cfg.backbone_lr_factor != 1.0:  # backbone first, as in net.parameters()
        bb_ids = {id(p) for p in net.backbone.parameters()}
        groups = [{"params": list(net.backbone.parameters()),
                   "lr_factor": cfg.backbone_lr_factor},
                  {"params": [p for p in net.parameters() if id(p) not in bb_ids]}]
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    state = {"iteration": 0, "train_s": 0.0, "history": []}
    if ckpt_path.is_file():
        _check_resume(out, settings, split)
        ck = load_state(ckpt_path)
        net.load_state_dict(ck["model"])
        net.to(device)
        opt.load_state_dict(ck["optimizer"])
        state = {"iteration": int(ck["iteration"]), "train_s": float(ck["train_s"]),
                 "history": _read_history(out)}
        log.info("resuming %s at iteration %d (%.1f min trained)", out, state["iteration"],
                 state["train_s"] / 60)
    else:
        out.mkdir(parents=True, exist_ok=True)
        if weights is not None:
            # the packaged weights must fit completely; a user's file may be partial
            load_backbone(net, weights, strict=Path(weights) == default_weights(cfg.backbone))
            settings["weights"] = str(weights)
        write_settings(out, settings)
        write_json_atomic(out / "split.json", split)

    train_set, test_set = data.subset(train_idx), data.subset(test_idx)
    if extra is not None and len(extra):
        train_set = train_set.concat(extra)
    pairs = [tuple(p) for p in settings["swap_pairs"]]
    n_train = len(train_set)
    its_per_epoch = max(1, math.ceil(n_train / cfg.batch_size))
    total_its = cfg.epochs * its_per_epoch if cfg.epochs is not None else None
    budget_s = cfg.max_minutes * 60.0 if cfg.max_minutes is not None else None
    use_bf16 = cfg.precision == "bfloat16" or (
        cfg.precision == "auto" and (device.type == "cuda" or bf16_supported()))
    crop = cfg.augment.crop
    out_hw = (crop // OUTPUT_STRIDE, crop // OUTPUT_STRIDE)
    norm = 2.0 * math.pi * cfg.sigma ** 2 / OUTPUT_STRIDE ** 2

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_its, initial=state["iteration"], desc="train", unit="it",
                   dynamic_ncols=True)
    it = state["iteration"]
    last_eval = last_ckpt = state["train_s"]
    running, n_run = np.zeros(3), 0
    _set_train_mode(net, cfg)

    def done() -> bool:
        return ((total_its is not None and it >= total_its)
                or (budget_s is not None and state["train_s"] >= budget_s))

    def evaluate_now() -> dict:
        rec = {"iteration": it, "epoch": it / its_per_epoch, "train_s": state["train_s"]}
        if len(test_set):
            net.eval()
            pred = Predictor(net, settings, device=device)
            xy, conf = predict_frames(pred, test_set.images)
            _set_train_mode(net, cfg)
            s = error_summary(xy, conf, test_set.points2d, settings["pcutoff"], data.bodyparts)
            rec["test_rmse_px"] = s["rmse_px"]
        return rec

    def checkpoint() -> None:
        save_state(ckpt_path, {"model": net.state_dict(), "optimizer": opt.state_dict(),
                               "iteration": it, "train_s": state["train_s"]})
        write_json_atomic(out / "history.json", state["history"])

    while not done():
        t0 = time.perf_counter()
        epoch, k = divmod(it, its_per_epoch)
        order = np.random.default_rng([cfg.seed, epoch, 1]).permutation(n_train)
        sel = order[k * cfg.batch_size:(k + 1) * cfg.batch_size]
        if len(sel) < cfg.batch_size:  # fill the last batch of an epoch
            sel = np.concatenate([sel, order[:cfg.batch_size - len(sel)]])
        rng = np.random.default_rng([cfg.seed, it, 2])
        crops, kps = augment_batch([train_set.images[i] for i in sel],
                                   train_set.points2d[sel], cfg.augment, rng, pairs)
        score, locref, mask = make_targets(kps, out_hw, OUTPUT_STRIDE, cfg.sigma, cfg.radius,
                                           cfg.locref_scale)
        x = to_tensor(crops, device)
        p_total = max(it / total_its if total_its else 0.0,
                      state["train_s"] / budget_s if budget_s else 0.0)
        lr = cfg.lr * _lr_factor(p_total, it)
        for g in opt.param_groups:
            g["lr"] = lr * g.get("lr_factor", 1.0)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            ps, pl = net(x)
        loss, parts = pose_loss(ps, pl, torch.from_numpy(score).to(device),
                                torch.from_numpy(locref).to(device),
                                torch.from_numpy(mask).to(device), norm, cfg.locref_weight)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"training diverged at iteration {it} (loss {loss}); "
                                     f"lower the learning rate or check the labels")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        it += 1
        state["train_s"] += time.perf_counter() - t0
        running += (float(loss.detach()), parts["score"], parts["locref"])
        n_run += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{float(loss.detach()):.4f}", epoch=it // its_per_epoch,
                            min=f"{state['train_s'] / 60:.1f}")
        if n_run == 50 or done():
            m = running / n_run
            state["history"].append({"iteration": it, "epoch": it / its_per_epoch,
                                     "train_s": state["train_s"], "loss": float(m[0]),
                                     "score_loss": float(m[1]), "locref_loss": float(m[2]),
                                     "lr": lr})
            running[:], n_run = 0.0, 0
        if cfg.eval_every_s and (state["train_s"] - last_eval >= cfg.eval_every_s or done()):
            last_eval = state["train_s"]
            rec = evaluate_now()
            state["history"].append(rec)
            if "test_rmse_px" in rec:
                log.info("iteration %d (%.1f min): test RMSE %.2f px", it,
                         state["train_s"] / 60, rec["test_rmse_px"])
        if state["train_s"] - last_ckpt >= cfg.checkpoint_every_s:
            last_ckpt = state["train_s"]
            checkpoint()
    if bar is not None:
        bar.close()
    checkpoint()
    save_state(out / "model.pt", net.state_dict())
    tests = [h["test_rmse_px"] for h in state["history"] if h.get("test_rmse_px") is not None]
    losses = [h["loss"] for h in state["history"] if "loss" in h]
    return {"iterations": it, "epochs": it / its_per_epoch, "train_minutes": state["train_s"] / 60,
            "n_train": n_train, "n_test": len(test_set),
            "final_loss": losses[-1] if losses else None,
            "test_rmse_px": tests[-1] if tests else None, "model_dir": str(out)}


def _read_history(out: Path) -> list:
    import json

    p = out / "history.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else []
