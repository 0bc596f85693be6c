import pytest
import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.models import count_params, create_model, get_card, list_models


def test_seed002_parameter_count_matches_the_paper():
    m = create_model("majeed_cnn")
    assert count_params(m) == 8_779_047 == get_card("majeed_cnn").expected_params


def test_seed002_feature_maps_match_table_one():
    m = create_model("majeed_cnn").eval()
    shapes = []
    for layer in m.features:
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.MaxPool2d)):
            layer.register_forward_hook(lambda mod, i, o: shapes.append(tuple(o.shape[1:])))
    with torch.no_grad():
        out = m(torch.rand(2, 1, 48, 48))
    assert shapes == [(32, 48, 48), (32, 44, 44), (32, 22, 22), (64, 20, 20), (64, 10, 10),
                      (128, 10, 10), (128, 5, 5)]
    assert out.shape == (2, 7)


@pytest.mark.parametrize("name", list_models())
def test_every_model_maps_48x48_gray_to_7_logits(name):
    with torch.no_grad():
        assert create_model(name).eval()(torch.rand(3, 1, 48, 48)).shape == (3, 7)


def test_unknown_model_is_a_user_error():
    with pytest.raises(FerBenchError, match="unknown model"):
        create_model("nope")


@pytest.mark.parametrize("p", [0.25, 0.5, 0.6])
def test_fast_dropout_has_nn_dropouts_law(p):
    """Keep rate 1 - p (within 5 standard errors over 2M elements), kept values scaled by 1/(1-p), the gradient
    is the same mask, the four 16-bit lanes of one random draw are independent, eval is the identity."""
    from fer_bench.models.layers import Dropout
    torch.manual_seed(0)
    drop = Dropout(p).train()
    x = torch.ones(8, 64, 64, 64).contiguous(memory_format=torch.channels_last).requires_grad_()
    y = drop(x)
    kept = y.detach() != 0
    n = kept.numel()
    assert abs(kept.float().mean().item() - (1 - p)) < 5 * ((p * (1 - p) / n) ** 0.5)
    assert torch.allclose(y.detach()[kept], torch.tensor(1 / (1 - p)))
    assert y.is_contiguous(memory_format=torch.channels_last)
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())           # d(sum)/dx = mask * scale = y for x = 1
    lanes = kept.permute(0, 2, 3, 1).reshape(-1, 4).float()   # storage order: 4 lanes per 64-bit draw
    both = (lanes[:, 0] * lanes[:, 1]).mean().item()
    assert abs(both - (1 - p) ** 2) < 0.01
    assert torch.equal(drop.eval()(x), x)


def test_fast_dropout_is_reproducible_under_a_seed_and_differs_between_calls():
    from fer_bench.models.layers import Dropout
    drop = Dropout(0.5).train()
    x = torch.ones(1000)
    torch.manual_seed(1)
    a, b = drop(x), drop(x)
    torch.manual_seed(1)
    assert torch.equal(drop(x), a) and not torch.equal(a, b)


def test_model_costs_are_counted_once_then_read_from_the_cache(monkeypatch):
    """`fer-bench models` (#50 item 6): params and MACs come from a cache keyed on the builder's source."""
    from fer_bench.models import count_macs, count_params, create_model, model_costs, registry
    model = create_model("lenet5")
    assert model_costs("lenet5") == (count_params(model), count_macs(model))

    def no_build(*a, **k):
        raise AssertionError("the cached costs should not build the model")
    monkeypatch.setattr(registry, "create_model", no_build)
    assert model_costs("lenet5") == (count_params(model), count_macs(model))
