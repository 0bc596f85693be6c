"""Benchmark suites: YAML files that expand into (model, recipe, overrides, seed) cells."""

from __future__ import annotations

import fnmatch
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fer_bench.errors import FerBenchError
from fer_bench.models import get_card
from fer_bench.recipes import get_recipe

# Per-cell settings a suite may override, with their types.
OVERRIDES = {"epochs": int, "batch_size": int, "lr": float, "optimizer": str, "pretrained": (bool, str)}
DATA_KEYS = {"limit_train": int, "limit_eval": int, "labels": str, "fmt": str, "contempt": bool,
             "drop_blank": bool}


@dataclass(frozen=True)
class Cell:
    model: str
    recipe: str
    seed: int
    overrides: tuple[tuple[str, object], ...] = ()
    label: str = ""          # table label (e.g. the sweep point); default model/recipe

    @property
    def key(self) -> str:
        """Stable, file-safe identity of the cell: its record is runs/<key>.json."""
        parts = [self.model.replace(":", "-"), self.recipe]
        parts += [f"{k}={v}" for k, v in self.overrides]
        parts.append(f"s{self.seed}")
        return re.sub(r"[^A-Za-z0-9_.=+-]", "-", "__".join(parts))


@dataclass
class Suite:
    name: str
    path: Path
    description: str = ""
    seeds: list[int] = field(default_factory=lambda: [0])
    data: dict = field(default_factory=dict)
    defaults: dict = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    tables: dict = field(default_factory=dict)   # extra tables, e.g. {"sweep": {...}}
    observe_test: bool = False  # record per-epoch test accuracy (time-to-accuracy; never selects)

    def shard(self, spec: str | None, only: str | None = None) -> list[Cell]:
        """Cells of shard 'i/n' (0-based): every n-th cell in a fixed order, so any number of
        machines or SLURM array tasks split a suite without talking to each other. The order
        runs every first seed before any second one: a half-run suite already covers all rows."""
        order = {s: i for i, s in enumerate(self.seeds)}
        cells = sorted(self.cells, key=lambda c: (order.get(c.seed, len(order) + c.seed), bool(c.label), c.key))
        if only:
            cells = [c for c in cells if fnmatch.fnmatchcase(c.key, only)]
            if not cells:
                raise FerBenchError(f"--only {only!r} matches no cell of suite {self.name!r} (cell keys look like "
                                    f"{self.cells[0].key if self.cells else 'model__recipe__s0'})")
        if not spec:
            return cells
        m = re.fullmatch(r"(\d+)/(\d+)", spec)
        if not m or not 0 <= int(m[1]) < int(m[2]):
            raise FerBenchError(f"--shard {spec!r}: expected i/n with 0 <= i < n, e.g. 0/4")
        i, n = int(m[1]), int(m[2])
        return cells[i::n]


def _typed(where: str, d: dict, allowed: dict) -> dict:
    out = {}
    for k, v in (d or {}).items():
        if k not in allowed:
            raise FerBenchError(f"{where}: unknown key {k!r} (allowed: {', '.join(allowed)})")
        if not isinstance(v, allowed[k]) or (allowed[k] is int and isinstance(v, bool)):
            raise FerBenchError(f"{where}: {k} = {v!r} has the wrong type")
        out[k] = v
    return out


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; errors name the file and the entry."""
    path = Path(path)
    if not path.is_file():
        named = Path("benchmarks") / f"{path}.yaml"
        if named.is_file():
            path = named
        else:
            raise FerBenchError(f"{path}: no such suite file (suites live in benchmarks/*.yaml)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise FerBenchError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(raw, dict) or "cells" not in raw:
        raise FerBenchError(f"{path}: a suite needs a 'cells' list")
    suite = Suite(
        name=str(raw.get("name") or path.stem), path=path, description=str(raw.get("description", "")),
        seeds=list(raw.get("seeds", [0])),
        data=_typed(f"{path}: data", raw.get("data", {}), DATA_KEYS),
        defaults=_typed(f"{path}: defaults", raw.get("defaults", {}), OVERRIDES),
        tables=raw.get("tables", {}) or {},
        observe_test=bool(raw.get("observe_test", False)),
    )
    seen = set()
    for n, entry in enumerate(raw["cells"]):
        where = f"{path}: cells[{n}]"
        if not isinstance(entry, dict) or "model" not in entry:
            raise FerBenchError(f"{where}: each cell needs a 'model'")
        model = str(entry["model"])
        try:
            card = get_card(model)
            recipe = get_recipe(str(entry.get("recipe", card.recipe))).name
        except FerBenchError as e:
            raise FerBenchError(f"{where}: {e}") from None
        seeds = entry.get("seeds", suite.seeds)
        fixed = {**suite.defaults, **_typed(where, entry.get("overrides", {}), OVERRIDES)}
        grid = entry.get("grid", {}) or {}
        _typed(f"{where}: grid", {k: v[0] for k, v in grid.items() if isinstance(v, list) and v}, OVERRIDES)
        points = [dict(zip(grid, vals)) for vals in itertools.product(*grid.values())] if grid else [{}]
        for point in points:
            over = tuple(sorted({**fixed, **point}.items()))
            label = ", ".join(f"{k}={v}" for k, v in point.items())
            for seed in seeds:
                cell = Cell(model, recipe, int(seed), over, label)
                if cell.key in seen:
                    raise FerBenchError(f"{where}: cell {cell.key} appears twice")
                seen.add(cell.key)
                suite.cells.append(cell)
    if not suite.cells:
        raise FerBenchError(f"{path}: the suite has no cells")
    return suite
