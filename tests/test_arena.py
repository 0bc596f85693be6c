"""The arena (issue #16): adapted backbones, the single-view protocol, the Pareto front and the
headline computed from hand-made records."""

import json
import re

import numpy as np
import pytest
import torch

from fer_bench.models import count_macs, create_model, get_card
from fer_bench.report import write_leaderboard
from fer_bench.report.arena import pareto_front
from fer_bench.runner.suite import load_suite
from tests.test_bench import fake_record

MODERN = ("resnet18_fer", "convnext_atto_fer", "efficientnet_b0_fer", "mobilenetv3_fer", "regnety_004_fer")


def test_pareto_front_on_hand_made_points():
    # (cost, accuracy): b dominates a (cheaper? no: same cost, more accurate); d is dominated by c.
    costs = [10, 10, 20, 30, 40, 5]
    accs = [0.50, 0.60, 0.65, 0.64, 0.70, 0.40]
    assert pareto_front(costs, accs) == [5, 1, 2, 4]
    assert pareto_front([1.0], [0.5]) == [0]
    assert pareto_front([1, 1], [0.5, 0.5]) == [0, 1]      # ties dominate neither


@pytest.mark.parametrize("name", MODERN)
def test_modern_backbones_are_adapted_to_48px(name):
    model = create_model(name).eval()
    feats = {}
    last = list(model.children())
    # The last stage must see more than 1x1 at 48x48 (the point of the adaptation).
    hook_on = {"resnet18_fer": "layer4", "convnext_atto_fer": "stages", "efficientnet_b0_fer": "blocks",
               "mobilenetv3_fer": "blocks", "regnety_004_fer": "s4"}[name]
    getattr(model, hook_on).register_forward_hook(lambda m, i, o: feats.setdefault("x", o))
    with torch.no_grad():
        out = model(torch.rand(2, 1, 48, 48))
    assert out.shape == (2, 7) and last
    assert feats["x"].shape[-1] == 3 and feats["x"].shape[-2] == 3
    card = get_card(name)
    assert card.recipe == "arena" and card.year and "instead of" in card.interpretation[0]


def test_single_view_counts_one_crop_for_ten_crop_models():
    from fer_bench.training.scoring import eval_view_model
    ten = count_macs(create_model("khaireddin_vgg"))
    one = count_macs(eval_view_model("khaireddin_vgg", 7, "single"))
    assert ten == 10 * one
    model = eval_view_model("khaireddin_vgg", 7, "single").eval()
    x = torch.rand(3, 1, 48, 48)
    with torch.no_grad():
        assert torch.equal(model(x), model.forward_crops(x[..., 4:44, 4:44]))


def test_arena_suite_is_one_recipe_one_budget_every_architecture():
    suite = load_suite("benchmarks/arena.yaml")
    models = {c.model for c in suite.cells}
    assert {c.recipe for c in suite.cells} == {"arena"} and len(models) >= 13
    assert set(MODERN) <= models and {c.seed for c in suite.cells} == {0, 1, 2}
    from fer_bench.recipes import get_recipe
    r = get_recipe("arena")
    assert r.epochs >= 12 and r.eval_protocol == "single" and r.schedule.name == "onecycle"


def test_headline_is_computed_from_the_records(tmp_path):
    """Three models x 2 seeds with known predictions: the winner (best val), the p-values, the
    cheapest model within a point of it and the Pareto front all follow from the records."""
    labels = np.arange(200) % 7
    runs = tmp_path / "a" / "runs"
    runs.mkdir(parents=True)
    # model: (number right per seed, val acc, MACs, latency)
    spec = {"big": ((150, 152), 0.70, 900e6, 9.0), "small": ((149, 151), 0.69, 100e6, 2.0),
            "tiny": ((100, 102), 0.50, 1e6, 0.5)}
    for model, (rights, val, macs, lat) in spec.items():
        for seed, n_right in enumerate(rights):
            preds = labels.copy()
            preds[n_right:] = (labels[n_right:] + 1) % 7
            rec = fake_record(model, seed, labels, preds, val_acc=val)
            rec["run_id"] = f"{model}__arena__s{seed}"
            rec["recipe"]["name"] = "arena"
            rec["model"]["macs"] = macs
            rec["timing"]["latency_ms_batch1"] = lat
            rec["curves"][0]["elapsed_seconds"] = 60.0 * macs / 1e8 * (1 + seed)   # big: 9 and 18 minutes
            (runs / f"{rec['run_id']}.json").write_text(json.dumps(rec))
    write_leaderboard(tmp_path / "a", "a", {"headline": {"kind": "arena", "seeds": 2}})
    md = (tmp_path / "a" / "LEADERBOARD.md").read_text()
    head = re.sub(r" +", " ", md.split("## Headline")[1].split("## Leaderboard")[0])  # tabulate pads columns
    assert "| 1 | **big** (winner) |" in head and "| 75.50 ± " in head
    # small is 0.5 points behind big with identical errors on the first 149 images: not significant.
    assert "the cheapest architecture within 1 point of the winner is **small**" in head
    assert "(75.00% at 100.0 against 900.0, 9.0x less)" in head
    assert "Pareto front (cheapest to most accurate): tiny, small, big." in head
    assert "not a significant difference" in head
    # budget line: mean training minutes per seed, hours recorded, hours for all rows at 2 seeds
    assert "tiny 0, small 2, big 14." in head and "Recorded so far: 0.5 hours" in head
    assert "these 3 rows at 2 seeds each: 0.5 hours" in head
    assert (tmp_path / "a" / "plots" / "accuracy_vs_cost.png").is_file()
    assert (tmp_path / "a" / "plots" / "accuracy_vs_cost.svg").is_file()
    assert "Pending" not in head
    # the suite plans a fourth architecture that has no record yet: the headline names it as pending
    write_leaderboard(tmp_path / "a", "a", {"headline": {"kind": "arena", "seeds": 2}},
                      planned=["big", "small", "tiny", "huge", "big"])
    head = (tmp_path / "a" / "LEADERBOARD.md").read_text().split("## Leaderboard")[0]
    assert "Pending: huge (1 of the suite's 4 architectures) has no record yet." in head


def test_headline_costs_come_from_one_idle_measurement_when_it_covers_every_row(tmp_path):
    """The records' latencies were taken beside other work; results/perf/arena_budget.json measured every
    row in one run on one idle machine, so the headline uses it and says so, naming the machine the rows were
    trained on when it is another. A measurement missing a row is not used."""
    labels = np.arange(70) % 7
    runs = tmp_path / "a" / "runs"
    runs.mkdir(parents=True)
    for model, right, val in (("lenet5", 60, 0.7), ("seelam_cnn", 50, 0.6)):
        preds = labels.copy()
        preds[right:] = (labels[right:] + 1) % 7
        rec = fake_record(model, 0, labels, preds, val_acc=val)
        rec["timing"]["latency_ms_batch1"] = 99.0                       # measured under load
        (runs / f"{model}__arena__s0.json").write_text(json.dumps(rec))
    perf = tmp_path / "perf"
    perf.mkdir()
    budget = {"measured": "2026-11-25T15:31:00+00:00", "command": "python benchmarks/perf/arena_budget.py",
              "hardware": "cpu", "precision": "32-true", "batch": 128,
              "models": {"lenet5": {"train_images_per_second": 3505.0, "latency_ms_batch1": 0.64},
                         "seelam_cnn": {"train_images_per_second": 366.0, "latency_ms_batch1": 1.62}}}

    def table(budget):
        (perf / "arena_budget.json").write_text(json.dumps(budget))
        md = write_leaderboard(tmp_path / "a", "a", {"headline": {"kind": "arena", "seeds": 1}}).read_text()
        head = re.sub(r" +", " ", md.split("## Headline")[1].split("## Leaderboard")[0])
        return head, md.split("## Leaderboard")[1]

    head, wide = table(budget)
    assert "| **lenet5** (winner) |" in head and "| 0.64 | 3,505 |" in head and "| 1.62 | 366 |" in head
    assert "one measurement of every architecture on an idle cpu (2026-11-25" in head
    assert "| 99.00 |" in wide                                          # the wide table keeps the records'
    assert "trained on another machine" not in head
    head, _ = table({**budget, "hardware": "another cpu"})
    assert "| 0.64 | 3,505 |" in head and "idle another cpu" in head
    assert "some rows were trained on another machine (cpu)" in head
    # rows trained on two machines: the idle costs still apply; the hardware column and the budget caveat say so
    seelam = json.loads((runs / "seelam_cnn__arena__s0.json").read_text())
    seelam["environment"]["hardware"]["cpu"] = "cpu2"
    (runs / "seelam_cnn__arena__s0.json").write_text(json.dumps(seelam))
    head, _ = table(budget)
    assert "| 1.62 | 366 |" in head and "trained on different machines (cpu; cpu2" in head
    assert "Cost columns come from the records' own" not in head      # they do not: the idle file gives them
    head, _ = table({**budget, "models": {"lenet5": budget["models"]["lenet5"]}})
    assert "| 99.00 |" in head and "idle" not in head
    # a row whose seeds ran on two machines names both, in its hardware column and in the header
    lenet_s1 = json.loads((runs / "lenet5__arena__s0.json").read_text())
    lenet_s1["config"]["seed"] = 1
    lenet_s1["environment"]["hardware"]["cpu"] = "cpu3"
    (runs / "lenet5__arena__s1.json").write_text(json.dumps(lenet_s1))
    head, _ = table(budget)
    md = (tmp_path / "a" / "LEADERBOARD.md").read_text()
    assert re.search(r"\| \*\*lenet5\*\* \(winner\) \|.*\| cpu; cpu3 \|", head)
    assert "- **Hardware:** cpu, 2 cores; cpu2, 2 cores; cpu3, 2 cores;" in md


def test_a_ten_crop_run_records_its_single_view_too(tmp_path):
    """#48: the speedrun's headline was a ten-crop number with no single-view accuracy recorded beside it."""
    from fer_bench.core.overrides import Overrides
    from fer_bench.training.train import TrainConfig, train

    from .conftest import tiny_images, write_csv
    data = write_csv(tmp_path / "fer.csv", *tiny_images(4))
    rec = train(TrainConfig(model="speedrun_vgg", recipe="speedrun", data=str(data), overrides=Overrides(epochs=1),
                            progress=False, workdir=str(tmp_path / "w"), out=str(tmp_path / "r.json")))
    single = rec.metrics.test_single
    assert rec.recipe["eval_protocol"] == "native" and single is not None
    assert single.extra["protocol"] == "single centre view" and 0 <= single.accuracy <= 1
    assert rec.metrics.test_native is None
    from fer_bench.core.record import RunRecord
    assert RunRecord.decode(rec.encode()).metrics.test_single.accuracy == single.accuracy
