"""Tables to paste: every leaderboard's compact headline (Markdown and LaTeX, from one column spec) and the
tidy per-run CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fer_bench.core.errors import FerBenchError
from fer_bench.core.io import atomic_write
from fer_bench.core.record import RunRecord
from fer_bench.core.stats import format_p
from fer_bench.core.table import Column, markdown, write_latex
from fer_bench.models import get_card
from fer_bench.report.rows import Row, pm


def citation(model: str) -> str:
    """'Authors (year)' from the model's card; the name itself for a model no card describes."""
    try:
        return get_card(model).citation
    except FerBenchError:
        return model


def headline_columns(rows: list[Row], ref: Row, seeds_wanted: int | None = None,
                     costs: bool = False) -> list[Column]:
    """model | (recipe) | paper | params | MMACs | PrivateTest acc ± 95% CI | macro-F1 ± 95% CI | seeds, and with
    `costs` the arena's latency, train img/s and p against the reference row (the winner). Rows made on
    different hardware get a hardware column: their costs compare only within one. Items: (rank, Row)."""
    def pending(r: Row) -> str:
        return f" (of {seeds_wanted})" if seeds_wanted and r.n < seeds_wanted else ""
    cols = [Column("#", lambda x: str(x[0])),
            Column("model", lambda x: f"**{x[1].name}** (winner)" if costs and x[1] is ref else x[1].name, align="l")]
    if len({r.recipe for r in rows}) > 1:          # one recipe for all (the arena): not a column
        cols.append(Column("recipe", lambda x: x[1].recipe, align="l"))
    cols += [Column("paper", lambda x: citation(x[1].model), align="l"),
             Column("params", lambda x: f"{x[1].params / 1e6:.2f}M"),
             Column("MMACs", lambda x: "–" if x[1].macs is None else f"{x[1].macs / 1e6:,.1f}"),
             Column("PrivateTest acc %", lambda x: pm(x[1].test_acc, x[1].test_acc_ci95)),
             Column("macro-F1 %", lambda x: pm(x[1].test_f1, x[1].test_f1_ci95)),
             Column("seeds", lambda x: f"{x[1].n}{pending(x[1])}")]
    if costs:
        cols += [Column("latency ms", lambda x: f"{x[1].latency_ms:.2f}"),
                 Column("train img/s", lambda x: f"{x[1].train_ips:,.0f}"),
                 Column("p vs winner", lambda x: format_p(x[1].p_vs_ref))]
    if len({m for r in rows for m in r.machines}) > 1:
        cols.append(Column("hardware", lambda x: x[1].hardware, align="l"))
    return cols


def headline_table(rows: list[Row], ref: Row, seeds_wanted: int | None = None, costs: bool = False) -> list[str]:
    return markdown(headline_columns(rows, ref, seeds_wanted, costs), list(enumerate(rows, 1)))


def write_headline_latex(rows: list[Row], ref: Row, seeds_wanted: int | None, costs: bool, path: Path,
                         caption: str, label: str) -> None:
    write_latex(headline_columns(rows, ref, seeds_wanted, costs), list(enumerate(rows, 1)), path, caption, label)


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
