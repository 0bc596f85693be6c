"""What is left of a suite with tuning (`fer-bench bench SUITE --dry-run`): trials and final cells per
architecture, with estimated minutes."""

from __future__ import annotations

from pathlib import Path

from fer_bench.suite import Cell, Suite
from fer_bench.tune import final_cells, select_models, trial_records


def dry_run_tuned(suite: Suite, results: str = "results", shard: str | None = None, only: str | None = None) -> str:
    """What is left of a tuned suite, per architecture: trials and final cells with estimated minutes.
    Estimates come from this suite's own records of the model (trials, then final cells) scaled by
    image-epochs; a model with none yet is estimated from the shared-recipe arena's records (v1)."""
    from statistics import median

    from fer_bench.bench import TRAIN_IMAGES, cell_status, record_path
    from fer_bench.record import RunRecord, load_records
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
    from fer_bench.suite import cell_recipe
    return cell_recipe(cell).epochs


def _minutes(path: Path) -> float | None:
    """A finished final cell's training minutes; None when it has no readable finished record."""
    from fer_bench.bench import cell_status
    from fer_bench.record import RunRecord, read_record
    if cell_status(path) != "finished":
        return None
    rec = read_record(path)
    return rec.training_minutes() if isinstance(rec, RunRecord) else None
