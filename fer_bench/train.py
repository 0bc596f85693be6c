"""One training run: fit with selection on PublicTest, test the selected checkpoint once on
PrivateTest, write one JSON run record (atomically)."""

from __future__ import annotations

import base64
import json
import logging
import os
import platform
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint

from fer_bench.data.datamodule import FERDataModule
from fer_bench.data.fer2013 import default_data_path
from fer_bench.data.load import LoadOptions
from fer_bench.io import atomic_path, write_json
from fer_bench.metrics import make_metrics, metrics_to_json
from fer_bench.models import count_macs, count_params, create_model, get_card
from fer_bench.module import FERClassifier
from fer_bench.recipes import get_recipe
from fer_bench.tracking import log_final_to_wandb, make_wandb_logger

RECORD_SCHEMA = 1


@dataclass
class TrainConfig:
    model: str
    data: str = field(default_factory=lambda: str(default_data_path()))
    recipe: str | None = None          # default: the model's paper recipe
    seed: int = 0
    epochs: int | None = None          # override the recipe's budget
    batch_size: int | None = None
    lr: float | None = None
    optimizer: str | None = None       # override the recipe's (e.g. seed 001's optimiser sweep)
    pretrained: bool | str | None = None  # override the recipe's (timm-backed models)
    precision: str = "auto"            # auto = bf16-mixed on a bf16 CPU, 16-mixed on CUDA
    channels_last: bool = True
    limit_train: int | None = None     # stratified subset of the training split
    limit_eval: int | None = None      # stratified subsets of val and test (tests, smoke runs)
    load: LoadOptions = field(default_factory=LoadOptions)
    out: str | None = None             # record path; default results/runs/<run_id>.json
    workdir: str = "work"              # checkpoints (not results)
    accelerator: str = "auto"
    devices: int = 1
    progress: bool = True
    natural: str | None = None         # a built natural set: evaluated as an extra test set
    run_id: str | None = None          # default: model__recipe__seed__timestamp
    resume: bool = False               # continue from <checkpoints>/last.ckpt when it exists
    observe_test: bool = False         # per-epoch test accuracy for time-to-accuracy (never selects)
    wandb: dict | None = None          # WandbLogger kwargs (see fer_bench.tracking), None = off
    meta: dict = field(default_factory=dict)  # e.g. suite and cell, copied into the record


def cpu_supports_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str, accelerator: str) -> str:
    if precision != "auto":
        return precision
    if accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available()):
        return "16-mixed"
    return "bf16-mixed" if cpu_supports_bf16() else "32-true"


def code_version() -> dict | None:
    """The fer-bench commit that made a record (and whether the tree had local changes)."""
    import subprocess
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "fer_bench"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "local_changes": bool(dirty)}


def environment() -> dict:
    """Package versions, hardware and code version, for the run record."""
    pkgs = {}
    for p in ("torch", "torchvision", "lightning", "torchmetrics", "timm", "numpy", "wandb"):
        try:
            pkgs[p] = version(p)
        except PackageNotFoundError:
            pkgs[p] = None
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "fer_bench": code_version(),
        "packages": pkgs,
        "hardware": {
            "cpu": cpu,
            "cpu_cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "bf16_cpu": cpu_supports_bf16(),
            "cuda": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
            "platform": platform.platform(),
        },
    }


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


def observe_accuracy(trainer: L.Trainer, module: L.LightningModule, dm: FERDataModule) -> float:
    """Accuracy of the module's current weights on the test split, in the validation's eval mode."""
    was_training = module.training
    # Iterating a DataLoader draws a seed from the global RNG, which dropout and crops also use:
    # restore it, so that observing leaves the training run bit-identical (tested).
    rng = torch.get_rng_state()
    module.eval()
    correct = total = 0
    with torch.no_grad(), trainer.precision_plugin.forward_context():
        for images, labels in dm.test_dataloader():
            x, y = dm.prepare((images.to(module.device), labels.to(module.device)), train=False)
            correct += int((module(x).argmax(1) == y).sum())
            total += len(y)
    module.train(was_training)
    torch.set_rng_state(rng)
    return correct / max(total, 1)


def make_run_id(cfg: TrainConfig, recipe: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{cfg.model.replace(':', '-')}__{recipe}__s{cfg.seed}__{stamp}"


def quiet_lightning() -> None:
    # Data live in memory and are sliced a batch at a time: worker processes would only
    # add copies, so Lightning's advice about num_workers does not apply here.
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*treespec, LeafSpec.*")
    warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")
    warnings.filterwarnings("ignore", ".*Checkpoint directory .* exists and is not empty.*")  # resuming
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
    logging.getLogger("lightning.fabric").setLevel(logging.WARNING)


def train(cfg: TrainConfig) -> dict:
    """Run one (model, recipe, seed) cell; returns the record it wrote."""
    quiet_lightning()
    started = time.perf_counter()
    card = get_card(cfg.model)
    recipe = get_recipe(cfg.recipe or card.recipe).with_overrides(
        epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, optimizer=cfg.optimizer,
        pretrained=cfg.pretrained)
    precision = resolve_precision(cfg.precision, cfg.accelerator)
    run_id = cfg.run_id or make_run_id(cfg, recipe.name)
    L.seed_everything(cfg.seed, workers=True, verbose=False)

    load = cfg.load
    if recipe.drop_blank and not load.drop_blank:
        load = LoadOptions(**{**asdict(load), "drop_blank": True})
    dm = FERDataModule(cfg.data, load=load, batch_size=recipe.batch_size, augment=recipe.augment,
                       oversample=recipe.oversample, limit_train=cfg.limit_train,
                       limit_eval=cfg.limit_eval, seed=cfg.seed, channels_last=cfg.channels_last,
                       natural=cfg.natural, vote_targets=recipe.targets == "votes")
    dm.setup()
    weights = dm.class_weights(recipe.class_weights)
    module = FERClassifier(cfg.model, recipe.to_dict(), num_classes=dm.num_classes,
                           class_weights=weights.tolist() if weights is not None else None,
                           channels_last=cfg.channels_last)

    ckpt_dir = Path(cfg.workdir) / "checkpoints" / run_id
    ckpt = ModelCheckpoint(dirpath=ckpt_dir, monitor=recipe.checkpoint_monitor, mode=recipe.checkpoint_mode,
                           save_top_k=1, filename="best-{epoch}", save_on_train_epoch_end=True)
    # Lightning writes last.ckpt only when the monitored metric improves; resuming needs the
    # latest epoch, so a second, unmonitored checkpoint keeps exactly that. Both save at the
    # end of the training epoch, after RunLog has added that epoch's curve.
    resume_ckpt = ModelCheckpoint(dirpath=ckpt_dir, filename="last", monitor=None, save_top_k=1,
                                  save_on_train_epoch_end=True, enable_version_counter=False)
    runlog = RunLog(observe_test=dm if cfg.observe_test else None)
    callbacks = [ckpt, resume_ckpt, runlog]
    if recipe.early_stopping:
        es = recipe.early_stopping
        callbacks.append(EarlyStopping(monitor=es["monitor"], mode=es.get("mode", "min"),
                                       patience=es["patience"]))
    multi = cfg.devices > 1
    if multi:
        # Spawned workers receive the module and data by pickling; the default fd-based
        # sharing cannot pass the empty tensors torchmetrics keeps ("unable to resize file").
        torch.multiprocessing.set_sharing_strategy("file_system")
    if multi and cfg.wandb:
        print("fer-bench: W&B logging is off for multi-device cells (spawned workers would each open a run)",
              file=sys.stderr)
    logger = make_wandb_logger(cfg.wandb, run_id) if cfg.wandb and not multi else False
    if logger:
        # limit_train / limit_eval: a 1,000-image smoke run must not look like a full run in W&B.
        logger.log_hyperparams({"model": cfg.model, "recipe": recipe.to_dict(), "seed": cfg.seed,
                                "precision": precision, "data": asdict(load), "limit_train": cfg.limit_train,
                                "limit_eval": cfg.limit_eval, "epochs": recipe.epochs, **cfg.meta})
        from lightning.pytorch.callbacks import LearningRateMonitor
        callbacks.append(LearningRateMonitor(logging_interval="epoch"))
    trainer = L.Trainer(
        max_epochs=recipe.epochs, precision=precision, accelerator=cfg.accelerator,
        devices=cfg.devices, callbacks=callbacks, logger=logger, num_sanity_val_steps=0,
        enable_progress_bar=cfg.progress, enable_model_summary=False,
        use_distributed_sampler=False, default_root_dir=cfg.workdir,
        # The spawn launcher returns to this process after fit (the subprocess launcher would
        # re-run the whole command line once per device).
        strategy="ddp_spawn" if multi else "auto",
    )
    fit_t0 = time.perf_counter()
    last = ckpt_dir / "last.ckpt"
    if cfg.resume and last.is_file() and not checkpoint_readable(last):
        bad = last.with_name("last.ckpt.corrupt")
        last.replace(bad)
        print(f"fer-bench: {last}: corrupt resume checkpoint (moved to {bad.name}); this cell starts again "
              "from epoch 1", file=sys.stderr)
    trainer.fit(module, datamodule=dm, ckpt_path=str(last) if cfg.resume and last.is_file() else None)
    fit_seconds = time.perf_counter() - fit_t0
    # validate/test(ckpt_path=...) below restore callback states from the best checkpoint:
    # keep what the fit itself produced.
    curves = list(runlog.curves)
    resumed_from = getattr(runlog, "resumed_from_epoch", None)
    train_ips = runlog.train_images / max(runlog.train_seconds, 1e-9)
    if multi:
        # The curves lived in the workers; their last checkpoint carries them. Evaluation runs
        # here, on one device, so that every image is scored exactly once.
        state = torch.load(last, map_location="cpu", weights_only=False)["callbacks"]
        worker_log = next(v for k, v in state.items() if k.startswith("RunLog"))
        curves = list(worker_log["curves"])
        # rank 0's images per second; every rank trains as many images at the same time
        train_ips = cfg.devices * worker_log["train_images"] / max(worker_log["train_seconds"], 1e-9)
        trainer = L.Trainer(precision=precision, accelerator=cfg.accelerator, devices=1, logger=False,
                            enable_progress_bar=cfg.progress, enable_model_summary=False)

    # The selected checkpoint (best on PublicTest) is evaluated once on each split. Its numbers go to
    # W&B as the run's summary (log_final_to_wandb), not as one more point at epoch N+1 of the curves.
    trainer.loggers = []
    best = ckpt.best_model_path or None
    trainer.validate(module, datamodule=dm, ckpt_path=best, verbose=False)
    val = metrics_to_json(module.computed["val"], dm.classes)
    eval_t0 = time.perf_counter()
    trainer.test(module, datamodule=dm, ckpt_path=best, verbose=False)
    eval_seconds = time.perf_counter() - eval_t0
    test = metrics_to_json(module.computed["test"], dm.classes)
    probs = torch.cat(module.test_probs)
    probs_flip = torch.cat(module.test_probs_flip)
    test_labels = dm.parts["test"][1]
    tta = {"hflip": summary_metrics(probs_flip, test_labels, dm.num_classes)}
    native = native_protocol_metrics(trainer, module, dm, recipe.eval_protocol)
    natural = evaluate_natural(trainer, module, dm, best)
    latency = inference_latency(module.model, precision, channels_last=cfg.channels_last)

    best_epoch = _epoch_of(best)
    best_score = next((c.get(recipe.checkpoint_monitor) for c in curves if c["epoch"] == best_epoch), None)
    record = {
        "schema": RECORD_SCHEMA,
        "run_id": run_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["fer-bench", *sys.argv[1:]]) if sys.argv else "",
        "status": "finished",
        "meta": cfg.meta,
        "model": {"name": cfg.model, "paper": card.paper, "params": count_params(module.model),
                  "macs": count_macs(eval_view_model(cfg.model, dm.num_classes, recipe.eval_protocol)),
                  "eval_protocol": recipe.eval_protocol,
                  "pretrained": getattr(module.model, "pretrained_source", None) or False},
        "recipe": recipe.to_dict(),
        "config": {**{k: v for k, v in asdict(cfg).items() if k not in ("load", "wandb")},
                   "world_size": cfg.devices,
                   "precision": precision, "recipe": recipe.name},
        "data": {
            "path": portable_paths(str(cfg.data)), "options": asdict(load), "info": dm.dataset.info,
            "classes": list(dm.classes),
            "sizes": {s: len(dm.parts[s][1]) for s in dm.parts},
            "protocol": "selection on val (PublicTest) only; test = PrivateTest, evaluated once",
        },
        "selection": {
            "monitor": recipe.checkpoint_monitor, "best_score": best_score,
            "best_epoch": best_epoch, "epochs_run": len(curves),
            "stopped_early": len(curves) < recipe.epochs,
            "resumed_from_epoch": resumed_from,
        },
        "metrics": {"val": val, "test": test, "test_tta": tta, **({"natural": natural} if natural else {}),
                    **({"test_native": native} if native else {})},
        "test_labels": test_labels.tolist(),
        "test_predictions": probs.argmax(1).tolist(),
        "test_probs": encode_probs(probs),
        "curves": curves,
        "timing": {
            "wall_seconds": round(time.perf_counter() - started, 2),
            "fit_seconds": round(fit_seconds, 2),
            "observed_test_seconds": round(runlog.observe_seconds, 2),
            "test_eval_seconds": round(eval_seconds, 2),
            "train_images_per_second": round(train_ips, 1),
            # test pass = plain + flipped forward of every image
            "test_images_per_second": round(2 * len(test_labels) / max(eval_seconds, 1e-9), 1),
            "latency_ms_batch1": min(latency.values()),
            "latency_ms_batch1_by_precision": latency,
        },
        "environment": environment(),
    }
    out = Path(cfg.out) if cfg.out else Path("results") / "runs" / f"{run_id}.json"
    weights = keep_model(module, best, Path(cfg.workdir) / "models" / run_id, record)
    record["model_file"] = portable_paths(str(Path(weights).resolve()))
    write_json(out, record)
    last.unlink(missing_ok=True)  # the record is written: resume state is no longer needed
    print(f"fer-bench: model kept in {Path(weights).parent}", file=sys.stderr)
    if logger:
        log_final_to_wandb(logger, record, out)
    record["path"] = str(out)
    return record


def failed_record(cfg: TrainConfig, error: BaseException, run_id: str | None = None) -> dict:
    """The record of a run that failed (diverged, crashed): why, with what, on what."""
    import traceback
    reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return {
        "schema": RECORD_SCHEMA, "status": "failed", "reason": reason, "run_id": run_id or cfg.run_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "meta": cfg.meta, "model": {"name": cfg.model}, "recipe": {"name": cfg.recipe},
        "config": {"seed": cfg.seed, "overrides": cfg.meta.get("overrides", {})},
        "traceback": portable_paths(traceback.format_exc(limit=5)), "environment": environment(),
    }


def portable_paths(text: str) -> str:
    """Records are committed and shared: no machine's layout in them (venv, checkout, home)."""
    roots = ((sys.prefix, "<venv>"), (sys.base_prefix, "<python>"),
             (str(Path(__file__).resolve().parents[1]), "<fer-bench>"), (str(Path.home()), "~"))
    for root, name in sorted(roots, key=lambda r: -len(r[0])):
        if root and root != "/":
            text = text.replace(root, name)
    return text


def local_path(text: str) -> Path:
    """A path from a record, on this machine: the inverse of portable_paths for the checkout and home."""
    root = str(Path(__file__).resolve().parents[1])
    return Path(text.replace("<fer-bench>", root, 1) if text.startswith("<fer-bench>") else text).expanduser()


def checkpoint_readable(path: Path) -> bool:
    """A torch checkpoint is a zip archive: a truncated or overwritten one fails its CRC check."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as z:
            return z.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def keep_model(module: FERClassifier, ckpt_path: str | None, out_dir: Path, record: dict) -> str:
    """The selected weights as a weights-only file (safetensors: loading it runs no code) and a small
    JSON card beside it saying how to feed the model. Returns the weights file's path."""
    from safetensors.torch import save_file
    if ckpt_path:
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)["state_dict"]
        module.load_state_dict(state)
    weights = out_dir / "model.safetensors"
    tensors = {k: v.detach().cpu().contiguous() for k, v in module.model.state_dict().items()}
    with atomic_path(weights) as tmp:
        save_file(tensors, str(tmp))
    card = {
        "architecture": record["model"]["name"], "classes": record["data"]["classes"],
        "input": {"size": 48, "channels": 1, "scale": "pixel / 255", "face_crop": "fer-bench natural build",
                  "eval_protocol": record["model"].get("eval_protocol", "native")},
        # What the record's numbers were computed in: `fer-bench eval` uses it to reproduce them exactly.
        "precision": record["config"]["precision"], "channels_last": record["config"]["channels_last"],
        "run_id": record["run_id"], "recipe": record["recipe"]["name"], "seed": record["config"]["seed"],
        "val": {k: record["metrics"]["val"][k] for k in ("accuracy", "macro_f1")},
        "test": {k: record["metrics"]["test"][k] for k in ("accuracy", "macro_f1")},
    }
    write_json(out_dir / "card.json", card)
    return str(weights)


def eval_view_model(name: str, num_classes: int, protocol: str) -> torch.nn.Module:
    """A fresh model in the evaluation view its MACs are counted in (one crop under "single")."""
    model = create_model(name, num_classes=num_classes)
    if protocol == "single" and hasattr(model, "eval_crops"):
        model.eval_crops = 1
    return model


def native_protocol_metrics(trainer: L.Trainer, module: FERClassifier, dm: FERDataModule,
                            protocol: str) -> dict | None:
    """Under the "single" protocol, a crop-averaging model (Khaireddin's ten-crop) is also scored
    with its own protocol: an extra, labelled column, never the ranking number. None otherwise."""
    model = module.model
    if protocol != "single" or not hasattr(model, "eval_crops"):
        return None
    model.eval_crops = type(model).eval_crops
    was_training = module.training
    module.eval()
    probs = []
    with torch.no_grad(), trainer.precision_plugin.forward_context():
        for images, labels in dm.test_dataloader():
            x, _ = dm.prepare((images.to(module.device), labels.to(module.device)), train=False)
            probs.append(module(x).float().softmax(1).cpu())
    module.train(was_training)
    model.eval_crops = 1
    res = summary_metrics(torch.cat(probs), dm.parts["test"][1], dm.num_classes)
    return {"protocol": f"{type(model).eval_crops}-crop", **res}


def evaluate_natural(trainer: L.Trainer, module: FERClassifier, dm: FERDataModule,
                     ckpt_path: str | None) -> dict | None:
    """The selected checkpoint on the natural set (an extra test set), or None without one."""
    if "natural" not in dm.parts:
        return None
    out = trainer.predict(module, datamodule=dm, ckpt_path=ckpt_path)
    probs = torch.cat([p for p, _ in out])
    labels = torch.cat([y for _, y in out])
    metrics = make_metrics(dm.num_classes)
    metrics.update(probs, labels)
    res = metrics_to_json(metrics.compute(), dm.classes)
    res["source"] = portable_paths(str(dm.natural_path))
    return res


def add_natural_to_record(record_path: Path, ckpt: Path, natural: str, data: str) -> dict:
    """Evaluate a finished run's kept checkpoint on a natural set and add the numbers to its
    record (for records made before the natural set existed)."""
    quiet_lightning()
    rec = json.loads(record_path.read_text())
    cfg = rec["config"]
    module = FERClassifier.load_from_checkpoint(str(ckpt), map_location="cpu")
    dm = FERDataModule(data, load=LoadOptions(**rec["data"]["options"]), limit_train=cfg.get("limit_train"),
                       limit_eval=cfg.get("limit_eval"), seed=cfg["seed"],
                       channels_last=cfg.get("channels_last", False), natural=natural)
    dm.setup()
    trainer = L.Trainer(precision=cfg["precision"], accelerator="auto", devices=1, logger=False,
                        enable_progress_bar=False, enable_model_summary=False)
    rec["metrics"]["natural"] = evaluate_natural(trainer, module, dm, None)
    rec["metrics"]["natural"]["added_later_from"] = str(ckpt)
    write_json(record_path, rec)
    return rec


def summary_metrics(probs: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict:
    """Accuracy and macro-F1 of class probabilities (TTA variants, ensembles)."""
    from torchmetrics.functional.classification import multiclass_accuracy, multiclass_f1_score
    pred = probs.argmax(1)
    return {
        "accuracy": float(multiclass_accuracy(pred, labels, num_classes, average="micro")),
        "macro_f1": float(multiclass_f1_score(pred, labels, num_classes, average="macro")),
    }


def encode_probs(probs: torch.Tensor) -> str:
    """Softmax outputs as base64 float16 (N x C): 14 bytes an image instead of ~60 as JSON text."""
    return base64.b64encode(probs.to(torch.float16).numpy().tobytes()).decode("ascii")


def decode_probs(text: str, num_classes: int) -> torch.Tensor:
    arr = np.frombuffer(base64.b64decode(text), dtype=np.float16).reshape(-1, num_classes)
    return torch.from_numpy(arr.astype(np.float32))


def inference_latency(model: torch.nn.Module, precision: str, channels_last: bool,
                      repeats: int = 50) -> dict[str, float]:
    """Median milliseconds for one 48x48 image, eval mode, in the run's precision and in fp32.
    At batch 1, autocast's casts can cost more than bf16 saves (benchmarks/perf/evaluation.py):
    single-image inference should use whichever is faster, so both are recorded.

    The median of single calls, not torch.utils.benchmark: its Timer reports the mean of blocks of calls,
    which takes in every preemption; beside a running suite it read lenet5 at 1.3-2.9 ms where single
    calls read 0.6-0.8 ms (2026-12-02, 2-core AMD EPYC)."""
    device = next(model.parameters()).device
    x = torch.rand(1, 1, 48, 48, device=device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    model.eval()
    out = {}
    for prec in dict.fromkeys([precision, "32-true"]):
        dtype = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(prec)
        times = []
        with torch.no_grad(), torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            for i in range(repeats + 5):
                if device.type == "cuda":
                    torch.cuda.synchronize()
                t = time.perf_counter()
                model(x)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                if i >= 5:  # warm-up: first calls build kernels
                    times.append(time.perf_counter() - t)
        out[prec] = round(float(np.median(times)) * 1000, 3)
    return out


def _epoch_of(path: str | None) -> int | None:
    if not path or "epoch=" not in path:
        return None
    return int(Path(path).stem.split("epoch=")[1].split("-")[0])
