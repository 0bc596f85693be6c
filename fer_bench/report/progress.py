"""Time as a result: when a run first reached an accuracy (time to accuracy), and whether a stated
target (accuracy within minutes of training) is met."""

from __future__ import annotations

import math

from fer_bench.core.record import RunRecord
from fer_bench.core.stats import mean_std_ci
from fer_bench.core.table import table
from fer_bench.core.table_specs import TargetTable
from fer_bench.report.rows import Row, pm


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
             "they are a little below the final ten-crop numbers.", ""]
    rows = []
    for r in sorted(observed, key=lambda r: r.run_id):
        cells = []
        for t in targets:
            hit = time_to_accuracy(r.curves, t, r.selection.monitor)
            cells.append(f"{hit['seconds'] / 60:.1f} min (epoch {hit['epoch'] + 1})" if hit else "not reached")
        rows.append([f"`{r.run_id}`", *cells, str(len(r.curves))])
    return lines + table(["run", *(f"to {100 * t:.0f}%" for t in targets), "epochs"], "l" + "r" * (len(targets) + 1),
                         rows)


def single_view(rec) -> float | None:
    """A record's single-centre-view PrivateTest accuracy: its test accuracy when it ranks on one view, the
    recorded extra view when it ranks on its own crops, None when that was not recorded (older records)."""
    if rec.metrics.test_single is not None:
        return rec.metrics.test_single.accuracy
    if rec.recipe.get("eval_protocol") == "single" or rec.metrics.test_native is not None:
        return rec.metrics.test.accuracy
    from fer_bench.core.errors import FerBenchError
    from fer_bench.models import get_card
    try:
        own_view = get_card(rec.model.name).eval_view
    except FerBenchError:
        own_view = "single"
    return rec.metrics.test.accuracy if own_view == "single" else None


def target_table(spec: TargetTable, rows: list[Row]) -> list[str]:
    """Is the target met: the mean single-view PrivateTest accuracy over at least `seeds` seeds, each fitted
    within `minutes` (timing.fit_seconds)?"""
    sel = [r for r in rows if r.recipe == spec.recipe and not r.label and (spec.model or r.model) == r.model]
    goal = (f"mean single-view PrivateTest accuracy >= {100 * spec.accuracy:.2f}% over {spec.seeds} seeds, each "
            f"within {spec.minutes} minutes of fitting")
    attempt = f"Attempt {spec.attempt}. " if spec.attempt else ""
    out = ["", f"## {spec.title}", "", f"{attempt}Target: {goal}. Accuracy: the single centre view (a model's "
           "own crop protocol is shown beside it, not judged). Minutes: `timing.fit_seconds`, the wall clock of "
           "the whole fit (per-epoch validation included, the final test evaluation excluded); the curve's last "
           "elapsed time, which leaves out the fit's start-up, is shown beside it.", ""]
    if not sel:
        return out + [f"No finished run uses recipe {spec.recipe} yet."]
    for r in sel:
        views = [single_view(x) for x in r.records]
        own = [x.metrics.test.accuracy for x in r.records]
        fit = [x.timing.fit_seconds / 60 for x in r.records]
        curve = [x.training_minutes() for x in r.records]
        name = f"{r.model} / {r.recipe}"
        out += [""] if out[-1] else []
        cells = [[name, str(x.seed), "–" if v is None else f"{100 * v:.2f}", f"{100 * a:.2f}", f"{f:.1f}", f"{c:.1f}"]
                 for x, v, a, f, c in zip(r.records, views, own, fit, curve, strict=True)]
        om, _, oci = mean_std_ci(own)
        if any(v is None for v in views):
            verdict = ("**not judged**: the single-view accuracy was not recorded for every seed (records made "
                       "before single views were kept); the own-protocol mean is shown for reference")
            summary = "–"
        else:
            m, _, ci = mean_std_ci(views)
            summary = f"**{pm(m, ci)}**"
            if r.n < spec.seeds:
                verdict = f"pending ({r.n} of {spec.seeds} seeds)"
            elif m >= spec.accuracy and max(fit) <= spec.minutes:
                verdict = "**met**"
            else:
                why = [f"mean {100 * (m - spec.accuracy):+.2f} points from the target"] if m < spec.accuracy else []
                why += [f"slowest fit {max(fit):.1f} min"] if max(fit) > spec.minutes else []
                verdict = f"**not met** ({'; '.join(why)})"
        cells.append([f"**{name}**", f"mean of {r.n} ± 95% CI", summary, pm(om, oci), f"max {max(fit):.1f}",
                      f"max {max(curve):.1f}"])
        out += table(["run", "seed", "single-view acc", "own protocol acc", "fit min", "curve min"], "lrrrrr", cells)
        out += ["", f"Verdict for {name}: {verdict}. Measured on {machines(r.records)}."]
    return out
