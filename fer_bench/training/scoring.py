"""Scoring a fitted model beyond its validate/test pass: the natural photos, a crop-averaging model's
own protocol, batch-1 latency, and the model view its MACs are counted in."""

from __future__ import annotations

import time
from pathlib import Path

import lightning as L
import numpy as np
import torch

from fer_bench.core.io import write_json
from fer_bench.core.metrics import make_metrics, metrics_to_json, summary_metrics
from fer_bench.core.record import RunRecord, SplitMetrics, read_record
from fer_bench.core.runinfo import AUTOCAST, portable_paths
from fer_bench.data.datamodule import FERDataModule
from fer_bench.data.load import LoadOptions
from fer_bench.models import CropAveraging, create_model
from fer_bench.training.module import FERClassifier
from fer_bench.training.runlog import quiet_lightning, test_split_probs


def eval_view_model(name: str, num_classes: int, protocol: str) -> torch.nn.Module:
    """A fresh model in the evaluation view its MACs are counted in (one crop under "single")."""
    model = create_model(name, num_classes=num_classes)
    if protocol == "single" and isinstance(model, CropAveraging):
        model.eval_crops = 1
    return model


def native_protocol_metrics(trainer: L.Trainer, module: FERClassifier, dm: FERDataModule,
                            protocol: str) -> dict | None:
    """Under the "single" protocol, a crop-averaging model (Khaireddin's ten-crop) is also scored
    with its own protocol: an extra, labelled column, never the ranking number. None otherwise."""
    model = module.model
    if protocol != "single" or not isinstance(model, CropAveraging):
        return None
    return _crop_view(trainer, module, dm, type(model).eval_crops, after=1)


def single_view_metrics(trainer: L.Trainer, module: FERClassifier, dm: FERDataModule,
                        protocol: str) -> dict | None:
    """Under a crop-averaging model's own ("native") protocol, the single centre view as well, so that every
    record has a single-view number to compare with every other model's. None where test already is one."""
    model = module.model
    if protocol != "native" or not isinstance(model, CropAveraging) or type(model).eval_crops == 1:
        return None
    return _crop_view(trainer, module, dm, 1, after=type(model).eval_crops)


def extra_views(trainer: L.Trainer, module: FERClassifier, dm: FERDataModule,
                protocol: str) -> tuple[dict | None, dict | None]:
    """(the model's own crop protocol beside a single-view ranking, the single view beside its own protocol)."""
    return native_protocol_metrics(trainer, module, dm, protocol), single_view_metrics(trainer, module, dm, protocol)


def _crop_view(trainer: L.Trainer, module: FERClassifier, dm: FERDataModule, crops: int, after: int) -> dict:
    model = module.model
    model.eval_crops = crops
    probs = test_split_probs(trainer, module, dm)
    model.eval_crops = after
    res = summary_metrics(probs, dm.parts["test"][1], dm.num_classes)
    return {"protocol": "single centre view" if crops == 1 else f"{crops}-crop", **res}


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


def add_natural_to_record(record_path: Path, ckpt: Path, natural: str, data: str) -> RunRecord:
    """Evaluate a finished run's kept checkpoint on a natural set and add the numbers to its
    record (for records made before the natural set existed)."""
    quiet_lightning()
    rec = read_record(record_path)
    cfg = rec.config
    module = FERClassifier.load_from_checkpoint(str(ckpt), map_location="cpu")
    dm = FERDataModule(data, load=LoadOptions(**rec.data.options), limit_train=cfg.get("limit_train"),
                       limit_eval=cfg.get("limit_eval"), seed=cfg["seed"],
                       channels_last=cfg.get("channels_last", False), natural=natural)
    dm.setup()
    trainer = L.Trainer(precision=cfg["precision"], accelerator="auto", devices=1, logger=False,
                        enable_progress_bar=False, enable_model_summary=False)
    rec.metrics.natural = SplitMetrics.decode({**evaluate_natural(trainer, module, dm, None),
                                               "added_later_from": str(ckpt)})
    write_json(record_path, rec.encode())
    return rec


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
        dtype = AUTOCAST.get(prec)
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
