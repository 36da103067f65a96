"""The efficientnet-lite0 backbone: packaged ImageNet weights, shapes, a real ImageNet check,
training from the packaged weights and inference without them."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from pose2d.augment import AugmentConfig
from pose2d.efficientnet import (
    LITE_MEAN,
    LITE_STD,
    EfficientNetLite0,
    EfficientNetLite0Backbone,
    load_imagenet_state,
    packaged_weights_path,
)
from pose2d.inference import Predictor, to_tensor
from pose2d.model import PoseNet
from pose2d.model_folder import load_model
from pose2d.train import TrainConfig, train
from pose2d.weights import default_weights, load_backbone

MILITARY_UNIFORM = 652  # ImageNet-1k class index


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def imagenet() -> dict:
    return load_imagenet_state()


def _grace_hopper() -> np.ndarray:
    """matplotlib's sample photograph (a woman in US Navy uniform), 224x224 RGB uint8."""
    import matplotlib.cbook as cbook

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    img = cv2.imread(str(path))[:, :, ::-1]
    h, w = img.shape[:2]
    s = min(h, w)
    crop = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    return cv2.resize(np.ascontiguousarray(crop), (224, 224), interpolation=cv2.INTER_AREA)


def test_packaged_weights_load_strictly(imagenet):
    assert len(imagenet) == 296
    EfficientNetLite0().load_state_dict(imagenet, strict=True)
    bb = EfficientNetLite0Backbone()
    keys = set(bb.state_dict())
    assert keys < set(imagenet)
    assert {k.split(".")[1] for k in keys if k.startswith("_blocks.")} == {
        str(i) for i in range(11)}  # the stride-32 blocks 11-15 are not built
    bb.load_state_dict({k: imagenet[k] for k in keys}, strict=True)
    net = PoseNet(3, "efficientnet-lite0")
    info = load_backbone(net, packaged_weights_path(), strict=True)
    assert info["missing"] == [] and info["loaded"] == len(keys)
    assert all(k.startswith(("_blocks.1", "_conv_head", "_bn1", "_fc")) for k in info["skipped"])
    torch.testing.assert_close(net.backbone._blocks[10]._project_conv.weight,
                               imagenet["_blocks.10._project_conv.weight"])
    assert default_weights("efficientnet-lite0") is not None
    assert default_weights("small") is None


def test_strict_loading_refuses_a_partial_file(imagenet, tmp_path):
    part = {k: v for k, v in imagenet.items() if not k.startswith("_blocks.10.")}
    torch.save(part, tmp_path / "part.pth")
    net = PoseNet(3, "efficientnet-lite0")
    with pytest.raises(ValueError, match="missing"):
        load_backbone(net, tmp_path / "part.pth", strict=True)
    assert load_backbone(net, tmp_path / "part.pth")["missing"]  # lenient by default


def test_feature_strides_and_channels():
    bb = EfficientNetLite0Backbone().eval()
    with torch.no_grad():
        f4, f8, f16 = bb(torch.zeros(2, 3, 64, 96))
    assert f4.shape == (2, 24, 16, 24)
    assert f8.shape == (2, 40, 8, 12)
    assert f16.shape == (2, 112, 4, 6)
    net = PoseNet(5, "efficientnet-lite0").eval()
    with torch.no_grad():
        s, loc = net(torch.zeros(1, 3, 80, 112))
    assert s.shape == (1, 5, 20, 28) and loc.shape == (1, 10, 20, 28)


def test_imagenet_classification(imagenet):
    """The packaged weights in our architecture name the photo's class, as ImageNet does."""
    img = _grace_hopper()
    clf = EfficientNetLite0().eval()
    clf.load_state_dict(imagenet)
    x = (torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0
         - torch.tensor(LITE_MEAN).view(1, 3, 1, 1)) / torch.tensor(LITE_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        p = clf(x).softmax(1)[0]
    assert int(p.argmax()) == MILITARY_UNIFORM and p[MILITARY_UNIFORM] > 0.25
    # the pose network's input path: ImageNet mean/std (to_tensor), then its renormalisation
    net = PoseNet(3, "efficientnet-lite0")
    xin = to_tensor(img[None], channels_last=False)
    xb = xin * net._in_scale + net._in_shift
    torch.testing.assert_close(xb, x, atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        p2 = clf(xb).softmax(1)[0]
    assert int(p2.argmax()) == MILITARY_UNIFORM
    # same weights, mirrored photo: still the uniform; random weights: no class stands out
    with torch.no_grad():
        assert int(clf(x.flip(3)).argmax()) == MILITARY_UNIFORM
        torch.manual_seed(0)
        assert float(EfficientNetLite0().eval()(x).softmax(1).max()) < 0.05


def test_train_from_packaged_weights_then_infer(labeled_folder, tmp_path, imagenet,
                                                monkeypatch):
    out = tmp_path / "m"
    cfg = TrainConfig(backbone="efficientnet-lite0", epochs=2, batch_size=4,
                      precision="float32", eval_every_s=0.0, train_fraction=0.75,
                      augment=AugmentConfig(crop=64))
    r = train(labeled_folder, out, cfg, progress=False)
    assert r["iterations"] == 6
    s = json.loads((out / "model.json").read_text())
    assert s["backbone"] == "efficientnet-lite0"
    assert s["weights"].endswith("efficientnet-lite0-57934424.pth")
    assert s["training"]["freeze_bn"] is True and s["training"]["freeze_early"] is True
    sd = torch.load(out / "model.pt", weights_only=True)
    # layers up to stride 4 kept their ImageNet values (weights and batch-norm statistics);
    # the rest was trained
    for k in ("_conv_stem.weight", "_bn0.running_var", "_blocks.2._project_conv.weight"):
        torch.testing.assert_close(sd[f"backbone.{k}"], imagenet[k])
    assert not torch.equal(sd["backbone._blocks.10._project_conv.weight"],
                           imagenet["_blocks.10._project_conv.weight"])
    torch.testing.assert_close(sd["backbone._blocks.10._bn2.running_mean"],
                               imagenet["_blocks.10._bn2.running_mean"])  # freeze_bn

    # inference rebuilds from model.json + model.pt: the weights package is not needed
    def unavailable():
        raise ImportError("no package")

    monkeypatch.setattr("pose2d.efficientnet.packaged_weights_path", unavailable)
    net, settings = load_model(out)
    assert settings["backbone"] == "efficientnet-lite0"
    frames = np.stack([cv2.imread(str(p))[:, :, ::-1] for p in
                       sorted(labeled_folder.glob("*.png"))[:3]])
    xy, conf = Predictor(net, settings, precision="float32")(frames)
    assert xy.shape == (3, 3, 2) and conf.shape == (3, 3)
    assert np.isfinite(xy).all() and ((conf >= 0) & (conf <= 1)).all()


def test_not_pretrained_trains_everything(labeled_folder, tmp_path):
    cfg = TrainConfig(backbone="efficientnet-lite0", pretrained=False, epochs=1, batch_size=4,
                      precision="float32", eval_every_s=0.0, augment=AugmentConfig(crop=64))
    train(labeled_folder, tmp_path / "m", cfg, progress=False)
    s = json.loads((tmp_path / "m" / "model.json").read_text())
    assert "weights" not in s
    assert s["training"]["freeze_bn"] is False and s["training"]["freeze_early"] is False


def test_cli_documents_the_backbone(capsys):
    from tripose.cli import main

    main(["train", "--help"])
    out = capsys.readouterr().out
    assert "efficientnet-lite0" in out and "--no-pretrained" in out
