"""The training run's own log, kept in every checkpoint: per-epoch curves and training throughput,
and (observe_test only) the test accuracy per epoch for time-to-accuracy, which nothing selects on."""

from __future__ import annotations

import logging
import sys
import time
import warnings
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from fer_bench.core.locks import heartbeat
from fer_bench.data.datamodule import FERDataModule


class RunLog(Callback):
    """Per-epoch curves and training throughput, without host syncs in the hot path.

    `observe_test` adds, after each epoch, the accuracy of the current weights on the test
    split (observed/test_acc), for the time-to-accuracy measurement only: it is computed here,
    outside Lightning's metrics, so no checkpoint, scheduler or early stop can ever see it, and
    its time is left out of elapsed_seconds (the training wall clock, validation included)."""

    def __init__(self, observe_test: FERDataModule | None = None) -> None:
        self.curves: list[dict] = []
        self.train_images = 0
        self.train_seconds = 0.0
        self.elapsed = 0.0
        self.observe_test = observe_test
        self.observe_seconds = 0.0
        self._t0: float | None = None
        self._epoch_t0 = 0.0
        self._lr = 0.0

    def on_train_start(self, trainer, pl_module) -> None:
        # kill -9 also kills W&B's writer before it has flushed the last epochs: the resumed attempt
        # (same W&B run id) logs the epochs its checkpoint restored again, so the run has every epoch.
        done = getattr(self, "resumed_from_epoch", 0)
        if done and trainer.loggers:
            per_epoch = max(1, trainer.global_step // done)
            for c in self.curves:
                metrics = {k: v for k, v in c.items() if "/" in k} | {"epoch": c["epoch"], "replayed_on_resume": 1}
                for lg in trainer.loggers:
                    lg.log_metrics(metrics, step=(c["epoch"] + 1) * per_epoch - 1)

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._lr = trainer.optimizers[0].param_groups[0]["lr"]  # before the epoch's scheduler step
        self._epoch_t0 = time.perf_counter()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.strategy.root_device.type == "cuda":
            torch.cuda.synchronize()
        self._t0 = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.strategy.root_device.type == "cuda":
            torch.cuda.synchronize()
        self.train_seconds += time.perf_counter() - self._t0
        self.train_images += batch[1].shape[0]

    # Saved in every checkpoint: a resumed run keeps its curves, and continues the global
    # RNG stream (dropout, crops) exactly where the checkpoint was taken.
    def state_dict(self) -> dict:
        return {"curves": self.curves, "train_images": self.train_images,
                "train_seconds": self.train_seconds, "elapsed": self.elapsed,
                "observe_seconds": self.observe_seconds, "torch_rng": torch.get_rng_state()}

    def load_state_dict(self, state: dict) -> None:
        self.curves = list(state["curves"])
        self.train_images, self.train_seconds = state["train_images"], state["train_seconds"]
        self.elapsed, self.observe_seconds = state.get("elapsed", 0.0), state.get("observe_seconds", 0.0)
        self.resumed_from_epoch = len(self.curves)
        torch.set_rng_state(state["torch_rng"])

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        # Lightning runs the epoch's validation before this hook.
        self.elapsed += time.perf_counter() - self._epoch_t0
        # This hook runs before the module's own on_train_epoch_end: train metrics come from it.
        m = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        m.update({k: float(v) for k, v in pl_module.epoch_train_metrics().items()})
        if not trainer.is_global_zero:     # one line per epoch, not one per device
            return
        curve = {
            "epoch": trainer.current_epoch,
            "lr": self._lr,
            **{k: m[k] for k in ("train/loss", "train/acc", "val/loss", "val/acc", "val/f1_macro")
               if k in m},
            "elapsed_seconds": round(self.elapsed, 2),
        }
        if self.observe_test is not None:
            t0 = time.perf_counter()
            curve["observed/test_acc"] = observe_accuracy(trainer, pl_module, self.observe_test)
            self.observe_seconds += time.perf_counter() - t0
        self.curves.append(curve)


def test_split_probs(trainer: L.Trainer, module: L.LightningModule, dm: FERDataModule) -> torch.Tensor:
    """Softmax of the module's current weights over the whole test split (in order), in eval mode and the
    trainer's precision, outside Lightning's loops: nothing logs, selects or checkpoints on it. The module's
    mode and the global RNG (dropout, crops) are left as they were, so observing leaves a training run
    bit-identical (tested)."""
    images, labels = dm.parts["test"]
    was_training, rng = module.training, torch.get_rng_state()
    module.eval()
    probs = []
    with torch.no_grad(), trainer.precision_plugin.forward_context():
        for i in range(0, len(labels), dm.eval_batch_size):
            batch = (images[i:i + dm.eval_batch_size].to(module.device), labels[i:i + dm.eval_batch_size])
            probs.append(module(dm.prepare(batch, train=False)[0]).float().softmax(1).cpu())
    module.train(was_training)
    torch.set_rng_state(rng)
    return torch.cat(probs)


def observe_accuracy(trainer: L.Trainer, module: L.LightningModule, dm: FERDataModule) -> float:
    """Accuracy of the module's current weights on the test split, in the validation's eval mode."""
    labels = dm.parts["test"][1]
    return float((test_split_probs(trainer, module, dm).argmax(1) == labels).float().mean())


def quiet_lightning() -> None:
    # Data live in memory and are sliced a batch at a time: worker processes would only
    # add copies, so Lightning's advice about num_workers does not apply here.
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*treespec, LeafSpec.*")
    warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")
    warnings.filterwarnings("ignore", ".*Checkpoint directory .* exists and is not empty.*")  # resuming
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
    logging.getLogger("lightning.fabric").setLevel(logging.WARNING)


class Heartbeat(Callback):
    """Touches the cell's lock after every epoch, so that other processes know its owner is alive."""

    def __init__(self, lock: Path) -> None:
        self.lock = lock

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.is_global_zero:
            heartbeat(self.lock)


class EpochLine(Callback):
    """One line per epoch (loss, accuracies, minutes) where a progress bar would be carriage-return noise:
    output that is not a terminal (a log file, nohup, CI)."""

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        m = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        m.update({k: float(v) for k, v in pl_module.epoch_train_metrics().items()})
        if not trainer.is_global_zero:     # one line per epoch, not one per device
            return
        parts = [f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}"]
        parts += [f"{k} {m[k]:.4f}" for k in ("train/loss", "train/acc", "val/loss", "val/acc") if k in m]
        print("  " + "  ".join(parts), file=sys.stderr, flush=True)


def epoch_of(path: str | None) -> int | None:
    """The 0-based epoch in a checkpoint's file name (best-epoch=N.ckpt), None without one."""
    if not path or "epoch=" not in path:
        return None
    return int(Path(path).stem.split("epoch=")[1].split("-")[0])
