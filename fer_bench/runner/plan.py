"""`fer-bench bench SUITE --dry-run`: what is left of a suite (cells, or trials and final cells of a tuned
suite) and the minutes it should take, estimated from records."""

from __future__ import annotations

import json
from pathlib import Path

from fer_bench.core.record import RunRecord, read_record
from fer_bench.core.runinfo import environment, hardware_label
from fer_bench.runner.cells import TRAIN_IMAGES, cell_status, lock_path, lock_status, record_path
from fer_bench.runner.suite import Cell, Suite, cell_recipe
from fer_bench.runner.tune import final_cells, select_models, trial_records


def dry_run(suite: Suite, results: str = "results", shard: str | None = None, only: str | None = None) -> str:
    """The plan without training: every cell, its status and the minutes it should take, estimated from
    the finished records of the same model and recipe in this suite (median training minutes)."""
    from statistics import median

    cells = suite.shard(shard, only)
    minutes: dict[tuple[str, str], list[float]] = {}
    status = {}
    for cell in suite.cells:
        path = record_path(suite, cell, results)
        status[cell.key] = cell_status(path) or lock_status(lock_path(suite, cell, results))
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


def dry_run_tuned(suite: Suite, results: str = "results", shard: str | None = None, only: str | None = None) -> str:
    """What is left of a tuned suite, per architecture: trials and final cells with estimated minutes.
    Estimates come from this suite's own records of the model (trials, then final cells) scaled by
    image-epochs; a model with none yet is estimated from the shared-recipe arena's records (v1)."""
    from statistics import median

    from fer_bench.core.record import RunRecord, load_records
    spec = suite.tuning
    trial_ie = spec.epochs * (spec.limit_train or TRAIN_IMAGES)
    v1: dict[str, list[float]] = {}
    for rec in load_records(Path(results) / "arena" / "runs")[0]:
        if isinstance(rec, RunRecord):
            v1.setdefault(rec.model.name, []).append(rec.training_minutes() / (12 * TRAIN_IMAGES))
    lines = [f"{'status':<10} {'est. min':>8}  what"]
    left = 0.0
    for model in select_models(suite, shard, only):
        trials = trial_records(suite, model, results)
        cells = final_cells(suite, results, [model])
        final_epochs = dict(cells[0].overrides).get("epochs") or _recipe_epochs(cells[0])
        finals = [m for c in cells if (m := _minutes(record_path(suite, c, results))) is not None]
        per_ie = (median(finals) / (final_epochs * TRAIN_IMAGES) if finals else
                  median(t["timing"]["fit_seconds"] / 60 for t in trials) / trial_ie if trials else
                  median(v1[model]) if model in v1 else None)
        est = "?" if per_ie is None else f"{per_ie * trial_ie:.0f}"
        for n in range(spec.trials):
            status = "finished" if n < len(trials) else "to run"
            left += per_ie * trial_ie if per_ie and status != "finished" else 0.0
            lines.append(f"{status:<10} {est:>8}  {model} trial {n + 1}/{spec.trials} "
                         f"({spec.epochs} epochs x {spec.limit_train or TRAIN_IMAGES:,} images)")
        for c in cells:
            status = cell_status(record_path(suite, c, results)) or "to run"
            cest = None if per_ie is None else per_ie * final_epochs * TRAIN_IMAGES
            left += cest if cest and status != "finished" else 0.0
            label = c.key if c.label else f"{c.key} (configuration: after tuning)"
            lines.append(f"{status:<10} {'?' if cest is None else f'{cest:.0f}':>8}  {label}")
    lines.append(f"about {left / 60:.1f} hours of training left (estimated from this suite's records of each "
                 "model, else from the shared-recipe arena's; hardware may differ: see the records)")
    return "\n".join(lines)


def _recipe_epochs(cell: Cell) -> int:
    return cell_recipe(cell).epochs


def _minutes(path: Path) -> float | None:
    """A finished final cell's training minutes; None when it has no readable finished record."""
    from fer_bench.core.record import RunRecord, read_record
    if cell_status(path) != "finished":
        return None
    rec = read_record(path)
    return rec.training_minutes() if isinstance(rec, RunRecord) else None
