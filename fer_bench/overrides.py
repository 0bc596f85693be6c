"""Per-run overrides of a recipe, defined once: `fer-bench train`'s flags and a suite's override keys
are generated from these fields. No heavy imports: the command line's --help builds from it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

OPTIMIZERS = ("sgd", "adam", "amsgrad", "adamw", "rmsprop")


def _override(kind, help: str, **cli) -> dict:
    return {"metadata": {"type": kind, "help": help, "cli": cli}, "default": None}


@dataclass(frozen=True)
class Overrides:
    """What a single run may change in its recipe. The one definition: `fer-bench train`'s flags and a
    suite's `defaults:` / `overrides:` / `grid:` keys are generated from these fields."""

    epochs: int | None = field(**_override(int, "epoch budget (default: the recipe's)"))
    batch_size: int | None = field(**_override(int, "override the recipe's batch size"))
    lr: float | None = field(**_override(float, "override the recipe's learning rate"))
    optimizer: str | None = field(**_override(str, "override the recipe's optimiser", choices=OPTIMIZERS))
    pretrained: bool | str | None = field(**_override(
        (bool, str), "timm-backed models: load weights from PATH, or (no PATH) the local timm/HF cache",
        metavar="PATH", nargs="?", const=True))

    def set(self) -> dict:
        """The overridden fields only."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    @staticmethod
    def types() -> dict[str, type | tuple[type, ...]]:
        return {f.name: f.metadata["type"] for f in fields(Overrides)}

    @staticmethod
    def add_arguments(parser) -> None:
        """--epochs, --batch-size, --lr, --optimizer, --pretrained (argparse)."""
        for f in fields(Overrides):
            kind = f.metadata["type"]
            extra = {"type": kind} if kind in (int, float) else {}
            parser.add_argument(f"--{f.name.replace('_', '-')}", help=f.metadata["help"], **extra,
                                **f.metadata["cli"])

    @classmethod
    def from_args(cls, args) -> Overrides:
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})
