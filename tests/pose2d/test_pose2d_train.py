"""Training, checkpoints, resume, determinism and evaluation on tiny data."""

from __future__ import annotations

import json

import pytest
import torch

from pose2d.augment import AugmentConfig
from pose2d.evaluate import evaluate
from pose2d.model_folder import load_model
from pose2d.train import TrainConfig, train


def _cfg(**kw):
    base = dict(epochs=2, batch_size=4, precision="float32", eval_every_s=0.0,
                augment=AugmentConfig(crop=64))
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_train_writes_model_folder_and_evaluates(labeled_folder, tmp_path):
    out = tmp_path / "model"
    r = train(labeled_folder, out, _cfg(train_fraction=0.75), progress=False)
    assert r["iterations"] == 2 * 3 and r["n_train"] == 9 and r["n_test"] == 3
    for f in ("model.json", "split.json", "checkpoint.pt", "model.pt", "history.json"):
        assert (out / f).is_file()
    split = json.loads((out / "split.json").read_text())
    assert len(split["train"]) == 9 and split["seed"] == 0
    net, s = load_model(out)
    assert s["swap_pairs"] == [[1, 2]]
    ev = evaluate(out, pictures=2)
    for key in ("train_rmse_px", "test_rmse_px", "train_rmse_pcutoff_px",
                "test_rmse_pcutoff_px", "pck_test", "per_bodypart"):
        assert key in ev
    assert set(ev["per_bodypart"]) == {"snout", "leftear", "rightear"}
    assert "2px" in ev["pck_test"]
    assert json.loads((out / "evaluation.json").read_text())["n_test"] == 3
    assert len(list((out / "evaluation").glob("*.png"))) == 2


def test_interrupted_run_resumes_exactly(labeled_folder, tmp_path, monkeypatch):
    one = tmp_path / "one"
    train(labeled_folder, one, _cfg(epochs=2), progress=False)
    two = tmp_path / "two"
    import pose2d.train as mod

    real, calls = mod.make_targets, []

    def crash_on_fourth(*a, **k):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(mod, "make_targets", crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        train(labeled_folder, two, _cfg(epochs=2, checkpoint_every_s=0.0), progress=False)
    assert torch.load(two / "checkpoint.pt", weights_only=True)["iteration"] == 3
    monkeypatch.setattr(mod, "make_targets", real)
    r = train(labeled_folder, two, _cfg(epochs=2), progress=False)
    assert r["iterations"] == 6
    a = torch.load(one / "model.pt", weights_only=True)
    b = torch.load(two / "model.pt", weights_only=True)
    for k in a:
        torch.testing.assert_close(a[k], b[k])


def test_resume_refuses_other_settings(labeled_folder, tmp_path):
    out = tmp_path / "m"
    train(labeled_folder, out, _cfg(epochs=1), progress=False)
    with pytest.raises(ValueError, match="seed"):
        train(labeled_folder, out, _cfg(epochs=2, seed=1), progress=False)


def test_bad_config():
    with pytest.raises(ValueError, match="epochs or max_minutes"):
        TrainConfig().check()
    with pytest.raises(ValueError, match="crop"):
        TrainConfig(epochs=1, augment=AugmentConfig(crop=50)).check()
    with pytest.raises(ValueError, match="backbone"):
        TrainConfig(epochs=1, backbone="x").check()


@pytest.mark.slow
def test_learns_dots(labeled_folder, tmp_path):
    r = train(labeled_folder, tmp_path / "m", _cfg(epochs=60, precision="auto",
                                                   train_fraction=0.75), progress=False)
    ev = evaluate(tmp_path / "m", pictures=0)
    assert ev["train_rmse_px"] < 4.0, (r, ev)


@pytest.mark.slow
def test_resnet50_with_local_weights(labeled_folder, tmp_path):
    from pose2d.model import PoseNet

    donor = PoseNet(3, "resnet50").backbone.state_dict()
    torch.save(donor, tmp_path / "imagenet.pth")
    out = tmp_path / "r50"
    cfg = _cfg(epochs=1, backbone="resnet50", batch_size=11)
    r = train(labeled_folder, out, cfg, weights=tmp_path / "imagenet.pth", progress=False)
    assert r["iterations"] == 1
    assert json.loads((out / "model.json").read_text())["weights"].endswith("imagenet.pth")
