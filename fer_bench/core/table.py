"""One column spec, three renderings. A table's columns are declared once (the header a person reads, the
cell's text, the machine-readable values behind it, the alignment) and Markdown (the leaderboards), CSV
(data for other tools) and booktabs LaTeX (papers) are all rendered from that declaration, so they cannot
disagree."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fer_bench.core.io import atomic_write

_RULE = {"l": "---", "r": "---:", "c": ":---:"}


@dataclass(frozen=True)
class Column:
    header: str
    text: Callable[[Any], str]                              # the cell as a person reads it
    data: Callable[[Any], dict[str, Any]] | None = None     # the CSV fields behind it (None: not in the CSV)
    align: str = "r"                                        # l, r or c


def text_columns(headers: Sequence[str], align: str) -> list[Column]:
    """Columns over rows that are already lists of cell text; `align` has one letter (l, r, c) per column."""
    if len(headers) != len(align):
        raise ValueError(f"{len(headers)} headers, {len(align)} alignments")
    return [Column(h, lambda row, i=i: row[i], align=a) for i, (h, a) in enumerate(zip(headers, align))]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")          # a pipe inside a cell would split it


def markdown(columns: Sequence[Column], items: Iterable, numbered: bool = False) -> list[str]:
    """A GitHub Markdown table; `numbered` adds a leading # column (1, 2, ...)."""
    cols = ([Column("#", str)] if numbered else []) + list(columns)
    rows = [[str(i)] * numbered + [c.text(x) for c in columns] for i, x in enumerate(items, 1)]
    return ["| " + " | ".join(c.header for c in cols) + " |",
            "|" + "|".join(_RULE[c.align] for c in cols) + "|",
            *["| " + " | ".join(_cell(t) for t in row) + " |" for row in rows]]


def table(headers: Sequence[str], align: str, rows: Iterable[Sequence[str]]) -> list[str]:
    """Markdown of rows that are already text (a section's small table)."""
    return markdown(text_columns(headers, align), rows)


def write_csv(columns: Sequence[Column], items: Sequence, path: Path,
              extra: Callable[[Any], dict[str, Any]] | None = None) -> None:
    """The columns' data fields (raw numbers, not their printed form), then `extra`'s, one line per item."""
    def fields(x) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c in columns:
            if c.data is not None:
                out |= c.data(x)
        return out | (extra(x) if extra else {})
    lines = [fields(x) for x in items]

    def write(f) -> None:
        w = csv.DictWriter(f, fieldnames=list(lines[0]) if lines else [])
        w.writeheader()
        w.writerows(lines)
    atomic_write(path, write)


def write_latex(columns: Sequence[Column], items: Sequence, path: Path, caption: str, label: str) -> None:
    """A booktabs table (\\usepackage{booktabs}) of the same cells as the Markdown: pandas escapes the text,
    then ± becomes $\\pm$ and Markdown bold becomes \\textbf."""
    import pandas as pd
    df = pd.DataFrame([[c.text(x) for c in columns] for x in items], columns=[c.header for c in columns])
    tex = df.to_latex(index=False, escape=True, column_format="".join(c.align for c in columns), caption=caption,
                      label=label)
    tex = re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", tex.replace("±", r"$\pm$"))
    atomic_write(path, lambda f: f.write(tex))
