"""The arena's headline: which architecture wins at one budget, by how much, and at what cost.

Works on the leaderboard's aggregated rows (one per model, seeds pooled, p-values against the winner
already attached); every sentence is computed from them. Nothing here trains or reads data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from fer_bench.core.errors import FerBenchError
from fer_bench.core.plots import OKABE_ITO, pyplot, savefig
from fer_bench.core.stats import format_p
from fer_bench.models import get_card
from fer_bench.report.rows import ONE_POINT, Row
from fer_bench.report.tables import citation, headline_table

CLOSE = ONE_POINT  # "within one point" of the winner


def pareto_front(costs: list[float], accs: list[float]) -> list[int]:
    """Indices of the points no other point dominates (cost <= and accuracy >=, one of them strictly),
    in order of increasing cost."""
    front = []
    for i, (c, a) in enumerate(zip(costs, accs, strict=True)):
        dominated = any((c2 <= c and a2 >= a) and (c2 < c or a2 > a)
                        for j, (c2, a2) in enumerate(zip(costs, accs, strict=True)) if j != i)
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: (costs[i], -accs[i]))


def idle_costs(rows: list[Row], winner: Row, perf_file: Path) -> tuple[list[Row], Row, str | None]:
    """The rows with latency and train img/s from one idle measurement of every architecture on one machine
    (benchmarks/perf/arena_budget.py), when it covers every row: a cost belongs to an architecture on a
    machine, and one run on an idle machine compares architectures fairly, where the records' own costs were
    measured beside whatever else their (possibly different) machines were running. Returns the rows, the
    winner among them and the sentence naming the source (None: the records' own costs stay)."""
    try:
        perf = json.loads(perf_file.read_text())
        costs = perf["models"]
    except (OSError, ValueError, KeyError):
        return rows, winner, None
    if not all(r.model in costs for r in rows):
        return rows, winner, None
    trained_on = sorted({m for r in rows for m in r.machines} - {perf["hardware"]})
    out = [replace(r, latency_ms=costs[r.model]["latency_ms_batch1"],
                   train_ips=costs[r.model]["train_images_per_second"]) for r in rows]
    note = (f"Latency and train img/s: one measurement of every architecture on an idle {perf['hardware']} "
            f"({perf['measured'][:10]}, `{perf['command']}`, results/perf/{perf_file.name}; training steps of "
            f"batch {perf['batch']} in {perf['precision']}, validation and augmentation not counted), not the "
            "records' own, which were measured beside other work"
            + (f"; some rows were trained on another machine ({'; '.join(trained_on)}), which changes what "
               "their runs cost, not these columns." if trained_on else "."))
    return out, out[rows.index(winner)], note


def headline(rows: list[Row], winner: Row, plots_dir: Path, seeds_wanted: int,
             cost_note: str | None = None, planned: Sequence[str] = (), one_recipe: bool = True) -> list[str]:
    """The compact table, the accuracy-vs-cost plot and the two sentences that answer the question."""
    hw = sorted({m for r in rows for m in r.machines})
    budget = sorted({r.epoch_budget for r in rows})
    how = ("with one recipe" if one_recipe else "with its own configuration, selected on PublicTest by one equal "
           "tuning budget (the tuned ranking below), on identical inputs")
    out = ["## Headline", "",
           f"Every architecture trained {how} at one budget ({'/'.join(map(str, budget))} epochs), "
           "scored with one protocol (single centre view). Accuracy and macro-F1 on PrivateTest in %, mean over "
           "seeds ± 95% CI half-width (Student t). The **winner** is the row with the best mean *validation* "
           "(PublicTest) accuracy, so that no choice looks at PrivateTest; p: exact McNemar on per-image "
           "predictions of matched seeds against it. MMACs: one 48x48 image, eval mode. Latency: batch 1, "
           "median ms, the faster of the run precision and fp32. "
           + (cost_note or "Train img/s: median over seeds.")
           + _hardware_sentence(hw, idle=cost_note is not None),
           "", *headline_table(rows, winner, seeds_wanted, costs=True)]
    out += ["", *answer(rows, winner, seeds_wanted, planned), "", *budget_line(rows, seeds_wanted)]
    png = "accuracy_vs_cost.png"
    cost_plot(rows, winner, plots_dir / png)
    out += ["", f"![accuracy against cost](plots/{png}) (also as [SVG](plots/accuracy_vs_cost.svg))"]
    return out


def _hardware_sentence(hw: list[str], idle: bool) -> str:
    if len(hw) == 1:
        return f" Hardware: {hw[0]}."
    if idle:
        return (f" The rows were trained on different machines ({'; '.join(hw)}; the hardware column): the "
                "budget line's training minutes compare only within one machine.")
    return (f" Cost columns come from the records' own hardware, which differs between rows ({'; '.join(hw)}): "
            "compare them within one hardware only (the hardware column).")


def answer(rows: list[Row], winner: Row, seeds_wanted: int, planned: Sequence[str] = ()) -> list[str]:
    """Two sentences: who wins at this budget (and is it real), and the best accuracy per unit of cost.
    `planned`: the suite's architectures, so that those without any record are named as pending too."""
    budget = winner.epoch_budget
    runner = max((r for r in rows if r is not winner), key=lambda r: r.test_acc, default=None)
    incomplete = [r.model for r in rows if r.n < seeds_wanted]
    s1 = (f"At {budget} epochs, **{winner.model}** ({citation(winner.model)}) wins: "
          f"{100 * winner.test_acc:.2f}% PrivateTest over {winner.n} seed(s)")
    if runner is not None:
        gap = 100 * (winner.test_acc - runner.test_acc)
        p = runner.p_vs_ref
        real = "" if p is None else (", a real difference on this test set (p < 0.05)" if p < 0.05 else
                                     ", not a significant difference on this test set (p >= 0.05)")
        p_text = format_p(p) if format_p(p).startswith("<") else f"= {format_p(p)}"
        s1 += (f", {gap:+.2f} points against the next best by test accuracy, {runner.model} "
               f"({100 * runner.test_acc:.2f}%, p {p_text}{real})")
        if runner.test_acc > winner.test_acc:
            s1 += "; the winner is chosen on validation, and on PrivateTest it is not the top row"
    s1 += "."
    out = [s1]
    for cost, unit, fmt in (("macs", "MMACs", lambda v: f"{v / 1e6:,.1f}"),
                            ("latency_ms", "ms at batch 1", lambda v: f"{v:.2f}")):
        close = [r for r in rows if r.test_acc >= winner.test_acc - CLOSE]
        cheapest = min(close, key=lambda r: getattr(r, cost))
        front = pareto_front([getattr(r, cost) for r in rows], [r.test_acc for r in rows])
        names = ", ".join(rows[i].model for i in front)
        mine, theirs = getattr(winner, cost), getattr(cheapest, cost)
        if cheapest is winner:
            out.append(f"By {unit}: no architecture within {100 * CLOSE:.0f} point of the winner costs less than "
                       f"it ({fmt(mine)}); the Pareto front (cheapest to most accurate): {names}.")
        else:
            out.append(f"By {unit}: the cheapest architecture within {100 * CLOSE:.0f} point of the winner is "
                       f"**{cheapest.model}** ({100 * cheapest.test_acc:.2f}% at {fmt(theirs)} "
                       f"against {fmt(mine)}, {mine / max(theirs, 1e-12):.1f}x less); "
                       f"the Pareto front (cheapest to most accurate): {names}.")
    recorded = {r.model for r in rows}
    unrun = [m for m in dict.fromkeys(planned) if m not in recorded]
    pending = []
    if incomplete:
        pending.append(f"{', '.join(incomplete)} {'has' if len(incomplete) == 1 else 'have'} fewer than "
                       f"{seeds_wanted} seeds")
    if unrun:
        pending.append(f"{', '.join(unrun)} ({len(unrun)} of the suite's {len(recorded) + len(unrun)} "
                       f"architectures) {'has' if len(unrun) == 1 else 'have'} no record yet")
    if pending:
        out.append(f"Pending: {'; '.join(pending)}. These sentences will change as their records arrive.")
    return [" ".join(out[:1]), "", *out[1:]]


def budget_line(rows: list[Row], seeds_wanted: int) -> list[str]:
    """What the arena costs, from the records: training minutes per seed per row, and the total."""
    per_row = {r.model: sum(x.training_minutes() for x in r.records) / r.n for r in rows}
    done = sum(x.training_minutes() for r in rows for x in r.records)
    full = sum(m * seeds_wanted for m in per_row.values())
    cells = ", ".join(f"{k} {v:.0f}" for k, v in sorted(per_row.items(), key=lambda kv: kv[1]))
    return [f"Budget: {rows[0].epoch_budget} epochs a run. Training minutes per seed (mean of the records, "
            f"per-epoch validation included): {cells}. Recorded so far: {done / 60:.1f} hours; these {len(rows)} "
            f"rows at {seeds_wanted} seeds each: {full / 60:.1f} hours (rows without a record are not counted)."]


def cost_plot(rows: list[Row], winner: Row, path: Path) -> None:
    """Accuracy (mean, 95% CI bars) against MMACs and against batch-1 latency, Pareto front marked."""
    fig, axes = pyplot().subplots(1, 2, figsize=(11, 4.6), sharey=True)
    for ax, cost, label in ((axes[0], "macs", "MMACs per 48x48 image (log scale)"),
                            (axes[1], "latency_ms", "batch-1 CPU latency, ms (log scale)")):
        xs = [getattr(r, cost) / (1e6 if cost == "macs" else 1) for r in rows]
        ys = [100 * r.test_acc for r in rows]
        err = [100 * (r.test_acc_ci95 or 0) for r in rows]
        for i, r in enumerate(rows):
            modern = "modern" in getattr(_card_or_none(r.model), "tags", ())
            ax.errorbar(xs[i], ys[i], yerr=err[i], fmt="s" if modern else "o", ms=6, capsize=3,
                        color=OKABE_ITO[0] if modern else OKABE_ITO[1],
                        mec="black" if r is winner else "none")
            ax.annotate(r.model, (xs[i], ys[i]), textcoords="offset points", xytext=(5, 4), fontsize=7)
        front = pareto_front(xs, ys)
        ax.step([xs[i] for i in front], [ys[i] for i in front], where="post", color=OKABE_ITO[2], lw=1.5,
                label="Pareto front")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("PrivateTest accuracy, % (mean ± 95% CI)")
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], marker="o", ls="", color=OKABE_ITO[1], label="paper architecture"),
               Line2D([], [], marker="s", ls="", color=OKABE_ITO[0], label="modern backbone (adapted)"),
               Line2D([], [], color=OKABE_ITO[2], label="Pareto front")]
    axes[1].legend(handles=handles, fontsize=8, loc="lower right")
    fig.suptitle(f"Architecture arena: accuracy against cost ({winner.epoch_budget} epochs, one recipe)",
                 fontsize=10)
    fig.tight_layout()
    savefig(fig, path)


def _card_or_none(model: str):
    try:
        return get_card(model)
    except FerBenchError:
        return None
