"""The runner: resumable after kill -9, one W&B offline run per cell, leaderboard = records."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.core.record import (
    DataInfo,
    Metrics,
    ModelInfo,
    RunRecord,
    Selection,
    SplitMetrics,
    Timing,
    encode_probs,
)
from fer_bench.core.stats import mcnemar_p, mean_std_ci
from fer_bench.report import claim_verdict, time_to_accuracy, write_leaderboard
from fer_bench.runner.run import run_suite
from fer_bench.runner.suite import load_suite

REPO = Path(__file__).resolve().parents[1]

SUITE = """
name: tiny
seeds: [0]
data: {limit_train: 400, limit_eval: 200}
defaults: {epochs: 2}
cells:
  - model: lenet5
  - model: seelam_cnn
  - model: majeed_cnn
"""


def write_suite(tmp_path: Path, text: str = SUITE) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(text)
    return p


def records(results: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((results / "tiny" / "runs").glob("*.json"))}


@pytest.mark.realdata
def test_killed_suite_resumes_to_the_same_records(real_data, tmp_path):
    suite_file = write_suite(tmp_path)
    # Uninterrupted reference.
    ref_dir = tmp_path / "ref"
    run_suite(load_suite(suite_file), data=str(real_data), results=str(ref_dir), use_wandb=False, progress=False)
    ref = records(ref_dir)
    assert len(ref) == 3 and all(r["status"] == "finished" for r in ref.values())

    # kill -9 in the middle of the second cell, after its first epoch checkpoint.
    out = tmp_path / "killed"
    env = {**os.environ, "FER_BENCH_DATA": str(real_data)}
    proc = subprocess.Popen([sys.executable, "-m", "fer_bench.cli", "bench", str(suite_file), "--results",
                             str(out), "--no-wandb", "--no-progress", "--natural", "none"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    second = None
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        done = list((out / "tiny" / "runs").glob("*.json"))
        # A cell in flight: its checkpoint exists and its record does not (the finished first
        # cell's checkpoints are removed a moment after its record is written).
        lasts = [p for p in (out / "tiny" / "checkpoints").glob("*/last.ckpt")
                 if not (out / "tiny" / "runs" / f"{p.parent.name}.json").exists()]
        if len(done) == 1 and lasts:
            second = lasts[0].parent.name
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert second is not None, "the run never reached its second cell"
    assert len(list((out / "tiny" / "runs").glob("*.json"))) == 1

    counts = run_suite(load_suite(suite_file), data=str(real_data), results=str(out), use_wandb=False,
                       progress=False)
    assert counts == {"cells": 3, "already_done": 1, "finished": 2, "failed": 0}
    got = records(out)
    assert sorted(got) == sorted(ref)
    assert not list((out / "tiny" / "runs").glob(".*"))      # no partial files left
    assert got[f"{second}.json"]["selection"]["resumed_from_epoch"] == 1
    # Resuming restores weights, optimiser, sampler epoch, augmentation and RNG streams:
    # the resumed cell ends exactly where the uninterrupted one did.
    for name in ref:
        assert got[name]["metrics"] == ref[name]["metrics"], name
    # A third run has nothing left to do.
    again = run_suite(load_suite(suite_file), data=str(real_data), results=str(out), use_wandb=False)
    assert again["finished"] == 0 and again["already_done"] == 3


@pytest.mark.realdata
def test_every_cell_has_an_offline_wandb_run_with_its_metrics(real_data, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    suite_file = write_suite(tmp_path, SUITE.replace("  - model: seelam_cnn\n  - model: majeed_cnn\n",
                                                     "  - model: seelam_cnn\n"))
    run_suite(load_suite(suite_file), data=str(real_data), results=str(tmp_path), progress=False)
    runs = sorted((tmp_path / "tiny" / "wandb").glob("offline-run-*"))
    assert len(runs) == 2
    for r in runs:
        blob = next(r.glob("run-*.wandb")).read_bytes()
        for key in (b"train/loss", b"val/acc", b"test/acc", b"confusion_matrix"):
            assert key in blob, (r, key)
    assert (tmp_path / "tiny" / "LEADERBOARD.md").exists() is False  # run_suite alone writes no leaderboard


@pytest.mark.realdata
def test_a_diverging_cell_is_recorded_as_failed_and_the_suite_goes_on(real_data, tmp_path):
    suite_file = write_suite(tmp_path, """
name: tiny
seeds: [0]
data: {limit_train: 300, limit_eval: 100}
defaults: {epochs: 2}
cells:
  - model: lenet5
    overrides: {lr: 1.0e+8}
  - model: lenet5
""")
    counts = run_suite(load_suite(suite_file), data=str(real_data), results=str(tmp_path), use_wandb=False,
                       progress=False)
    assert counts["failed"] == 1 and counts["finished"] == 1
    recs = records(tmp_path)
    failed = [r for r in recs.values() if r["status"] == "failed"]
    assert len(failed) == 1 and "diverged" in failed[0]["reason"]
    md = write_leaderboard(tmp_path / "tiny", "tiny").read_text()
    assert "## Failed cells" in md and "diverged" in md


def test_bad_suite_files_name_the_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncells:\n  - model: nope\n")
    with pytest.raises(FerBenchError, match=r"cells\[0\].*unknown model 'nope'"):
        load_suite(bad)
    bad.write_text("name: x\ncells:\n  - model: lenet5\n    overrides: {epochs: many}\n")
    with pytest.raises(FerBenchError, match="epochs"):
        load_suite(bad)
    with pytest.raises(FerBenchError, match="no such suite"):
        load_suite(tmp_path / "missing.yaml")
    for entry, error in [("model: lenet5", r"not_run\[0\]: each entry needs exactly a model and a why"),
                         ("{model: nope, why: GPU}", r"not_run\[0\]: unknown model 'nope'"),
                         ("{model: lenet5, why: GPU}", "lenet5 is both in cells and in not_run")]:
        bad.write_text(f"name: x\ncells:\n  - model: lenet5\nnot_run:\n  - {entry}\n")
        with pytest.raises(FerBenchError, match=error):
            load_suite(bad)


def test_shards_partition_the_suite(tmp_path):
    s = load_suite(REPO / "benchmarks" / "paper-repro.yaml")
    parts = [s.shard(f"{i}/4") for i in range(4)]
    keys = [c.key for p in parts for c in p]
    assert sorted(keys) == sorted(c.key for c in s.cells) and len(set(keys)) == len(keys)
    with pytest.raises(FerBenchError, match="shard"):
        s.shard("4/4")


def test_only_selects_cells_by_key_glob():
    s = load_suite(REPO / "benchmarks" / "best.yaml")
    keys = [c.key for c in s.shard(None, "*onecycle_vgg_light*")]
    assert keys == [f"khaireddin_vgg__onecycle_vgg_light__s{i}" for i in (0, 1, 2)]
    assert [c.key for c in s.shard("0/2", "*__s1")] == ["khaireddin_vgg__onecycle_vgg_light__s1"]
    assert s.shard("1/2", "*__s1") == []   # --only filters first, then --shard slices what is left
    with pytest.raises(FerBenchError, match="--only 'nope' matches no cell"):
        s.shard(None, "nope")


# ---------------------------------------------------------------- leaderboard = hand computation

def fake_record(model: str, seed: int, labels: np.ndarray, preds: np.ndarray, val_acc: float) -> dict:
    """A finished run record (the type `train` writes) with hand-made predictions, as JSON."""
    classes = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    probs = torch.full((len(labels), 7), 0.01)
    probs[torch.arange(len(labels)), torch.tensor(preds)] = 0.94
    acc = float((labels == preds).mean())
    per_class = {c: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 1} for c in classes}
    conf = np.zeros((7, 7), int)
    np.add.at(conf, (labels, preds), 1)
    return RunRecord(
        run_id=f"{model}__r__s{seed}", created="2026-11-22T00:00:00+00:00", command="fer-bench test",
        meta={"label": ""}, model=ModelInfo(name=model, params=1000, macs=2_000_000),
        recipe={"name": "r", "epochs": 3}, config={"seed": seed, "precision": "bf16-mixed"},
        data=DataInfo(path="x", options={}, info={"format": "csv", "labels": "FER-2013 emotion"}, classes=classes,
                      sizes={"train": 10, "val": 10, "test": len(labels)}),
        selection=Selection(monitor="val/acc", best_score=val_acc, best_epoch=2, epochs_run=3, stopped_early=False),
        metrics=Metrics(val=SplitMetrics(val_acc, val_acc / 2),
                        test=SplitMetrics(acc, acc / 2, len(labels), per_class, conf.tolist()),
                        test_tta={"hflip": SplitMetrics(acc, acc / 2)}),
        test_labels=labels.tolist(), test_predictions=preds.tolist(), test_probs=encode_probs(probs),
        curves=[{"epoch": 0, "train/loss": 1.0, "val/loss": 1.0, "val/acc": val_acc}],
        timing=Timing(wall_seconds=70.0 * (seed + 1), fit_seconds=60.0 * (seed + 1), test_eval_seconds=1.0,
                      train_images_per_second=100.0 + seed, test_images_per_second=500.0, latency_ms_batch1=1.0),
        environment={"python": "3.11", "packages": {"torch": "2.14.1"},
                     "hardware": {"cpu": "cpu", "cpu_cores": 2, "cuda": []}},
    ).encode()


def test_leaderboard_numbers_match_a_hand_computation(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, 40)
    runs = tmp_path / "s" / "runs"
    runs.mkdir(parents=True)
    accs = {"a": [], "b": []}
    preds_of = {}
    for seed, (n_a, n_b) in enumerate([(30, 20), (28, 22), (32, 21)]):
        for model, n_right in (("a", n_a), ("b", n_b)):
            preds = labels.copy()
            wrong = rng.choice(40, 40 - n_right, replace=False)
            preds[wrong] = (labels[wrong] + 1) % 7
            preds_of[(model, seed)] = preds
            accs[model].append(n_right / 40)
            rec = fake_record(model, seed, labels, preds, val_acc=0.6 if model == "a" else 0.5)
            (runs / f"{model}__r__s{seed}.json").write_text(json.dumps(rec))
    write_leaderboard(tmp_path / "s", "s")
    import csv
    rows = {r["model"]: r for r in csv.DictReader((tmp_path / "s" / "leaderboard.csv").open())}

    a = np.array(accs["a"])
    assert math.isclose(float(rows["a"]["test_acc"]), a.mean(), rel_tol=1e-9)
    assert math.isclose(float(rows["a"]["test_acc_std"]), a.std(ddof=1), rel_tol=1e-9)
    assert math.isclose(float(rows["a"]["test_acc_ci95"]), 4.302653 * a.std(ddof=1) / math.sqrt(3), rel_tol=1e-6)
    # McNemar of b against the reference a (best val), discordant pairs pooled over seeds.
    b_cnt = c_cnt = 0
    for seed in range(3):
        ra = preds_of[("a", seed)] == labels
        rb = preds_of[("b", seed)] == labels
        b_cnt += int((ra & ~rb).sum())
        c_cnt += int((~ra & rb).sum())
    n, k = b_cnt + c_cnt, min(b_cnt, c_cnt)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)
    assert math.isclose(float(rows["b"]["p_vs_ref"]), p, rel_tol=1e-9)
    assert rows["a"]["p_vs_ref"] == ""
    md = (tmp_path / "s" / "LEADERBOARD.md").read_text()
    # One ± convention (#48): mean ± 95% CI half-width; the standard deviation only in its own sd column.
    ci = 4.302653 * a.std(ddof=1) / math.sqrt(3)
    assert f"{100 * a.mean():.2f} ± {100 * ci:.2f} | {100 * a.std(ddof=1):.2f} |" in md
    assert f"{100 * a.mean():.2f} ± {100 * a.std(ddof=1):.2f}" not in md
    # Ensemble of a's seeds: majority of one-hot-ish softmaxes.
    votes = np.zeros((40, 7))
    for seed in range(3):
        votes[np.arange(40), preds_of[("a", seed)]] += 1
    ens = (votes.argmax(1) == labels).mean()
    assert f"test accuracy {100 * ens:.2f}%" in md
    assert (tmp_path / "s" / "plots" / "confusion_a__r.png").exists()

    # A second suite compared against this one: its reference row minus each row, McNemar on matched seeds.
    best = tmp_path / "best" / "runs"
    best.mkdir(parents=True)
    for seed in range(2):
        (best / f"z__r__s{seed}.json").write_text(json.dumps(fake_record("z", seed, labels, labels, val_acc=0.9)))
    write_leaderboard(tmp_path / "best", "best", {"papers": {"kind": "comparison", "title": "Against s", "suite": "s"}})
    md = (tmp_path / "best" / "LEADERBOARD.md").read_text()
    wrong_a = sum(int((preds_of[("a", seed)] != labels).sum()) for seed in range(2))  # z is always right
    assert f"| a | r | {100 * a.mean():.2f} ± {100 * ci:.2f} | 3 | {100 * (1 - a.mean()):+.2f} | " \
        f"{mcnemar_p(wrong_a, 0):.3g} |" in md                                 # ± is the 95% CI here too
    assert "above 2 of 2 rows" in md


def test_claims_are_audited_only_on_their_papers_recipe(tmp_path):
    labels = np.arange(100) % 7
    runs = tmp_path / "c" / "runs"
    runs.mkdir(parents=True)
    for seed, n_right in enumerate((60, 62)):
        preds = labels.copy()
        preds[n_right:] = (labels[n_right:] + 1) % 7
        for recipe in ("majeed_sgd", "other"):
            rec = fake_record("majeed_cnn", seed, labels, preds, val_acc=0.5)
            rec["recipe"]["name"] = recipe
            rec["run_id"] = f"majeed_cnn__{recipe}__s{seed}"
            (runs / f"{rec['run_id']}.json").write_text(json.dumps(rec))
    write_leaderboard(tmp_path / "c", "c")
    audit = (tmp_path / "c" / "LEADERBOARD.md").read_text().split("## Claims audit")[1].split("##")[0]
    # majeed_cnn claims 72.92% on PrivateTest; both seeds are > 1 point below it.
    assert audit.count("| majeed_cnn | 72.92%") == 1 and "-11.9 points" in audit
    # The fake records' budget (see fake_record) is below the claim's 76 epochs.
    assert "**untested at budget (ran " in audit and "of 76 epochs)**" in audit
    assert "khaireddin_vgg" not in audit

    # A paper model the suite leaves out on purpose keeps its claim row, untested, with the suite's reason.
    write_leaderboard(tmp_path / "c", "c", not_run={"khaireddin_vgg": "GPU work"})
    audit = (tmp_path / "c" / "LEADERBOARD.md").read_text().split("## Claims audit")[1].split("##")[0]
    assert ("| khaireddin_vgg | 73.28% accuracy | FER-2013 PrivateTest | not run in this suite | "
            "**untested at budget (ran 0 of 300 epochs)** | GPU work; their code selects") in audit


def test_the_paper_budget_suite_lists_khaireddin_as_not_run():
    suite = load_suite(REPO / "benchmarks" / "paper-budget.yaml")
    assert set(suite.not_run) == {"khaireddin_vgg"} and "GPU" in suite.not_run["khaireddin_vgg"]


@pytest.mark.parametrize("seeds, budget, verdict", [
    # claim 72.92%, margin 1 point -> the line is 71.92%; 95% CI of the seed mean by hand (t 4.303 on 2 df)
    ([0.60, 0.61, 0.62], 76, "not reproduced"),     # 61.00 ± 2.48: wholly below the line
    ([0.73, 0.735, 0.74], 76, "reproduced"),        # 73.50 ± 1.24: lower end 72.26, above the line
    ([0.70, 0.72, 0.74], 80, "inconclusive"),       # 72.00 ± 4.97: straddles it
    ([0.60, 0.62], 76, "inconclusive"),             # 61.00 ± 12.71 (t 12.706 on 1 df): 2 seeds barely say anything
    ([0.75], 76, "inconclusive (1 seed)"),          # one seed: no interval, never a verdict either way
    ([0.60, 0.61, 0.62], 8, "untested at budget (ran 8 of 76 epochs)"),
    ([0.75, 0.76, 0.77], 8, "untested at budget (ran 8 of 76 epochs)"),  # a short run cannot confirm either
])
def test_claim_verdicts_use_the_ci_of_the_seed_mean_and_the_budget(seeds, budget, verdict):
    assert claim_verdict(0.7292, seeds, budget, 76) == verdict
    if budget >= 76:
        assert claim_verdict(0.7292, seeds) == verdict          # no stated budget: judged on the numbers


def test_a_claim_on_other_data_or_another_split_is_not_comparable():
    for why in ("other split: the paper's own validation split", "other data: the paper's own 396 photos"):
        assert claim_verdict(0.66, [0.70, 0.71, 0.72], 300, 239, why) == f"not comparable ({why})"


def test_a_claim_on_publictest_plus_privatetest_is_scored_there():
    """bodapati_cnn's paper scored both test splits together: the two confusion matrices are summed."""
    from types import SimpleNamespace

    from fer_bench.report.claims import split_score
    val = SimpleNamespace(confusion=[[3, 1], [0, 4]], accuracy=7 / 8)      # 7 of 8
    test = SimpleNamespace(confusion=[[2, 2], [1, 5]], accuracy=7 / 10)    # 7 of 10
    rec = SimpleNamespace(metrics=SimpleNamespace(val=val, test=test))
    assert split_score(rec, "val+test", "accuracy") == pytest.approx(14 / 18)
    # summed [[5, 3], [1, 9]]: F1 class 0 = 10 / (6 + 8), class 1 = 18 / (12 + 10)
    assert split_score(rec, "val+test", "macro_f1") == pytest.approx((10 / 14 + 18 / 22) / 2)
    assert split_score(rec, "test", "accuracy") == 0.7


def test_per_class_evidence_sets_the_papers_table_beside_the_prior(tmp_path):
    # sahi_attention_cnn's card carries the paper's Table 2; hand numbers for it and a tiny run.
    labels = np.array([0, 0, 3, 3, 3, 6, 6, 1])
    preds = np.array([0, 3, 3, 3, 0, 6, 3, 1])
    runs = tmp_path / "e" / "runs"
    runs.mkdir(parents=True)
    rec = fake_record("sahi_attention_cnn", 0, labels, preds, val_acc=0.5)
    rec["recipe"]["name"] = "sahi_adam"
    (runs / "x.json").write_text(json.dumps(rec))
    write_leaderboard(tmp_path / "e", "e")
    ev = (tmp_path / "e" / "LEADERBOARD.md").read_text().split("### Evidence: sahi_attention_cnn")[1].split("\n## ")[0]
    # happy: paper 25/25, support 7,164 of 28,821 = 24.9%; ours: 2 of 4 predicted happy are happy (50.0),
    # 2 of 3 happy found (66.7).
    assert "| happy | 25 | 25 | 7,164 | 24.9 | 50.0 | 66.7 |" in ev
    # |0.13 - 3993/28821| = 0.85 is the largest gap; implied accuracy = sum(recall * support) / N = 4956/28821.
    assert "within 0.9 points of its class prior" in ev and "imply an accuracy of 17.2%" in ev
    # ours, precision vs PrivateTest prior: angry 50 vs 25, happy 50 vs 37.5, neutral 100 vs 25,
    # disgust 100 vs 12.5 -> 87.5 points; classes never predicted nor present: 0 vs 0.
    assert "up to 87.5 points" in ev


@pytest.mark.parametrize("n_seeds, minutes, verdict", [
    (3, 59.0, "**met**"),
    (3, 61.0, "**not met** (slowest fit 61.0 min)"),
    (2, 59.0, "pending (2 of 3 seeds)"),
])
def test_target_table_states_whether_the_target_is_met(tmp_path, n_seeds, minutes, verdict):
    labels = np.arange(100) % 7
    runs = tmp_path / "t" / "runs"
    runs.mkdir(parents=True)
    for seed, n_right in enumerate((72, 71, 70)[:n_seeds]):
        preds = labels.copy()
        preds[n_right:] = (labels[n_right:] + 1) % 7
        rec = fake_record("majeed_cnn", seed, labels, preds, val_acc=0.5)   # a single-view model
        rec["recipe"]["name"] = "best_r"
        rec["timing"]["fit_seconds"] = (minutes if seed == 0 else 50.0) * 60      # the clock judged
        rec["curves"][-1]["elapsed_seconds"] = 45.0 * 60                          # shown, not judged
        (runs / f"s{seed}.json").write_text(json.dumps(rec))
    spec = {"title": "T", "recipe": "best_r", "accuracy": 0.70, "minutes": 60, "seeds": 3}
    write_leaderboard(tmp_path / "t", "t", {"target": {"kind": "target", **spec}})
    md = (tmp_path / "t" / "LEADERBOARD.md").read_text().split("## T\n")[1]
    assert f"Verdict for majeed_cnn / best_r: {verdict}." in md
    assert f"| majeed_cnn / best_r | 0 | 72.00 | 72.00 | {minutes:.1f} | 45.0 |" in md
    if n_seeds == 3:  # mean of 72, 71, 70 = 71.00; CI = t(2) * sd / sqrt(3) = 4.303 * 1 / 1.732 = 2.48
        assert "| **71.00 ± 2.48** | 71.00 ± 2.48 |" in md


def test_ablation_table_reads_what_changed_and_the_deltas_from_the_records(tmp_path):
    """Reference: 2 seeds at 72 and 70 of 100 right; a variant without label smoothing, seed 0 only, at 69
    (its 3 extra errors are the reference's only discordant pairs); a second network, seed 1, at 71."""
    labels = np.arange(100) % 7
    runs = tmp_path / "ab" / "runs"
    runs.mkdir(parents=True)
    ref_recipe = {"name": "fast", "epochs": 24, "label_smoothing": 0.1, "augment": {"hflip": True, "rotation": 10},
                  "source": "ours", "interpretation": ["why"]}
    cells = [("net", "fast", 0, 72, {}), ("net", "fast", 1, 70, {}),
             ("net", "fast_no_ls", 0, 69, {"name": "fast_no_ls", "label_smoothing": 0.0, "source": "other"}),
             ("wide", "fast_wide", 1, 71, {"name": "fast_wide", "epochs": 8, "augment": {"hflip": True}})]
    for model, recipe, seed, n_right, changes in cells:
        preds = labels.copy()
        preds[n_right:] = (labels[n_right:] + 1) % 7
        rec = fake_record(model, seed, labels, preds, val_acc=0.6 if recipe == "fast" else 0.5)
        rec["recipe"] = {**ref_recipe, **changes}
        rec["curves"][-1]["elapsed_seconds"] = 600.0 + 60 * seed
        (runs / f"{model}__{recipe}__s{seed}.json").write_text(json.dumps(rec))
    spec = {"kind": "ablation", "title": "A", "model": "net", "recipe": "fast",
            "variants": ["fast_no_ls", "wide / fast_wide", "fast_missing"]}
    write_leaderboard(tmp_path / "ab", "ab", {"ablation": spec})
    md = (tmp_path / "ab" / "LEADERBOARD.md").read_text()
    table = md.split("## A\n")[1]
    assert "| reference | – | 0, 1 | 60.00 | 71.00 | – | – | 10.5 |" in table   # the variants ran seeds 0 and 1
    # seed 0: 69 - 72 = -3 points; McNemar b=3, c=0: p = 2 / 2**3
    assert ("| net / fast_no_ls | label_smoothing 0.1 → 0.0 | 0 | 50.00 | 69.00 | -3.00 | 0.25 | 10.0 |"
            in table)
    assert ("| wide / fast_wide | network net → wide; augment.rotation 10 → None; epochs 24 → 8 | 1 | 50.00 | "
            "71.00 | +1.00 |" in table)
    assert "| net / fast_missing | (no finished run yet) |" in table
    # variants have their own table: the leaderboard's rows are the reference alone
    wide = md.split("## Leaderboard (PrivateTest)")[1].split("## ")[0]
    assert "fast_no_ls" not in wide and "| net (ref) | fast |" in wide
    # ... unless another table reads the variant as its own subject: then it is a leaderboard row too
    target = {"kind": "target", "title": "T", "model": "net", "recipe": "fast_no_ls", "accuracy": 0.7,
              "minutes": 20, "seeds": 1}
    write_leaderboard(tmp_path / "ab", "ab", {"ablation": spec, "target": target})
    wide = (tmp_path / "ab" / "LEADERBOARD.md").read_text().split("## Leaderboard (PrivateTest)")[1].split("## ")[0]
    assert "| net | fast_no_ls |" in wide and "fast_wide" not in wide


def test_ablation_table_spec_errors_name_the_key():
    from fer_bench.core.table_specs import parse_tables
    with pytest.raises(FerBenchError, match="variants must be a non-empty list"):
        parse_tables({"ab": {"kind": "ablation", "model": "m", "recipe": "r", "variants": []}})
    with pytest.raises(FerBenchError, match="reference m / r is also listed"):
        parse_tables({"ab": {"kind": "ablation", "model": "m", "recipe": "r", "variants": ["m / r"]}})


def test_mcnemar_small_cases():
    # By hand: P(X <= k) for X ~ Binomial(n, 1/2), doubled.
    assert mcnemar_p(0, 0) == 1.0
    assert math.isclose(mcnemar_p(0, 5), 2 / 32)
    assert math.isclose(mcnemar_p(1, 4), 2 * 6 / 32)
    assert math.isclose(mcnemar_p(3, 3), 1.0)
    assert math.isclose(mcnemar_p(26, 11), 2 * sum(math.comb(37, i) for i in range(12)) / 2 ** 37)


def test_confidence_interval_by_hand():
    m, s, ci = mean_std_ci([0.6, 0.7, 0.8])
    assert math.isclose(m, 0.7) and math.isclose(s, 0.1)
    assert math.isclose(ci, 4.302653 * 0.1 / math.sqrt(3), rel_tol=1e-6)     # t(0.975, 2 df)
    assert mean_std_ci([0.5]) == (0.5, None, None)


@pytest.mark.realdata
def test_sweep_table_pivots_grid_cells_and_picks_by_validation(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 7, 20)
    runs = tmp_path / "s" / "runs"
    runs.mkdir(parents=True)
    for opt, lr, val in [("sgd", 0.01, 0.40), ("sgd", 0.001, 0.45), ("adam", 0.01, 0.55),
                         ("adam", 0.001, 0.50)]:
        rec = fake_record("m", 0, labels, labels, val_acc=val)
        rec["run_id"] = f"m__r__{opt}_{lr}__s0"
        rec["meta"]["label"] = f"lr={lr}, optimizer={opt}"
        (runs / f"{rec['run_id']}.json").write_text(json.dumps(rec))
    plain = fake_record("m", 0, labels, labels, val_acc=0.30)  # the model's own cell, outside the grid
    (runs / "m__r__s0.json").write_text(json.dumps(plain))
    spec = {"model": "m", "rows": "optimizer", "cols": "lr", "title": "Sweep",
            "paper": {"optimizer": "sgd", "lr": 1e-2}}
    (tmp_path / "s" / "plots").mkdir()
    (tmp_path / "s" / "plots" / "confusion_m__r__lr=0.01--optimizer=sgd.png").write_bytes(b"old")
    md = write_leaderboard(tmp_path / "s", "s", {"sweep": {"kind": "sweep", **spec}}).read_text()
    assert "## Sweep" in md and "| optimizer | 0.001 | 0.01 |" in md
    assert "| adam | 50.0 / 100.0 | 55.0 / 100.0 |" in md
    assert "Best by validation: lr=0.01, optimizer=adam" in md
    # sgd 0.01 has the lowest val accuracy of the four grid points.
    assert "The paper's reported best (optimizer=sgd, lr=0.01) ranks 4 of 4 by validation" in md
    assert (tmp_path / "s" / "plots" / "sweep_sweep.png").stat().st_size > 0
    # Grid points have no confusion PNGs of their own, and a stale one from an older layout is removed.
    assert sorted(p.name for p in (tmp_path / "s" / "plots").glob("*.png")) == [
        "confusion_m__r.png", "curves_m__r.png", "sweep_sweep.png"]
    board = md.split("## Leaderboard (PrivateTest)")[1].split("## ")[0]
    assert "| 1 | m (ref) | r |" in board and "optimizer=" not in board
    assert md.count("optimizer=adam") >= 2  # still listed under 'Where each number comes from'


@pytest.mark.slow
def test_a_killed_and_resumed_cell_is_one_wandb_run_with_every_epoch(tmp_path, tiny_csv):
    """What `wandb sync` uploads: the killed attempt and the resumed one share one run id, and between
    them every epoch is in the history once.

    slow (about a minute): `make test-slow`. Once, in a full `make test` on 2026-11-25, the resumed bench
    exited 2 with no finished record: a failed cell then ended in the leaderboard's 'no records' error
    (now exit 1 and one line) and the kill could land in the middle of writing last.ckpt (now it waits
    for a complete one). It passed 6 of 6 times beside a running suite on 2026-12-02; on failure it
    prints the resumed run's stderr and the failed record."""
    from fer_bench.training.keep import checkpoint_readable
    from tests.wandb_offline import read_run
    suite_file = write_suite(tmp_path, "name: tiny\nseeds: [0]\ndefaults: {epochs: 12}\ncells:\n  - model: lenet5\n")
    out = tmp_path / "res"
    env = {**os.environ, "WANDB_MODE": "offline"}
    cmd = [sys.executable, "-m", "fer_bench.cli", "bench", str(suite_file), "--results", str(out), "--data",
           str(tiny_csv), "--no-progress", "--natural", "none"]
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 240
    ckpt = out / "tiny" / "checkpoints"
    while time.time() < deadline and proc.poll() is None:
        # epoch 0 is done and its resume checkpoint completely written (a kill in mid-write is the
        # corrupt-checkpoint path, tested in test_reliability)
        if any(checkpoint_readable(p) for p in ckpt.glob("*/last.ckpt")):
            break
        time.sleep(0.02)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not list((out / "tiny" / "runs").glob("*.json")), "the cell finished before it could be killed"
    resumed_run = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    failed = [p.read_text()[-2000:] for p in (out / "tiny" / "runs").glob("*.json")]
    assert resumed_run.returncode == 0, resumed_run.stderr[-3000:] + "\n".join(failed)
    logs = sorted((out / "tiny" / "wandb").glob("offline-run-*/run-*.wandb"))
    runs = [read_run(p, finished=False) for p in logs]
    assert len(logs) == 2 and len({p.stem for p in logs}) == 1                # one W&B run id: run-<id>.wandb
    epochs = [h["epoch"] for r in runs for h in r["history"] if "train/loss" in h]
    resumed = json.loads(next((out / "tiny" / "runs").glob("*.json")).read_text())["selection"]["resumed_from_epoch"]
    assert resumed is not None and sorted(set(epochs)) == list(range(12))


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


def test_a_target_is_judged_on_the_single_view_and_the_fit_clock(tmp_path):
    """#48: the speedrun's target read a ten-crop number and the curve's clock. Now: single view and
    timing.fit_seconds; records without a single view are 'not judged'."""
    from fer_bench.core.record import RunRecord
    from fer_bench.core.table_specs import TargetTable
    from fer_bench.report.progress import target_table
    from fer_bench.report.rows import aggregate
    labels = np.arange(40) % 7
    recs = []
    for seed, (single, fit) in enumerate([(0.72, 1100.0), (0.71, 1150.0), (0.73, 1190.0)]):
        d = fake_record("speedrun_vgg", seed, labels, labels.copy(), val_acc=0.7)
        d["recipe"]["name"], d["recipe"]["eval_protocol"] = "speedrun", "native"
        d["metrics"]["test_single"] = {"accuracy": single, "macro_f1": 0.5, "protocol": "single centre view"}
        d["timing"]["fit_seconds"] = fit
        recs.append(RunRecord.decode(d))
    spec = TargetTable(recipe="speedrun", accuracy=0.70, minutes=20, seeds=3, model="speedrun_vgg", attempt=2)
    text = "\n".join(target_table(spec, aggregate(recs)))
    assert "Attempt 2." in text and "**met**" in text and "| max 19.8 |" in text     # 1190 s = 19.8 min
    assert "**not met** (slowest fit 19.8 min)" in "\n".join(target_table(
        TargetTable(recipe="speedrun", accuracy=0.70, minutes=19.5, seeds=3, model="speedrun_vgg"), aggregate(recs)))
    for r in recs:
        r.metrics.test_single = None
    assert "**not judged**" in "\n".join(target_table(spec, aggregate(recs)))


def test_every_leaderboard_states_the_majority_baseline_and_flags_rows_near_it(tmp_path):
    """#48: a suite whose models sat at the class prior got no sign of it. Labels: 40 of 100 are class 3, so
    always answering 3 scores 40%; a row at 43% is within 5 points (flagged), one at 70% is not."""
    labels = np.array([3] * 40 + [i % 3 for i in range(60)])
    runs = tmp_path / "m" / "runs"
    runs.mkdir(parents=True)
    for model, n_right in (("near", 43), ("far", 70)):
        preds = labels.copy()
        preds[n_right:] = (labels[n_right:] + 1) % 7
        (runs / f"{model}.json").write_text(json.dumps(fake_record(model, 0, labels, preds, val_acc=0.5)))
    md = write_leaderboard(tmp_path / "m", "m").read_text()
    assert "Majority-class baseline of this test set: 40.00% (always answering 'happy')" in md
    assert "| near ⚠ |" in md and "| far |" in md and "within 5 points of it, i.e. barely better than the class " \
        "prior: near." in md
