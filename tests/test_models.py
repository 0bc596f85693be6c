import pytest
import torch

from fer_bench.errors import FerBenchError
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
