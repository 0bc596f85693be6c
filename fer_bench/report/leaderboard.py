"""A suite's run records -> LEADERBOARD.md, leaderboard.csv, runs.csv, headline.tex and plots/.
Nothing here trains or reads data: every number and sentence comes from the records."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from fer_bench.core.errors import FerBenchError
from fer_bench.core.io import atomic_write
from fer_bench.core.plots import confusion_png, curves_png
from fer_bench.core.record import FailedRecord, RunRecord, load_records
from fer_bench.core.stats import format_p
from fer_bench.core.table import Column, markdown, table, write_csv
from fer_bench.core.table_specs import (
    AblationTable,
    ArenaTable,
    ComparisonTable,
    SweepTable,
    TableSpec,
    TargetTable,
    TunedTable,
    parse_tables,
)
from fer_bench.report.ablation import ablation_table, in_ablation
from fer_bench.report.arena import headline, idle_costs
from fer_bench.report.claims import claims_audit
from fer_bench.report.progress import machines, target_table, time_to_accuracy_section
from fer_bench.report.rows import Row, aggregate, ensemble, fmt, paired_p_values, pm
from fer_bench.report.sections import external_section, native_protocols, natural_section, validity_section
from fer_bench.report.sweeps import comparison_table, in_sweep, sweep_table
from fer_bench.report.tables import TIDY_COLUMNS, headline_table, write_headline_latex, write_tidy_csv
from fer_bench.report.tuned import NEAR_PRIOR, majority_baseline, tuned_section


def write_leaderboard(suite_dir: Path, suite_name: str | None = None,
                      tables: dict[str, TableSpec] | dict[str, dict] | None = None,
                      planned: Sequence[str] = (), not_run: Mapping[str, str] | None = None) -> Path:
    """Generate LEADERBOARD.md and its files in `suite_dir` from `suite_dir/runs`. `planned`: the suite's
    models, so that an arena headline names those that have no record yet; `not_run`: paper models the
    suite leaves out on purpose (model -> why), whose claims the audit lists as untested."""
    suite_name = suite_name or suite_dir.name
    tables = parse_tables(tables)
    finished, failed = load_records(suite_dir / "runs")
    if not finished:
        raise FerBenchError(f"{suite_dir / 'runs'}: no finished run records to aggregate")
    all_rows = aggregate(finished)
    # A sweep's grid points and an ablation's variants are shown in their own tables, not as leaderboard
    # rows: twelve variants of one model would crowd out the comparison between models (and one could
    # become the reference row).
    # A cell that another table reads as its subject (a target's or an ablation's reference) stays a row.
    sweeps = [s for s in tables.values() if isinstance(s, SweepTable)]
    ablations = [s for s in tables.values() if isinstance(s, AblationTable)]
    subjects = {(s.model, s.recipe) for s in tables.values() if isinstance(s, TargetTable | AblationTable)}
    rows = [r for r in all_rows if not any(in_sweep(r, s) for s in sweeps)
            and ((r.model, r.recipe) in subjects or not any(in_ablation(r, s) for s in ablations))] or all_rows
    ref = max(rows, key=lambda r: r.val_acc)
    paired_p_values(rows, ref)
    plots_dir = suite_dir / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)

    lines = header(finished, suite_name)
    arena = next((s for s in tables.values() if isinstance(s, ArenaTable)), None)
    seeds_wanted = arena.seeds if arena else None
    head_rows, head_ref, cost_note = (idle_costs(rows, ref, suite_dir.parent / "perf" / "arena_budget.json")
                                      if arena else (rows, ref, None))
    write_headline_latex(head_rows, head_ref, seeds_wanted, bool(arena), suite_dir / "headline.tex",
                         caption=f"fer-bench {suite_name}: PrivateTest accuracy and macro-F1 in \\%, mean $\\pm$ "
                         "95\\% CI half-width over seeds", label=f"tab:fer-bench-{suite_name}")
    tuned = next((s for s in tables.values() if isinstance(s, TunedTable)), None)
    if arena:
        lines += headline(head_rows, head_ref, plots_dir, seeds_wanted, cost_note, planned, one_recipe=not tuned)
        if tuned:
            lines += ["", *tuned_section(rows, suite_dir, tuned.reference, plots_dir)]
        lines += native_protocols(rows)
    else:
        lines += ["## Headline", "",
                  "PrivateTest accuracy and macro-F1 in %, mean over seeds ± 95% CI half-width (Student t); "
                  "MMACs: one 48x48 image, eval mode. The wide table below has every column.", "",
                  *headline_table(head_rows, head_ref, seeds_wanted)]
    lines += ["", "As LaTeX (booktabs): [`headline.tex`](headline.tex). One row per run: "
              "[`runs.csv`](runs.csv) (columns under *Where each number comes from*).", ""]
    lines += wide_table(rows, ref)
    lines += validity_section(rows, suite_dir.parent / "data-report" / "split_annotations.json")
    lines += claims_audit(rows, not_run)
    classes = finished[0].classes
    lines += ["", "## Per-class F1 on PrivateTest (mean over seeds, %)", "",
              *table(["model", "recipe", *classes], "ll" + "r" * len(classes),
                     [[r.name, r.recipe, *(f"{100 * r.per_class_f1[c]:.1f}" for c in classes)] for r in rows])]
    lines += natural_section(rows)
    lines += external_section(rows, suite_dir / "eval")
    lines += time_to_accuracy_section(finished)
    for name, spec in tables.items():
        if isinstance(spec, ComparisonTable):
            lines += comparison_table(spec, ref, suite_dir.parent / spec.suite / "runs")
        elif isinstance(spec, TargetTable):
            lines += target_table(spec, rows)
        elif isinstance(spec, SweepTable):
            lines += sweep_table(name, spec, all_rows, plots_dir)
        elif isinstance(spec, AblationTable):
            lines += ablation_table(spec, all_rows)
    lines += ["", "## Confusion matrices and training curves", ""]
    for r in rows:
        stem = f"{r.model}__{r.recipe}{'__' + r.label if r.label else ''}"
        stem = "".join(ch if ch.isalnum() or ch in "._=-" else "-" for ch in stem)
        pngs = row_plots(r, plots_dir, stem)
        lines += [f"### {r.model} / {r.recipe}{' (' + r.label + ')' if r.label else ''}", "",
                  " ".join(f"![{p.split('_')[0]}](plots/{p})" for p in pngs), ""]
    lines += failed_section(failed) + provenance(all_rows)

    md = suite_dir / "LEADERBOARD.md"
    atomic_write(md, lambda f: f.write("\n".join(lines) + "\n"))
    # plots/ belongs to the leaderboard: a PNG it no longer links (a renamed row, a row that moved
    # to a sweep table) would otherwise linger beside the current ones and be committed as if current.
    linked = {Path(p).stem for p in re.findall(r"\(plots/([^)]+\.png)\)", "\n".join(lines))}
    for fig in [*plots_dir.glob("*.png"), *plots_dir.glob("*.svg")]:
        if fig.stem not in linked:
            fig.unlink()
    # The wide table's columns as numbers, then what only the CSV carries: the natural set, per-class F1.
    write_csv(wide_columns(ref, []), all_rows, suite_dir / "leaderboard.csv", extra=lambda r: {
        "natural_acc": r.natural.acc if r.natural else "", "natural_f1": r.natural.f1 if r.natural else "",
        **{f"f1_{c}": r.per_class_f1[c] for c in classes}})
    write_tidy_csv(finished, suite_dir / "runs.csv")
    return md


def header(records: list[RunRecord], suite: str) -> list[str]:
    env = records[0].environment
    dates = sorted(r.created[:10] for r in records)
    data = records[0].data
    sizes = data.sizes
    precisions = sorted({r.precision for r in records})
    pk = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    gpus = sorted({g for r in records for g in r.environment["hardware"]["cuda"]})
    gpu = f"; GPU {', '.join(gpus)}" if gpus else ""
    return [
        f"# Leaderboard: `{suite}`",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `fer-bench leaderboard {suite}` from "
        f"{len(records)} run records in `runs/` (runs made {dates[0]} to {dates[-1]}).",
        "",
        f"- **Data:** `{data.path}` ({data.info.get('format')}, labels: {labels_text(data.info)}); "
        f"train / val / test sizes {sizes.get('train')} / {sizes.get('val')} / {sizes.get('test')}.",
        "- **Protocol:** validation = PublicTest (early stopping, LR schedules and checkpoint choice look only "
        "at it); test = PrivateTest, evaluated once per run with the selected checkpoint. The reference row "
        "for p-values and the ensemble is the best by *validation* accuracy.",
        f"- **Hardware:** {machines(records)}{gpu}; precision {', '.join(precisions)}.",
        f"- **Software:** Python {env['python']}, {pk}.",
        "",
    ]


def labels_text(info: dict) -> str:
    """The record's label source. Records made before FER+ modes existed say 'FER+ majority vote' but used
    the plurality rule (ties dropped): say what they did."""
    if info.get("labels") == "FER+ majority vote" and "ferplus_mode" not in info:
        return "FER+ plurality vote (ties dropped; recorded before the reference protocol was the default)"
    kept = info.get("ferplus_kept")
    return info.get("labels", "") + (f", images kept train / val / test {kept['train']:,} / {kept['val']:,} / "
                                     f"{kept['test']:,}" if kept else "")


def wide_table(rows: list[Row], ref: Row) -> list[str]:
    lines = [
        "## Leaderboard (PrivateTest)", "",
        "Accuracy and macro-F1 in %, mean ± 95% confidence interval half-width of the seed mean (Student t), "
        "with the seed count; the sample standard deviation over seeds only in the column named sd. p: exact "
        "McNemar test on per-image predictions of matched seeds "
        f"against the reference row (**{ref.model} / {ref.recipe}{' ' + ref.label if ref.label else ''}**"
        ", best validation accuracy); p < 0.05 = the difference is real on this test set. hflip-TTA: mean of the "
        "softmax of the image and its mirror" + _ten_crop_note(rows) + ". img/s: training (median over seeds); "
        "latency: batch 1, median ms "
        "(records with latency_ms_batch1_by_precision: the faster of the run precision and fp32).",
        "",
    ]
    cls, prior = majority_baseline(rows[0].records)
    near = [r for r in rows if r.test_acc - prior < NEAR_PRIOR]
    lines += markdown(wide_columns(ref, near), rows, numbered=True)
    if any(r.pretrained for r in rows):
        lines += ["", "† started from pretrained weights."]
    lines += ["", f"Majority-class baseline of this test set: {100 * prior:.2f}% (always answering '{cls}'). "
              + (f"⚠ {len(near)} row(s) within {100 * NEAR_PRIOR:.0f} points of it, i.e. barely better than "
                 f"the class prior: {', '.join(r.name for r in near)}." if near else
                 f"No row is within {100 * NEAR_PRIOR:.0f} points of it.")]
    ens = ensemble(ref)
    if ens:
        lines += ["", f"**Ensemble** of the reference row's {ens['n']} seeds (softmax average): "
                  f"test accuracy {100 * ens['accuracy']:.2f}%, macro-F1 {100 * ens['macro_f1']:.2f}%."]
    return lines


def wide_columns(ref: Row, near: list[Row]) -> list[Column]:
    """The leaderboard's wide table; each column's CSV fields (leaderboard.csv) are its numbers unformatted."""
    def name(r: Row) -> str:
        return f"{r.name}{' †' if r.pretrained else ''}{' ⚠' if r in near else ''}{' (ref)' if r is ref else ''}"
    return [
        Column("model", name, lambda r: {"model": r.model}, "l"),
        Column("recipe", lambda r: r.recipe, lambda r: {"recipe": r.recipe, "label": r.label}, "l"),
        Column("test acc ± 95% CI", lambda r: pm(r.test_acc, r.test_acc_ci95),
               lambda r: {"test_acc": r.test_acc, "test_acc_ci95": r.test_acc_ci95}),
        Column("sd", lambda r: fmt(r.test_acc_std and 100 * r.test_acc_std, ".2f"),
               lambda r: {"test_acc_std": r.test_acc_std}),
        Column("macro-F1 ± 95% CI", lambda r: pm(r.test_f1, r.test_f1_ci95),
               lambda r: {"test_f1": r.test_f1, "test_f1_std": r.test_f1_std, "test_f1_ci95": r.test_f1_ci95}),
        Column("seeds", lambda r: str(r.n), lambda r: {"n": r.n, "seeds": ";".join(map(str, r.seeds))}),
        Column("p vs ref", lambda r: format_p(r.p_vs_ref), lambda r: {"p_vs_ref": r.p_vs_ref}),
        Column("val acc", lambda r: f"{100 * r.val_acc:.2f}", lambda r: {"val_acc": r.val_acc}),
        Column("hflip-TTA acc", lambda r: f"{100 * r.tta_hflip_acc:.2f}", lambda r: {"tta_hflip_acc": r.tta_hflip_acc}),
        Column("params", lambda r: f"{r.params / 1e6:.2f}M", lambda r: {"params": r.params}),
        Column("MMACs", lambda r: fmt(r.macs and r.macs / 1e6, ",.1f"), lambda r: {"macs": r.macs}),
        Column("train img/s", lambda r: f"{r.train_ips:,.0f}", lambda r: {"train_ips": r.train_ips}),
        Column("test img/s", lambda r: f"{r.test_ips:,.0f}", lambda r: {"test_ips": r.test_ips}),
        Column("latency ms", lambda r: f"{r.latency_ms:.2f}", lambda r: {"latency_ms": r.latency_ms}),
        Column("epochs run / budget", lambda r: f"{r.epochs_run:.1f} / {r.epoch_budget}",
               lambda r: {"epochs_run": r.epochs_run, "epoch_budget": r.epoch_budget}),
    ]


def _ten_crop_note(rows: list[Row]) -> str:
    """Said only where a row in the table scores with its own crop-averaging protocol."""
    native = sorted({r.model for r in rows if _crop_averaging(r.model)
                     and any(x.model.eval_protocol == "native" for x in r.records)})
    return (f" ({', '.join(native)}: its own protocol already averages its test crops, so its test column is "
            "multi-crop TTA)") if native else ""


def _crop_averaging(model: str) -> bool:
    """From the card's stated evaluation view: no model is built in the report layer."""
    from fer_bench.models import get_card
    try:
        return get_card(model).eval_view != "single"
    except FerBenchError:
        return False


def row_plots(row: Row, out: Path, stem: str) -> tuple[str, ...]:
    classes = row.records[0].classes
    name = f"{row.model} ({row.recipe})"
    conf_png = f"confusion_{stem}.png"
    confusion_png(row.confusion, classes, f"{name}\nPrivateTest, {row.n} seed(s) summed, row-normalised",
                  out / conf_png)
    pngs = [conf_png]
    if row.natural:
        nat_png = f"confusion_natural_{stem}.png"
        confusion_png(row.natural.confusion, classes, f"{name}\nnatural set, {row.natural.n} seed(s) "
                      "summed, row-normalised", out / nat_png)
        pngs.append(nat_png)
    curves = f"curves_{stem}.png"
    curves_png({x.seed: x.curves for x in row.records}, name, out / curves)
    return (*pngs, curves)


def failed_section(failed: list[FailedRecord]) -> list[str]:
    if not failed:
        return []
    return ["## Failed cells", "", *table(["cell", "reason"], "ll", [[f.run_id, f.reason] for f in failed]), ""]


def provenance(rows: list[Row]) -> list[str]:
    lines = ["## Where each number comes from", "",
             "Each row aggregates the records `runs/<model>__<recipe>__...__s<seed>.json`; every record holds "
             "its command, config, data, environment and the per-image test predictions used above. "
             "`runs.csv` has one row per finished record; its columns: "
             + "; ".join(f"`{k}` {v}" for k, v in TIDY_COLUMNS.items())
             + "; then `sweep_<key>` for each parameter of a sweep's grid point.", ""]
    for r in rows:
        lines.append(f"- {r.model} / {r.recipe}{' ' + r.label if r.label else ''}: "
                     + ", ".join(f"`{x.run_id}.json`" for x in r.records))
    return lines
