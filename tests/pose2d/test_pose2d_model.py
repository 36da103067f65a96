"""Network shapes, torchvision-compatible weights, model folder versions."""

from __future__ import annotations

import json

import pytest
import torch

from pose2d.model import PoseNet
from pose2d.model_folder import read_settings, write_settings
from pose2d.weights import load_backbone


def test_output_shapes():
    net = PoseNet(5).eval()
    with torch.no_grad():
        s, l_ = net(torch.zeros(2, 3, 64, 96))
    assert s.shape == (2, 5, 16, 24) and l_.shape == (2, 10, 16, 24)


def test_unknown_backbone():
    with pytest.raises(ValueError, match="small, resnet50"):
        PoseNet(3, "vgg")


def test_resnet50_loads_torchvision_keys(tmp_path):
    net = PoseNet(3, "resnet50")
    keys = set(net.backbone.state_dict())
    # torchvision resnet50 names
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.downsample.0.weight",
            "layer4.2.conv3.weight", "layer3.5.bn2.num_batches_tracked"} <= keys
    donor = PoseNet(3, "resnet50").backbone.state_dict()
    sd = {k: torch.full_like(v, 0.5) if v.is_floating_point() else v for k, v in donor.items()}
    sd["fc.weight"] = torch.zeros(1000, 2048)
    sd["fc.bias"] = torch.zeros(1000)
    torch.save(sd, tmp_path / "resnet50-imagenet.pth")
    info = load_backbone(net, tmp_path / "resnet50-imagenet.pth")
    assert info["loaded"] == len(keys) and info["skipped"] == ["fc.weight", "fc.bias"]
    assert torch.all(net.backbone.layer4[2].conv3.weight == 0.5)


def test_backbone_from_tripose_model_and_bad_files(tmp_path):
    a, b = PoseNet(3), PoseNet(4)
    torch.save({"model": a.state_dict()}, tmp_path / "ckpt.pt")
    load_backbone(b, tmp_path / "ckpt.pt")
    assert torch.equal(b.backbone.stem[0][0].weight, a.backbone.stem[0][0].weight)
    torch.save({"foo.weight": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="none of its"):
        load_backbone(b, tmp_path / "other.pt")
    torch.save({"stem.0.0.weight": torch.zeros(2, 2)}, tmp_path / "shape.pt")
    with pytest.raises(ValueError, match="stem.0.0.weight has shape"):
        load_backbone(b, tmp_path / "shape.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="cannot load"):
        load_backbone(b, tmp_path / "junk.pt")


def test_model_folder_version(tmp_path):
    write_settings(tmp_path, {"backbone": "small", "bodyparts": ["a"], "stride": 4,
                              "locref_scale": 7.2})
    assert read_settings(tmp_path)["backbone"] == "small"
    s = json.loads((tmp_path / "model.json").read_text())
    s["version"] = 99
    (tmp_path / "model.json").write_text(json.dumps(s))
    with pytest.raises(ValueError, match="version 99"):
        read_settings(tmp_path)
    with pytest.raises(FileNotFoundError, match="no model.json"):
        read_settings(tmp_path / "nothing")
