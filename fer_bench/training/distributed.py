"""One run on several devices: how the processes start, how the global batch is formed, and the hand-back
to one process that evaluates (every test image scored exactly once) and writes the record."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class BatchPlan:
    """The recipe's batch size is the global batch: each device trains on its share, so the optimisation
    is the one-device run's and the learning rate stands. When the batch does not divide by the device
    count, each device takes the floor and the learning rate scales linearly with the smaller global batch."""

    devices: int
    strategy: str
    recipe_batch: int
    per_device_batch: int
    global_batch: int
    lr_scale: float

    def to_dict(self) -> dict:
        return asdict(self)


def launched_externally() -> bool:
    """torchrun or a SLURM/MPI launcher started one process per device: each runs the whole command."""
    return "LOCAL_RANK" in os.environ and int(os.environ.get("WORLD_SIZE", "1")) > 1


def strategy_for(devices: int, relaunch: bool) -> str:
    """DDP when the command can run once per device: `fer-bench train` (Lightning re-runs its command line
    for ranks 1..N-1) or an external launcher. A suite cannot be re-run per device (the copy would find its
    own cell locked), so a suite's cell spawns its workers from the running process instead."""
    if devices == 1:
        return "auto"
    return "ddp" if relaunch or launched_externally() else "ddp_spawn"


def batch_plan(recipe_batch: int, devices: int, relaunch: bool = False) -> BatchPlan:
    per_device = max(1, recipe_batch // devices)
    global_batch = per_device * devices
    return BatchPlan(devices=devices, strategy=strategy_for(devices, relaunch), recipe_batch=recipe_batch,
                     per_device_batch=per_device, global_batch=global_batch,
                     lr_scale=round(global_batch / recipe_batch, 6))


def leave_process_group() -> None:
    """After a DDP fit: wait for every rank, then close the group, so that rank 0's one-device evaluation
    computes its metrics alone (torchmetrics would otherwise wait for ranks that have exited)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def fit_log(strategy: str, trainer, runlog: dict, last: Path) -> dict | None:
    """The fit's curves and throughput (RunLog's state) in the process that records the run; None in a DDP
    worker (ranks 1..N-1 exit after the fit). Spawned workers' RunLog lived in the workers: their last
    checkpoint carries it."""
    if strategy == "ddp":
        leave_process_group()
        return runlog if trainer.global_rank == 0 else None
    if strategy == "ddp_spawn":
        state = torch.load(last, map_location="cpu", weights_only=True)["callbacks"]
        return next(v for k, v in state.items() if k.startswith("RunLog"))
    return runlog
