import subprocess
import sys
from pathlib import Path

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

    from fer_bench.models import create_model
    out = tmp_path / "r.json"
    assert main(["train", "--model", "lenet5", "--data", str(tiny_csv), "--epochs", "1", "--out", str(out),
                 "--workdir", str(tmp_path / "w"), "--no-progress"]) == 0
    rec = json.loads(out.read_text())
    weights = Path(rec["model_file"])
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
