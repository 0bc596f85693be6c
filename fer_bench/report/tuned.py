"""Arena v2's section: the tuned ranking with seed-level statistics, each row's shared-recipe (v1) accuracy
beside it, what the equal tuning budget chose, and the learning curves of every architecture.

Every number and sentence is computed from the suite's run records, its trial records (<suite>/trials/) and
the reference suite's run records; nothing here trains."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from fer_bench.core.plots import OKABE_ITO, pyplot, savefig
from fer_bench.core.record import RunRecord, load_records
from fer_bench.core.stats import format_p, rank_intervals, tiers
from fer_bench.core.table import table
from fer_bench.report.rows import Row, aggregate, paired_p
from fer_bench.runner.tuning_space import read_trials

NEAR_PRIOR = 0.05   # a row within 5 points of always answering the majority class is flagged


def _trials(suite_dir: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for t in read_trials(suite_dir / "trials"):
        out.setdefault(t["model"], []).append(t)
    return out


def majority_baseline(records: list[RunRecord]) -> tuple[str, float]:
    """The test set's majority class and the accuracy of always answering it."""
    labels = Counter(records[0].test_labels)
    cls, n = labels.most_common(1)[0]
    return records[0].classes[cls], n / sum(labels.values())


def last_epoch_share(row: Row) -> tuple[int, int]:
    """Runs of the row whose selected (best PublicTest) epoch was their last one: under-fitting's sign."""
    last = sum(r.selection.best_epoch is not None and r.selection.best_epoch + 1 == r.selection.epochs_run
               for r in row.records)
    return last, row.n


def _config(rec: RunRecord) -> str:
    r = rec.recipe
    return f"{r['optimizer']} lr {r['lr']:g}, wd {r['weight_decay']:g}, ls {r['label_smoothing']:g}"


def tuned_section(rows: list[Row], suite_dir: Path, reference: str, plots_dir: Path) -> list[str]:
    rows = sorted(rows, key=lambda r: -r.test_acc)
    trials = _trials(suite_dir)
    ref_rows = {r.model: r for r in aggregate(load_records(suite_dir.parent / reference / "runs")[0])}
    tier, p_above = tiers([[x.metrics.test.accuracy for x in r.records] for r in rows])
    same_test = len({len(x.test_labels) for r in rows for x in r.records}) == 1
    intervals = (rank_intervals([np.stack([x.correct() for x in r.records]) for r in rows])
                 if same_test else [(0, 0)] * len(rows))
    cls, prior = majority_baseline(rows[0].records)
    out = ["## Tuned ranking (arena v2)", "",
           f"Rows ranked by PrivateTest accuracy (single view, mean ± 95% CI half-width over n seeds). **Rank 95%**: "
           "bootstrap interval of the rank (2,000 replicates resampling the test images, shared by all rows, and "
           "each row's seeds). **Tier**: a row shares the tier of the row above when the two are not separable at "
           "the seed level (Welch t-test on seed accuracies, p >= 0.05, or fewer than 2 seeds); **p seeds** is that "
           "test, **p images** the exact McNemar test on per-image correctness pooled over matched seeds (it "
           f"treats images as independent and overstates separation). **{reference}** is the same architecture "
           f"under the shared recipe of results/{reference}/ (v1) and Δ the difference in points. **Config**: the "
           "selected trial's optimiser, peak lr, weight decay, label smoothing. **Last**: runs whose best epoch "
           f"was their last. Majority-class baseline of this test set: {100 * prior:.2f}% (always '{cls}'); a row "
           f"within {100 * NEAR_PRIOR:.0f} points of it is marked ⚠.", ""]
    cells = []
    for i, r in enumerate(rows):
        v1 = ref_rows.get(r.model)
        ts = trials.get(r.model, [])
        last, n = last_epoch_share(r)
        flag = " ⚠" if r.test_acc - prior < NEAR_PRIOR else ""
        ci = f" ± {100 * r.test_acc_ci95:.2f}" if r.test_acc_ci95 is not None else ""
        cells.append([
            str(i + 1), f"{intervals[i][0]}–{intervals[i][1]}", str(tier[i]), f"{r.model}{flag}",
            f"{100 * r.test_acc:.2f}{ci}", str(r.n),
            *([f"{100 * v1.test_acc:.2f}", f"{100 * (r.test_acc - v1.test_acc):+.2f}"] if v1 else ["–", "–"]),
            format_p(p_above[i]) if i else "–", format_p(paired_p(r, rows[i - 1])) if i else "–",
            _config(r.records[0]), str(len(ts)), f"{100 * max((t['value'] for t in ts), default=0):.2f}",
            f"{last}/{n}"])
    out += table(["rank", "rank 95%", "tier", "model", "PrivateTest %", "n", f"{reference} %", "Δ", "p seeds",
                  "p images", "config", "trials", "best trial val %", "last"], "rcrlrrrrrrlrrr", cells)
    out += ["", *_sentences(rows, tier, ref_rows, prior, reference), ""]
    out += _trial_budget(trials)
    png = "learning_curves.png"
    minutes_hw = learning_curves(rows, plots_dir / png)
    out += ["", f"![PublicTest accuracy against epoch and training minutes](plots/{png}) Left: PublicTest accuracy "
            "per epoch, mean over seeds. Right: the same against training minutes (per-epoch validation included), "
            f"runs on {minutes_hw} only, so that minutes compare."]
    return out


def _sentences(rows: list[Row], tier: list[int], ref_rows: dict[str, Row], prior: float, reference: str) -> list[str]:
    first = [r.model for r, t in zip(rows, tier) if t == 1]
    s = [f"Tier 1 ({'not separable at the seed level' if len(first) > 1 else 'alone'}): {', '.join(first)}; "
         f"{max(tier)} tier(s) over {len(rows)} architectures."]
    deltas = {r.model: r.test_acc - ref_rows[r.model].test_acc for r in rows if r.model in ref_rows}
    if deltas:
        best = max(deltas, key=deltas.get)
        worse = [m for m, d in deltas.items() if d < 0]
        s.append(f"Against the shared recipe ({reference}), tuning changed PrivateTest accuracy by "
                 f"{100 * min(deltas.values()):+.2f} to {100 * max(deltas.values()):+.2f} points (largest gain: "
                 f"{best}); {len(worse)} of {len(deltas)} rows lost accuracy"
                 + (f" ({', '.join(worse)})" if worse else "") + ".")
    last = sum(last_epoch_share(r)[0] for r in rows)
    total = sum(r.n for r in rows)
    s.append(f"{last} of {total} runs selected their last epoch"
             + (" (still improving at the budget's end)." if last > total / 2 else "."))
    near = [r.model for r in rows if r.test_acc - prior < NEAR_PRIOR]
    if near:
        s.append(f"Within {100 * NEAR_PRIOR:.0f} points of the majority-class baseline ({100 * prior:.2f}%): "
                 f"{', '.join(near)}; see their training curves below.")
    return [" ".join(s)]


def _trial_budget(trials: dict[str, list[dict]]) -> list[str]:
    if not trials:
        return []
    budgets = {(t["budget"]["epochs"], t["budget"]["train_images"]) for ts in trials.values() for t in ts}
    counts = sorted({len(ts) for ts in trials.values()})
    hours = sum(t["timing"]["fit_seconds"] for ts in trials.values() for t in ts) / 3600
    budget = "; ".join(f"{e} epochs x {n:,} images" for e, n in sorted(budgets))
    return [f"Tuning (from results' trials/ records): {'/'.join(map(str, counts))} trials per architecture, each "
            f"{budget}, scored on PublicTest (best epoch); {hours:.1f} hours of trial training in all"
            + (". Unequal trial counts or budgets: the study of some architecture is not complete yet."
               if len(counts) > 1 or len(budgets) > 1 else ".")]


def learning_curves(rows: list[Row], path: Path) -> str:
    """PublicTest accuracy against epoch (all runs) and against training minutes (runs of the most common
    hardware only); returns that hardware's label."""
    hw = Counter(x.hardware for r in rows for x in r.records).most_common(1)[0][0]
    fig, axes = pyplot().subplots(1, 2, figsize=(11, 4.6), sharey=True)
    for i, r in enumerate(rows):
        style = {"color": OKABE_ITO[i % len(OKABE_ITO)], "ls": ("-", "--", ":")[i // len(OKABE_ITO) % 3], "lw": 1.3}
        curves = [[c["val/acc"] for c in x.curves if "val/acc" in c] for x in r.records]
        n = min(map(len, curves))
        if n:
            axes[0].plot(range(1, n + 1), 100 * np.mean([c[:n] for c in curves], 0), label=r.model, **style)
        same = [x for x in r.records if x.hardware == hw]
        if same:
            mins = np.mean([[c["elapsed_seconds"] / 60 for c in x.curves][:n] for x in same], 0)
            accs = np.mean([[c["val/acc"] for c in x.curves][:n] for x in same], 0)
            axes[1].plot(mins, 100 * accs, **style)
    axes[0].set_xlabel("epoch")
    axes[1].set_xlabel(f"training minutes ({hw})")
    axes[1].set_xscale("log")
    from matplotlib.ticker import NullFormatter, ScalarFormatter
    axes[1].xaxis.set_major_formatter(ScalarFormatter())
    axes[1].xaxis.set_minor_formatter(NullFormatter())   # a log axis labels its minor ticks, unreadably
    axes[0].set_ylabel("PublicTest accuracy, % (mean over seeds)")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, ncol=2, loc="lower right")
    fig.suptitle("Tuned arena: learning curves of every architecture", fontsize=10)
    fig.tight_layout()
    savefig(fig, path)
    return hw

