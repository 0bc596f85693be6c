"""Weights & Biases through Lightning's WandbLogger: one W&B run per benchmark cell.

Offline by default (runs are written under the suite's wandb/ folder and can be uploaded
later with `wandb sync`); online only when the user has logged in. The API key is never
read, copied or written by fer-bench: W&B finds it itself.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from fer_bench.core.record import RunRecord


def logged_in() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    netrc = Path.home() / ".netrc"
    try:
        # Line by line, stopping at the W&B host's entry: no secret is kept in memory beyond one line.
        with netrc.open(errors="replace") as f:
            return any("api.wandb.ai" in line for line in f)
    except OSError:
        return False


def wandb_mode() -> str:
    """WANDB_MODE when the user set it, else online if logged in, else offline."""
    return os.environ.get("WANDB_MODE") or ("online" if logged_in() else "offline")


def stable_run_id(save_dir: Path, run_id: str) -> str:
    """The same W&B id for the same cell in the same results folder: a killed and resumed cell
    continues its run (resume="allow") instead of opening a second one with the same name."""
    return hashlib.sha1(f"{save_dir.resolve()}::{run_id}".encode()).hexdigest()[:16]


def make_wandb_logger(cfg: dict, run_id: str):
    from lightning.pytorch.loggers import WandbLogger
    save_dir = Path(cfg["save_dir"])
    save_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("WANDB_SILENT", "true")
    # --wandb-project / --wandb-entity, else WANDB_PROJECT / WANDB_ENTITY, else project fer-bench.
    logger = WandbLogger(
        project=cfg.get("project") or os.environ.get("WANDB_PROJECT") or "fer-bench", name=run_id,
        entity=cfg.get("entity") or os.environ.get("WANDB_ENTITY") or None,
        id=stable_run_id(save_dir, run_id), resume="allow", group=cfg.get("group"),
        job_type=cfg.get("job_type"), tags=cfg.get("tags"), save_dir=str(save_dir),
        offline=wandb_mode() == "offline", log_model=False,
    )
    # Lightning always passes anonymous=None to wandb.init, and wandb warns about the deprecated setting on every
    # run whatever its value ("The anonymous setting has no effect"): not passing it is what wandb asks for.
    logger._wandb_init.pop("anonymous", None)
    return logger


def run_logger(workdir: str, run_id: str, model: str, recipe: str, suite: str, hyperparams: dict,
               callbacks: list):
    """A training run's W&B logger: grouped by architecture, job type = recipe, tagged with the suite ("train"
    for a plain run), its settings logged once, and the learning rate per epoch (added to `callbacks`)."""
    from lightning.pytorch.callbacks import LearningRateMonitor
    logger = make_wandb_logger({"save_dir": workdir, "group": model, "job_type": recipe, "tags": [suite]}, run_id)
    logger.log_hyperparams(hyperparams)
    callbacks.append(LearningRateMonitor(logging_interval="epoch"))
    return logger


def log_final_to_wandb(logger, record: RunRecord, record_path: Path | None = None) -> None:
    """The selected checkpoint's numbers as the run's summary (not history: the post-fit evaluation is
    not an epoch), its test confusion matrix as a W&B heatmap, the run record as an artifact; then
    finish the run."""
    import wandb
    run = logger.experiment
    m = record.metrics
    conf = wandb.plot.confusion_matrix(y_true=record.test_labels, preds=record.test_predictions,
                                       class_names=list(record.classes), title="PrivateTest (selected checkpoint)")
    per_class = wandb.Table(columns=["class", "precision", "recall", "f1", "support"],
                            data=[[c, v["precision"], v["recall"], v["f1"], v["support"]]
                                  for c, v in m.test.per_class.items()])
    run.log({"test/confusion_matrix": conf, "test/per_class": per_class})
    # best_epoch 1-based, as the CLI, tables and plots print it (the record's field stays 0-based, so documented).
    run.summary.update({
        "test/acc": m.test.accuracy, "test/f1_macro": m.test.macro_f1, "val/acc_selected": m.val.accuracy,
        "test/acc_hflip_tta": m.test_tta["hflip"].accuracy,
        "best_epoch": None if record.selection.best_epoch is None else record.selection.best_epoch + 1,
        "params": record.model.params, "macs": record.model.macs,
        "latency_ms_batch1": record.timing.latency_ms_batch1,
        "train_images_per_second": record.timing.train_images_per_second,
        **({"natural/acc": m.natural.accuracy} if m.natural is not None else {}),
    })
    if record_path is not None:
        art = wandb.Artifact(f"record-{record.run_id}".replace("=", "-"), type="run-record")
        art.add_file(str(record_path), name="record.json")
        run.log_artifact(art)
    run.finish()
