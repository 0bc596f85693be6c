"""The learning-rate schedules recipes select."""

import math

import torch

from fer_bench.recipes import get_recipe
from fer_bench.training.module import build_optimizers


def test_onecycle_warms_up_to_the_recipe_lr_then_anneals_to_almost_zero():
    recipe = get_recipe("onecycle_vgg")
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
    assert math.isclose(lrs[peak], recipe.lr, rel_tol=1e-6)
    assert 15 <= peak <= 25                         # pct_start 0.2 of 100 steps
    assert math.isclose(lrs[0], recipe.lr / 25, rel_tol=1e-6)
    assert lrs[-1] < recipe.lr / 1000
