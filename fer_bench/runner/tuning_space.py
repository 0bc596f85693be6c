"""A suite's tuning budget and search space (`tuning:` in a suite file), parsed once into a typed object.

The same space, trial count and trial budget apply to every architecture of the suite: that is what makes
an arena of tuned architectures fair (each row is its architecture at its best under one equal budget).
No optuna import here: the space suggests through whatever trial object it is given."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from fer_bench.core.errors import FerBenchError
from fer_bench.core.validate import check_keys, is_int, is_number

# The families the tuned base recipe knows how to run (its momentum/Nesterov apply to SGD only).
FAMILIES = ("sgd", "adamw")
TUNING_KEYS = ("trials", "epochs", "limit_train", "startup_trials", "seed", "space")
SPACE_KEYS = ("optimizer", "lr", "weight_decay", "label_smoothing")


def _sig(x: float, digits: int = 3) -> float:
    """Suggested floats rounded to 3 significant digits: readable cell keys, nothing lost that matters."""
    return float(f"{x:.{digits}g}")


@dataclass(frozen=True)
class TuningSpec:
    trials: int                        # completed trials per architecture
    epochs: int                        # each trial's epoch budget
    limit_train: int | None            # stratified Training subset of each trial (the same for all)
    startup_trials: int                # random trials before TPE models the results
    seed: int                          # every trial's training seed; the sampler's base seed
    optimizers: tuple[str, ...]
    lr: dict[str, tuple[float, float]]            # per family, log-uniform
    weight_decay: dict[str, tuple[float, float]]  # per family, log-uniform
    label_smoothing: tuple[float, float]          # uniform

    def suggest(self, trial) -> dict[str, object]:
        """One configuration as recipe overrides; parameter names are per family where ranges differ."""
        opt = trial.suggest_categorical("optimizer", list(self.optimizers))
        lr = trial.suggest_float(f"lr_{opt}", *self.lr[opt], log=True)
        wd = trial.suggest_float(f"weight_decay_{opt}", *self.weight_decay[opt], log=True)
        ls = trial.suggest_float("label_smoothing", *self.label_smoothing)
        return {"optimizer": opt, "lr": _sig(lr), "weight_decay": _sig(wd), "label_smoothing": round(ls, 3)}

    def distributions(self, params: dict) -> dict:
        """Optuna distributions of a recorded trial's parameters (to rebuild a study from its records)."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution
        out: dict = {"optimizer": CategoricalDistribution(list(self.optimizers)),
                     "label_smoothing": FloatDistribution(*self.label_smoothing)}
        opt = params["optimizer"]
        out[f"lr_{opt}"] = FloatDistribution(*self.lr[opt], log=True)
        out[f"weight_decay_{opt}"] = FloatDistribution(*self.weight_decay[opt], log=True)
        return out

    def describe(self) -> list[str]:
        lines = [f"optimiser family: {', '.join(self.optimizers)}"]
        for opt in self.optimizers:
            lines.append(f"{opt}: peak lr log-uniform {self.lr[opt][0]:g}-{self.lr[opt][1]:g}, weight decay "
                         f"log-uniform {self.weight_decay[opt][0]:g}-{self.weight_decay[opt][1]:g}")
        lines.append(f"label smoothing uniform {self.label_smoothing[0]:g}-{self.label_smoothing[1]:g}")
        return lines


def _range(where: str, v, log: bool, upper: float = math.inf) -> tuple[float, float]:
    ok = (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int | float) and not isinstance(x, bool)
                                                      for x in v))
    if not ok or not (0 <= v[0] < v[1] <= upper) or (log and v[0] <= 0):
        raise FerBenchError(f"{where} = {v!r} must be [low, high] with {'0 < ' if log else '0 <= '}low < high"
                            + (f" <= {upper:g}" if upper != math.inf else ""))
    return float(v[0]), float(v[1])


def _int(where: str, v, minimum: int) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise FerBenchError(f"{where} = {v!r} must be an integer >= {minimum}")
    return v


def parse_tuning(where: str, raw) -> TuningSpec:
    """The `tuning:` mapping of a suite file; every error is one line naming the key."""
    if not isinstance(raw, dict):
        raise FerBenchError(f"{where}: tuning must be a mapping (trials, epochs, limit_train, space, ...)")
    check_keys(f"{where}: tuning", raw, TUNING_KEYS)
    for k in ("trials", "epochs", "space"):
        if k not in raw:
            raise FerBenchError(f"{where}: tuning needs {k!r}")
    space = raw["space"]
    if not isinstance(space, dict):
        raise FerBenchError(f"{where}: tuning.space must be a mapping ({', '.join(SPACE_KEYS)})")
    check_keys(f"{where}: tuning.space", space, SPACE_KEYS)
    missing = [k for k in SPACE_KEYS if k not in space]
    if missing:
        raise FerBenchError(f"{where}: tuning.space needs {', '.join(missing)}")
    opts = space["optimizer"]
    if not isinstance(opts, list) or not opts or any(o not in FAMILIES for o in opts) or len(set(opts)) < len(opts):
        raise FerBenchError(f"{where}: tuning.space.optimizer = {opts!r} must list some of {', '.join(FAMILIES)}")
    per: dict[str, dict[str, tuple[float, float]]] = {}
    for key in ("lr", "weight_decay"):
        v = space[key]
        if not isinstance(v, dict) or set(v) != set(opts):
            raise FerBenchError(f"{where}: tuning.space.{key} must give a range for each of {', '.join(opts)}, "
                                f"e.g. {{{opts[0]}: [0.001, 0.1]}}")
        per[key] = {o: _range(f"{where}: tuning.space.{key}.{o}", v[o], log=True) for o in opts}
    trials = _int(f"{where}: tuning.trials", raw["trials"], 1)
    limit = raw.get("limit_train")
    return TuningSpec(
        trials=trials, epochs=_int(f"{where}: tuning.epochs", raw["epochs"], 1),
        limit_train=None if limit is None else _int(f"{where}: tuning.limit_train", limit, 7),
        startup_trials=_int(f"{where}: tuning.startup_trials", raw.get("startup_trials", min(4, trials)), 0),
        seed=_int(f"{where}: tuning.seed", raw.get("seed", 0), 0),
        optimizers=tuple(opts), lr=per["lr"], weight_decay=per["weight_decay"],
        label_smoothing=_range(f"{where}: tuning.space.label_smoothing", space["label_smoothing"], log=False,
                               upper=0.99))


def read_trials(folder: Path, model: str | None = None) -> list[dict]:
    """The trial records in `folder` (of one model, or all), in file order. Records are written atomically, so
    a malformed one was edited or damaged by hand: one line naming the file and key, never a traceback."""
    import json
    out = []
    for p in sorted(Path(folder).glob(f"{model or '*'}__t*.json")):
        try:
            t = json.loads(p.read_text())
        except (OSError, ValueError) as e:
            raise FerBenchError(f"{p}: not a trial record ({e})") from None
        if not isinstance(t, dict) or t.get("kind") != "tuning_trial":
            raise FerBenchError(f"{p}: not a trial record (kind must be 'tuning_trial')")
        for key, ok, want in (
                ("model", isinstance(t.get("model"), str), "a model name"),
                ("name", isinstance(t.get("name"), str), "the trial's name"),
                ("status", t.get("status") in ("complete", "diverged"), "complete or diverged"),
                ("started", isinstance(t.get("started"), str), "an ISO time"),
                ("value", is_number(t.get("value")), "a number"),
                ("params", isinstance(t.get("params"), dict) and all(
                    is_number(v) or isinstance(v, str) for v in t["params"].values()), "an object of values"),
                ("overrides", isinstance(t.get("overrides"), dict), "an object"),
                ("budget", isinstance(t.get("budget"), dict) and all(
                    is_int(t["budget"].get(k)) for k in ("epochs", "train_images")), "integer epochs and train_images"),
                ("timing", isinstance(t.get("timing"), dict) and is_number(t["timing"].get("fit_seconds")),
                 "an object with fit_seconds"),
                ("curves", isinstance(t.get("curves"), list) and all(isinstance(c, dict) and all(
                    v is None or is_number(v) for v in c.values()) for c in t["curves"]), "per-epoch numbers")):
            if not ok:
                raise FerBenchError(f"{p}: key {key!r} must be {want}")
        if model is None or t["model"] == model:
            out.append(t)
    return out
