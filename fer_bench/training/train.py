"""One training run: fit with selection on PublicTest, test the selected checkpoint once on
PrivateTest, write one JSON run record (atomically).

`train` reads as four steps: build (data, model, callbacks), fit (resumable), evaluate (the selected
checkpoint on every split) and record (a typed RunRecord, written once, then the kept model)."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint

from fer_bench.core.io import file_safe, write_json
from fer_bench.core.metrics import metrics_to_json, summary_metrics
from fer_bench.core.overrides import Overrides
from fer_bench.core.record import (
    DataInfo,
    FailedRecord,
    Metrics,
    ModelInfo,
    RunRecord,
    Selection,
    SplitMetrics,
    Timing,
    encode_probs,
)
from fer_bench.core.runinfo import environment, portable_paths, resolve_precision, uses_cuda
from fer_bench.data.datamodule import FERDataModule
from fer_bench.data.fer2013 import default_data_path
from fer_bench.data.load import LoadOptions
from fer_bench.models import count_macs, count_params, get_card
from fer_bench.recipes import Recipe, run_recipe
from fer_bench.training.distributed import BatchPlan, batch_plan, fit_log
from fer_bench.training.keep import checkpoint_readable, keep_model
from fer_bench.training.module import FERClassifier
from fer_bench.training.runlog import EpochLine, Heartbeat, RunLog, epoch_of, quiet_lightning
from fer_bench.training.scoring import eval_view_model, evaluate_natural, extra_views, inference_latency
from fer_bench.training.tracking import log_final_to_wandb, run_logger


@dataclass
class TrainConfig:
    model: str
    data: str = field(default_factory=lambda: str(default_data_path()))
    recipe: str | None = None          # default: the model's paper recipe
    seed: int = 0
    overrides: Overrides = field(default_factory=Overrides)   # epochs, batch size, lr, optimiser, weights
    changes: dict = field(default_factory=dict)   # any other recipe field ('augment.shift': 0.1), checked
    precision: str = "auto"            # auto = bf16-mixed on a bf16 CPU, 16-mixed on CUDA
    channels_last: bool = True
    limit_train: int | None = None     # stratified subset of the training split
    limit_eval: int | None = None      # stratified subsets of val and test (tests, smoke runs)
    load: LoadOptions = field(default_factory=LoadOptions)
    out: str | None = None             # record path; default results/train/runs/<run_id>.json (not committed)
    workdir: str = "work"              # checkpoints (not results)
    accelerator: str = "auto"
    devices: int = 1
    relaunch: bool = False             # several devices: the calling command may run once per device (DDP)
    progress: bool = True
    natural: str | None = None         # a built natural set: evaluated as an extra test set
    run_id: str | None = None          # default: model__recipe__seed__timestamp
    resume: bool = False               # continue from <checkpoints>/last.ckpt when it exists
    observe_test: bool = False         # per-epoch test accuracy for time-to-accuracy (never selects)
    wandb: bool = False                # log to W&B (project/entity: WANDB_PROJECT / WANDB_ENTITY)
    meta: dict = field(default_factory=dict)  # e.g. suite and cell, copied into the record
    lock: str | None = None            # a suite cell's lock file: touched after every epoch (its heartbeat)


# A plain `fer-bench train`'s home, like a suite named "train" (git-ignored: scratch runs stay out of commits).
TRAIN_HOME = Path("results") / "train"
def make_run_id(cfg: TrainConfig, recipe: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return file_safe(f"{cfg.model}__{recipe}__s{cfg.seed}__{stamp}")   # named like a suite cell's key


def record_path(cfg: TrainConfig, run_id: str) -> Path:
    return Path(cfg.out) if cfg.out else TRAIN_HOME / "runs" / f"{run_id}.json"


@dataclass
class Run:
    """What `build` sets up and the later steps use."""

    cfg: TrainConfig
    recipe: Recipe
    precision: str
    run_id: str
    load: LoadOptions
    dm: FERDataModule
    module: FERClassifier
    ckpt_dir: Path
    best: ModelCheckpoint
    runlog: RunLog
    callbacks: list[Callback]
    plan: BatchPlan


@dataclass
class Fitted:
    trainer: L.Trainer
    curves: list[dict]
    fit_seconds: float
    train_ips: float
    resumed_from: int | None
    logger: object


def build(cfg: TrainConfig) -> Run:
    card = get_card(cfg.model)
    recipe = run_recipe(cfg.recipe or card.recipe, cfg.overrides, cfg.changes)
    plan = batch_plan(recipe.batch_size, cfg.devices, cfg.relaunch)
    if plan.lr_scale != 1:
        recipe = replace(recipe, lr=recipe.lr * plan.lr_scale)
    run_id = cfg.run_id or make_run_id(cfg, recipe.name)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    load = cfg.load
    if recipe.drop_blank and not load.drop_blank:
        load = LoadOptions(**{**asdict(load), "drop_blank": True})
    dm = FERDataModule(cfg.data, load=load, batch_size=plan.per_device_batch, augment=recipe.augment,
                       oversample=recipe.oversample, limit_train=cfg.limit_train,
                       limit_eval=cfg.limit_eval, seed=cfg.seed, channels_last=cfg.channels_last,
                       natural=cfg.natural, vote_targets=recipe.targets == "votes")
    dm.setup()
    weights = dm.class_weights(recipe.class_weights)
    module = FERClassifier(cfg.model, recipe, num_classes=dm.num_classes,
                           class_weights=weights.tolist() if weights is not None else None,
                           channels_last=cfg.channels_last)
    ckpt_dir = Path(cfg.workdir) / "checkpoints" / run_id
    best = ModelCheckpoint(dirpath=ckpt_dir, monitor=recipe.checkpoint_monitor, mode=recipe.checkpoint_mode,
                           save_top_k=1, filename="best-{epoch}", save_on_train_epoch_end=True)
    # Lightning writes last.ckpt only when the monitored metric improves; resuming needs the
    # latest epoch, so a second, unmonitored checkpoint keeps exactly that. Both save at the
    # end of the training epoch, after RunLog has added that epoch's curve.
    latest = ModelCheckpoint(dirpath=ckpt_dir, filename="last", monitor=None, save_top_k=1,
                             save_on_train_epoch_end=True, enable_version_counter=False)
    runlog = RunLog(observe_test=dm if cfg.observe_test else None)
    callbacks: list[Callback] = [best, latest, runlog]
    if cfg.lock:
        callbacks.append(Heartbeat(Path(cfg.lock)))
    if cfg.progress and not sys.stderr.isatty():
        callbacks.append(EpochLine())
    if recipe.early_stopping:
        es = recipe.early_stopping
        callbacks.append(EarlyStopping(monitor=es.monitor, mode=es.mode, patience=es.patience))
    return Run(cfg, recipe, resolve_precision(cfg.precision, cfg.accelerator), run_id, load, dm, module, ckpt_dir,
               best, runlog, callbacks, plan)


def settings(run: Run) -> dict:
    """The run's settings as resolved (precision, device plan, recipe name): the record's config and the
    W&B config, one derivation for both, whether the run came from the command line or a suite cell."""
    cfg = run.cfg
    return {**{k: v for k, v in asdict(cfg).items() if k not in ("load", "wandb", "overrides")},
            **asdict(cfg.overrides), "world_size": cfg.devices, "distributed": run.plan.to_dict(),
            "precision": run.precision, "recipe": run.recipe.name}


def fit(run: Run) -> Fitted | None:
    """None in a DDP worker (rank 1..N-1): rank 0 evaluates and records."""
    cfg, recipe, strategy = run.cfg, run.recipe, run.plan.strategy
    if strategy == "ddp_spawn":
        # Spawned workers receive the module and data by pickling; the default fd-based
        # sharing cannot pass the empty tensors torchmetrics keeps ("unable to resize file").
        torch.multiprocessing.set_sharing_strategy("file_system")
        if cfg.wandb:
            print("fer-bench: W&B logging is off for multi-device suite cells (spawned workers would each open "
                  "a run); `fer-bench train --devices N` logs from rank 0", file=sys.stderr)
    # Under DDP every rank builds the logger and only rank 0's opens a W&B run (Lightning's rank-zero experiment).
    # W&B gets the record's settings (a 1,000-image smoke run must not look like a full run) and the recipe as run.
    logger = run_logger(cfg.workdir, run.run_id, cfg.model, recipe.name, cfg.meta.get("suite", "train"),
                        {**settings(run), "recipe": recipe.to_dict(), "data": asdict(run.load), "epochs": recipe.epochs,
                         **cfg.meta}, run.callbacks) if cfg.wandb and strategy != "ddp_spawn" else False
    trainer = L.Trainer(
        max_epochs=recipe.epochs, precision=run.precision, accelerator=cfg.accelerator,
        devices=cfg.devices, callbacks=run.callbacks, logger=logger, num_sanity_val_steps=0,
        enable_progress_bar=cfg.progress and sys.stderr.isatty(), enable_model_summary=False,
        use_distributed_sampler=False, default_root_dir=cfg.workdir, strategy=strategy)
    if uses_cuda(cfg.accelerator):
        # TF32 tensor cores for the fp32 matmuls left outside autocast (Lightning warns otherwise).
        torch.set_float32_matmul_precision("high")
    fit_t0 = time.perf_counter()
    last = run.ckpt_dir / "last.ckpt"
    if cfg.resume and last.is_file() and not checkpoint_readable(last):
        bad = last.with_name("last.ckpt.corrupt")
        last.replace(bad)
        print(f"fer-bench: {last}: corrupt resume checkpoint (moved to {bad.name}); this cell starts again "
              "from epoch 1", file=sys.stderr)
    trainer.fit(run.module, datamodule=run.dm, ckpt_path=str(last) if cfg.resume and last.is_file() else None)
    fit_seconds = time.perf_counter() - fit_t0
    # validate/test(ckpt_path=...) later restore callback states from the best checkpoint: keep the fit's own.
    if (log := fit_log(strategy, trainer, run.runlog.state_dict(), last)) is None:
        return None
    curves = list(log["curves"])
    # rank 0's images per second; every rank trains as many images at the same time
    train_ips = cfg.devices * log["train_images"] / max(log["train_seconds"], 1e-9)
    if cfg.devices > 1:
        # Evaluation runs here, on one device, so that every test image is scored exactly once.
        trainer = L.Trainer(precision=run.precision, accelerator=cfg.accelerator, devices=1, logger=False,
                            enable_progress_bar=cfg.progress, enable_model_summary=False, enable_checkpointing=False)
    return Fitted(trainer, curves, fit_seconds, train_ips, getattr(run.runlog, "resumed_from_epoch", None), logger)


def evaluate(run: Run, fitted: Fitted) -> tuple[Metrics, dict]:
    """The selected checkpoint (best on PublicTest), evaluated once on each split. Its numbers go to W&B
    as the run's summary (log_final_to_wandb), not as one more point at epoch N+1 of the curves."""
    trainer, module, dm = fitted.trainer, run.module, run.dm
    trainer.loggers = []
    best = run.best.best_model_path or None
    trainer.validate(module, datamodule=dm, ckpt_path=best, verbose=False)
    val = metrics_to_json(module.computed["val"], dm.classes)
    eval_t0 = time.perf_counter()
    trainer.test(module, datamodule=dm, ckpt_path=best, verbose=False)
    eval_seconds = time.perf_counter() - eval_t0
    test = metrics_to_json(module.computed["test"], dm.classes)
    probs = torch.cat(module.test_probs)
    labels = dm.parts["test"][1]
    native, single = extra_views(trainer, module, dm, run.recipe.eval_protocol)
    natural = evaluate_natural(trainer, module, dm, best)
    metrics = Metrics(
        val=SplitMetrics.decode(val), test=SplitMetrics.decode(test),
        test_tta={"hflip": SplitMetrics.decode(summary_metrics(torch.cat(module.test_probs_flip), labels,
                                                               dm.num_classes))},
        natural=SplitMetrics.decode(natural) if natural else None,
        test_native=SplitMetrics.decode(native) if native else None,
        test_single=SplitMetrics.decode(single) if single else None)
    return metrics, {"best": best, "probs": probs, "labels": labels, "eval_seconds": eval_seconds,
                     "latency": inference_latency(module.model, run.precision, channels_last=run.cfg.channels_last)}


def make_record(run: Run, fitted: Fitted, metrics: Metrics, ev: dict, started: float) -> RunRecord:
    cfg, recipe, dm, curves = run.cfg, run.recipe, run.dm, fitted.curves
    best_epoch = epoch_of(ev["best"])
    return RunRecord(
        run_id=run.run_id, created=datetime.now(UTC).isoformat(timespec="seconds"),
        command=" ".join(["fer-bench", *sys.argv[1:]]) if sys.argv else "", meta=cfg.meta,
        model=ModelInfo(name=cfg.model, paper=get_card(cfg.model).paper, params=count_params(run.module.model),
                        macs=count_macs(eval_view_model(cfg.model, dm.num_classes, recipe.eval_protocol)),
                        eval_protocol=recipe.eval_protocol,
                        pretrained=getattr(run.module.model, "pretrained_source", None) or False),
        recipe=recipe.to_dict(),
        config=settings(run),
        data=DataInfo(path=portable_paths(str(cfg.data)), options=asdict(run.load), info=dm.dataset.info,
                      classes=list(dm.classes), sizes={s: len(dm.parts[s][1]) for s in dm.parts},
                      protocol="selection on val (PublicTest) only; test = PrivateTest, evaluated once"),
        selection=Selection(
            monitor=recipe.checkpoint_monitor, best_epoch=best_epoch, epochs_run=len(curves),
            best_score=next((c.get(recipe.checkpoint_monitor) for c in curves if c["epoch"] == best_epoch), None),
            stopped_early=len(curves) < recipe.epochs, resumed_from_epoch=fitted.resumed_from),
        metrics=metrics,
        test_labels=ev["labels"].tolist(), test_predictions=ev["probs"].argmax(1).tolist(),
        test_probs=encode_probs(ev["probs"]), curves=curves,
        timing=Timing(
            wall_seconds=round(time.perf_counter() - started, 2), fit_seconds=round(fitted.fit_seconds, 2),
            observed_test_seconds=round(run.runlog.observe_seconds, 2),
            test_eval_seconds=round(ev["eval_seconds"], 2), train_images_per_second=round(fitted.train_ips, 1),
            # test pass = plain + flipped forward of every image
            test_images_per_second=round(2 * len(ev["labels"]) / max(ev["eval_seconds"], 1e-9), 1),
            latency_ms_batch1=min(ev["latency"].values()), latency_ms_batch1_by_precision=ev["latency"]),
        environment=environment(),
    )


def train(cfg: TrainConfig) -> RunRecord | None:
    """Run one (model, recipe, seed) cell; returns the record it wrote (at record_path(cfg, run_id)), None
    in a DDP worker process."""
    quiet_lightning()
    started = time.perf_counter()
    run = build(cfg)
    fitted = fit(run)
    if fitted is None:
        return None
    metrics, ev = evaluate(run, fitted)
    record = make_record(run, fitted, metrics, ev, started)
    home = Path(cfg.workdir) / "models" if cfg.out else TRAIN_HOME / "models"
    weights = keep_model(run.module, ev["best"], home / run.run_id, record)
    record.model_file = portable_paths(str(Path(weights).resolve()))
    out = record_path(cfg, run.run_id)
    write_json(out, record.encode())
    (run.ckpt_dir / "last.ckpt").unlink(missing_ok=True)  # the record is written: resume state is no longer needed
    print(f"fer-bench: model kept in {Path(weights).parent}", file=sys.stderr)
    if fitted.logger:
        log_final_to_wandb(fitted.logger, record, out)
    return record


def failed_record(cfg: TrainConfig, error: BaseException, run_id: str | None = None) -> FailedRecord:
    """The record of a run that failed (diverged, crashed): why, with what, on what."""
    import traceback
    first_line = str(error).splitlines()[0] if str(error) else ""
    return FailedRecord(
        run_id=run_id or cfg.run_id, reason=f"{type(error).__name__}: {first_line}",
        created=datetime.now(UTC).isoformat(timespec="seconds"), meta=cfg.meta, model={"name": cfg.model},
        recipe={"name": cfg.recipe}, config={"seed": cfg.seed, "overrides": cfg.meta.get("overrides", {})},
        traceback=portable_paths(traceback.format_exc(limit=5)), environment=environment())
