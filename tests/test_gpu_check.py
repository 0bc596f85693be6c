"""The GPU check (#51 item 6) without a GPU: the data pack that travels to the box, and the check's CPU dry
run on a bare interpreter (no wandb, no optuna, nothing installed: fer_bench from the tree)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.data.fer2013 import TEST, TRAIN, VAL
from fer_bench.data.load import load_dataset
from fer_bench.data.pack import read_pack, write_pack
from tests.conftest import tiny_images, write_csv

ROOT = Path(__file__).resolve().parents[1]


def _bare_python_path(tmp_path: Path) -> str:
    """A PYTHONPATH under which wandb and optuna fail to import, as on the GPU box."""
    for name in ("wandb", "optuna"):
        (tmp_path / "bare" / name).mkdir(parents=True)
        (tmp_path / "bare" / name / "__init__.py").write_text(f"raise ImportError('no {name} on the GPU box')\n")
    return str(tmp_path / "bare")


def test_pack_round_trip_and_a_training_subset_that_fits(tmp_path):
    data = load_dataset(write_csv(tmp_path / "fer2013.csv", *tiny_images(n_per_class_split=12)))
    full = write_pack(data, tmp_path / "full.npz.xz", max_bytes=10 * 2**20)
    assert full["train"] == int((data.splits == TRAIN).sum()) and "all 84 Training" in full["note"]
    back = load_dataset(tmp_path / "full.npz.xz")   # through the loader, as `--data` reads it
    assert torch.equal(back.images, data.images) and torch.equal(back.labels, data.labels)
    assert torch.equal(back.splits, data.splits) and back.ids == data.ids and back.info["format"] == "pack"

    # A limit between the held-out splits and everything: all of PublicTest/PrivateTest, part of Training.
    limit = (full["bytes"] + os.path.getsize(tmp_path / "full.npz.xz")) // 2 - 30_000
    part = write_pack(data, tmp_path / "part.npz.xz", max_bytes=limit)
    small = read_pack(tmp_path / "part.npz.xz")
    assert os.path.getsize(tmp_path / "part.npz.xz") <= limit
    for split in (VAL, TEST):
        assert torch.equal(small.images[small.splits == split], data.images[data.splits == split])
    n = int((small.splits == TRAIN).sum())
    assert 0 < n < 84 and n == part["train"] and f"Training {n:,} of 84" in small.info["pack"]
    counts = torch.bincount(small.labels[small.splits == TRAIN], minlength=7)
    assert counts.max() - counts.min() <= 1   # stratified: the tiny set has equal classes

    with pytest.raises(FerBenchError, match="already exists"):
        write_pack(data, tmp_path / "part.npz.xz", max_bytes=limit)
    with pytest.raises(FerBenchError, match="cannot hold the validation and test splits"):
        write_pack(data, tmp_path / "none.npz.xz", max_bytes=1000)
    (tmp_path / "junk.npz.xz").write_bytes(b"not xz")
    with pytest.raises(FerBenchError, match="junk.npz.xz: not a fer-bench data pack"):
        load_dataset(tmp_path / "junk.npz.xz")


def test_dry_run_exercises_every_step_on_a_bare_interpreter(tmp_path):
    data = load_dataset(write_csv(tmp_path / "fer2013.csv", *tiny_images()))
    write_pack(data, tmp_path / "fer2013.npz.xz", max_bytes=10 * 2**20)
    out = tmp_path / "gpu"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "gpu" / "check.py"), "--dry-run",
           "--data", str(tmp_path / "fer2013.npz.xz"), "--out", str(out), "--work", str(tmp_path / "work")]
    env = {**os.environ, "PYTHONPATH": _bare_python_path(tmp_path), "WANDB_MODE": "disabled"}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads((out / "gpu-check.json").read_text())
    assert [t["model"] for t in summary["throughput"]] == ["speedrun_vgg", "khaireddin_vgg", "resnet18_fer"]
    assert all(t["images_per_second"] > 0 for t in summary["throughput"])
    assert [s["suite"] for s in summary["suites"]] == ["smoke-32-true", "speedrun-gpu"]
    for step in summary["suites"]:
        assert step["cells"] and all(c["status"] == "finished" for c in step["cells"]), step
        for c in step["cells"]:
            assert (out / step["suite"] / "runs" / f"{c['cell']}.json").is_file()
    assert "all 84 Training" not in summary["data"] and "all 28 Training images" in summary["data"]
    readme = (out / "README.md").read_text()
    assert "CPU (dry run)" in readme and "| speedrun_vgg | 32-true | 8 |" in readme
    assert not list(out.rglob("*.safetensors")) and not list(out.rglob("*.ckpt"))   # models stay in --work

    again = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert again.returncode == 1 and again.stderr.strip().count("\n") == 0
    assert "already there; --force replaces it" in again.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_without_a_gpu_it_says_so_in_one_line_and_exits_0(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu" / "check.py"), "--out", str(tmp_path)],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": _bare_python_path(tmp_path)})
    assert r.returncode == 0 and r.stdout.startswith("gpu-check: no CUDA GPU on this machine")
    assert r.stdout.count("\n") == 1 and not list(tmp_path.glob("gpu-check.json"))
