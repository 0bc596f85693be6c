"""Where a suite's cells keep their records and locks, and what state each cell is in."""

from __future__ import annotations

import json
from pathlib import Path

from fer_bench.core.locks import read_owner, stale_reason
from fer_bench.runner.suite import Cell, Suite

# FER-2013 Training images: an epoch, when the suite sets no limit_train.
TRAIN_IMAGES = 28_709
def suite_dir(suite: Suite, results: str | Path = "results") -> Path:
    return Path(results) / suite.name


def record_path(suite: Suite, cell: Cell, results: str | Path = "results") -> Path:
    return suite_dir(suite, results) / "runs" / f"{cell.key}.json"


def cell_status(path: Path) -> str | None:
    """'finished', 'failed' or None (not run, or a record that cannot be read)."""
    try:
        return json.loads(path.read_text()).get("status")
    except (OSError, ValueError):
        return None


def lock_path(suite: Suite, cell: Cell, results: str | Path = "results") -> Path:
    return suite_dir(suite, results) / "locks" / f"{cell.key}.lock"


def lock_status(lock: Path) -> str:
    """'in flight' only while a live process holds the cell; a stale lock will be taken over, so the cell is
    to run."""
    if not lock.exists():
        return "to run"
    return "in flight" if stale_reason(lock, read_owner(lock)) is None else "stale lock"
