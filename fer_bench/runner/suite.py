"""Benchmark suites: YAML files that expand into (model, recipe, overrides, seed) cells."""

from __future__ import annotations

import fnmatch
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fer_bench.core.errors import FerBenchError
from fer_bench.core.io import file_safe
from fer_bench.core.overrides import Overrides, field_types
from fer_bench.core.table_specs import TableSpec, parse_tables
from fer_bench.core.validate import check_flag, check_keys, typed
from fer_bench.data.load import LoadOptions
from fer_bench.models import get_card
from fer_bench.recipes import Recipe, apply_changes, define_recipe, get_recipe, recipe_keys, run_recipe
from fer_bench.runner.tuning_space import TuningSpec, parse_tuning

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

# Per-cell settings a suite may override, with their types.
# Every Recipe field (dotted for the augmentation's) may be set per cell; the Overrides fields are the flags.
OVERRIDES = {**recipe_keys(), **field_types(Overrides)}
CHOICES = Overrides.choices()
SUITE_KEYS = ("name", "description", "seeds", "data", "defaults", "cells", "tables", "observe_test", "external",
              "not_run", "tuning", "recipes")
EXTERNAL_KEYS = {"name": str, "path": str, "faces": bool, "label_from_name": str, "split": str}
CELL_KEYS = ("model", "recipe", "seeds", "overrides", "grid")


# A suite's data: keys are LoadOptions' fields (what changes the decoded dataset) and the subset limits.
DATA_KEYS = {**field_types(LoadOptions), "limit_train": int, "limit_eval": int}


def _parse(where: str, parse):
    """parse(), with `where` in front of the one-line error a bad value gives."""
    try:
        return parse()
    except FerBenchError as e:
        raise FerBenchError(str(e) if str(e).startswith(where) else f"{where}: {e}") from None


def _data(typed: dict) -> dict:
    """A suite's data: mapping, parsed: LoadOptions plus the subset limits."""
    limits = {k: typed.pop(k) for k in ("limit_train", "limit_eval") if k in typed}
    return {"load": LoadOptions(**typed), **limits}    # LoadOptions checks its values


def _seeds(where: str, value) -> list[int]:
    if not isinstance(value, list) or not value or not all(isinstance(s, int) and not isinstance(s, bool)
                                                           and s >= 0 for s in value):
        raise FerBenchError(f"{where}: seeds = {value!r} must be a non-empty list of non-negative integers, "
                            "e.g. [0, 1, 2]")
    return value


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
        return file_safe("__".join(parts))


@dataclass(frozen=True)
class ExternalSet:
    """A labelled face set every finished cell's kept model is scored on (`fer-bench eval`)."""

    name: str
    path: str
    faces: bool = False
    label_from_name: str | None = None
    split: str | None = None


def _external(where: str, value) -> list[ExternalSet]:
    if not isinstance(value, list):
        raise FerBenchError(f"{where}: external must be a list of sets, e.g. [{{name: ckplus, path: ~/data/CK+, "
                            "faces: true}]")
    out = []
    for n, entry in enumerate(value):
        w = f"{where}: external[{n}]"
        if not isinstance(entry, dict) or "name" not in entry or "path" not in entry:
            raise FerBenchError(f"{w}: each set needs a name and a path")
        ext = typed(w, entry, EXTERNAL_KEYS)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", ext["name"]):
            raise FerBenchError(f"{w}: name {ext['name']!r} must be a plain name (letters, digits, _ . + -)")
        if ext.get("split") not in (None, "train", "val", "test"):
            raise FerBenchError(f"{w}: split {ext['split']!r} must be train, val or test")
        if any(e.name == ext["name"] for e in out):
            raise FerBenchError(f"{w}: a second set named {ext['name']!r}")
        out.append(ExternalSet(**ext))
    return out


def _not_run(where: str, value) -> dict[str, str]:
    """Paper models a suite deliberately leaves out (model -> why): the leaderboard still lists their
    claims, as untested at budget, instead of silently dropping them."""
    if not isinstance(value, list):
        raise FerBenchError(f"{where}: not_run must be a list, e.g. [{{model: khaireddin_vgg, why: 300 epochs are "
                            "GPU work}]")
    out: dict[str, str] = {}
    for n, entry in enumerate(value):
        w = f"{where}: not_run[{n}]"
        if (not isinstance(entry, dict) or set(entry) != {"model", "why"}
                or not all(isinstance(v, str) and v.strip() for v in entry.values())):
            raise FerBenchError(f"{w}: each entry needs exactly a model and a why (both text)")
        try:
            get_card(entry["model"])
        except FerBenchError as e:
            raise FerBenchError(f"{w}: {e}") from None
        if entry["model"] in out:
            raise FerBenchError(f"{w}: {entry['model']} is listed twice")
        out[entry["model"]] = entry["why"].strip()
    return out


@dataclass
class Suite:
    name: str
    description: str = ""
    seeds: list[int] = field(default_factory=lambda: [0])
    load: LoadOptions = field(default_factory=LoadOptions)   # what changes the decoded dataset
    limit_train: int | None = None   # stratified subsets (smoke suites)
    limit_eval: int | None = None
    defaults: dict = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    tables: dict[str, TableSpec] = field(default_factory=dict)   # the leaderboard's extra tables
    observe_test: bool = False  # record per-epoch test accuracy (time-to-accuracy; never selects)
    external: list[ExternalSet] = field(default_factory=list)  # cross-dataset columns
    not_run: dict[str, str] = field(default_factory=dict)  # model -> why this suite does not train it
    # An equal tuning budget per architecture: each model's final cells take its study's best configuration
    tuning: TuningSpec | None = None

    @property
    def models(self) -> list[str]:
        """The suite's architectures, in the order of its cells."""
        return list(dict.fromkeys(c.model for c in self.cells))

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


def cell_settings(overrides) -> tuple[Overrides, dict]:
    """A cell's overrides (pairs or a dict) as a run takes them: `Overrides` flags, and recipe-field changes."""
    items, flags = dict(overrides), field_types(Overrides)
    return Overrides(**{k: items[k] for k in items if k in flags}), {k: items[k] for k in items if k not in flags}


def cell_recipe(cell: Cell) -> Recipe:
    """The recipe a cell trains with (epochs, schedule, ...), derived as its run derives it."""
    return run_recipe(cell.recipe, *cell_settings(cell.overrides))


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; errors name the file and the entry."""
    path = Path(path)
    if not path.is_file():
        # A bare name: benchmarks/<name>.yaml here, else in the fer-bench checkout (from any folder).
        here = Path("benchmarks") / f"{path}.yaml"
        shipped = BENCHMARKS / f"{path}.yaml"
        if here.is_file() or shipped.is_file():
            path = here if here.is_file() else shipped
        else:
            raise FerBenchError(f"{path}: no such suite file (suites live in {BENCHMARKS}/*.yaml)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise FerBenchError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise FerBenchError(f"{path}: a suite needs a 'cells' list")
    check_keys(str(path), raw, SUITE_KEYS)
    name = str(raw.get("name") or path.stem)
    # The name becomes a folder under --results (and checkpoints are removed from it): a plain name only.
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) or ".." in name:
        raise FerBenchError(f"{path}: name {name!r} must be a plain name (letters, digits, _ . -), not a path")
    suite = Suite(
        name=name, description=str(raw.get("description", "")),
        seeds=_seeds(f"{path}", raw.get("seeds", [0])),
        **_parse(f"{path}: data", lambda: _data(typed(f"{path}: data", raw.get("data", {}), DATA_KEYS))),
        defaults=typed(f"{path}: defaults", raw.get("defaults", {}), OVERRIDES, CHOICES),
        tables=parse_tables(raw.get("tables") or {}, f"{path}: tables"),
        observe_test=check_flag(f"{path}: observe_test", raw.get("observe_test", False)),
        external=_external(str(path), raw.get("external", []) or []),
        not_run=_not_run(str(path), raw.get("not_run", []) or []),
        tuning=parse_tuning(str(path), raw["tuning"]) if raw.get("tuning") is not None else None,
    )
    recipes = raw.get("recipes") or {}
    if not isinstance(recipes, dict):
        raise FerBenchError(f"{path}: recipes must map names to {{extends: RECIPE, key: value}}")
    for rname, spec in recipes.items():
        w = f"{path}: recipes.{rname}"
        if not isinstance(spec, dict) or "extends" not in spec or not re.fullmatch(r"[A-Za-z0-9_.-]+", str(rname)):
            raise FerBenchError(f"{w}: a recipe needs a plain name and 'extends: RECIPE', e.g. {{extends: arena}}")
        changes = typed(w, {k: v for k, v in spec.items() if k != "extends"}, recipe_keys())
        _parse(w, lambda r=rname, sp=spec, c=changes, w=w: define_recipe(str(r), str(sp["extends"]), c, w))
    seen = set()
    for n, entry in enumerate(raw["cells"]):
        where = f"{path}: cells[{n}]"
        if not isinstance(entry, dict) or "model" not in entry:
            raise FerBenchError(f"{where}: each cell needs a 'model'")
        check_keys(where, entry, CELL_KEYS)
        model = str(entry["model"])
        try:
            card = get_card(model)
            recipe = get_recipe(str(entry.get("recipe", card.recipe))).name
        except FerBenchError as e:
            raise FerBenchError(f"{where}: {e}") from None
        seeds = _seeds(where, entry["seeds"]) if "seeds" in entry else suite.seeds
        fixed = {**suite.defaults, **typed(where, entry.get("overrides", {}), OVERRIDES, CHOICES)}
        _parse(where, lambda r=recipe, f=fixed: apply_changes(get_recipe(r), cell_settings(f)[1]))
        grid = entry.get("grid", {}) or {}
        if not isinstance(grid, dict):
            raise FerBenchError(f"{where}: grid must map keys to lists of values, e.g. {{lr: [0.1, 0.01]}}")
        for k, values in grid.items():
            if not isinstance(values, list) or not values:
                raise FerBenchError(f"{where}: grid {k} = {values!r} must be a non-empty list, e.g. [0.1, 0.01]")
        grid = {k: [typed(f"{where}: grid", {k: v}, OVERRIDES, CHOICES)[k] for v in values]
                for k, values in grid.items()}
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
    if suite.tuning and any(c.overrides or c.label for c in suite.cells):
        # A tuned suite's cells are its architectures; the study gives each its configuration.
        raise FerBenchError(f"{path}: a suite with tuning takes no overrides, grid or defaults in its cells")
    if both := sorted(set(suite.not_run) & {c.model for c in suite.cells}):
        raise FerBenchError(f"{path}: {', '.join(both)} is both in cells and in not_run")
    return suite
