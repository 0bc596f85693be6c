"""A recipe's time course as types: the learning-rate schedule and the early-stopping rule (recipes
state them as mappings; fer_bench.training.module turns a Schedule into a torch scheduler)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Schedule:
    """The learning-rate schedule. exponential: x gamma per epoch; plateau: x factor after `patience` epochs
    without improvement of a validation metric; cosine: to min_lr over the budget; onecycle: per-step warm-up
    (pct_start of the steps, from lr / div_factor) then annealing to lr / final_div_factor."""

    name: str
    gamma: float | None = None
    monitor: str | None = None
    mode: str | None = None
    factor: float | None = None
    patience: int | None = None
    min_lr: float | None = None
    pct_start: float | None = None
    div_factor: float | None = None
    final_div_factor: float | None = None

    def __post_init__(self) -> None:
        if self.name not in ("exponential", "plateau", "cosine", "onecycle"):
            raise ValueError(f"unknown schedule {self.name!r}")

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class EarlyStop:
    monitor: str          # always a val/ metric
    patience: int         # epochs without improvement
    mode: str = "min"

    def to_dict(self) -> dict:
        return {"monitor": self.monitor, "mode": self.mode, "patience": self.patience}
