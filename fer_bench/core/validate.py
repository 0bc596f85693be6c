"""Validation helpers shared by the configuration parsers (suites, tuning spaces): one wording for errors."""

from __future__ import annotations

import difflib
import math

from fer_bench.core.errors import FerBenchError


def is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)     # JSON true is not the number 1


def is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def closest(key: str, allowed) -> str:
    """' (did you mean X?)' for a near miss, else the allowed keys."""
    near = difflib.get_close_matches(str(key), list(allowed), n=1)
    return f" (did you mean {near[0]!r}?)" if near else f" (allowed: {', '.join(allowed)})"


def check_keys(where: str, d: dict, allowed) -> None:
    for k in d:
        if k not in allowed:
            raise FerBenchError(f"{where}: unknown key {k!r}{closest(k, allowed)}")


def check_flag(where: str, value) -> bool:
    if not isinstance(value, bool):   # YAML's "no" in quotes is a string, and a non-empty string is true
        raise FerBenchError(f"{where} = {value!r} must be true or false")
    return value


# Numbers a run needs to make sense: an epoch budget of 0 would record an untrained model as finished.
POSITIVE = ("epochs", "batch_size", "lr", "limit_train", "limit_eval")


def check_numbers(where: str, values: dict) -> None:
    """Budgets, sizes and learning rates must be positive, finite numbers."""
    def name(k: str) -> str:
        return k.replace("_", "-") if where == "command line" else k
    for k in POSITIVE:
        v = values.get(k)
        if v is not None and (isinstance(v, bool) or not math.isfinite(v) or v <= 0):
            raise FerBenchError(f"{where}: {name(k)} = {v!r} must be a positive number")
    for k, hi in (("weight_decay", math.inf), ("label_smoothing", 1.0)):
        v = values.get(k)
        if v is not None and (isinstance(v, bool) or not 0 <= v < hi):
            raise FerBenchError(f"{where}: {name(k)} = {v!r} must be in [0, {hi})")


def typed(where: str, d: dict | None, allowed: dict, choices: dict | None = None) -> dict:
    """A mapping checked against `allowed` (key -> type; an int is taken where a float is wanted) and, for
    the keys `choices` names, against their allowed values; then check_numbers."""
    if not isinstance(d or {}, dict):
        raise FerBenchError(f"{where}: expected a mapping of keys to values, found {d!r}")
    out = {}
    for k, v in (d or {}).items():
        if k not in allowed:
            raise FerBenchError(f"{where}: unknown key {k!r}{closest(k, allowed)}")
        if allowed[k] is float and is_int(v):
            v = float(v)
        if not isinstance(v, allowed[k]) or (allowed[k] is int and isinstance(v, bool)):
            raise FerBenchError(f"{where}: {k} = {v!r} has the wrong type")
        if choices and k in choices and v not in choices[k]:
            raise FerBenchError(f"{where}: {k} {v!r} is not one of {', '.join(choices[k])}")
        out[k] = v
    check_numbers(where, out)
    return out
