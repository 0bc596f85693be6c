"""What each `fer-bench` command does, given its parsed arguments (cli.py builds the parser). Heavy
imports stay inside the commands, so that `fer-bench --help` answers at once."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fer_bench.core.errors import FerBenchError

if TYPE_CHECKING:
    from fer_bench.runner.suite import Suite


def _apply_wandb_options(a: argparse.Namespace) -> None:
    """The flags win over the environment; W&B itself and fer_bench.training.tracking read these variables."""
    import os
    if a.wandb_project:
        os.environ["WANDB_PROJECT"] = a.wandb_project
    if a.wandb_entity:
        os.environ["WANDB_ENTITY"] = a.wandb_entity


def _load_options(a: argparse.Namespace):
    from dataclasses import fields

    from fer_bench.data.load import LoadOptions
    return LoadOptions(**{f.name: getattr(a, f.name) for f in fields(LoadOptions) if hasattr(a, f.name)})


def _natural_path(a: argparse.Namespace) -> str | None:
    """--natural, else $FER_BENCH_NATURAL, else data/natural when built; 'none' turns it off."""
    import os
    p = a.natural or os.environ.get("FER_BENCH_NATURAL") or ("data/natural" if Path("data/natural").is_dir() else None)
    return None if p in (None, "", "none") else p


def _data_path(a: argparse.Namespace) -> Path:
    from fer_bench.data.fer2013 import default_data_path
    return Path(a.data) if a.data else default_data_path()


def cmd_train(a: argparse.Namespace) -> int:
    from fer_bench.core.io import check_writable, write_json
    from fer_bench.core.overrides import Overrides
    from fer_bench.core.runinfo import check_accelerator
    from fer_bench.core.validate import check_numbers
    from fer_bench.training.module import DivergedError
    from fer_bench.training.train import TrainConfig, failed_record, record_path, train
    check_accelerator(a.accelerator)
    overrides = Overrides.from_args(a)
    from fer_bench.settings import parse_set
    changes = parse_set(a.changes)
    check_numbers("command line", {**overrides.set(), "limit_train": a.limit_train, "limit_eval": a.limit_eval})
    check_writable(Path(a.out).parent if a.out else Path("results") / "train" / "runs", "record folder")
    check_writable(a.workdir, "work folder")
    _apply_wandb_options(a)
    cfg = TrainConfig(
        model=a.model, data=str(_data_path(a)), recipe=a.recipe, seed=a.seed, overrides=overrides, changes=changes,
        precision=a.precision,
        channels_last=not a.no_channels_last, limit_train=a.limit_train, limit_eval=a.limit_eval,
        load=_load_options(a), out=a.out, workdir=a.workdir, accelerator=a.accelerator,
        devices=a.devices, relaunch=True, progress=not a.no_progress, natural=_natural_path(a),
        observe_test=a.observe_test,
        wandb=a.wandb,
    )
    try:
        rec = train(cfg)
    except DivergedError as e:
        # As in a suite: a failed record names the reason, and the user gets one line, not a traceback.
        out = Path(cfg.out) if cfg.out else Path("results") / "runs" / f"{cfg.model.replace(':', '-')}__failed.json"
        write_json(out, failed_record(cfg, e).encode())
        print(f"fer-bench: {e}; failed record: {out}", file=sys.stderr)
        return 1
    if rec is None:         # a DDP worker (rank 1..N-1): rank 0 reports and records
        return 0
    m = rec.metrics
    # Percent, and 1-based epochs, as in the leaderboards (records keep fractions and Lightning's 0-based epoch).
    sel = rec.selection
    best = "–" if sel.best_epoch is None else sel.best_epoch + 1
    print(f"{rec.run_id}: val acc {m.val.accuracy:.2%}  test acc {m.test.accuracy:.2%}  "
          f"test macro-F1 {m.test.macro_f1:.2%}  "
          f"(best epoch {best} of {sel.epochs_run}, {rec.timing.wall_seconds:.0f} s)")
    if m.natural is not None:
        print(f"natural set: acc {m.natural.accuracy:.2%}  macro-F1 {m.natural.macro_f1:.2%} "
              f"({m.natural.n} photos)")
    print(f"record: {record_path(cfg, rec.run_id)}")
    return 0


def cmd_trained(folder: str) -> int:
    """The shipped models first (by name), then the kept models under `folder`, best test accuracy first."""
    from fer_bench.use.trained import kept_cards, shipped_dir
    shipped, _ = kept_cards(shipped_dir())      # a missing folder holds no cards
    cards, skipped = kept_cards(Path(folder))
    for path in skipped:
        print(f"fer-bench: {path}: not a model card, skipped", file=sys.stderr)
    if not cards and not shipped:
        raise FerBenchError(f"{folder}: no kept models (folders with model.safetensors + card.json)")
    print(f"{'test acc':>8}  {'val acc':>7}  {'architecture':<20} {'recipe':<20} name or folder")
    for acc, card, name in [(a, c, f"{w.name} (shipped)") for a, c, w in sorted(shipped, key=lambda c: c[2])] + cards:
        subset = card["test"]["scored_on"]
        print(f"{100 * acc:7.2f}%  {100 * card['val']['accuracy']:6.2f}%  {card['architecture']:<20} "
              f"{card['recipe']:<20} {name}" + (f"  ({subset})" if subset.startswith("a subset") else ""))
    return 0


def cmd_models(a: argparse.Namespace) -> int:
    from fer_bench.models import get_card, list_models, model_costs
    if a.trained is not None:
        return cmd_trained(a.trained)
    rows = []
    for name in list_models() + [f"timm:{t}" for t in a.timm]:
        card, (params, macs) = get_card(name), model_costs(name)
        claim = next((c for c in card.claims if c.metric == "accuracy"), None)
        rows.append((name, card.citation, f"{params:,}", f"{macs / 1e6:,.1f}M ({card.eval_view})", card.recipe,
                     f"{claim.value:.2%} ({claim.split})" if claim else "-"))
    head = ("model", "paper", "params", "MACs@48 (own view)", "recipe", "claimed accuracy")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    print("\nMACs: one 48x48 image in the model's own evaluation view (a ten-crop model counts its ten crops; under "
          "a single-view protocol such as the arena's it costs a tenth of that).")
    print("Any timm model trains as timm:<name> (e.g. timm:resnet18); `fer-bench models --timm NAME` adds rows.")
    return 0


def cmd_bench(a: argparse.Namespace) -> int:
    from fer_bench.core.io import check_writable
    from fer_bench.core.record import load_records
    from fer_bench.core.runinfo import check_accelerator
    from fer_bench.runner.cells import suite_dir
    from fer_bench.runner.run import run_suite
    from fer_bench.runner.suite import load_suite
    suite = load_suite(a.suite)
    if a.dry_run:
        from fer_bench.runner.plan import dry_run, dry_run_tuned
        print((dry_run_tuned if suite.tuning else dry_run)(suite, a.results, a.shard, a.only))
        return 0
    check_writable(suite_dir(suite, a.results))
    _apply_wandb_options(a)
    check_accelerator(a.accelerator)
    kw = {"use_wandb": not a.no_wandb, "retry_failed": a.retry_failed, "precision": a.precision,
          "accelerator": a.accelerator,
          "progress": not a.no_progress, "devices": a.devices, "keep_checkpoints": a.keep_checkpoints,
          "natural": _natural_path(a)}
    if suite.tuning:
        from fer_bench.runner.tune import run_tuned_suite
        counts = run_tuned_suite(suite, str(_data_path(a)), a.results, a.storage, a.shard, a.only, **kw)
        print(f"[{suite.name}] {counts['trials']} tuning trials run", file=sys.stderr)
    else:
        counts = run_suite(suite, data=str(_data_path(a)), shard=a.shard, results=a.results, only=a.only, **kw)
    print(f"[{suite.name}] finished {counts['finished']}, failed {counts['failed']}, "
          f"already recorded {counts['already_done']} of {counts['cells']} cells", file=sys.stderr)
    if not load_records(suite_dir(suite, a.results) / "runs")[0]:
        # Every cell failed (or none ran): their records say why; no leaderboard to write.
        print(f"[{suite.name}] no finished record yet: no leaderboard written "
              f"(failed cells' errors are in {suite_dir(suite, a.results) / 'runs'})", file=sys.stderr)
        return 1
    md = _write_leaderboard(suite, a.results)
    print(f"leaderboard: {md}")
    return 0 if counts["failed"] == 0 else 1


def _write_leaderboard(suite: Suite, results: str) -> Path:
    """The suite's leaderboard, with everything the suite file says about it (tables, planned and
    deliberately not-run models)."""
    from fer_bench.report import write_leaderboard
    from fer_bench.runner.cells import suite_dir
    return write_leaderboard(suite_dir(suite, results), suite.name, suite.tables, [c.model for c in suite.cells],
                             suite.not_run)


def cmd_leaderboard(a: argparse.Namespace) -> int:
    from fer_bench.core.io import check_writable
    from fer_bench.runner.cells import suite_dir
    from fer_bench.runner.suite import load_suite
    suite = load_suite(a.suite)
    check_writable(suite_dir(suite, a.results))
    md = _write_leaderboard(suite, a.results)
    print(f"leaderboard: {md}")
    return 0


def cmd_results(a: argparse.Namespace) -> int:
    from fer_bench.report.index import write_index
    print(write_index(Path(a.results), Path(a.readme)))
    return 0


def cmd_natural_build(a: argparse.Namespace) -> int:
    from fer_bench.data.natural import build_natural, summary
    rows = build_natural(Path(a.src), Path(a.out), detector=a.detector)
    print(summary(rows))
    print(f"crops: {a.out}/<class>/*.png; manifest: {a.out}/manifest.csv")
    return 0


def cmd_recipes(a: argparse.Namespace) -> int:
    from fer_bench.recipes import RECIPES
    for r in sorted(RECIPES.values(), key=lambda r: r.name):
        sched = r.schedule.name if r.schedule else "constant"
        es = r.early_stopping
        es = f"early stop {es.monitor}/{es.patience}" if es else "no early stop"
        print(f"{r.name}: {r.optimizer} lr {r.lr:g}, batch {r.batch_size}, {r.epochs} epochs, {sched} LR, {es}, "
              f"select on {r.checkpoint_monitor}")
        print(f"    from: {r.source}")
        for note in r.interpretation:
            print(f"    interpretation: {note}")
    return 0


def cmd_eval(a: argparse.Namespace) -> int:
    from fer_bench.core.io import check_writable, write_json
    from fer_bench.use.evaluate import eval_record_path, evaluate, format_eval
    from fer_bench.use.faceset import read_face_set
    from fer_bench.use.trained import load_trained
    if a.out and len(a.on) > 1:
        raise FerBenchError("--out names one file: give one --on set, or use --results")
    tm = load_trained(a.model, a.device)
    if not a.out:   # names that would put the record outside RESULTS/eval/: refused before any work
        eval_record_path(Path(a.results), {"model": {"run_id": tm.name}, "set": {"name": a.name or "x"}})
    elif Path(a.out).is_dir():
        raise FerBenchError(f"--out {a.out}: is a folder; give the record's file name")
    check_writable(Path(a.out).parent if a.out else Path(a.results) / "eval", "eval record folder")
    for n, where in enumerate(a.on):
        print(f"[eval] reading {where} ...", file=sys.stderr, flush=True)
        faces = read_face_set(where, faces=a.faces, label_from_name=a.label_from_name, split=a.split,
                              detector=a.detector)
        if a.name:
            faces.name = a.name
        rec = evaluate(tm, faces, precision=a.precision)
        out = Path(a.out) if a.out else eval_record_path(Path(a.results), rec)
        write_json(out, rec)
        print(("\n" if n else "") + format_eval(rec) + f"\nrecord: {out}")
    return 0


def cmd_predict(a: argparse.Namespace) -> int:
    import json

    from fer_bench.core.io import check_writable
    from fer_bench.core.validate import check_numbers
    from fer_bench.use.predict import annotate, annotation_targets, frame_json, frame_text, list_inputs, predict_files
    from fer_bench.use.trained import load_trained
    check_numbers("command line", {"every": a.every})
    tm = load_trained(a.model, a.device)
    paths = list_inputs(a.inputs)
    targets = {}
    if a.annotate:
        targets = annotation_targets(a.inputs, paths, Path(a.annotate), force=a.force)
        check_writable(a.annotate, "--annotate folder")
    originals = {p.resolve() for p in paths}
    failed = 0
    for item in predict_files(tm, paths, every=a.every, detector=a.detector):
        if isinstance(item, FerBenchError):
            failed += 1
            print(f"fer-bench: {item}", file=sys.stderr, flush=True)
            continue
        print(json.dumps(frame_json(item)) if a.json else frame_text(item), flush=True)
        if a.annotate and item.faces:
            annotate(item, targets[Path(item.source)], originals)
    if failed:
        print(f"fer-bench: {failed} of {len(paths)} files could not be read", file=sys.stderr)
    return 1 if failed else 0


def cmd_export(a: argparse.Namespace) -> int:
    from fer_bench.core.io import check_writable
    from fer_bench.use.export import PARITY_IMAGES, export_onnx, privatetest_images
    from fer_bench.use.trained import load_trained
    tm = load_trained(a.model, a.device)
    out = Path(a.out) if a.out else tm.folder / "model.onnx"
    if out.is_dir():
        raise FerBenchError(f"--out {out}: is a folder; give the ONNX file's name, e.g. {out / 'model.onnx'}")
    if out.resolve() in {(tm.folder / n).resolve() for n in ("model.safetensors", "card.json")}:
        raise FerBenchError(f"--out {out}: is the kept model's own file; it is never replaced")
    if out.exists() and not a.force:
        raise FerBenchError(f"--out {out}: exists; pass --force to replace it")
    check_writable(out.parent, "output folder")
    images = privatetest_images(_data_path(a))
    res = export_onnx(tm, out, images)
    n = res["parity_images"]
    weak = f" (only {n} in the data: a weaker check than the usual {PARITY_IMAGES})" if n < PARITY_IMAGES else ""
    print(f"{out}: ONNX, {res['bytes'] / 1e6:.1f} MB; parity with PyTorch fp32 on {n} "
          f"PrivateTest images{weak}: max |d softmax| = {res['max_abs_softmax_delta']:.1e}")
    return 0


def cmd_data_report(a: argparse.Namespace) -> int:
    from fer_bench.data.load import load_dataset
    from fer_bench.data.overview import write_report
    data = load_dataset(_data_path(a), _load_options(a))
    out = write_report(data, Path(a.out))
    print(f"report: {out}")
    return 0
