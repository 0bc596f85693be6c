"""The run record: what one training run measured, as a type.

`train` builds a `RunRecord`; the runner, the reports, W&B and the perf scripts read its attributes.
On disk it is JSON (`encode` / `decode`); `load_records` reads a suite's folder and migrates records
written by older versions (schema 1 had optional keys where schema 2 always writes them), so every
committed record stays readable and every reader sees one shape.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.core.runinfo import hardware_label
from fer_bench.core.validate import is_int, is_number

RECORD_SCHEMA = 2


@dataclass
class SplitMetrics:
    """One split's scores (metrics_to_json's output): the confusion rows are true classes."""

    accuracy: float
    macro_f1: float
    n: int | None = None
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)
    confusion: list[list[int]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)   # source, protocol, added_later_from

    @classmethod
    def decode(cls, d: dict) -> SplitMetrics:
        known = {"accuracy", "macro_f1", "n", "per_class", "confusion"}
        return cls(**{k: v for k, v in d.items() if k in known}, extra={k: v for k, v in d.items() if k not in known})

    def encode(self) -> dict:
        out = {"accuracy": self.accuracy, "macro_f1": self.macro_f1}
        if self.n is not None:
            out |= {"n": self.n, "per_class": self.per_class, "confusion": self.confusion}
        return out | self.extra


@dataclass
class Metrics:
    val: SplitMetrics
    test: SplitMetrics
    test_tta: dict[str, SplitMetrics] = field(default_factory=dict)   # "hflip"
    natural: SplitMetrics | None = None
    test_native: SplitMetrics | None = None       # a crop-averaging model in its own protocol
    test_single: SplitMetrics | None = None       # its single centre view, when test is its own protocol

    @classmethod
    def decode(cls, d: dict) -> Metrics:
        opt = {k: SplitMetrics.decode(d[k]) for k in ("natural", "test_native", "test_single") if k in d}
        return cls(val=SplitMetrics.decode(d["val"]), test=SplitMetrics.decode(d["test"]),
                   test_tta={k: SplitMetrics.decode(v) for k, v in d.get("test_tta", {}).items()}, **opt)

    def encode(self) -> dict:
        out = {"val": self.val.encode(), "test": self.test.encode(),
               "test_tta": {k: v.encode() for k, v in self.test_tta.items()}}
        out |= {k: getattr(self, k).encode() for k in ("natural", "test_native", "test_single")
                if getattr(self, k) is not None}
        return out


@dataclass
class ModelInfo:
    name: str
    paper: str = ""
    params: int = 0
    macs: int | None = None
    pretrained: bool | str = False
    eval_protocol: str = "native"


@dataclass
class DataInfo:
    path: str
    options: dict
    info: dict                  # the reader's description: format, labels, FER+ counts, cache key
    classes: list[str]
    sizes: dict[str, int]
    protocol: str = ""


@dataclass
class Selection:
    monitor: str
    best_score: float | None
    best_epoch: int | None       # 0-based
    epochs_run: int
    stopped_early: bool
    resumed_from_epoch: int | None = None


@dataclass
class Timing:
    wall_seconds: float
    fit_seconds: float
    test_eval_seconds: float
    train_images_per_second: float
    observed_test_seconds: float = 0.0
    test_images_per_second: float | None = None
    latency_ms_batch1: float | None = None
    latency_ms_batch1_by_precision: dict[str, float] = field(default_factory=dict)


# Keys schema 1 wrote only sometimes; schema 2 writes them always.
_SCHEMA1_DEFAULTS = {"meta": {}, "test_labels": [], "test_probs": "", "model_file": None}


@dataclass
class RunRecord:
    run_id: str
    created: str
    command: str
    model: ModelInfo
    recipe: dict                # the recipe as trained (Recipe.to_dict), overrides applied
    config: dict                # the TrainConfig, resolved precision and world size
    data: DataInfo
    selection: Selection
    metrics: Metrics
    test_predictions: list[int]
    curves: list[dict]          # one per epoch: lr, train/val loss and accuracy, elapsed_seconds
    timing: Timing
    environment: dict
    test_labels: list[int] = field(default_factory=list)
    test_probs: str = ""        # base64 float16, N x classes (encode_probs)
    meta: dict = field(default_factory=dict)       # suite, cell, label (sweep point), overrides
    model_file: str | None = None
    status: str = "finished"
    schema: int = RECORD_SCHEMA

    # -- what the readers ask of a record --------------------------------------------------------------
    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def label(self) -> str:
        """The cell's table label: a sweep's grid point ('lr=0.01, optimizer=adam'), else ''."""
        return self.meta.get("label", "")

    @property
    def hardware(self) -> str:
        """The GPUs (model and count) or the CPU (and its bf16 capability) that measured this run's costs."""
        hw, cfg = self.environment["hardware"], self.config
        on_gpu = cfg.get("accelerator") in ("gpu", "cuda") or (cfg.get("accelerator", "auto") == "auto"
                                                                and bool(hw.get("cuda")))
        return hardware_label(hw, int(cfg.get("world_size") or 1) if on_gpu else 0)

    @property
    def precision(self) -> str:
        return self.config["precision"]

    @property
    def classes(self) -> list[str]:
        return self.data.classes

    def training_minutes(self) -> float:
        """Training wall clock in minutes: per-epoch validation included, the observed-test evaluation
        (observe_test) and the final test evaluation excluded."""
        if self.curves and "elapsed_seconds" in self.curves[-1]:
            return self.curves[-1]["elapsed_seconds"] / 60
        return (self.timing.fit_seconds - self.timing.observed_test_seconds) / 60

    def correct(self) -> np.ndarray:
        """Per-image correctness on PrivateTest (the McNemar tests pair these)."""
        return np.array(self.test_predictions) == np.array(self.test_labels)

    def probs(self) -> torch.Tensor | None:
        return decode_probs(self.test_probs, len(self.classes)) if self.test_probs else None

    # -- JSON ---------------------------------------------------------------------------------------------
    @classmethod
    def decode(cls, d: dict) -> RunRecord:
        d = {**_SCHEMA1_DEFAULTS, **d} if d.get("schema", 1) < 2 else d
        return cls(
            run_id=d["run_id"], created=d["created"], command=d["command"], status=d["status"],
            schema=RECORD_SCHEMA, model=ModelInfo(**d["model"]), recipe=d["recipe"], config=d["config"],
            data=DataInfo(**d["data"]), selection=Selection(**d["selection"]), metrics=Metrics.decode(d["metrics"]),
            test_predictions=d["test_predictions"], curves=d["curves"], timing=Timing(**d["timing"]),
            environment=d["environment"], test_labels=d["test_labels"], test_probs=d["test_probs"],
            meta=d["meta"], model_file=d["model_file"])

    def encode(self) -> dict:
        plain = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**plain, "model": vars(self.model).copy(), "data": vars(self.data).copy(),
                "selection": vars(self.selection).copy(), "timing": vars(self.timing).copy(),
                "metrics": self.metrics.encode()}


@dataclass
class FailedRecord:
    """A cell that crashed or diverged: why, with what, on what. The runner does not retry it unless asked."""

    run_id: str | None
    reason: str
    created: str
    model: dict
    recipe: dict
    config: dict
    traceback: str = ""
    environment: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    status: str = "failed"
    schema: int = RECORD_SCHEMA

    @classmethod
    def decode(cls, d: dict) -> FailedRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known} | {"schema": RECORD_SCHEMA})

    def encode(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def decode_record(d: dict, where: str = "record") -> RunRecord | FailedRecord:
    """A record's JSON object as its type; a record this version cannot read is one clear error."""
    if not isinstance(d, dict):
        raise FerBenchError(f"{where}: not a run record (expected a JSON object)")
    if not is_int(d.get("schema", 1)):
        raise FerBenchError(f"{where}: key 'schema' must be an integer, not {d['schema']!r}")
    if d.get("schema", 1) > RECORD_SCHEMA:
        raise FerBenchError(f"{where}: record schema {d['schema']} is newer than this fer-bench reads "
                            f"({RECORD_SCHEMA}); update fer-bench")
    try:
        if d.get("status") != "finished":
            return FailedRecord.decode(d)
        _check_values(d, where)
        return RunRecord.decode(d)
    except (KeyError, TypeError, AttributeError) as e:
        raise FerBenchError(f"{where}: not a valid run record ({type(e).__name__}: {e})") from None


def _check_values(d: dict, where: str) -> None:
    """The values the reports compute with, checked once here: a hand-edited or truncated record is one line
    naming its key, never a traceback (or a wrong number) deep in a leaderboard."""
    def bad(key: str, want: str) -> FerBenchError:
        return FerBenchError(f"{where}: key {key!r} must be {want}")
    metrics = {k: v for k, v in d["metrics"].items() if k != "test_tta"}
    for name, sm in (metrics | {f"test_tta.{k}": v for k, v in d["metrics"].get("test_tta", {}).items()}).items():
        if not all(is_number(sm.get(k)) for k in ("accuracy", "macro_f1")):
            raise bad(f"metrics.{name}", "an object with accuracy and macro_f1 as numbers")
    preds, labels = d["test_predictions"], d.get("test_labels", [])
    for key, v in (("test_predictions", preds), ("test_labels", labels)):
        if not isinstance(v, list) or not all(is_int(x) for x in v):
            raise bad(key, "a list of class indices")
    if labels and len(labels) != len(preds):
        raise bad("test_predictions", f"as long as test_labels ({len(labels)}), not {len(preds)}")
    if d.get("test_probs"):
        try:
            n = len(base64.b64decode(d["test_probs"], validate=True)) // 2
        except (ValueError, TypeError):   # binascii.Error is a ValueError
            n = -1
        if n != len(preds) * len(d["data"]["classes"]):
            raise bad("test_probs", f"base64 float16 probabilities for {len(preds)} images")
    if not isinstance(d["curves"], list) or not all(isinstance(c, dict) and all(
            v is None or is_number(v) for v in c.values()) for c in d["curves"]):
        raise bad("curves", "a list of per-epoch objects of numbers")
    sel = d["selection"]
    if not (sel.get("best_epoch") is None or is_int(sel["best_epoch"])) or not is_int(sel.get("epochs_run")):
        raise bad("selection", "best_epoch and epochs_run as integers")
    for k, v in d["timing"].items():
        if v is not None and not isinstance(v, dict) and not is_number(v):
            raise bad(f"timing.{k}", "a number")


def read_record(path: Path) -> RunRecord | FailedRecord:
    try:
        d = json.loads(Path(path).read_text())
    except ValueError:
        raise FerBenchError(f"{path}: not a valid run record (JSON)") from None
    return decode_record(d, str(path))


def load_records(runs_dir: Path) -> tuple[list[RunRecord], list[FailedRecord]]:
    """Every record in a suite's runs/ folder, finished and failed, in file-name order."""
    finished, failed = [], []
    for p in sorted(Path(runs_dir).glob("*.json")):
        rec = read_record(p)
        (finished if isinstance(rec, RunRecord) else failed).append(rec)
    return finished, failed


def encode_probs(probs: torch.Tensor) -> str:
    """Softmax outputs as base64 float16 (N x C): 14 bytes an image instead of ~60 as JSON text."""
    return base64.b64encode(probs.to(torch.float16).numpy().tobytes()).decode("ascii")


def decode_probs(text: str, num_classes: int) -> torch.Tensor:
    arr = np.frombuffer(base64.b64decode(text), dtype=np.float16).reshape(-1, num_classes)
    return torch.from_numpy(arr.astype(np.float32))
