"""The ablation table: one row per ingredient removed, each against the reference cell at matched seeds.
What a row changed is read from the records (the recipes as trained, the networks), never typed by hand."""

from __future__ import annotations

from statistics import mean

from fer_bench.core.record import RunRecord
from fer_bench.core.stats import format_p
from fer_bench.core.table import table
from fer_bench.core.table_specs import AblationTable
from fer_bench.report.rows import Row, paired_p

# Recipe fields that name or describe a recipe rather than change its training.
_DESCRIPTIVE = {"name", "source", "interpretation"}


def recipe_diff(ref: dict, other: dict, prefix: str = "") -> list[str]:
    """'key ref → other' for every training setting that differs between two recipes as trained; a part that
    is a mapping on both sides (augment, schedule) is compared key by key, one that is absent on a side whole."""
    out = []
    for k in sorted(ref.keys() | other.keys()):
        a, b = ref.get(k), other.get(k)
        if (k in _DESCRIPTIVE and not prefix) or a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += recipe_diff(a, b, f"{prefix}{k}.")
        else:
            out.append(f"{prefix}{k} {_show(a)} → {_show(b)}")
    return out


def _show(v: object) -> str:
    """A setting for the table: a mapping without its unset keys."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {x!r}" for k, x in v.items() if x is not None) + "}"
    return repr(v)


def in_ablation(row: Row, spec: AblationTable) -> bool:
    return (row.model, row.recipe) in spec.cells() and not row.label


def ablation_table(spec: AblationTable, rows: list[Row]) -> list[str]:
    find = {(r.model, r.recipe): r for r in rows if not r.label}
    out = ["", f"## {spec.title}", "",
           f"Each row removes or changes ingredients of **{spec.model} / {spec.recipe}** (the reference); "
           "*what changed* is computed from the two rows' recipes as trained and their networks. Δ: the row's "
           "PrivateTest accuracy minus the reference's on the same seeds (points); p: exact McNemar test on "
           "per-image predictions of the matched seeds. Validation accuracy (PublicTest) is the number recipe "
           "design may look at; PrivateTest is reported, never chosen on. Training minutes compare only between "
           "rows trained on the same machine.", ""]
    ref = find.get((spec.model, spec.recipe))
    if ref is None:
        return out + [f"The reference {spec.model} / {spec.recipe} has no finished run yet."]
    # The reference at the seeds its variants ran (all of them when none has finished), so that its row
    # reads against theirs.
    matched = {x.seed for r in rows if in_ablation(r, spec) for x in r.records} & set(ref.seeds)
    ref_records = [x for x in ref.records if x.seed in matched] or ref.records
    lines = [_line("reference", ref_records, ref.params, ref.hardware)]
    ref_by_seed = {x.seed: x.metrics.test.accuracy for x in ref.records}
    for model, recipe in spec.cells():
        row = find.get((model, recipe))
        if row is None:
            lines.append([f"{model} / {recipe}", "(no finished run yet)", "0", *[""] * 7])
            continue
        changed = ([f"network {ref.model} → {row.model}"] if row.model != ref.model else [])
        changed += recipe_diff(ref.records[0].recipe, row.records[0].recipe)
        deltas = [x.metrics.test.accuracy - ref_by_seed[x.seed] for x in row.records if x.seed in ref_by_seed]
        delta = f"{100 * mean(deltas):+.2f}" if deltas else "no matched seed"
        lines.append(_line(f"{model} / {recipe}", row.records, row.params, row.hardware,
                           "; ".join(changed) or "nothing", delta, format_p(paired_p(row, ref))))
    return out + table(["row", "what changed", "seeds", "val acc", "PrivateTest acc", "Δ (points)", "p",
                        "training min", "params", "trained on"], "llrrrrrrrl", lines)


def _line(name: str, records: list[RunRecord], params: int, hardware: str, changed: str = "–", delta: str = "–",
          p: str = "–") -> list[str]:
    val = mean(x.metrics.val.accuracy for x in records)
    test = mean(x.metrics.test.accuracy for x in records)
    mins = mean(x.training_minutes() for x in records)
    return [name, changed, ", ".join(str(x.seed) for x in records), f"{100 * val:.2f}", f"{100 * test:.2f}", delta,
            p, f"{mins:.1f}", f"{params / 1e6:.2f}M", hardware]
