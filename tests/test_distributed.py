"""One run on several devices, on two CPU processes (gloo): how the global batch is formed, which launcher
runs it, sharded validation that stays exact, and one record written by rank 0."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from fer_bench.core.overrides import Overrides
from fer_bench.data.datamodule import EpochBatchSampler
from fer_bench.training.distributed import batch_plan
from fer_bench.training.train import TrainConfig, train


def test_the_recipes_batch_is_the_global_batch():
    plan = batch_plan(64, 2, relaunch=True)
    assert (plan.strategy, plan.per_device_batch, plan.global_batch, plan.lr_scale) == ("ddp", 32, 64, 1.0)
    # 3 devices cannot split 64: each takes 21, and the learning rate follows the global batch down.
    plan = batch_plan(64, 3)
    assert (plan.strategy, plan.global_batch, plan.lr_scale) == ("ddp_spawn", 63, round(63 / 64, 6))
    assert batch_plan(64, 1).strategy == "auto"


def test_evaluation_batches_are_sharded_without_padding_or_loss():
    labels = torch.arange(230) % 7
    shards = [list(EpochBatchSampler(labels, 32, shuffle=False, rank=r, world_size=3)) for r in range(3)]
    seen = sorted(i for shard in shards for batch in shard for i in batch)
    assert seen == list(range(230))                        # every image once, none repeated
    lens = [len(EpochBatchSampler(labels, 32, shuffle=False, rank=r, world_size=3)) for r in range(3)]
    assert lens == [len(s) for s in shards] == [3, 3, 3]      # blocks of 76, 77, 77 images
    # Training steps stay equal on every rank (DDP syncs gradients each step).
    steps = [len(list(EpochBatchSampler(labels, 32, shuffle=True, rank=r, world_size=3))) for r in range(3)]
    assert steps == [2, 2, 2]


def test_a_suite_cell_on_two_spawned_processes(real_data, tmp_path):
    """The suite path (spawn launcher): each process trains on half of every global batch, evaluation runs
    once in the parent process."""
    rec = train(TrainConfig(model="lenet5", data=str(real_data),
                            overrides=Overrides(epochs=2), limit_train=640, limit_eval=200,
                            devices=2, accelerator="cpu", progress=False, workdir=str(tmp_path),
                            out=str(tmp_path / "ddp.json"), natural=None))
    assert rec.config["world_size"] == 2 and rec.config["distributed"]["strategy"] == "ddp_spawn"
    assert len(rec.curves) == 2 and rec.metrics.test.n == 200
    # last.ckpt is gone once the record is written; the selected checkpoint stays.
    best = next((tmp_path / "checkpoints").glob("*/best-epoch=*.ckpt"))
    epoch = int(best.stem.split("=")[1])
    ckpt = torch.load(best, map_location="cpu", weights_only=False)
    # lenet5's recipe batch 64 is the global batch: 32 per rank, 640 / 64 = 10 steps an epoch.
    assert ckpt["global_step"] == (epoch + 1) * 10


def test_train_on_two_devices_is_ddp_and_rank_0_records_once(real_data, tmp_path):
    """`fer-bench train --devices 2`: DDP (the command re-run for rank 1), validation sharded over both
    ranks, one record and one W&B run (rank 0's). The selection's validation accuracy, computed on two
    shards during the fit, equals the selected checkpoint's accuracy on the whole split, scored afterwards
    in one process."""
    from tests.wandb_offline import read_run
    out = tmp_path / "ddp.json"
    r = subprocess.run([sys.executable, "-m", "fer_bench.cli", "train", "--model", "lenet5",
                        "--data", str(Path(real_data).resolve()), "--epochs", "2", "--limit-train", "640",
                        "--limit-eval", "200",
                        "--devices", "2", "--accelerator", "cpu", "--no-progress", "--natural", "none",
                        "--out", str(out), "--workdir", str(tmp_path / "w"), "--wandb", "--wandb-project", "ddp"],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path,
                       env={**os.environ, "WANDB_MODE": "offline"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("record: ") == 1 and "Traceback" not in r.stderr
    rec = json.loads(out.read_text())
    d = rec["config"]["distributed"]
    assert (d["strategy"], d["devices"], d["per_device_batch"], d["global_batch"]) == ("ddp", 2, 32, 64)
    assert d["lr_scale"] == 1.0
    assert len(rec["curves"]) == 2 and rec["metrics"]["test"]["n"] == 200
    best = rec["selection"]["best_epoch"]
    during_fit = next(c["val/acc"] for c in rec["curves"] if c["epoch"] == best)
    assert abs(during_fit - rec["metrics"]["val"]["accuracy"]) < 1e-6
    assert len(list(tmp_path.glob("**/model.safetensors"))) == 1
    (log,) = (tmp_path / "w" / "wandb").glob("offline-run-*/run-*.wandb")
    run = read_run(log)
    assert run["config"]["distributed"]["strategy"] == "ddp" and "test/acc" in run["summary"]
    assert [h["epoch"] for h in run["history"] if "val/acc" in h] == [0, 1]
