"""Schedules and evaluation modes that recipes select."""

import math

import torch

from fer_bench.leaderboard import time_to_accuracy
from fer_bench.models import create_model
from fer_bench.module import build_optimizers
from fer_bench.recipes import get_recipe


def test_onecycle_warms_up_to_the_recipe_lr_then_anneals_to_almost_zero():
    recipe = get_recipe("onecycle_vgg").to_dict()
    model = torch.nn.Linear(4, 2)
    conf = build_optimizers(model, recipe, total_steps=100)
    opt, sched = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
    assert conf["lr_scheduler"]["interval"] == "step"
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    peak = max(range(100), key=lrs.__getitem__)
    assert math.isclose(lrs[peak], recipe["lr"], rel_tol=1e-6)
    assert 15 <= peak <= 25                         # pct_start 0.2 of 100 steps
    assert math.isclose(lrs[0], recipe["lr"] / 25, rel_tol=1e-6)
    assert lrs[-1] < recipe["lr"] / 1000


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


def _curve(e, val, test):
    return {"epoch": e, "val/acc": val, "observed/test_acc": test, "elapsed_seconds": 60.0 * (e + 1)}


def test_time_to_accuracy_follows_the_validation_selection_not_the_test_peak():
    curves = [_curve(0, 0.50, 0.55), _curve(1, 0.58, 0.58),
              _curve(2, 0.57, 0.66),   # test peaks, but validation would keep epoch 1
              _curve(3, 0.58, 0.64),   # ties do not replace the selection (first best is kept)
              _curve(4, 0.61, 0.62), _curve(5, 0.63, 0.655)]
    hit60 = time_to_accuracy(curves, 0.60)
    assert hit60 == {"seconds": 300.0, "epoch": 4, "selected_epoch": 4, "test_acc": 0.62}
    hit65 = time_to_accuracy(curves, 0.65)
    assert hit65["epoch"] == 5 and hit65["seconds"] == 360.0
    assert time_to_accuracy(curves, 0.70) is None
    assert time_to_accuracy([{"epoch": 0, "val/acc": 0.5}], 0.1) is None   # not observed
