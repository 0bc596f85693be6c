"""Command-line settings parsed into typed values at the boundary (the `--set KEY=VALUE` recipe changes)."""

from __future__ import annotations

from fer_bench.core.errors import FerBenchError


def parse_set(items: list[str]) -> dict:
    """--set KEY=VALUE pairs -> recipe changes, each value read as YAML and checked like a suite's override."""
    import yaml

    from fer_bench.core.validate import typed
    from fer_bench.recipes import recipe_keys
    changes = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise FerBenchError(f"--set {item!r}: expected KEY=VALUE, e.g. --set label_smoothing=0.1")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        changes |= typed("--set", {key.strip(): value}, recipe_keys())
    return changes
