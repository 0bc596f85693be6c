"""Equal-budget tuning: one Optuna study per architecture of a suite with `tuning:`.

Every architecture gets the same search space, the same number of trials and the same trial budget
(epochs x images); a trial's score is its best PublicTest accuracy over its epochs (the final runs' own
checkpoint rule). Trials never build a test loader: PrivateTest is not read by tuning or selection.

Each finished trial is a JSON record in <suite>/trials/ (configuration, PublicTest curve, cost, hardware):
the records are the truth, the Optuna storage is the sampler's memory. A storage that lacks recorded
trials (a fresh machine, a lost SQLite file) is refilled from the records before sampling, so the study
resumes anywhere the records are. A trial killed mid-run is failed by Optuna's heartbeat and retried with
the same configuration, resuming from its last epoch checkpoint when this machine still has it.
"""

from __future__ import annotations

import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from fer_bench.core.io import write_json
from fer_bench.core.overrides import Overrides
from fer_bench.runner.cells import suite_dir
from fer_bench.runner.suite import Cell, Suite
from fer_bench.runner.tuning_space import read_trials

# A running trial writes a heartbeat this often; one silent for GRACE seconds is failed and retried.
HEARTBEAT, GRACE = 60, 600


def trials_dir(suite: Suite, results: str | Path = "results") -> Path:
    return suite_dir(suite, results) / "trials"


def default_storage(suite: Suite, results: str | Path = "results") -> str:
    return f"sqlite:///{(suite_dir(suite, results) / 'optuna.sqlite3').resolve()}"


def trial_records(suite: Suite, model: str, results: str | Path = "results") -> list[dict]:
    """The model's finished trials, in the order they started (the first `trials` of them count)."""
    recs = read_trials(trials_dir(suite, results), model)
    return sorted(recs, key=lambda r: r["started"])[:suite.tuning.trials]


def best_trial(suite: Suite, model: str, results: str | Path = "results") -> dict | None:
    """The selected trial once the model's study is complete (highest PublicTest accuracy; the earlier
    trial on a tie), else None."""
    recs = trial_records(suite, model, results)
    if len(recs) < suite.tuning.trials:
        return None
    return max(recs, key=lambda r: (r["value"], -recs.index(r)))


def final_cells(suite: Suite, results: str | Path = "results", models: list[str] | None = None) -> list[Cell]:
    """The suite's cells as they will run: a tuned model's cells carry its selected configuration; a model
    whose study is not complete keeps its declared cell (not runnable yet)."""
    out = []
    for cell in suite.cells:
        if models is not None and cell.model not in models:
            continue
        best = best_trial(suite, cell.model, results)
        if best is None:
            out.append(cell)
        else:
            out.append(Cell(cell.model, cell.recipe, cell.seed, tuple(sorted(best["overrides"].items())), "tuned"))
    return out


def _refill(study, suite: Suite, model: str, results: str | Path) -> None:
    """Add recorded trials the storage does not hold (fresh machine): the sampler then knows them."""
    import optuna
    held = {t.user_attrs.get("record") for t in study.get_trials(deepcopy=False)
            if t.state == optuna.trial.TrialState.COMPLETE}
    for rec in trial_records(suite, model, results):
        if rec["name"] not in held:
            study.add_trial(optuna.trial.create_trial(
                params=rec["params"], distributions=suite.tuning.distributions(rec["params"]), value=rec["value"],
                user_attrs={"record": rec["name"]}))


def open_study(suite: Suite, model: str, results: str | Path = "results", storage: str | None = None):
    import warnings

    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats and grouped multivariate TPE are marked experimental (since 2.9 / 2.8); the warning says so
    # on every trial and nothing else.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if storage is None:
        suite_dir(suite, results).mkdir(parents=True, exist_ok=True)
    url = storage or default_storage(suite, results)
    store = optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT, grace_period=GRACE)
    study = optuna.create_study(study_name=f"{suite.name}/{model}", storage=store, direction="maximize",
                                load_if_exists=True)
    _refill(study, suite, model, results)
    return study


def _requeue_failed(study, suite: Suite, results: str | Path, tries: int = 3) -> None:
    """A trial that failed without a record (killed, interrupted, stale heartbeat) runs again with the same
    configuration and name, so it resumes from its checkpoint; after `tries` attempts it is left failed."""
    import optuna
    trials = study.get_trials(deepcopy=False)
    for t in trials:
        name = t.user_attrs.get("record")
        recorded = name and (trials_dir(suite, results) / f"{name}.json").exists()
        if t.state != optuna.trial.TrialState.FAIL or not name or recorded:
            continue
        same = [u for u in trials if u.user_attrs.get("record") == name]
        if max(u.number for u in same) == t.number and len(same) < tries:
            study.enqueue_trial(t.params, user_attrs={"record": name})


def tune_model(suite: Suite, model: str, recipe: str, data: str, results: str = "results",
               storage: str | None = None, precision: str = "auto", progress: bool = True,
               accelerator: str = "auto") -> int:
    """Run the model's missing trials (other processes sharing the storage run theirs); returns how many
    this process ran."""
    import optuna
    spec = suite.tuning
    study = open_study(suite, model, results, storage)
    ran = 0
    while True:
        optuna.storages.fail_stale_trials(study)
        _requeue_failed(study, suite, results)
        done = len(trial_records(suite, model, results))
        running = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)))
        waiting = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))
        if done + running >= spec.trials and not (waiting and done < spec.trials):
            return ran
        # Seeded by the study's length, so a restarted process does not replay the first suggestions.
        study.sampler = optuna.samplers.TPESampler(
            seed=spec.seed * 10_000 + len(study.trials), n_startup_trials=spec.startup_trials,
            multivariate=True, group=True)
        print(f"[{suite.name}] tuning {model}: trial {done + 1} of {spec.trials}", file=sys.stderr, flush=True)
        study.optimize(lambda t: _objective(t, suite, model, recipe, data, results, precision, progress,
                                            accelerator), n_trials=1)
        ran += 1


def _objective(trial, suite: Suite, model: str, recipe: str, data: str, results: str, precision: str,
               progress: bool, accelerator: str) -> float:
    overrides = suite.tuning.suggest(trial)
    name = trial.user_attrs.get("record") or (
        f"{model}__t{trial.number:03d}__{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}")
    trial.set_user_attr("record", name)    # a retry of this trial resumes under the same name
    rec = run_trial(suite, model, recipe, overrides, name, data, results, precision, progress,
                    params=dict(trial.params), accelerator=accelerator)
    return rec["value"]


def run_trial(suite: Suite, model: str, recipe: str, overrides: dict, name: str, data: str,
              results: str = "results", precision: str = "auto", progress: bool = True,
              params: dict | None = None, accelerator: str = "auto") -> dict:
    """Train one trial (resumable) and write its record; returns the record."""
    from fer_bench.core.runinfo import environment
    from fer_bench.training.module import DivergedError
    from fer_bench.training.runlog import quiet_lightning
    from fer_bench.training.train import TrainConfig, build, fit
    spec = suite.tuning
    quiet_lightning()
    cfg = TrainConfig(
        model=model, recipe=recipe, seed=spec.seed, data=data, load=suite.load, limit_train=spec.limit_train,
        overrides=Overrides(**overrides, epochs=spec.epochs), precision=precision, progress=progress,
        accelerator=accelerator,
        workdir=str(suite_dir(suite, results) / "tuning"), run_id=name, resume=True,
        meta={"suite": suite.name, "trial": name})
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    run = build(cfg)
    try:
        fitted = fit(run)
        curves, fit_seconds, status = fitted.curves, fitted.fit_seconds, "complete"
    except DivergedError:
        curves, fit_seconds, status = list(run.runlog.curves), time.perf_counter() - t0, "diverged"
    accs = [c["val/acc"] for c in curves if "val/acc" in c]
    # A diverged configuration scores 0: its final runs would diverge too.
    value = max(accs) if accs and status == "complete" else 0.0
    best_epoch = accs.index(max(accs)) + 1 if accs else None
    rec = {
        "kind": "tuning_trial", "suite": suite.name, "model": model, "name": name, "status": status,
        "started": started, "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "params": params or {}, "overrides": overrides, "recipe": run.recipe.to_dict(),
        "budget": {"epochs": spec.epochs, "train_images": len(run.dm.parts["train"][1]), "seed": spec.seed},
        "value": value, "selected_on": "val/acc (PublicTest), best epoch", "best_epoch_1based": best_epoch,
        "curves": curves, "precision": run.precision,
        "resumed_from_epoch": getattr(run.runlog, "resumed_from_epoch", None),
        "timing": {"fit_seconds": round(fit_seconds, 2), "wall_seconds": round(time.perf_counter() - t0, 2)},
        "environment": environment(),
    }
    write_json(trials_dir(suite, results) / f"{name}.json", rec)
    shutil.rmtree(run.ckpt_dir, ignore_errors=True)
    print(f"[{suite.name}]   trial {name}: PublicTest {value:.2%} ({status}, {fit_seconds / 60:.1f} min) "
          f"{overrides}", file=sys.stderr, flush=True)
    return rec


def select_models(suite: Suite, shard: str | None = None, only: str | None = None) -> list[str]:
    """A tuned suite's --shard / --only pick architectures (a study and its final cells stay together)."""
    import fnmatch
    import re

    from fer_bench.core.errors import FerBenchError
    models = suite.models
    if only:
        models = [m for m in models if fnmatch.fnmatchcase(m, only)]
        if not models:
            raise FerBenchError(f"--only {only!r} matches no architecture of tuned suite {suite.name!r} "
                                f"({', '.join(suite.models)})")
    if shard:
        m = re.fullmatch(r"(\d+)/(\d+)", shard)
        if not m or not 0 <= int(m[1]) < int(m[2]):
            raise FerBenchError(f"--shard {shard!r}: expected i/n with 0 <= i < n, e.g. 0/4")
        models = models[int(m[1])::int(m[2])]
    return models


def run_tuned_suite(suite: Suite, data: str, results: str = "results", storage: str | None = None,
                    shard: str | None = None, only: str | None = None, **run_kw) -> dict[str, int]:
    """Architecture by architecture: its study (the missing trials), then its final cells with the selected
    configuration, so that a row's trials and seeds run close together (on one machine kind where possible)."""
    from dataclasses import replace

    from fer_bench.runner.run import run_suite
    counts = {"cells": 0, "already_done": 0, "finished": 0, "failed": 0, "trials": 0}
    for model in select_models(suite, shard, only):
        recipe = next(c.recipe for c in suite.cells if c.model == model)
        counts["trials"] += tune_model(suite, model, recipe, data, results, storage,
                                       run_kw.get("precision", "auto"), run_kw.get("progress", True),
                                       run_kw.get("accelerator", "auto"))
        if best_trial(suite, model, results) is None:
            print(f"[{suite.name}] {model}: study not complete here (other processes hold its trials); "
                  "final cells wait", file=sys.stderr)
            continue
        got = run_suite(replace(suite, cells=final_cells(suite, results, [model])), data=data, results=results,
                        **run_kw)
        for k in ("cells", "already_done", "finished", "failed"):
            counts[k] += got[k]
    return counts
