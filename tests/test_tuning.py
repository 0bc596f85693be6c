"""Arena v2's equal tuning budget: parameter groups, the search space, and the Optuna studies (same trials and
budget for every architecture, resumable after a crash, PrivateTest never read)."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest
import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.data.datamodule import FERDataModule
from fer_bench.models import create_model
from fer_bench.runner.suite import load_suite
from fer_bench.runner.tune import best_trial, final_cells, trial_records, tune_model
from fer_bench.training.module import param_groups

from .conftest import tiny_images, write_csv

SPACE = """
tuning:
  trials: 3
  startup_trials: 2
  epochs: 2
  limit_train: 140
  space:
    optimizer: [sgd, adamw]
    lr: {sgd: [0.004, 0.4], adamw: [0.0002, 0.02]}
    weight_decay: {sgd: [0.00001, 0.001], adamw: [0.005, 0.5]}
    label_smoothing: [0.0, 0.2]
"""


@pytest.mark.parametrize("model", ["majeed_cnn", "khaireddin_vgg", "resnet18_fer", "convnext_atto_fer",
                                   "efficientnet_b0_fer", "regnety_004_fer"])
def test_no_weight_decay_on_norms_biases_and_layer_scales(model):
    """timm's convention for every family: a paper CNN, VGG, ResNet, ConvNeXt (layer-scale gamma),
    EfficientNet and RegNet (squeeze-excite biases). Conv and linear kernels keep the decay."""
    m = create_model(model)
    groups = param_groups(m, 5e-4)
    decay = {id(p): g["weight_decay"] for g in groups for p in g["params"]}
    named = dict(m.named_parameters())
    assert len(decay) == len(named)
    for name, p in named.items():
        assert decay[id(p)] == (0.0 if p.ndim <= 1 else 5e-4), name
    if model == "convnext_atto_fer":
        gammas = [n for n in named if n.endswith("gamma")]
        assert gammas and all(decay[id(named[n])] == 0.0 for n in gammas)


def _suite(tmp_path: Path, models: tuple[str, ...], extra: str = SPACE) -> Path:
    cells = "\n".join(f"  - {{model: {m}, recipe: arena_tuned}}" for m in models)
    path = tmp_path / "tuned.yaml"
    path.write_text(f"name: tuned\nseeds: [0]\ndata: {{limit_eval: 70}}\n{extra}\ncells:\n{cells}\n")
    return path


@pytest.mark.parametrize("old, new, says", [
    ("trials: 3", "trials: 0", "tuning.trials = 0"),
    ("trials: 3", "trails: 3", "did you mean 'trials'"),
    ("optimizer: [sgd, adamw]", "optimizer: [sgd, lion]", "tuning.space.optimizer"),
    ("label_smoothing: [0.0, 0.2]", "label_smoothing: [0.2, 0.1]", "tuning.space.label_smoothing"),
])
def test_a_bad_tuning_block_is_one_line_naming_the_key(tmp_path, old, new, says):
    text = SPACE.replace(old, new)
    with pytest.raises(FerBenchError, match=says.replace("(", r"\(")):
        load_suite(_suite(tmp_path, ("lenet5",), text))


def test_equal_budget_for_every_architecture_and_privatetest_is_never_read(tmp_path, monkeypatch):
    data = write_csv(tmp_path / "fer.csv", *tiny_images(30))
    suite = load_suite(_suite(tmp_path, ("lenet5", "majeed_cnn")))

    def no_test(self):
        raise AssertionError("tuning read PrivateTest")
    monkeypatch.setattr(FERDataModule, "test_dataloader", no_test)
    monkeypatch.setattr(L.LightningModule, "test_step", lambda *a, **k: no_test(None), raising=False)
    results = str(tmp_path / "results")
    for model in suite.models:
        assert tune_model(suite, model, "arena_tuned", str(data), results, progress=False) == 3
        assert tune_model(suite, model, "arena_tuned", str(data), results, progress=False) == 0  # complete
    recs = {m: trial_records(suite, m, results) for m in suite.models}
    assert [len(r) for r in recs.values()] == [3, 3]
    budgets = {json.dumps(t["budget"], sort_keys=True) for r in recs.values() for t in r}
    assert budgets == {json.dumps({"epochs": 2, "seed": 0, "train_images": 140}, sort_keys=True)}
    assert all(len(t["curves"]) == 2 and "test" not in json.dumps(t["curves"]) for r in recs.values() for t in r)
    # The random start is the same configurations for every architecture (the sampler is seeded alike).
    assert [t["overrides"] for t in recs["lenet5"][:2]] == [t["overrides"] for t in recs["majeed_cnn"][:2]]
    # Selection: the highest PublicTest score; the final cells carry that configuration.
    best = best_trial(suite, "lenet5", results)
    assert best["value"] == max(t["value"] for t in recs["lenet5"])
    cell = final_cells(suite, results, ["lenet5"])[0]
    assert dict(cell.overrides) == best["overrides"] and cell.label == "tuned"


def test_a_crashed_trial_resumes_with_its_configuration_from_its_checkpoint(tmp_path, monkeypatch):
    import fer_bench.training.train as train_mod
    data = write_csv(tmp_path / "fer.csv", *tiny_images(30))
    suite = load_suite(_suite(tmp_path, ("lenet5",)))
    results = str(tmp_path / "results")
    real_build = train_mod.build

    class Crash(L.Callback):
        def on_train_epoch_start(self, trainer, pl_module):   # epoch 2: epoch 1's checkpoints are written
            if trainer.current_epoch == 1:
                raise RuntimeError("machine went away")

    def crashing_build(cfg):
        run = real_build(cfg)
        run.callbacks.append(Crash())
        return run
    monkeypatch.setattr(train_mod, "build", crashing_build)
    with pytest.raises(RuntimeError, match="went away"):
        tune_model(suite, "lenet5", "arena_tuned", str(data), results, progress=False)
    assert trial_records(suite, "lenet5", results) == []
    monkeypatch.setattr(train_mod, "build", real_build)
    # A fresh process on a fresh storage would refill from records; here the same storage resumes the trial.
    assert tune_model(suite, "lenet5", "arena_tuned", str(data), results, progress=False) == 3
    recs = trial_records(suite, "lenet5", results)
    first = next(r for r in recs if "__t000__" in r["name"])
    assert len(recs) == 3 and first["resumed_from_epoch"] == 1 and len(first["curves"]) == 2
    assert torch.isfinite(torch.tensor(first["value"])) and sum(r["resumed_from_epoch"] is None for r in recs) == 2


def test_a_lost_storage_is_refilled_from_the_trial_records(tmp_path):
    data = write_csv(tmp_path / "fer.csv", *tiny_images(30))
    suite = load_suite(_suite(tmp_path, ("lenet5",)))
    results = tmp_path / "results"
    assert tune_model(suite, "lenet5", "arena_tuned", str(data), str(results), progress=False) == 3
    (results / "tuned" / "optuna.sqlite3").unlink()
    assert tune_model(suite, "lenet5", "arena_tuned", str(data), str(results), progress=False) == 0
    from fer_bench.runner.tune import open_study
    assert len(open_study(suite, "lenet5", str(results)).trials) == 3


def test_a_tuned_suite_runs_its_finals_and_its_leaderboard_ranks_them_beside_the_reference(tmp_path):
    """Study, then the final cells with the selected configuration, then the tuned ranking, which puts each
    row beside the same architecture of the reference (shared-recipe) suite."""
    from fer_bench.cli import main
    data = write_csv(tmp_path / "fer.csv", *tiny_images(12))
    path = _suite(tmp_path, ("lenet5",), SPACE + "tables:\n  headline: {kind: arena, seeds: 1}\n"
                  "  tuned: {kind: tuned, reference: shared}\n")
    shared = tmp_path / "shared.yaml"
    shared.write_text("name: shared\nseeds: [0]\ndata: {limit_eval: 70}\ncells:\n"
                      "  - {model: lenet5, recipe: arena, overrides: {epochs: 2}}\n")
    results = tmp_path / "results"
    common = ["--data", str(data), "--results", str(results), "--no-wandb", "--no-progress"]
    assert main(["bench", str(shared), *common]) == 0
    assert main(["bench", str(path), *common]) == 0
    runs = sorted((results / "tuned" / "runs").glob("*.json"))
    best = best_trial(load_suite(path), "lenet5", str(results))
    assert len(runs) == 1 and all(f"{k}={v}" in runs[0].name for k, v in best["overrides"].items())
    md = (results / "tuned" / "LEADERBOARD.md").read_text()
    assert "## Tuned ranking (arena v2)" in md and "(plots/learning_curves.png)" in md
    row = next(line for line in md.split("## Tuned ranking (arena v2)")[1].splitlines() if line.startswith("| 1 | "))
    assert f"{best['overrides']['optimizer']} lr {best['overrides']['lr']:g}" in row and "| 3 |" in row
    assert (results / "tuned" / "plots" / "learning_curves.png").is_file()


def test_tiers_on_a_hand_computed_example():
    """Seed accuracies of four rows, best first. Welch's t between A and B by hand: means .70 and .66, sample
    variances 1e-4 each, se = sqrt(1e-4/3 + 1e-4/3) = .008165, t = 4.899 on 4 df -> p = .0080 < .05: a new
    tier. B and C: identical samples, p = 1: same tier. C and D: D has one seed, no test: same tier."""
    from fer_bench.core.stats import tiers
    tier, p = tiers([[0.69, 0.70, 0.71], [0.65, 0.66, 0.67], [0.65, 0.66, 0.67], [0.60]])
    assert tier == [1, 2, 2, 2]
    assert p[0] is None and p[1] == pytest.approx(0.0080, abs=2e-4) and p[2] == 1.0 and p[3] is None


def test_rank_intervals_separate_clear_gaps_and_overlap_ties():
    import numpy as np

    from fer_bench.core.stats import rank_intervals
    rng = np.random.default_rng(0)
    base = rng.random((3, 2000))
    rows = [base < 0.70, base < 0.70, base < 0.50]     # two identical rows, one far below
    iv = rank_intervals(rows, reps=300)
    assert iv[2] == (3, 3) and iv[0][0] == 1 and iv[0][1] == 2
