"""What a researcher pastes: the compact headline (Markdown and LaTeX), the tidy per-run CSV, and
figures at print resolution with a vector copy."""

import csv
import json
import math

import numpy as np
from PIL import Image

from fer_bench.cli import main
from fer_bench.core.plots import confusion_png
from fer_bench.report import write_leaderboard
from tests.test_bench import fake_record, write_suite


def _suite(tmp_path, sweep: bool = False):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 7, 50)
    runs = tmp_path / "s" / "runs"
    runs.mkdir(parents=True)
    truth = {}
    for seed in range(3):
        for model, right in (("lenet5", 30 + seed), ("majeed_cnn", 40 - seed)):
            preds = labels.copy()
            preds[right:] = (labels[right:] + 1) % 7
            rec = fake_record(model, seed, labels, preds, val_acc=0.5 if model == "lenet5" else 0.7)
            truth[(model, seed)] = right / 50
            if sweep and model == "lenet5":
                rec["meta"]["label"] = "lr=0.01, optimizer=adam"
                rec["run_id"] += "__lr=0.01__optimizer=adam"
            (runs / f"{rec['run_id']}.json").write_text(json.dumps(rec))
    return truth


def test_every_leaderboard_has_a_compact_headline_also_as_latex(tmp_path):
    truth = _suite(tmp_path)
    md = write_leaderboard(tmp_path / "s", "s").read_text()
    head = md.split("## Headline")[1].split("## Leaderboard")[0]
    accs = np.array([truth[("majeed_cnn", s)] for s in range(3)])
    ci = 4.302653 * accs.std(ddof=1) / math.sqrt(3)                 # t(0.975, 2 dof)
    lines = [ln for ln in head.splitlines() if ln.startswith("|")]
    assert [c.strip() for c in lines[0].strip("|").split("|")] == [
        "#", "model", "paper", "params", "MMACs", "PrivateTest acc %", "macro-F1 %", "seeds"]
    first = [c.strip() for c in lines[2].strip("|").split("|")]
    assert first[1] == "majeed_cnn" and first[2] == "Majeed, Naeem & Saeed (n.d.)"
    assert first[5] == f"{100 * accs.mean():.2f} ± {100 * ci:.2f}" and first[7] == "3"
    tex = (tmp_path / "s" / "headline.tex").read_text()
    assert r"\toprule" in tex and r"majeed\_cnn" in tex and r"Majeed, Naeem \& Saeed" in tex
    assert f"{100 * accs.mean():.2f} $\\pm$ {100 * ci:.2f}" in tex and "±" not in tex


def test_tidy_csv_is_one_row_per_run_with_units_and_sweep_columns(tmp_path):
    truth = _suite(tmp_path, sweep=True)
    write_leaderboard(tmp_path / "s", "s")
    rows = list(csv.DictReader((tmp_path / "s" / "runs.csv").open()))
    assert len(rows) == 6
    for r in rows:
        assert r["seed"] in {"0", "1", "2"}                               # a seed is a number, not 's0'
        assert math.isclose(float(r["test_acc_pct"]), 100 * truth[(r["model"], int(r["seed"]))], abs_tol=1e-4)
        assert r["best_epoch"] == "3"                                      # the record's 0-based 2, 1-based
        assert math.isclose(float(r["train_minutes"]), int(r["seed"]) + 1)   # fit_seconds 60 x (seed + 1)
    sweep = [r for r in rows if r["model"] == "lenet5"]
    assert {r["sweep_optimizer"] for r in sweep} == {"adam"} and {r["sweep_lr"] for r in sweep} == {"0.01"}
    assert {r["sweep_lr"] for r in rows if r["model"] == "majeed_cnn"} == {""}


def test_figures_are_300_dpi_png_with_svg_and_stale_ones_go(tmp_path):
    conf = np.array([[5, 1], [2, 26]])
    confusion_png(conf, ["happy", "contempt"], "t", tmp_path / "c.png")
    with Image.open(tmp_path / "c.png") as im:
        assert round(im.info["dpi"][0]) == 300
    svg = (tmp_path / "c.svg").read_text()
    assert "n=6" in svg and "n=28" in svg                              # support counts on the rows

    _suite(tmp_path)
    plots = tmp_path / "s" / "plots"
    plots.mkdir(parents=True)
    (plots / "curves_gone__r.svg").write_text("<svg/>")                # a row that no longer exists
    write_leaderboard(tmp_path / "s", "s")
    assert not (plots / "curves_gone__r.svg").exists()
    assert (plots / "curves_lenet5__r.png").is_file() and (plots / "curves_lenet5__r.svg").is_file()


def test_the_same_numbers_give_byte_identical_figures(tmp_path):
    """Regenerating a leaderboard must not rewrite committed plots whose data did not change."""
    conf = np.array([[5, 1], [2, 26]])
    confusion_png(conf, ["happy", "contempt"], "t", tmp_path / "a.png")
    confusion_png(conf, ["happy", "contempt"], "t", tmp_path / "b.png")
    for suffix in (".png", ".svg"):
        assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()
    confusion_png(conf + 1, ["happy", "contempt"], "t", tmp_path / "c.png")
    assert (tmp_path / "c.svg").read_bytes() != (tmp_path / "a.svg").read_bytes()


def test_a_suite_whose_every_cell_failed_says_so_without_a_leaderboard_error(tmp_path, tiny_csv, capsys,
                                                                              monkeypatch):
    def crash(cfg):
        raise RuntimeError("out of memory")
    monkeypatch.setattr("fer_bench.runner.run.train", crash)
    suite = write_suite(tmp_path, "name: t\nseeds: [0]\ncells:\n  - model: lenet5\n")
    assert main(["bench", str(suite), "--results", str(tmp_path / "res"), "--data", str(tiny_csv),
                 "--no-wandb", "--no-progress", "--natural", "none"]) == 1
    err = capsys.readouterr().err
    assert "FAILED: RuntimeError: out of memory" in err
    assert "no finished record yet: no leaderboard written" in err and "error:" not in err
    (rec,) = (tmp_path / "res" / "t" / "runs").glob("*.json")
    assert json.loads(rec.read_text())["status"] == "failed"
