"""Tables to paste: every leaderboard's compact headline (Markdown and LaTeX) and the tidy per-run CSV.

Markdown and LaTeX come from one pandas frame (tabulate and jinja2 underneath), so the two never
disagree and LaTeX's special characters are escaped by the library, not by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fer_bench.errors import FerBenchError
from fer_bench.io import atomic_write
from fer_bench.models import get_card
from fer_bench.record import RunRecord
from fer_bench.report.rows import Row, pm
from fer_bench.stats import format_p


def citation(model: str) -> str:
    """'Authors (year)' from the model's card; the name itself for a model no card describes."""
    try:
        return get_card(model).citation
    except FerBenchError:
        return model


def headline_frame(rows: list[Row], ref: Row, seeds_wanted: int | None = None, costs: bool = False) -> pd.DataFrame:
    """model | (recipe) | paper | params | MMACs | PrivateTest acc ± 95% CI | macro-F1 ± 95% CI | seeds, and with
    `costs` the arena's latency, train img/s and p against the reference row (the winner). Rows made on
    different hardware get a hardware column: their costs compare only within one."""
    hardware = len({m for r in rows for m in r.machines}) > 1
    recipes = len({r.recipe for r in rows}) > 1          # one recipe for all (the arena): not a column
    out = []
    for i, r in enumerate(rows, 1):
        name = r.name
        pending = f" (of {seeds_wanted})" if seeds_wanted and r.n < seeds_wanted else ""
        row = {"#": i, "model": f"**{name}** (winner)" if costs and r is ref else name,
               **({"recipe": r.recipe} if recipes else {}), "paper": citation(r.model),
               "params": f"{r.params / 1e6:.2f}M",
               "MMACs": "–" if r.macs is None else f"{r.macs / 1e6:,.1f}",
               "PrivateTest acc %": pm(r.test_acc, r.test_acc_ci95),
               "macro-F1 %": pm(r.test_f1, r.test_f1_ci95), "seeds": f"{r.n}{pending}"}
        if costs:
            row |= {"latency ms": f"{r.latency_ms:.2f}", "train img/s": f"{r.train_ips:,.0f}",
                    "p vs winner": format_p(r.p_vs_ref)}
        if hardware:
            row["hardware"] = r.hardware
        out.append(row)
    return pd.DataFrame(out)


def _align(df: pd.DataFrame) -> list[str]:
    text = {"model", "recipe", "paper", "hardware"}
    return ["left" if c in text else "right" for c in df.columns]


def to_markdown(df: pd.DataFrame) -> str:
    return df.to_markdown(index=False, colalign=_align(df), disable_numparse=True)


def write_latex(df: pd.DataFrame, path: Path, caption: str, label: str) -> None:
    """A booktabs table (\\usepackage{booktabs}); after pandas has escaped the text, ± becomes $\\pm$
    and the winner's Markdown bold becomes \\textbf."""
    spec = "".join("l" if a == "left" else "r" for a in _align(df))
    tex = df.to_latex(index=False, escape=True, column_format=spec, caption=caption, label=label)
    tex = re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", tex.replace("±", r"$\pm$"))   # Markdown bold
    atomic_write(path, lambda f: f.write(tex))


# The tidy CSV's columns and their units, also printed in the leaderboard so the file documents itself.
TIDY_COLUMNS = {
    "run_id": "the record's file name without .json", "model": "registered architecture",
    "recipe": "training recipe", "seed": "random seed (integer)",
    "test_acc_pct": "PrivateTest accuracy, %", "test_macro_f1_pct": "PrivateTest macro-F1, %",
    "val_acc_pct": "PublicTest accuracy of the selected checkpoint, %",
    "test_hflip_tta_acc_pct": "PrivateTest accuracy with hflip-TTA, %",
    "natural_acc_pct": "natural-photo accuracy, % (empty: not scored)",
    "params": "parameters (count)", "macs": "multiply-accumulates per 48x48 image (count)",
    "epochs_run": "epochs trained", "epoch_budget": "the recipe's epoch budget",
    "best_epoch": "selected epoch, 1-based", "train_minutes": "training wall clock, minutes (validation included)",
    "train_images_per_second": "training throughput, images/s", "latency_ms": "batch-1 latency, ms",
    "precision": "Lightning precision", "hardware": "CPU (or GPU) the run used", "created": "UTC time written",
}


def tidy_runs_frame(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run; a sweep's parameters (the cell label 'lr=0.01, optimizer=adam') get their own
    columns after the fixed ones."""
    out = []
    for r in records:
        m, sel = r.metrics, r.selection
        row = {
            "run_id": r.run_id, "model": r.model.name, "recipe": r.recipe["name"], "seed": r.seed,
            "test_acc_pct": 100 * m.test.accuracy, "test_macro_f1_pct": 100 * m.test.macro_f1,
            "val_acc_pct": 100 * m.val.accuracy,
            "test_hflip_tta_acc_pct": 100 * m.test_tta["hflip"].accuracy,
            "natural_acc_pct": 100 * m.natural.accuracy if m.natural is not None else None,
            "params": r.model.params, "macs": r.model.macs,
            "epochs_run": sel.epochs_run, "epoch_budget": r.recipe["epochs"],
            "best_epoch": None if sel.best_epoch is None else sel.best_epoch + 1,
            "train_minutes": round(r.training_minutes(), 2),
            "train_images_per_second": r.timing.train_images_per_second,
            "latency_ms": r.timing.latency_ms_batch1, "precision": r.precision,
            "hardware": r.hardware, "created": r.created,
        }
        for kv in filter(None, r.label.split(", ")):
            key, _, value = kv.partition("=")
            row[f"sweep_{key}"] = _number_or_text(value)
        out.append(row)
    df = pd.DataFrame(out)
    return df.sort_values(["model", "recipe", "seed"], kind="stable").reset_index(drop=True)


def _number_or_text(value: str) -> float | int | str:
    try:
        f = float(value)
    except ValueError:
        return value
    return int(f) if f.is_integer() and "." not in value and "e" not in value.lower() else f


def write_tidy_csv(records: list[RunRecord], path: Path) -> None:
    df = tidy_runs_frame(records)
    pct = [c for c in df.columns if c.endswith("_pct")]
    df[pct] = df[pct].round(4)        # not a float_format: it would print a sweep's lr=1e-5 as 0.0000
    atomic_write(path, lambda f: df.to_csv(f, index=False))


# The wide per-row CSV (leaderboard.csv): the aggregated rows' numbers, per-class F1 last.
ROW_COLUMNS = ["model", "recipe", "label", "n", "seeds", "test_acc", "test_acc_std", "test_acc_ci95", "test_f1",
               "test_f1_std", "test_f1_ci95", "p_vs_ref", "val_acc", "tta_hflip_acc", "params", "macs", "train_ips",
               "test_ips", "latency_ms", "epochs_run", "epoch_budget", "natural_acc", "natural_f1"]


def write_rows_csv(rows: list[Row], path: Path, classes: list[str]) -> None:
    import csv

    def value(r: Row, c: str):
        if c == "seeds":
            return ";".join(map(str, r.seeds))
        if c.startswith("natural_"):
            return getattr(r.natural, c.removeprefix("natural_")) if r.natural else ""
        return getattr(r, c)

    def write(f):
        w = csv.writer(f)
        w.writerow(ROW_COLUMNS + [f"f1_{c}" for c in classes])
        for r in rows:
            w.writerow([value(r, c) for c in ROW_COLUMNS] + [r.per_class_f1[c] for c in classes])
    atomic_write(path, write)
