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
