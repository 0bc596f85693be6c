import json
import subprocess
import sys

import pytest

from fer_bench.cli import build_parser, main


@pytest.mark.parametrize("argv", [[], ["train"], ["models"], ["data"], ["data", "report"]])
def test_every_command_explains_itself(argv, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([*argv, "--help"])
    assert e.value.code == 0
    assert "usage: fer-bench" in capsys.readouterr().out


def test_models_lists_the_registry(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "majeed_cnn" in out and "8,779,047" in out and "72.92%" in out


def test_console_script_entry_point_runs():
    r = subprocess.run([sys.executable, "-m", "fer_bench.cli", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "train" in r.stdout


def test_train_keeps_a_weights_only_model_with_its_card_and_models_lists_it(tmp_path, capsys, tiny_csv):
    import json

    from safetensors.torch import load_file

    from fer_bench.core.runinfo import local_path
    from fer_bench.models import create_model
    out = tmp_path / "r.json"
    assert main(["train", "--model", "lenet5", "--data", str(tiny_csv), "--epochs", "1", "--out", str(out),
                 "--workdir", str(tmp_path / "w"), "--no-progress"]) == 0
    rec = json.loads(out.read_text())
    weights = local_path(rec["model_file"])
    card = json.loads((weights.parent / "card.json").read_text())
    assert card["architecture"] == "lenet5" and card["classes"] == rec["data"]["classes"]
    assert card["test"]["accuracy"] == rec["metrics"]["test"]["accuracy"] and card["input"]["size"] == 48
    model = create_model("lenet5")
    model.load_state_dict(load_file(weights), strict=True)     # weights only, every key matches
    assert not list((tmp_path / "w" / "checkpoints").rglob("last.ckpt"))     # resume state gone
    capsys.readouterr()
    assert main(["models", "--trained", str(tmp_path / "w")]) == 0
    listed = capsys.readouterr().out
    assert "lenet5" in listed and f"{100 * card['test']['accuracy']:.2f}%" in listed


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("fer-bench ")


def test_suites_by_name_from_any_folder_and_dry_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)                      # not the repository root
    assert main(["bench", "smoke", "--dry-run", "--results", str(tmp_path / "res")]) == 0
    out = capsys.readouterr().out
    assert "to run" in out and "lenet5__majeed_sgd" in out and "0 of 20 cells finished" in out
    assert not (tmp_path / "res").exists()           # a dry run writes nothing


def test_dry_run_bounds_cells_without_records_by_the_measured_step_rate(tmp_path, capsys):
    """A model with no record yet: its training steps alone (epochs x images / measured img/s), shown
    as '~', and only when the measurement was made on this hardware."""
    import json

    from fer_bench.core.runinfo import environment, hardware_label
    suite = tmp_path / "t.yaml"
    suite.write_text("name: t\nseeds: [0, 1]\ndata: {limit_train: 6000}\ncells:\n"
                     "  - {model: lenet5, recipe: arena}\n  - {model: seelam_cnn, recipe: arena}\n")
    perf = tmp_path / "res" / "perf"
    perf.mkdir(parents=True)
    budget = {"hardware": hardware_label(environment()["hardware"]),
              "models": {"lenet5": {"train_images_per_second": 100.0, "latency_ms_batch1": 1.0}}}
    (perf / "arena_budget.json").write_text(json.dumps(budget))
    assert main(["bench", str(suite), "--dry-run", "--results", str(tmp_path / "res")]) == 0
    out = capsys.readouterr().out
    # arena recipe: 12 epochs x 6,000 images / 100 img/s = 12 minutes a cell, 2 cells
    assert out.count("~12  lenet5__arena__s") == 2 and "?  seelam_cnn__arena__s0" in out
    assert "about 0.4 hours for the cells marked ~" in out and "at 6,000 images an epoch" in out
    assert "plus 2 cells with no record" in out
    (perf / "arena_budget.json").write_text(json.dumps({**budget, "hardware": "some other cpu"}))
    assert main(["bench", str(suite), "--dry-run", "--results", str(tmp_path / "res")]) == 0
    assert "~" not in capsys.readouterr().out


def test_p_values_that_underflow_are_not_printed_as_zero():
    from fer_bench.core.stats import format_p
    assert format_p(0.0) == "< 1e-16" and format_p(3e-20) == "< 1e-16"
    assert format_p(0.0123) == "0.0123" and format_p(None) == "–"


def test_wandb_run_id_is_stable_per_cell_and_results_folder(tmp_path, monkeypatch):
    from fer_bench.training.tracking import make_wandb_logger
    monkeypatch.setenv("WANDB_PROJECT", "my-project")
    monkeypatch.setenv("WANDB_MODE", "offline")
    a = make_wandb_logger({"save_dir": str(tmp_path / "a")}, "lenet5__r__s0")
    again = make_wandb_logger({"save_dir": str(tmp_path / "a")}, "lenet5__r__s0")
    other = make_wandb_logger({"save_dir": str(tmp_path / "b")}, "lenet5__r__s0")
    assert a._wandb_init["id"] == again._wandb_init["id"] != other._wandb_init["id"]
    assert a._wandb_init["resume"] == "allow" and a._wandb_init["project"] == "my-project"


def test_train_logs_to_wandb_offline_with_project_summary_config_and_record(tmp_path, tiny_csv, monkeypatch, capfd):
    from tests.wandb_offline import read_run
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    assert main(["train", "--model", "lenet5", "--data", str(tiny_csv), "--epochs", "2", "--limit-train", "100",
                 "--out", str(tmp_path / "r.json"), "--workdir", str(tmp_path / "w"), "--no-progress", "--wandb",
                 "--wandb-project", "proj-x"]) == 0
    assert "anonymous setting" not in capfd.readouterr().err    # no deprecation warning on every run
    (log,) = (tmp_path / "w" / "wandb").glob("offline-run-*/run-*.wandb")
    run = read_run(log)
    assert run["run"][0] == "proj-x"
    s = run["summary"]
    assert s["params"] == 168_971 and s["macs"] > 0 and 0 <= s["test/acc"] <= 1 and s["latency_ms_batch1"] > 0
    assert "test/confusion_matrix_table/_type" in s                      # wandb.plot.confusion_matrix
    assert run["config"]["limit_train"] == 100
    rec = json.loads((tmp_path / "r.json").read_text())
    assert s["best_epoch"] == rec["selection"]["best_epoch"] + 1 and s["best_epoch"] in (1, 2)   # 1-based
    lr = [h["lr-SGD"] for h in run["history"] if "lr-SGD" in h]        # LearningRateMonitor, one per epoch
    assert len(lr) == 2 and all(v > 0 for v in lr)
    assert any(a.startswith("record-lenet5") for a in run["artifacts"])
    # The post-fit evaluation of the selected checkpoint is summary, not history: no phantom epoch 3,
    # and no test accuracy curve (the test charts and tables are logged once, as W&B wants them).
    val_points = [h for h in run["history"] if "val/acc" in h]
    assert [h["epoch"] for h in val_points] == [0, 1]
    assert not any("test/acc" in h or "val/acc_selected" in h for h in run["history"])
