"""The Recipe type and its registry. A recipe is data: optimiser, schedule, budget, stopping, loss
weighting, augmentation. The LightningModule reads a recipe; it knows nothing about papers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from fer_bench.core.errors import FerBenchError
from fer_bench.core.overrides import Overrides
from fer_bench.core.schedules import EarlyStop, Schedule
from fer_bench.data.augment import AugmentConfig


@dataclass(frozen=True)
class Recipe:
    name: str
    optimizer: str                 # sgd | adam | amsgrad | adamw | rmsprop
    lr: float
    epochs: int                    # budget; early stopping may end sooner
    batch_size: int
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0      # coupled L2 on every parameter (torch's weight_decay)
    schedule: Schedule | None = None       # a mapping is accepted too: {"name": "exponential", "gamma": g}
    early_stopping: EarlyStop | None = None  # or {"monitor": "val/loss", "mode": "min", "patience": n}
    checkpoint_monitor: str = "val/acc"  # always a val/ metric: PrivateTest never selects
    checkpoint_mode: str = "max"
    class_weights: str | None = None     # None | "balanced"
    oversample: dict[str, int] | None = None
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    label_smoothing: float = 0.0
    # "label": one class per image; "votes": FER+ only, each training image's vote distribution as a
    # soft target (the FER+ paper's cross-entropy mode); validation and test keep the majority labels
    targets: str = "label"
    drop_blank: bool = False
    fit_val_crops: int | None = None  # crop-averaging models: crops used by per-epoch validation
    # "native": a model's own test protocol (Khaireddin's ten-crop); "single": one centre view for
    # every model, validation and test alike, so that architectures are compared on equal terms
    eval_protocol: str = "native"
    # False: a crop model (khaireddin_vgg) trains on its centre crop instead of its own random crop, so that
    # every architecture sees the same inputs and translation comes from `augment.shift` alone
    model_crop: bool = True
    pretrained: bool | str = False  # timm-backed models: True = local timm/HF cache, or a file
    source: str = ""               # where the recipe comes from
    interpretation: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Recipes are written (and stored in records and checkpoints) with plain mappings for their parts.
        if isinstance(self.schedule, dict):
            object.__setattr__(self, "schedule", Schedule(**self.schedule))
        if isinstance(self.early_stopping, dict):
            object.__setattr__(self, "early_stopping", EarlyStop(**self.early_stopping))
        monitors = [self.checkpoint_monitor]
        if self.early_stopping:
            monitors.append(self.early_stopping.monitor)
        if self.schedule and self.schedule.monitor:
            monitors.append(self.schedule.monitor)
        if self.targets not in ("label", "votes"):
            raise ValueError(f"recipe {self.name}: targets {self.targets!r} is not label or votes")
        if self.eval_protocol not in ("native", "single"):
            raise ValueError(f"recipe {self.name}: eval_protocol {self.eval_protocol!r} is not native or single")
        for m in monitors:
            if not m.startswith("val/"):
                raise ValueError(f"recipe {self.name}: {m} is not a validation metric")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["augment"] = self.augment.to_dict()
        d["schedule"] = self.schedule.to_dict() if self.schedule else None
        d["early_stopping"] = self.early_stopping.to_dict() if self.early_stopping else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Recipe:
        """The inverse of to_dict (checkpoints and records keep recipes as plain data)."""
        known = {f.name for f in fields(cls)}
        aug = dict(d.get("augment") or {})
        if aug.get("brightness") is not None:
            aug["brightness"] = tuple(aug["brightness"])
        plain = {k: v for k, v in d.items() if k in known and k not in ("augment", "interpretation")}
        return cls(**plain, augment=AugmentConfig(**aug), interpretation=tuple(d.get("interpretation", ())))

    def with_overrides(self, overrides: Overrides) -> Recipe:
        return replace(self, **overrides.set())


RECIPES: dict[str, Recipe] = {}


def register_recipe(r: Recipe) -> Recipe:
    RECIPES[r.name] = r
    return r


# What a suite's overrides and `--set` may change: every plain field, and the augmentation's with a dotted key.
_NOT_SETTABLE = ("name", "source", "interpretation", "augment", "schedule", "early_stopping", "oversample")


def recipe_keys() -> dict[str, type | tuple[type, ...]]:
    """'field' and 'augment.field' -> the type a value must have (brightness, a pair, is not settable)."""
    from fer_bench.core.overrides import field_types
    keys = {k: t for k, t in field_types(Recipe).items() if k not in _NOT_SETTABLE}
    keys |= {f"augment.{k}": t for k, t in field_types(AugmentConfig).items() if k != "brightness"}
    return keys


def apply_changes(recipe: Recipe, changes: dict) -> Recipe:
    """The recipe with `changes` (keys from recipe_keys(), already type-checked) applied; a value the Recipe
    itself refuses (an unknown eval_protocol, ...) is one FerBenchError."""
    if not changes:
        return recipe
    top = {k: v for k, v in changes.items() if "." not in k}
    aug = {k.split(".", 1)[1]: v for k, v in changes.items() if k.startswith("augment.")}
    try:
        out = replace(recipe, **top)
        return replace(out, augment=replace(out.augment, **aug)) if aug else out
    except ValueError as e:
        raise FerBenchError(str(e)) from None


def run_recipe(name: str, overrides: Overrides, changes: dict) -> Recipe:
    """The recipe a run trains with: the named recipe, then the run's override flags, then its recipe-field
    changes. The one derivation: training, the suite's cell recipe and the dry-run estimates all call it."""
    return apply_changes(get_recipe(name).with_overrides(overrides), changes)


def define_recipe(name: str, base: str, changes: dict, where: str) -> Recipe:
    """A named recipe from a suite file (`recipes: {NAME: {extends: BASE, key: value}}`): BASE with the changes,
    registered so that cells name it like a Python recipe. The same definition twice is fine; another one
    under an existing name is refused."""
    recipe = replace(apply_changes(get_recipe(base), changes), name=name,
                     source=f"{where}: extends {base} with " + ", ".join(f"{k}={v}" for k, v in changes.items()))
    if name in RECIPES and RECIPES[name] != recipe:
        raise FerBenchError(f"{where}: recipe {name!r} already exists with another definition; choose a new name")
    return register_recipe(recipe)


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise FerBenchError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}")
    return RECIPES[name]
