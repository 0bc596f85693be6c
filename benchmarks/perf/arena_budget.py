"""The arena's budget, measured before choosing its epoch count: training-step throughput and batch-1
latency of every arena architecture on this machine, in the precision the suite would use here, and
what 3 seeds of the suite's epoch budget add up to.

A step = precision.py's: forward, cross-entropy, backward, fused SGD (momentum) update, batch 128 random
1x48x48 images (throughput does not depend on pixel values); an epoch = the 28,709 training images.
Per-epoch
validation and data augmentation are not counted: the real runs take somewhat longer."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from _common import OUT, time_it, write_report
from precision import step_fn

from fer_bench.core.io import write_json
from fer_bench.core.runinfo import environment, hardware_label, resolve_precision
from fer_bench.recipes import get_recipe
from fer_bench.runner.suite import load_suite
from fer_bench.training.scoring import eval_view_model, inference_latency

BATCH = 128
TRAIN_IMAGES = 28_709


def main(suite_name: str = "arena") -> None:
    suite = load_suite(suite_name)
    models = list(dict.fromkeys(c.model for c in suite.cells))
    seeds = len({c.seed for c in suite.cells})
    epochs = get_recipe(suite.cells[0].recipe).epochs
    precision = resolve_precision("auto", "cpu")
    rows, total, costs = [], 0.0, {}
    for name in models:
        bf16 = precision == "bf16-mixed"
        step = step_fn(name, bf16=bf16, channels_last=True, batch=BATCH, fused=True)
        ips = BATCH / time_it(step, warmup=2, repeats=3, min_seconds=3.0)
        latency = min(inference_latency(eval_view_model(name, 7, "single"), precision, channels_last=True).values())
        epoch_s = TRAIN_IMAGES / ips
        total += epoch_s * epochs * seeds
        costs[name] = {"train_images_per_second": round(ips, 1), "latency_ms_batch1": round(latency, 3)}
        rows.append([name, f"{ips:,.0f}", f"{epoch_s / 60:.1f}", f"{epoch_s * epochs / 60:.0f}", f"{latency:.2f}"])
        print(rows[-1], file=sys.stderr, flush=True)
    write_report(
        "arena_budget", f"Arena budget: {len(models)} architectures x {seeds} seeds x {epochs} epochs",
        f"Training images per second (median step time, batch {BATCH}, {precision}, channels_last) and the minutes "
        f"one epoch of {TRAIN_IMAGES:,} images takes; batch-1 latency: median ms, the faster of {precision} and fp32. "
        f"**The whole suite: {total / 3600:.1f} hours of training** (steps only: per-epoch validation and "
        "augmentation come on top).",
        ["model", "train img/s", "min / epoch", f"min / run ({epochs} epochs)", "latency ms (batch 1)"], rows,
    )
    # The arena headline's cost columns: one measurement of every row on one idle machine, not the
    # records' own (each taken beside whatever else that machine ran).
    write_json(OUT / "arena_budget.json", {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/perf/arena_budget.py",
        "hardware": hardware_label(environment()["hardware"]), "precision": precision, "batch": BATCH, "models": costs})


if __name__ == "__main__":
    main(*sys.argv[1:])
