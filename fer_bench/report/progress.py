"""Time as a result: when a run first reached an accuracy (time to accuracy), and whether a stated
target (accuracy within minutes of training) is met."""

from __future__ import annotations

import math

from fer_bench.record import RunRecord
from fer_bench.report.rows import Row, pm
from fer_bench.stats import mean_std_ci
from fer_bench.table_specs import TargetTable


def time_to_accuracy(curves: list[dict], target: float, monitor: str = "val/acc") -> dict | None:
    """When the run first reached `target` PrivateTest accuracy *with the checkpoint it would
    have selected by then*: after each epoch the selected one is the first best `monitor` so far
    (as ModelCheckpoint keeps it), scored by its observed/test_acc. None when never reached.
    Needs curves recorded with observe_test; elapsed_seconds excludes the observation itself."""
    best_val, selected = -math.inf, None
    for c in curves:
        if "observed/test_acc" not in c or monitor not in c:
            return None
        if c[monitor] > best_val:
            best_val, selected = c[monitor], c
        if selected["observed/test_acc"] >= target:
            return {"seconds": c["elapsed_seconds"], "epoch": c["epoch"], "selected_epoch": selected["epoch"],
                    "test_acc": selected["observed/test_acc"]}
    return None


def machines(records: list[RunRecord]) -> str:
    """'AMD EPYC, 2 cores' (or several, joined): what the wall clocks were measured on."""
    hw = sorted({(r.hardware, r.environment["hardware"]["cpu_cores"]) for r in records})
    return "; ".join(f"{cpu}, {cores} cores" for cpu, cores in hw)


def time_to_accuracy_section(records: list[RunRecord], targets: tuple[float, ...] = (0.60, 0.65, 0.70)) -> list[str]:
    observed = [r for r in records if r.curves and "observed/test_acc" in r.curves[0]]
    if not observed:
        return []
    lines = ["", f"## Time to accuracy (wall clock on {machines(observed)})", "",
             "Training wall time (validation included, the observation itself excluded) until the checkpoint "
             "selected on PublicTest so far first scores the target on PrivateTest. The per-epoch PrivateTest "
             "scores are observed only (`observe_test`); nothing was selected or stopped on them. They use the "
             "per-epoch validation's evaluation (centre crop + mirror for crop models), so for ten-crop models "
             "they are a little below the final ten-crop numbers.", "",
             "| run | " + " | ".join(f"to {100 * t:.0f}%" for t in targets) + " | epochs |",
             "|---|" + "---:|" * (len(targets) + 1)]
    for r in sorted(observed, key=lambda r: r.run_id):
        cells = []
        for t in targets:
            hit = time_to_accuracy(r.curves, t, r.selection.monitor)
            cells.append(f"{hit['seconds'] / 60:.1f} min (epoch {hit['epoch'] + 1})" if hit else "not reached")
        lines.append(f"| `{r.run_id}` | " + " | ".join(cells) + f" | {len(r.curves)} |")
    return lines


def target_table(spec: TargetTable, rows: list[Row]) -> list[str]:
    """Is the target met: the mean PrivateTest accuracy over at least `seeds` seeds, each trained within
    `minutes`?"""
    sel = [r for r in rows if r.recipe == spec.recipe and not r.label and (spec.model or r.model) == r.model]
    goal = (f"mean PrivateTest accuracy >= {100 * spec.accuracy:.2f}% over {spec.seeds} seeds, each within "
            f"{spec.minutes} minutes of training")
    out = ["", f"## {spec.title}", "", f"Target: {goal}. Training minutes: the wall clock of "
           "fitting (per-epoch validation included; the observed PrivateTest evaluations and the final test "
           "evaluation excluded).", ""]
    if not sel:
        return out + [f"No finished run uses recipe {spec.recipe} yet."]
    for r in sel:
        accs = [x.metrics.test.accuracy for x in r.records]
        mins = [x.training_minutes() for x in r.records]
        m, sd, ci = mean_std_ci(accs)
        if r.n < spec.seeds:
            verdict = f"pending ({r.n} of {spec.seeds} seeds)"
        elif m >= spec.accuracy and max(mins) <= spec.minutes:
            verdict = "**met**"
        else:
            why = []
            if m < spec.accuracy:
                why.append(f"mean {100 * (m - spec.accuracy):+.2f} points from the target")
            if max(mins) > spec.minutes:
                why.append(f"slowest seed {max(mins):.1f} min")
            verdict = f"**not met** ({'; '.join(why)})"
        name = f"{r.model} / {r.recipe}"
        out += [""] if out[-1] else []
        out += ["| run | seed | PrivateTest acc | training min |", "|---|---:|---:|---:|"]
        out += [f"| {name} | {x.seed} | {100 * a:.2f} | {t:.1f} |"
                for x, a, t in zip(r.records, accs, mins, strict=True)]
        ci_txt = f" (95% CI ± {100 * ci:.2f})" if ci is not None else ""
        out += [f"| **{name}** | mean of {r.n} | **{pm(m, sd)}**{ci_txt} | max {max(mins):.1f} |", "",
                f"Verdict for {name}: {verdict}. Measured on {machines(r.records)}."]
    return out
