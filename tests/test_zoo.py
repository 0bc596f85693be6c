"""The model zoo against the papers' tables, and every model x recipe training for real."""

import pytest
import torch

from fer_bench.core.overrides import Overrides
from fer_bench.models import count_params, create_model, get_card, list_models
from fer_bench.models.crops import random_crop, ten_crop
from fer_bench.models.timm_models import create_timm
from fer_bench.recipes import RECIPES, Recipe
from fer_bench.training.module import param_groups
from fer_bench.training.train import TrainConfig, train

# Two real epochs of every model take 13 min on 2 AVX2-only cores in fp32 (2026-12-07 --durations): the
# default run keeps three light paper CNNs (one with BN, one Keras-L2, one plain), `make test-slow` runs all.
LIGHT = {"lenet5", "seelam_cnn", "majeed_cnn"}


def test_registry_lists_every_paper_model():
    assert {"choudhari_cnn", "bodapati_cnn", "majeed_cnn", "lenet5", "seelam_cnn", "sahi_cnn",
            "sahi_attention_cnn", "sahi_resnet50", "khaireddin_vgg"} <= set(list_models())
    for name in list_models():
        card = get_card(name)
        assert card.paper and card.interpretation and card.recipe in RECIPES


def test_seelam_feature_sizes_under_valid_padding():
    m = create_model("seelam_cnn").eval()
    shapes = []
    for block in m.features:
        block[0].register_forward_hook(lambda mod, i, o: shapes.append(tuple(o.shape[1:])))
        block[3].register_forward_hook(lambda mod, i, o: shapes.append(tuple(o.shape[1:])))
    with torch.no_grad():
        m(torch.rand(1, 1, 48, 48))
    assert shapes == [(32, 46, 46), (32, 23, 23), (64, 21, 21), (64, 10, 10), (128, 8, 8), (128, 4, 4),
                      (512, 2, 2), (512, 1, 1)]


def test_seelam_keras_l2_is_coupled_decay_on_exactly_the_named_kernels():
    m = create_model("seelam_cnn")
    groups = {g["weight_decay"]: g["params"] for g in param_groups(m, 0.0)}
    assert sorted(groups) == [0.0, 2e-3, 2e-2]
    ids = {wd: {id(p) for p in ps} for wd, ps in groups.items()}
    assert ids[2e-3] == {id(m.features[0][0].weight)}
    assert ids[2e-2] == {id(m.features[i][0].weight) for i in (1, 2, 3)} | {id(m.classifier[1].weight)}
    assert id(m.features[0][0].bias) in ids[0.0] and id(m.classifier[4].weight) in ids[0.0]


def test_khaireddin_vgg_is_about_30m_parameters_on_40x40_crops():
    m = create_model("khaireddin_vgg").eval()
    assert 29_000_000 < count_params(m) < 31_000_000
    with torch.no_grad():
        assert m(torch.rand(2, 1, 40, 40)).shape == (2, 7)
        x = torch.rand(3, 1, 48, 48)
        # Evaluation on 48x48 = mean of the ten 40x40 crops' logits.
        crops = ten_crop(x, 40)
        assert torch.allclose(m(x), m(crops).view(10, 3, 7).mean(0), atol=1e-5)


def test_ten_crop_evaluation_is_mirror_invariant_so_its_hflip_tta_pass_is_skipped():
    """The premise of skipping khaireddin_vgg's hflip-TTA forward pass: the mirrored image gives the
    same ten crops (and the same centre + mirror pair), hence the same logits. The single view does not."""
    m = create_model("khaireddin_vgg").eval()
    x = torch.rand(4, 1, 48, 48)
    with torch.no_grad():
        for crops in (10, 2):
            m.eval_crops = crops
            assert m.mirror_invariant and torch.allclose(m(x), m(x.flip(-1)), atol=1e-5)
        m.eval_crops = 1
        assert not m.mirror_invariant and not torch.allclose(m(x), m(x.flip(-1)), atol=1e-5)


def test_two_crop_evaluation_averages_the_centre_crop_and_its_mirror():
    torch.manual_seed(0)
    model = create_model("khaireddin_vgg").eval()
    x = torch.rand(3, 1, 48, 48)
    centre = x[..., 4:44, 4:44]
    with torch.no_grad():
        expected = (model(centre) + model(centre.flip(-1))) / 2
        model.eval_crops = 2
        got = model(x)
        model.eval_crops = 10
        ten = model(x)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-7)
    assert not torch.equal(ten, got)


def test_crops():
    x = torch.arange(2 * 48 * 48, dtype=torch.float32).view(2, 1, 48, 48)
    c = ten_crop(x, 40)
    assert c.shape == (20, 1, 40, 40)
    # crop-major: crop k of image b is row k * B + b
    assert torch.equal(c[0], x[0, :, :40, :40]) and torch.equal(c[18], x[0, :, 4:44, 4:44].flip(-1))
    r = random_crop(x, 40, torch.Generator().manual_seed(0))
    assert r.shape == (2, 1, 40, 40)
    oy, ox = divmod(int(r[0, 0, 0, 0]), 48)
    assert torch.equal(r[0], x[0, :, oy:oy + 40, ox:ox + 40])


def test_pretrained_weights_from_a_file_adapt_the_rgb_stem_like_timm(tmp_path):
    import timm
    src = timm.create_model("resnet18", num_classes=1000)
    torch.save(src.state_dict(), tmp_path / "w.pth")
    m = create_timm("resnet18", 7, 1, pretrained=str(tmp_path / "w.pth"))
    assert m.pretrained_source == str(tmp_path / "w.pth")
    assert torch.allclose(m.conv1.weight, src.conv1.weight.sum(1, keepdim=True))
    assert torch.equal(m.layer1[0].conv1.weight, src.layer1[0].conv1.weight)
    assert m.fc.out_features == 7


def test_pretrained_unavailable_offline_falls_back_and_says_so(capsys, monkeypatch):
    monkeypatch.setattr("fer_bench.models.timm_models.cached_weights", lambda name: None)
    m = create_timm("resnet18", 7, 1, pretrained=True)
    assert m.pretrained_source is None
    assert "not in the local timm/HF cache" in capsys.readouterr().err


def test_pretrained_from_the_hf_cache(tmp_path, monkeypatch):
    import timm
    src = timm.create_model("resnet18", num_classes=1000)
    torch.save(src.state_dict(), tmp_path / "pytorch_model.bin")
    monkeypatch.setattr("fer_bench.models.timm_models.cached_weights",
                        lambda name: str(tmp_path / "pytorch_model.bin"))
    m = create_timm("resnet18", 7, 1, pretrained=True)
    assert m.pretrained_source.startswith("timm/HF cache")
    assert torch.allclose(m.conv1.weight, src.conv1.weight.sum(1, keepdim=True))


def test_recipes_only_select_on_validation():
    with pytest.raises(ValueError, match="not a validation metric"):
        Recipe(name="bad", optimizer="sgd", lr=0.1, epochs=1, batch_size=8, checkpoint_monitor="test/acc")
    for r in RECIPES.values():
        assert r.checkpoint_monitor.startswith("val/")


@pytest.mark.realdata
@pytest.mark.parametrize("name", [
    n if n in LIGHT else pytest.param(n, marks=pytest.mark.slow) for n in list_models() + ["timm:resnet18"]
])
def test_every_model_trains_two_real_epochs_with_its_recipe(name, real_data, tmp_path):
    rec = train(TrainConfig(model=name, data=str(real_data),
                            overrides=Overrides(epochs=2), limit_train=2000, limit_eval=300,
                            progress=False, workdir=str(tmp_path), out=str(tmp_path / "r.json")))
    losses = [c["train/loss"] for c in rec.curves]
    assert len(losses) == 2 and all(map(torch.isfinite, torch.tensor(losses)))
    assert losses[1] < losses[0], losses
    assert rec.recipe["name"] == get_card(name).recipe
    assert rec.metrics.test.n == 300
