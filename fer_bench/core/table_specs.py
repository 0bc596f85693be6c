"""The extra tables a suite asks its leaderboard for, each with an explicit `kind`, parsed when the suite
loads: a typo in a table fails before hours of training, not after."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields

from fer_bench.core.errors import FerBenchError
from fer_bench.core.validate import closest


@dataclass(frozen=True)
class ArenaTable:
    """The arena headline: compact table with costs, accuracy-vs-cost plot, the two answering sentences."""

    seeds: int = 3


@dataclass(frozen=True)
class TargetTable:
    """Is a stated target met? Mean PrivateTest accuracy over at least `seeds` seeds, each trained within
    `minutes`."""

    recipe: str
    accuracy: float
    minutes: float
    seeds: int
    model: str | None = None
    title: str = "Target"
    # Which try at the target this recipe is (1, 2, ...): every attempt keeps its own table, so a met target
    # is read with the misses before it
    attempt: int | None = None


@dataclass(frozen=True)
class ComparisonTable:
    """This suite's reference row against every row of another suite, McNemar p on matched seeds."""

    suite: str
    title: str | None = None


@dataclass(frozen=True)
class SweepTable:
    """A pivot of one model's grid (rows x cols) by validation accuracy, plus a heatmap; `paper` is the grid
    point the paper reports as its best."""

    model: str
    rows: str
    cols: str
    title: str | None = None
    paper: dict = field(default_factory=dict)


@dataclass(frozen=True)
class AblationTable:
    """One row per ingredient removed: each variant cell against the reference cell (`model`, `recipe`) at
    matched seeds. A variant is a recipe name, or 'model / recipe' when the variant changes the network."""

    model: str
    recipe: str
    variants: list = field(default_factory=list)
    title: str = "Ablation: what each ingredient buys"

    def cells(self) -> list[tuple[str, str]]:
        """The variants as (model, recipe) pairs."""
        out = []
        for v in self.variants:
            model, _, recipe = str(v).rpartition("/")
            out.append((model.strip() or self.model, recipe.strip()))
        return out


@dataclass(frozen=True)
class TunedTable:
    """Arena v2: the tuned ranking with seed-level tiers and rank intervals, each row beside the same
    architecture in the `reference` suite (the shared-recipe arena), and every architecture's learning curves."""

    reference: str = "arena"


TableSpec = ArenaTable | TargetTable | ComparisonTable | SweepTable | AblationTable | TunedTable


KINDS: dict[str, type] = {"arena": ArenaTable, "target": TargetTable, "comparison": ComparisonTable,
                          "sweep": SweepTable, "ablation": AblationTable, "tuned": TunedTable}


def parse_tables(raw: dict | None, where: str = "tables") -> dict[str, TableSpec]:
    """{name: mapping} from a suite file -> {name: typed spec}; unknown or missing keys are one error line."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise FerBenchError(f"{where}: expected a mapping of table names to their settings")
    out: dict[str, TableSpec] = {}
    for name, spec in raw.items():
        if isinstance(spec, TableSpec):
            out[name] = spec
            continue
        w = f"{where}: {name}"
        if not isinstance(spec, dict):
            raise FerBenchError(f"{w}: expected a mapping, e.g. {{model: bodapati_cnn, rows: optimizer, cols: lr}}")
        if spec.get("kind") not in KINDS:
            raise FerBenchError(f"{w}: kind = {spec.get('kind')!r}; a table's kind is one of {', '.join(KINDS)}")
        cls = KINDS[spec["kind"]]
        spec = {k: v for k, v in spec.items() if k != "kind"}
        allowed = [f.name for f in fields(cls)]
        for k in spec:
            if k not in allowed:
                raise FerBenchError(f"{w}: unknown key {k!r}{closest(k, allowed)}")
        missing = [f.name for f in fields(cls)
                   if f.name not in spec and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            raise FerBenchError(f"{w}: a {cls.__name__} needs {', '.join(missing)}")
        try:
            out[name] = cls(**spec)
        except TypeError as e:
            raise FerBenchError(f"{w}: {e}") from None
        _check_values(w, out[name])
    return out


def _check_values(where: str, spec: TableSpec) -> None:
    if isinstance(spec, TargetTable):
        if not 0 < float(spec.accuracy) <= 1:
            raise FerBenchError(f"{where}: accuracy = {spec.accuracy!r} must be a fraction in (0, 1], e.g. 0.70")
        if float(spec.minutes) <= 0 or int(spec.seeds) < 1:
            raise FerBenchError(f"{where}: minutes and seeds must be positive")
    if isinstance(spec, ArenaTable) and int(spec.seeds) < 1:
        raise FerBenchError(f"{where}: seeds must be positive")
    if isinstance(spec, SweepTable) and not isinstance(spec.paper, dict):
        raise FerBenchError(f"{where}: paper must map grid keys to values, e.g. {{optimizer: amsgrad, lr: 0.01}}")
    if isinstance(spec, AblationTable):
        if not isinstance(spec.variants, list) or not spec.variants or not all(
                isinstance(v, str) and v.rpartition("/")[2].strip() for v in spec.variants):
            raise FerBenchError(f"{where}: variants must be a non-empty list of recipe names or 'model / recipe' "
                                "strings, e.g. [speedrun_no_smoothing, khaireddin_vgg / speedrun_full_width]")
        if (spec.model, spec.recipe) in spec.cells():
            raise FerBenchError(f"{where}: the reference {spec.model} / {spec.recipe} is also listed as a variant")
