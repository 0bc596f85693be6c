"""Validation helpers shared by the configuration parsers (suites, tuning spaces): one wording for errors."""

from __future__ import annotations

import difflib

from fer_bench.errors import FerBenchError


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
