"""The benchmark runner: every cell of a suite, resumably, one JSON record per cell."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from fer_bench.data.fer2013 import default_data_path
from fer_bench.errors import FerBenchError
from fer_bench.io import write_json
from fer_bench.locks import claim_cell, read_owner, stale_reason
from fer_bench.record import RunRecord, read_record
from fer_bench.runinfo import environment, hardware_label
from fer_bench.scoring import add_natural_to_record
from fer_bench.suite import Cell, Suite, cell_recipe, cell_settings
from fer_bench.train import TrainConfig, failed_record, train

# FER-2013 Training images: an epoch, when the suite sets no limit_train.
TRAIN_IMAGES = 28_709
# A half-written record this old was left by a killed process.
STALE_TMP_SECONDS = 3600


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


def _lock_status(lock: Path) -> str:
    """'in flight' only while a live process holds the cell; a stale lock will be taken over, so the cell is
    to run."""
    if not lock.exists():
        return "to run"
    return "in flight" if stale_reason(lock, read_owner(lock)) is None else "stale lock"


def dry_run(suite: Suite, results: str = "results", shard: str | None = None, only: str | None = None) -> str:
    """The plan without training: every cell, its status and the minutes it should take, estimated from
    the finished records of the same model and recipe in this suite (median training minutes)."""
    from statistics import median

    cells = suite.shard(shard, only)
    minutes: dict[tuple[str, str], list[float]] = {}
    status = {}
    for cell in suite.cells:
        path = record_path(suite, cell, results)
        status[cell.key] = cell_status(path) or _lock_status(lock_path(suite, cell, results))
        if status[cell.key] == "finished":
            rec = read_record(path)
            if isinstance(rec, RunRecord):
                minutes.setdefault((cell.model, cell.recipe), []).append(rec.training_minutes())
    steps = _step_minutes(suite, results)
    images = suite.limit_train or TRAIN_IMAGES
    lines = [f"{'status':<10} {'est. min':>8}  cell"]
    left, floor, unknown = 0.0, 0.0, 0
    for cell in cells:
        est = minutes.get((cell.model, cell.recipe))
        guess = median(est) if est else None
        low = steps(cell) if guess is None else None
        if status[cell.key] != "finished":
            left += guess or 0.0
            floor += low or 0.0
            unknown += guess is None and low is None
        shown = f"{guess:.0f}" if guess is not None else f"~{low:.0f}" if low is not None else "?"
        lines.append(f"{status[cell.key]:<10} {shown:>8}  {cell.key}")
    done = sum(status[c.key] == "finished" for c in cells)
    lines.append(f"{done} of {len(cells)} cells finished; about {left / 60:.1f} hours of training left"
                 + (f", plus about {floor / 60:.1f} hours for the cells marked ~ (no record of their model yet: "
                    f"training steps alone at {images:,} images an epoch, from results/perf/arena_budget.json on "
                    "this hardware; per-epoch validation comes on top)" if floor else "")
                 + (f", plus {unknown} cells with no record of their model to estimate from" if unknown else ""))
    if any(status[c.key] == "stale lock" for c in cells):
        lines.append("stale lock: its owner is gone or silent; the next run takes the cell over (and says so)")
    return "\n".join(lines)


def _step_minutes(suite: Suite, results: str):
    """cell -> minutes its training steps alone take here (per-epoch validation and augmentation come
    on top; FER+ labels train on fewer images than FER-2013's 28,709), from the measurement of
    benchmarks/perf/arena_budget.py when it was made on this machine's hardware; None where it cannot say."""
    try:
        perf = json.loads((Path(results) / "perf" / "arena_budget.json").read_text())
        ips = {m: v["train_images_per_second"] for m, v in perf["models"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return lambda cell: None
    if perf.get("hardware") != hardware_label(environment()["hardware"]):
        return lambda cell: None
    images = suite.limit_train or TRAIN_IMAGES

    def minutes(cell: Cell) -> float | None:
        return cell_recipe(cell).epochs * images / ips[cell.model] / 60 if cell.model in ips else None
    return minutes


def backfill_natural(suite: Suite, cells: list[Cell], data: str, natural: str, results: str) -> int:
    """Finished records without natural-set numbers get them from their kept checkpoint."""
    n = 0
    for cell in cells:
        path = record_path(suite, cell, results)
        if cell_status(path) != "finished" or read_record(path).metrics.natural is not None:
            continue
        best = sorted((suite_dir(suite, results) / "checkpoints" / cell.key).glob("best-*.ckpt"))
        if best:
            print(f"[{suite.name}] natural set for {cell.key} (from its kept checkpoint)", file=sys.stderr)
            add_natural_to_record(path, best[-1], natural, data)
            n += 1
    return n


def eval_external(suite: Suite, cells: list[Cell], results: str) -> int:
    """Every finished cell's kept model on each of the suite's external sets: one eval record per pair
    in <suite>/eval/, made once. A set that is not on this machine is skipped with one line."""
    from fer_bench.evaluate import eval_record_path, evaluate
    from fer_bench.faceset import read_face_set
    from fer_bench.trained import load_trained
    out, n = suite_dir(suite, results), 0
    for ext in suite.external:
        path = Path(ext.path).expanduser()
        if not path.exists():
            print(f"[{suite.name}] external set {ext.name}: {path} not found on this machine, skipped",
                  file=sys.stderr)
            continue
        faces = None
        for cell in cells:
            model = out / "models" / cell.key
            target = out / "eval" / f"{cell.key}__{ext.name}.json"
            if cell_status(record_path(suite, cell, results)) != "finished" or target.exists() or not model.is_dir():
                continue
            if faces is None:   # read (and detect faces) once per set
                faces = read_face_set(path, faces=ext.faces, label_from_name=ext.label_from_name, split=ext.split)
                faces.name = ext.name
            rec = evaluate(load_trained(model), faces)
            write_json(eval_record_path(out, rec), rec)
            print(f"[{suite.name}] {ext.name}: {cell.key} acc {rec['metrics']['accuracy']:.2%}", file=sys.stderr)
            n += 1
    return n


def _finish_wandb() -> None:
    """A cell that failed mid-run leaves its W&B run open; close it before the next cell."""
    if "wandb" in sys.modules:
        import wandb
        if wandb.run is not None:
            wandb.finish(exit_code=1)
