"""Running a suite: each cell without a finished record, claimed by a lock, trained (resumable), recorded."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from fer_bench.core.errors import FerBenchError
from fer_bench.core.io import write_json
from fer_bench.core.locks import claim_cell
from fer_bench.data.fer2013 import default_data_path
from fer_bench.runner.cells import cell_status, lock_path, record_path, suite_dir
from fer_bench.runner.external import backfill_natural, eval_external
from fer_bench.runner.suite import Cell, Suite, cell_settings
from fer_bench.training.train import TrainConfig, failed_record, train

# A half-written record this old was left by a killed process.
STALE_TMP_SECONDS = 3600


def _fmt_seconds(s: float) -> str:
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def run_suite(suite: Suite, data: str | None = None, shard: str | None = None, results: str = "results",
              use_wandb: bool = True, retry_failed: bool = False, precision: str = "auto",
              progress: bool = True, devices: int = 1, keep_checkpoints: bool = False,
              natural: str | None = None, only: str | None = None, accelerator: str = "auto") -> dict[str, int]:
    """Run the suite's cells that have no finished record; returns counts per outcome.

    A record is written only when its cell ends (atomically), so a suite killed at any
    moment loses at most the cell in flight; that cell resumes from its last epoch
    checkpoint on the next run.
    """
    data = data or str(default_data_path())
    out = suite_dir(suite, results)
    # Left by a run killed while writing a record: only old ones, since another live process sharing this
    # results folder may be writing its record right now (a write takes well under a second).
    for stale in (out / "runs").glob(".*.tmp"):
        try:
            if time.time() - stale.stat().st_mtime > STALE_TMP_SECONDS:
                stale.unlink(missing_ok=True)
        except FileNotFoundError:
            pass
    cells = suite.shard(shard, only)
    todo = [c for c in cells if cell_status(record_path(suite, c, results)) != "finished"
            and (retry_failed or cell_status(record_path(suite, c, results)) != "failed")]
    counts = {"cells": len(cells), "already_done": len(cells) - len(todo), "finished": 0, "failed": 0}
    which = (f" (shard {shard})" if shard else "") + (f" matching {only}" if only else "")
    print(f"[{suite.name}] {len(cells)} cells{which}: "
          f"{counts['already_done']} already recorded, {len(todo)} to run", file=sys.stderr)
    started = time.perf_counter()
    for n, cell in enumerate(todo):
        elapsed = time.perf_counter() - started
        eta = f", ETA {_fmt_seconds(elapsed / n * (len(todo) - n))}" if n else ""
        lock = lock_path(suite, cell, results)
        owner = claim_cell(lock)
        if owner is not None:
            print(f"[{suite.name}] skip {cell.key}: being run by {owner}", file=sys.stderr, flush=True)
            counts["claimed_elsewhere"] = counts.get("claimed_elsewhere", 0) + 1
            continue
        try:
            if cell_status(record_path(suite, cell, results)) == "finished":  # finished while we waited
                counts["already_done"] += 1
                continue
            print(f"[{suite.name}] cell {n + 1}/{len(todo)} ({counts['already_done'] + n}/{len(cells)} done{eta}): "
                  f"{cell.key}", file=sys.stderr, flush=True)
            _run_cell(suite, cell, counts, data, results, out, use_wandb, precision, progress, devices,
                      keep_checkpoints, natural, accelerator)
            if suite.external:   # now, not only at the end: a suite stopped part-way keeps its cells' columns
                eval_external(suite, [cell], results)
        finally:
            lock.unlink(missing_ok=True)
    if natural:
        backfill_natural(suite, cells, data, natural, results)
    if suite.external:
        eval_external(suite, cells, results)
    return counts


def _run_cell(suite: Suite, cell: Cell, counts: dict, data: str, results: str, out: Path,
              use_wandb: bool, precision: str, progress: bool, devices: int, keep_checkpoints: bool,
              natural: str | None, accelerator: str = "auto") -> None:
    flags, changes = cell_settings(cell.overrides)
    cfg = TrainConfig(
        model=cell.model, recipe=cell.recipe, seed=cell.seed, data=data, load=suite.load,
        limit_train=suite.limit_train, limit_eval=suite.limit_eval,
        overrides=flags, changes=changes,
        precision=precision,
        out=str(record_path(suite, cell, results)), workdir=str(out), run_id=cell.key, resume=True,
        progress=progress, devices=devices, natural=natural, observe_test=suite.observe_test,
        accelerator=accelerator, lock=str(lock_path(suite, cell, results)),
        wandb=use_wandb,
        meta={"suite": suite.name, "cell": cell.key, "label": cell.label,
              "overrides": dict(cell.overrides)},
    )
    try:
        rec = train(cfg)
        counts["finished"] += 1
        # The record is written: the resume checkpoint is no longer needed; the selected one
        # is kept on request (to evaluate it on new test sets later without retraining).
        if keep_checkpoints:
            (out / "checkpoints" / cell.key / "last.ckpt").unlink(missing_ok=True)
        else:
            shutil.rmtree(out / "checkpoints" / cell.key, ignore_errors=True)
        print(f"[{suite.name}]   done: test acc {rec.metrics.test.accuracy:.2%} "
              f"in {rec.timing.wall_seconds:.0f} s", file=sys.stderr)
    except KeyboardInterrupt:
        raise
    except FerBenchError:
        raise  # the user's data or suite is wrong: every cell would fail the same way
    except Exception as e:  # noqa: BLE001 - a failing cell is recorded and the suite goes on
        counts["failed"] += 1
        print(f"[{suite.name}]   FAILED: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
              file=sys.stderr)
        if cell_status(record_path(suite, cell, results)) == "finished":
            return  # never replace a finished record (the cell claim makes this unreachable; belt and braces)
        write_json(record_path(suite, cell, results), failed_record(cfg, e, cell.key).encode())
    finally:
        _finish_wandb()


def _finish_wandb() -> None:
    """A cell that failed mid-run leaves its W&B run open; close it before the next cell."""
    if "wandb" in sys.modules:
        import wandb
        if wandb.run is not None:
            wandb.finish(exit_code=1)
