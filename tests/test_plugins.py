"""Your model in the comparison (#49): a model from outside the package trains in a suite beside a registered
one, ranks in its leaderboard, and its kept model predicts in a new process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fer_bench.cli import main
from fer_bench.core.errors import FerBenchError
from fer_bench.models import create_model, get_card

from .conftest import tiny_images, write_csv

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "my_model"
FILE_SPEC = f"{EXAMPLE / 'fer_bench_my_model' / '__init__.py'}:tiny_mine"


def test_a_file_plugin_keeps_its_card_and_builds():
    card = get_card(FILE_SPEC)
    assert card.name == FILE_SPEC and card.recipe == "arena_tuned" and "plugin" in card.tags
    assert create_model(FILE_SPEC)(__import__("torch").zeros(2, 1, 48, 48)).shape == (2, 7)


@pytest.mark.parametrize("spec, says", [
    ("no_such_pkg_xyz:build", "cannot import 'no_such_pkg_xyz'"),
    ("/nowhere/model.py:build", "no such file"),
    (f"{EXAMPLE / 'fer_bench_my_model' / '__init__.py'}:nothing_here", "has no function 'nothing_here'"),
])
def test_a_missing_plugin_is_one_clear_line(spec, says):
    with pytest.raises(FerBenchError, match=says):
        get_card(spec)


def test_a_plugin_trains_in_a_suite_beside_a_registered_model_and_predicts_in_a_new_shell(tmp_path):
    data = write_csv(tmp_path / "fer.csv", *tiny_images(8))
    suite = tmp_path / "mine.yaml"
    suite.write_text(f"name: mine\nseeds: [0]\ndefaults: {{epochs: 1}}\ncells:\n"
                     f"  - {{model: '{FILE_SPEC}', recipe: arena}}\n  - {{model: lenet5, recipe: arena}}\n")
    results = tmp_path / "results"
    assert main(["bench", str(suite), "--data", str(data), "--results", str(results), "--no-wandb",
                 "--no-progress"]) == 0
    md = (results / "mine" / "LEADERBOARD.md").read_text()
    assert FILE_SPEC in md and "| lenet5" in md
    kept = next(p for p in (results / "mine" / "models").iterdir() if "tiny_mine" in p.name)
    assert json.loads((kept / "card.json").read_text())["architecture"] == FILE_SPEC
    # A new process that never imported the plugin rebuilds it from the card alone.
    face = REPO.parent / "shared" / "data" / "natural"
    photo = next(iter(sorted((face / "happy").glob("*.jpg"))), None) if face.is_dir() else None
    if photo is None:
        pytest.skip("../shared/data/natural not found")
    out = subprocess.run([sys.executable, "-m", "fer_bench.cli", "predict", str(kept), str(photo), "--json"],
                         capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(REPO),
                                                                            "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[0])["faces"][0]["class"]


def test_an_installed_package_registers_by_entry_point(monkeypatch):
    """The example package's entry point, as `pip install -e examples/my_model` would declare it."""
    import importlib.metadata as md

    from fer_bench.models import plugins
    monkeypatch.syspath_prepend(str(EXAMPLE))
    ep = md.EntryPoint(name="tiny_mine", value="fer_bench_my_model", group=plugins.ENTRY_POINT_GROUP)
    monkeypatch.setattr(md, "entry_points", lambda group=None: [ep] if group == plugins.ENTRY_POINT_GROUP else [])
    monkeypatch.setattr(plugins, "_loaded_entry_points", False)
    assert get_card("tiny_mine").paper.startswith("fer-bench example plugin")
    assert get_card("fer_bench_my_model:tiny_mine").recipe == "arena_tuned"      # module:fn spelling, same card


def test_recipes_as_data_in_a_suite_and_on_the_command_line(tmp_path, capsys, monkeypatch):
    """#49: a suite defines a recipe in YAML that extends a registered one, a cell changes any recipe field with
    a dotted key, `train --set` does the same; the recipe as run is in the record; typos name the closest key."""
    monkeypatch.chdir(tmp_path)          # a refused train still prepares ./results/train
    data = write_csv(tmp_path / "fer.csv", *tiny_images(6))
    suite = tmp_path / "data.yaml"
    suite.write_text("name: asdata\nseeds: [0]\nrecipes:\n  mine: {extends: arena, lr: 0.01, augment.shift: 0.05}\n"
                     "cells:\n  - {model: lenet5, recipe: mine, overrides: {epochs: 1, augment.rotation: 5}}\n")
    results = tmp_path / "r"
    assert main(["bench", str(suite), "--data", str(data), "--results", str(results), "--no-wandb",
                 "--no-progress"]) == 0
    rec = json.loads(next((results / "asdata" / "runs").glob("*.json")).read_text())
    assert rec["recipe"]["name"] == "mine" and rec["recipe"]["lr"] == 0.01 and rec["recipe"]["epochs"] == 1
    assert rec["recipe"]["augment"]["shift"] == 0.05 and rec["recipe"]["augment"]["rotation"] == 5
    assert rec["recipe"]["label_smoothing"] == 0.1                        # the rest is arena's
    suite.write_text("name: asdata\nrecipes:\n  mine2: {extends: arena, augment.shfit: 0.05}\n"
                     "cells:\n  - {model: lenet5, recipe: mine2}\n")
    with pytest.raises(FerBenchError, match="did you mean 'augment.shift'"):
        from fer_bench.runner.suite import load_suite
        load_suite(suite)
    out = tmp_path / "t.json"
    assert main(["train", "--model", "lenet5", "--data", str(data), "--epochs", "1", "--out", str(out),
                 "--workdir", str(tmp_path / "w"), "--no-progress", "--set", "label_smoothing=0.2",
                 "--set", "augment.hflip=false"]) == 0
    run = json.loads(out.read_text())["recipe"]
    assert run["label_smoothing"] == 0.2 and run["augment"]["hflip"] is False
    assert main(["train", "--model", "lenet5", "--data", str(data), "--set", "eval_protocol=bogus"]) == 2
    assert "eval_protocol 'bogus'" in capsys.readouterr().err


def test_plain_train_keeps_its_model_where_lookup_finds_it_and_says_subset(tmp_path, monkeypatch, capsys):
    """#49: train wrote its record into the committed results/runs/ and its model into work/models/, which
    `models --trained` and run-id lookup did not search; a subset score was called 'FER-2013 PrivateTest'."""
    data = write_csv(tmp_path / "fer.csv", *tiny_images(6))
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--model", "lenet5", "--data", str(data), "--epochs", "1", "--limit-eval", "21",
                 "--no-progress"]) == 0
    recs = list((tmp_path / "results" / "train" / "runs").glob("*.json"))
    assert len(recs) == 1 and not (tmp_path / "results" / "runs").exists()
    run_id = recs[0].stem
    card = json.loads((tmp_path / "results" / "train" / "models" / run_id / "card.json").read_text())
    assert card["test"]["scored_on"] == "a subset of 21 FER-2013 PrivateTest images"
    capsys.readouterr()
    assert main(["models", "--trained"]) == 0
    listed = capsys.readouterr().out
    assert run_id in listed and "(a subset of 21 FER-2013 PrivateTest images)" in listed
    from fer_bench.use.trained import find_model_folder
    assert find_model_folder(run_id).name == run_id          # run-id lookup searches results/*/models/
    assert "results/train/" in (REPO / ".gitignore").read_text()
