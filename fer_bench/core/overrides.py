"""Per-run overrides of a recipe, defined once: `fer-bench train`'s flags and a suite's override keys
are generated from these fields. No heavy imports: the command line's --help builds from it."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field, fields

OPTIMIZERS = ("sgd", "adam", "amsgrad", "adamw", "rmsprop")


def field_types(cls: type) -> dict[str, type | tuple[type, ...]]:
    """A dataclass's fields and the types a YAML value of each may have ('str | None' -> str)."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        t = hints[f.name]
        args = tuple(a for a in typing.get_args(t) if a is not type(None)) if typing.get_args(t) else (t,)
        out[f.name] = args[0] if len(args) == 1 else args
    return out


def _override(help: str, **cli) -> dict:
    return {"metadata": {"help": help, "cli": cli}, "default": None}


@dataclass(frozen=True)
class Overrides:
    """What a single run may change in its recipe. The one definition: `fer-bench train`'s flags and a
    suite's `defaults:` / `overrides:` / `grid:` keys are generated from these fields."""

    epochs: int | None = field(**_override("epoch budget (default: the recipe's)"))
    batch_size: int | None = field(**_override("override the recipe's batch size"))
    lr: float | None = field(**_override("override the recipe's learning rate"))
    optimizer: str | None = field(**_override("override the recipe's optimiser", choices=OPTIMIZERS))
    weight_decay: float | None = field(**_override("override the recipe's weight decay (never on 1-D parameters)"))
    label_smoothing: float | None = field(**_override("override the recipe's label smoothing (0 to <1)"))
    pretrained: bool | str | None = field(**_override(
        "timm-backed models: load weights from PATH, or (no PATH) the local timm/HF cache",
        metavar="PATH", nargs="?", const=True))

    def set(self) -> dict:
        """The overridden fields only."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    @staticmethod
    def choices() -> dict[str, tuple[str, ...]]:
        """The fields whose values come from a fixed list (a suite's value is checked against it too)."""
        return {f.name: f.metadata["cli"]["choices"] for f in fields(Overrides) if "choices" in f.metadata["cli"]}

    @staticmethod
    def add_arguments(parser) -> None:
        """--epochs, --batch-size, --lr, --optimizer, --pretrained (argparse)."""
        types = field_types(Overrides)
        for f in fields(Overrides):
            kind = types[f.name]
            extra = {"type": kind} if kind in (int, float) else {}
            parser.add_argument(f"--{f.name.replace('_', '-')}", help=f.metadata["help"], **extra,
                                **f.metadata["cli"])

    @classmethod
    def from_args(cls, args) -> Overrides:
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})
