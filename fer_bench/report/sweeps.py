"""Tables that set rows against each other: a sweep's grid (chosen on validation, the paper's pick
ranked), and this suite's reference row against another suite's rows."""

from __future__ import annotations

from pathlib import Path

from fer_bench.core.plots import sweep_png
from fer_bench.core.record import load_records
from fer_bench.core.stats import format_p
from fer_bench.core.table import table
from fer_bench.core.table_specs import ComparisonTable, SweepTable
from fer_bench.report.rows import Row, aggregate, paired_p_values, pm


def in_sweep(row: Row, spec: SweepTable) -> bool:
    return row.model == spec.model and bool(row.label)


def parse_label(label: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in label.split(", "))


def _same_value(a: str | None, b: str) -> bool:
    """'0.01' == '1e-2': grid values are compared as numbers where they are numbers."""
    try:
        return a is not None and float(a) == float(b)
    except ValueError:
        return a == b


def sweep_table(name: str, spec: SweepTable, rows: list[Row], plots_dir: Path) -> list[str]:
    """A pivot of a grid cell plus a heatmap PNG; the paper's reported best, ranked by validation here,
    is the finding."""
    sel = [r for r in rows if in_sweep(r, spec)]
    if not sel:
        return []
    keys_r = sorted({parse_label(r.label)[spec.rows] for r in sel})
    keys_c = sorted({parse_label(r.label)[spec.cols] for r in sel}, key=float)
    cell = {(parse_label(r.label)[spec.rows], parse_label(r.label)[spec.cols]): r for r in sel}
    n_seeds = sorted({r.n for r in sel})
    out = ["", f"## {spec.title or name}", "",
           f"Val (PublicTest) / test (PrivateTest) accuracy in %, mean over {'/'.join(map(str, n_seeds))} "
           f"seed(s); rows {spec.rows}, columns {spec.cols}. Choose on the val number; the test number is "
           "reported, never used to choose. These grid points are not leaderboard rows.",
           ""]
    grid = []
    for kr in keys_r:
        vals = []
        for kc in keys_c:
            r = cell.get((kr, kc))
            vals.append("–" if r is None else f"{100 * r.val_acc:.1f} / {100 * r.test_acc:.1f}")
        grid.append([kr, *vals])
    out += table([spec.rows, *keys_c], "l" + "r" * len(keys_c), grid)
    ranked = sorted(sel, key=lambda r: -r.val_acc)
    best = ranked[0]
    out += ["", f"Best by validation: {best.label} (val {100 * best.val_acc:.2f}%, test {100 * best.test_acc:.2f}%)."]
    paper = {k: str(v) for k, v in spec.paper.items()}
    if paper:
        hit = [r for r in ranked if all(_same_value(parse_label(r.label).get(k), v) for k, v in paper.items())]
        what = ", ".join(f"{k}={v}" for k, v in paper.items())
        if hit:
            h = hit[0]
            out.append(f"The paper's reported best ({what}) ranks {ranked.index(h) + 1} of {len(ranked)} by "
                       f"validation here (val {100 * h.val_acc:.2f}%, test {100 * h.test_acc:.2f}%).")
        else:
            out.append(f"The paper's reported best ({what}) was not run.")
    png = f"sweep_{name}.png"
    grid = {k: {"val_acc": r.val_acc, "test_acc": r.test_acc} for k, r in cell.items()}
    sweep_png(keys_r, keys_c, grid, spec.rows, spec.cols, f"{spec.model}: validation accuracy % (test in brackets)",
              plots_dir / png)
    return out + ["", f"![sweep](plots/{png})"]


def comparison_table(spec: ComparisonTable, ref: Row, other_runs: Path) -> list[str]:
    """This suite's reference row against every row of another suite (e.g. the papers' models),
    with McNemar p on matched seeds: does the best recipe beat them, and is it real?"""
    finished, _ = load_records(other_runs)
    title = spec.title or f"Against {other_runs.parent.name}"
    if not finished:
        return ["", f"## {title}", "", f"No finished records in `{other_runs}` yet."]
    others = [r for r in aggregate(finished) if not r.label]   # sweep points are not models
    paired_p_values(others, ref)
    lines = ["", f"## {title}", "",
             f"PrivateTest accuracy, mean over seeds ± 95% CI of that mean (records in `{other_runs}`), against this "
             "suite's reference "
             f"row **{ref.model} / {ref.recipe}** ({100 * ref.test_acc:.2f}%, {ref.n} seeds). "
             "p: exact McNemar on per-image predictions of matched seeds.", ""]
    lines += table(["model", "recipe", "test acc", "seeds", "this suite's ref minus it (points)", "p"], "llrrrr",
                   [[r.model, r.recipe, pm(r.test_acc, r.test_acc_ci95), str(r.n),
                     f"{100 * (ref.test_acc - r.test_acc):+.2f}", format_p(r.p_vs_ref)] for r in others])
    beaten = [r for r in others if ref.test_acc > r.test_acc]
    return lines + ["", f"The reference row's mean is above {len(beaten)} of {len(others)} rows."]
