"""Run records -> leaderboard rows: one per (model, recipe, sweep point), seeds pooled, with the
statistics every section reads (mean ± 95% CI, McNemar p against a reference row, the seed ensemble)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from statistics import mean, median

import numpy as np
import torch

from fer_bench.core.metrics import summary_metrics
from fer_bench.core.record import RunRecord
from fer_bench.core.stats import mcnemar_p, mean_std_ci


@dataclass(eq=False)   # rows are compared by identity: "is this the reference row"
class Row:
    model: str
    recipe: str
    label: str                      # a sweep's grid point, '' for a plain cell
    records: list[RunRecord]
    test_acc: float
    test_acc_std: float | None
    test_acc_ci95: float | None
    test_f1: float
    test_f1_std: float | None
    test_f1_ci95: float | None
    val_acc: float
    tta_hflip_acc: float
    params: int
    macs: int | None
    train_ips: float
    test_ips: float
    latency_ms: float
    epochs_run: float
    best_epoch: float
    epoch_budget: int
    per_class_f1: dict[str, float]
    confusion: np.ndarray
    pretrained: bool
    natural: NaturalSummary | None = None
    p_vs_ref: float | None = None   # set by paired_p_values

    @property
    def n(self) -> int:
        return len(self.records)

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.records]

    @property
    def name(self) -> str:
        """The model, with the sweep point in brackets when there is one."""
        return self.model + (f" ({self.label})" if self.label else "")

    @property
    def machines(self) -> list[str]:
        """Every machine the seeds ran on: seeds of one row may come from different sessions."""
        return sorted({r.hardware for r in self.records})

    @property
    def hardware(self) -> str:
        return "; ".join(self.machines)


@dataclass
class NaturalSummary:
    """The natural-photo test set, pooled over the seeds that were scored on it."""

    n: int
    acc: float
    acc_std: float | None
    f1: float
    images: int
    recall: dict[str, float]          # recognition rate per class (seed 002's Table III)
    confusion: np.ndarray = field(repr=False)
    acc_ci95: float | None = None     # the 95% CI half-width of the seed mean (the ± everywhere)


def aggregate(records: list[RunRecord]) -> list[Row]:
    """One row per (model, recipe, sweep point), seeds aggregated, best PrivateTest mean first."""
    groups: dict[tuple, list[RunRecord]] = defaultdict(list)
    for r in records:
        groups[r.model.name, r.recipe["name"], r.label].append(r)
    rows = []
    for (model, recipe, label), recs in groups.items():
        recs = sorted(recs, key=lambda r: r.seed)
        m, s, ci = mean_std_ci([r.metrics.test.accuracy for r in recs])
        fm, fs, fci = mean_std_ci([r.metrics.test.macro_f1 for r in recs])
        rows.append(Row(
            model=model, recipe=recipe, label=label, records=recs,
            test_acc=m, test_acc_std=s, test_acc_ci95=ci, test_f1=fm, test_f1_std=fs, test_f1_ci95=fci,
            val_acc=mean(r.metrics.val.accuracy for r in recs),
            tta_hflip_acc=mean(r.metrics.test_tta["hflip"].accuracy for r in recs),
            params=recs[0].model.params, macs=recs[0].model.macs,
            train_ips=median(r.timing.train_images_per_second for r in recs),
            test_ips=median(r.timing.test_images_per_second for r in recs),
            latency_ms=median(r.timing.latency_ms_batch1 for r in recs),
            epochs_run=mean(r.selection.epochs_run for r in recs),
            best_epoch=mean(r.selection.best_epoch or 0 for r in recs),
            epoch_budget=recs[0].recipe["epochs"],
            per_class_f1={c: mean(r.metrics.test.per_class[c]["f1"] for r in recs) for c in recs[0].classes},
            confusion=np.sum([np.array(r.metrics.test.confusion) for r in recs], axis=0),
            pretrained=any(r.model.pretrained for r in recs),
            natural=natural_summary(recs),
        ))
    rows.sort(key=lambda r: -r.test_acc)
    return rows


def natural_summary(recs: list[RunRecord]) -> NaturalSummary | None:
    nat = [r.metrics.natural for r in recs if r.metrics.natural is not None]
    if not nat:
        return None
    acc = [n.accuracy for n in nat]
    return NaturalSummary(
        n=len(nat), acc=mean(acc), acc_std=mean_std_ci(acc)[1], acc_ci95=mean_std_ci(acc)[2],
        f1=mean(n.macro_f1 for n in nat), images=nat[0].n,
        recall={c: mean(n.per_class[c]["recall"] for n in nat) for c in nat[0].per_class},
        confusion=np.sum([np.array(n.confusion) for n in nat], axis=0))


def paired_p_values(rows: list[Row], ref: Row) -> None:
    """McNemar p of each row against `ref`, pooled over the seeds both have."""
    for row in rows:
        row.p_vs_ref = None if row is ref else paired_p(row, ref)


def paired_p(row: Row, ref: Row) -> float | None:
    """Exact McNemar p of `row` against `ref` on per-image PrivateTest correctness, pooled over the seeds
    both have; None without a matched seed."""
    ref_correct = {r.seed: r.correct() for r in ref.records}
    b = c = 0
    matched = False
    for r in row.records:
        other = ref_correct.get(r.seed)
        mine = r.correct()
        if other is None or len(other) != len(mine):
            continue
        b += int((other & ~mine).sum())
        c += int((~other & mine).sum())
        matched = True
    return mcnemar_p(b, c) if matched else None


def ensemble(row: Row) -> dict | None:
    """Softmax average over the row's seeds (they share the test images and their order)."""
    recs = [r for r in row.records if r.test_probs]
    if len(recs) < 2:
        return None
    probs = torch.stack([r.probs() for r in recs]).mean(0)
    return {"n": len(recs), **summary_metrics(probs, torch.tensor(recs[0].test_labels), len(recs[0].classes))}


# One accuracy point: the margin of a claim verdict and of "close to the winner".
ONE_POINT = 0.01


def pm(m: float, s: float | None) -> str:
    """'mean ± spread' in percent; just the mean with one seed."""
    return f"{100 * m:.2f}" if s is None else f"{100 * m:.2f} ± {100 * s:.2f}"


def fmt(v, spec: str = "") -> str:
    return "–" if v is None else format(v, spec)
