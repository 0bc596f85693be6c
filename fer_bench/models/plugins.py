"""Models from outside the package: `--model pkg.module:build_fn`, `--model path/to/file.py:build_fn`, or an
installed package's entry point in group `fer_bench.models`. The spec itself becomes the model's name, so a kept
model's card (which stores the name) rebuilds it in a new shell; a builder registered with `register_model`
keeps its card (paper, claims, recipe), any other gets a minimal one."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import fer_bench.models.registry as registry
from fer_bench.core.errors import FerBenchError

ENTRY_POINT_GROUP = "fer_bench.models"
_loaded_entry_points = False


def is_spec(name: str) -> bool:
    target, sep, fn = name.rpartition(":")
    return bool(sep and target and fn.isidentifier())


def _import(target: str, name: str):
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target).expanduser().resolve()
        if not path.is_file():
            raise FerBenchError(f"model {name!r}: no such file {target}")
        # One module per file, whatever the spelling of its path: its decorators register once.
        mod_name = "fer_bench_plugin_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
        if mod_name in sys.modules:
            return sys.modules[mod_name]
        spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            del sys.modules[mod_name]
            raise FerBenchError(f"model {name!r}: importing {target} failed: {type(e).__name__}: {e}") from None
        return module
    try:
        return importlib.import_module(target)
    except ImportError as e:
        raise FerBenchError(f"model {name!r}: cannot import {target!r} ({e}); is the plugin installed, or on "
                            "PYTHONPATH?") from None


def load_plugin(name: str) -> None:
    """Register `name` (a 'module:fn' or 'file.py:fn' spec) as a model, importing what it names."""
    if name in registry._BUILDERS:
        return
    target, _, fn_name = name.rpartition(":")
    fn = getattr(_import(target, name), fn_name, None)
    if not callable(fn):
        raise FerBenchError(f"model {name!r}: {target} has no function {fn_name!r}")
    known = next((n for n, b in registry._BUILDERS.items() if b is fn), None)
    card = (replace(registry._CARDS[known], name=name) if known else
            registry.ModelCard(name=name, paper=f"user plugin {name}", year=None, source=name, recipe="arena_tuned",
                               tags=("plugin",)))
    registry._BUILDERS[name] = fn
    registry._CARDS[name] = card


def load_entry_points() -> None:
    """Import every installed package's `fer_bench.models` entry points once: their modules register models."""
    global _loaded_entry_points
    if _loaded_entry_points:
        return
    _loaded_entry_points = True
    from importlib.metadata import entry_points
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as e:   # noqa: BLE001 - one broken plugin must not hide the others
            print(f"fer-bench: entry point {ep.name!r} ({ep.value}) failed to load: {type(e).__name__}: {e}",
                  file=sys.stderr)


def _load(name: str | None) -> None:
    """The registry's loader: a spec is imported, any other unknown name (or a listing) loads entry points."""
    if name is not None and is_spec(name):
        load_plugin(name)
    else:
        load_entry_points()


registry.register_loader(_load)
