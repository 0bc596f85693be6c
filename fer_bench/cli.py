"""The `fer-bench` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fer_bench.errors import FerBenchError

DATA_HELP = ("FER-2013: a folder with fer2013.csv[.gz] or train/ test/ image folders, or the CSV "
             "itself (default: $FER_BENCH_DATA, $DATA, data/fer2013, ../shared/data/fer2013)")


def _add_load_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", dest="fmt", choices=["auto", "csv", "folder"], default="auto",
                   help="which copy to read when the folder has both (default: auto = CSV)")
    p.add_argument("--labels", choices=["fer2013", "ferplus"], default="fer2013",
                   help="label source: the FER-2013 emotion column, or FER+ votes (see --ferplus-mode)")
    p.add_argument("--ferplus-mode", choices=["majority", "plurality"], default="majority",
                   help="FER+: majority = the FER+ reference protocol (single votes removed, then the top emotion "
                        "needs more than half of the remaining votes; default), plurality = top vote, ties dropped")
    p.add_argument("--ferplus", metavar="CSV", help="FER+ votes file (default: fer2013new.csv beside the CSV)")
    p.add_argument("--no-contempt", action="store_true", help="FER+: drop contempt rows instead of an 8th class")
    p.add_argument("--drop-blank", action="store_true", help="remove uniform (blank) images")
    p.add_argument("--val-fraction", type=float, default=0.1,
                   help="image folders without a validation split: fraction of train held out (default 0.1)")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--natural", metavar="DIR",
                   help="built natural set to test on as well (default: $FER_BENCH_NATURAL or data/natural; "
                        "'none' = off)")


def _add_detector_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detector", choices=["blazeface", "haar"], default="blazeface",
                   help="face detector: blazeface (default; finds more faces and no fragments on the natural "
                        "photos, results/natural/README.md) or haar (OpenCV cascades, the natural set's first build)")


def _add_wandb_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wandb-project", metavar="NAME", help="W&B project (default: $WANDB_PROJECT, else fer-bench)")
    p.add_argument("--wandb-entity", metavar="NAME", help="W&B entity, user or team (default: $WANDB_ENTITY)")


def _apply_wandb_options(a: argparse.Namespace) -> None:
    """The flags win over the environment; W&B itself and fer_bench.tracking read these variables."""
    import os
    if a.wandb_project:
        os.environ["WANDB_PROJECT"] = a.wandb_project
    if a.wandb_entity:
        os.environ["WANDB_ENTITY"] = a.wandb_entity


def _load_options(a: argparse.Namespace):
    from fer_bench.data.load import LoadOptions
    return LoadOptions(fmt=a.fmt, labels=a.labels, ferplus_path=a.ferplus, contempt=not a.no_contempt,
                       ferplus_mode=a.ferplus_mode,
                       drop_blank=a.drop_blank, val_fraction=a.val_fraction)


def _natural_path(a: argparse.Namespace) -> str | None:
    """--natural, else $FER_BENCH_NATURAL, else data/natural when built; 'none' turns it off."""
    import os
    p = a.natural or os.environ.get("FER_BENCH_NATURAL") or ("data/natural" if Path("data/natural").is_dir() else None)
    return None if p in (None, "", "none") else p


def _data_path(a: argparse.Namespace) -> Path:
    from fer_bench.data.fer2013 import default_data_path
    return Path(a.data) if a.data else default_data_path()


def cmd_train(a: argparse.Namespace) -> int:
    from fer_bench.io import check_writable, write_json
    from fer_bench.module import DivergedError
    from fer_bench.suite import check_numbers
    from fer_bench.train import TrainConfig, failed_record, record_path, train
    check_numbers("command line", {"epochs": a.epochs, "batch_size": a.batch_size, "lr": a.lr,
                                   "limit_train": a.limit_train, "limit_eval": a.limit_eval})
    check_writable(Path(a.out).parent if a.out else Path("results") / "runs", "record folder")
    check_writable(a.workdir, "work folder")
    _apply_wandb_options(a)
    cfg = TrainConfig(
        model=a.model, data=str(_data_path(a)), recipe=a.recipe, seed=a.seed, epochs=a.epochs,
        batch_size=a.batch_size, lr=a.lr, optimizer=a.optimizer, precision=a.precision,
        channels_last=not a.no_channels_last, limit_train=a.limit_train, limit_eval=a.limit_eval,
        load=_load_options(a), out=a.out, workdir=a.workdir, accelerator=a.accelerator,
        devices=a.devices, progress=not a.no_progress, pretrained=a.pretrained, natural=_natural_path(a),
        observe_test=a.observe_test,
        wandb={"save_dir": a.workdir, "group": a.model, "job_type": a.recipe or "paper", "tags": ["train"]}
        if a.wandb else None,
    )
    try:
        rec = train(cfg)
    except DivergedError as e:
        # As in a suite: a failed record names the reason, and the user gets one line, not a traceback.
        out = Path(cfg.out) if cfg.out else Path("results") / "runs" / f"{cfg.model.replace(':', '-')}__failed.json"
        write_json(out, failed_record(cfg, e).encode())
        print(f"fer-bench: {e}; failed record: {out}", file=sys.stderr)
        return 1
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
    """The kept models (weights + card.json) under `folder`, best test accuracy first."""
    import json
    cards = []
    for path in sorted(Path(folder).rglob("card.json")):
        try:
            card = json.loads(path.read_text())
            cards.append((card["test"]["accuracy"], card, path.parent))
        except (OSError, ValueError, KeyError, TypeError):
            print(f"fer-bench: {path}: not a model card, skipped", file=sys.stderr)
    if not cards:
        raise FerBenchError(f"{folder}: no kept models (folders with model.safetensors + card.json)")
    print(f"{'test acc':>8}  {'val acc':>7}  {'architecture':<20} {'recipe':<20} folder")
    for acc, card, where in sorted(cards, key=lambda c: -c[0]):
        print(f"{100 * acc:7.2f}%  {100 * card['val']['accuracy']:6.2f}%  {card['architecture']:<20} "
              f"{card['recipe']:<20} {where}")
    return 0


def cmd_models(a: argparse.Namespace) -> int:
    from fer_bench.models import count_macs, count_params, create_model, get_card, list_models
    if a.trained is not None:
        return cmd_trained(a.trained)
    rows = []
    for name in list_models() + [f"timm:{t}" for t in a.timm]:
        card = get_card(name)
        model = create_model(name)
        claim = next((c for c in card.claims if c.metric == "accuracy"), None)
        rows.append((name, card.citation, f"{count_params(model):,}", f"{count_macs(model) / 1e6:,.1f}M",
                     card.recipe, f"{claim.value:.2%} ({claim.split})" if claim else "-"))
    head = ("model", "paper", "params", "MACs@48", "recipe", "claimed accuracy")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    print("\nAny timm model trains as timm:<name> (e.g. timm:resnet18); `fer-bench models --timm NAME` adds rows.")
    return 0


def cmd_bench(a: argparse.Namespace) -> int:
    from fer_bench.bench import run_suite, suite_dir
    from fer_bench.io import check_writable
    from fer_bench.record import load_records
    from fer_bench.report import write_leaderboard
    from fer_bench.suite import load_suite
    suite = load_suite(a.suite)
    if a.dry_run:
        from fer_bench.bench import dry_run
        print(dry_run(suite, a.results, a.shard, a.only))
        return 0
    check_writable(suite_dir(suite, a.results))
    _apply_wandb_options(a)
    counts = run_suite(suite, data=str(_data_path(a)), shard=a.shard, results=a.results,
                       use_wandb=not a.no_wandb, retry_failed=a.retry_failed, precision=a.precision,
                       progress=not a.no_progress, devices=a.devices, keep_checkpoints=a.keep_checkpoints,
                       natural=_natural_path(a), only=a.only)
    print(f"[{suite.name}] finished {counts['finished']}, failed {counts['failed']}, "
          f"already recorded {counts['already_done']} of {counts['cells']} cells", file=sys.stderr)
    if not load_records(suite_dir(suite, a.results) / "runs")[0]:
        # Every cell failed (or none ran): their records say why; no leaderboard to write.
        print(f"[{suite.name}] no finished record yet: no leaderboard written "
              f"(failed cells' errors are in {suite_dir(suite, a.results) / 'runs'})", file=sys.stderr)
        return 1
    md = write_leaderboard(suite_dir(suite, a.results), suite.name, suite.tables)
    print(f"leaderboard: {md}")
    return 0 if counts["failed"] == 0 else 1


def cmd_leaderboard(a: argparse.Namespace) -> int:
    from fer_bench.bench import suite_dir
    from fer_bench.io import check_writable
    from fer_bench.report import write_leaderboard
    from fer_bench.suite import load_suite
    suite = load_suite(a.suite)
    check_writable(suite_dir(suite, a.results))
    print(f"leaderboard: {write_leaderboard(suite_dir(suite, a.results), suite.name, suite.tables)}")
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
        sched = r.schedule["name"] if r.schedule else "constant"
        es = r.early_stopping
        es = f"early stop {es['monitor']}/{es['patience']}" if es else "no early stop"
        print(f"{r.name}: {r.optimizer} lr {r.lr:g}, batch {r.batch_size}, {r.epochs} epochs, {sched} LR, {es}, "
              f"select on {r.checkpoint_monitor}")
        print(f"    from: {r.source}")
        for note in r.interpretation:
            print(f"    interpretation: {note}")
    return 0


def cmd_eval(a: argparse.Namespace) -> int:
    from fer_bench.evaluate import eval_record_path, evaluate, format_eval
    from fer_bench.faceset import read_face_set
    from fer_bench.io import check_writable, write_json
    from fer_bench.trained import load_trained
    if a.out and len(a.on) > 1:
        raise FerBenchError("--out names one file: give one --on set, or use --results")
    tm = load_trained(a.model)
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

    from fer_bench.io import check_writable
    from fer_bench.predict import annotate, frame_json, frame_text, list_inputs, predict_files
    from fer_bench.suite import check_numbers
    from fer_bench.trained import load_trained
    check_numbers("command line", {"every": a.every})
    tm = load_trained(a.model)
    paths = list_inputs(a.inputs)
    if a.annotate:
        check_writable(a.annotate, "--annotate folder")
    failed = 0
    for item in predict_files(tm, paths, every=a.every, detector=a.detector):
        if isinstance(item, FerBenchError):
            failed += 1
            print(f"fer-bench: {item}", file=sys.stderr, flush=True)
            continue
        print(json.dumps(frame_json(item)) if a.json else frame_text(item), flush=True)
        if a.annotate and item.faces:
            annotate(item, Path(a.annotate))
    if failed:
        print(f"fer-bench: {failed} of {len(paths)} files could not be read", file=sys.stderr)
    return 1 if failed else 0


def cmd_export(a: argparse.Namespace) -> int:
    from fer_bench.export import export_onnx, privatetest_images
    from fer_bench.io import check_writable
    from fer_bench.trained import load_trained
    tm = load_trained(a.model)
    out = Path(a.out) if a.out else tm.folder / "model.onnx"
    check_writable(out.parent, "output folder")
    images = privatetest_images(_data_path(a))
    res = export_onnx(tm, out, images)
    print(f"{out}: ONNX, {res['bytes'] / 1e6:.1f} MB; parity with PyTorch fp32 on {res['parity_images']} "
          f"PrivateTest images: max |d softmax| = {res['max_abs_softmax_delta']:.1e}")
    return 0


def cmd_data_report(a: argparse.Namespace) -> int:
    from fer_bench.data.load import load_dataset
    from fer_bench.data.report import write_report
    data = load_dataset(_data_path(a), _load_options(a))
    out = write_report(data, Path(a.out))
    print(f"report: {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fer-bench",
        description="Train and compare facial-expression-recognition models on FER-2013, "
                    "with selection on PublicTest and testing on PrivateTest only.",
    )
    from importlib.metadata import PackageNotFoundError, version
    try:
        v = version("fer-bench")
    except PackageNotFoundError:
        v = "unknown (not installed)"
    p.add_argument("--version", action="version", version=f"fer-bench {v}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train one model with its recipe; write a JSON run record",
                       description="Train one model, select the checkpoint on PublicTest, "
                                   "evaluate it once on PrivateTest, write a JSON run record.")
    t.add_argument("--model", required=True, help="registered model name (see `fer-bench models`)")
    t.add_argument("--recipe", help="training recipe (default: the model's paper recipe; `fer-bench recipes`)")
    t.add_argument("--pretrained", metavar="PATH", nargs="?", const=True,
                   help="timm-backed models: load weights from PATH, or (no PATH) the local timm/HF cache")
    t.add_argument("--data", help=DATA_HELP)
    t.add_argument("--epochs", type=int, help="epoch budget (default: the recipe's)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    t.add_argument("--lr", type=float, help="override the recipe's learning rate")
    t.add_argument("--optimizer", choices=["sgd", "adam", "amsgrad", "adamw", "rmsprop"],
                   help="override the recipe's optimiser")
    t.add_argument("--precision", default="auto",
                   help="auto (bf16-mixed on a bf16 CPU, 16-mixed on CUDA), 32-true, bf16-mixed, 16-mixed")
    t.add_argument("--no-channels-last", action="store_true", help="keep NCHW memory layout")
    t.add_argument("--limit-train", type=int, metavar="N", help="train on a stratified subset of N images")
    t.add_argument("--limit-eval", type=int, metavar="N", help="use stratified subsets of N val / test images")
    t.add_argument("--out", help="run record path (default results/runs/<run_id>.json)")
    t.add_argument("--workdir", default="work", help="where checkpoints go (default work/)")
    t.add_argument("--accelerator", default="auto", help="auto, cpu or gpu")
    t.add_argument("--devices", type=int, default=1, help="devices for this run (default 1)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--observe-test", action="store_true",
                   help="also score every epoch's weights on PrivateTest, for time-to-accuracy only "
                        "(stored as observed/test_acc; never used for selection)")
    t.add_argument("--wandb", action="store_true",
                   help="log the run to Weights & Biases (offline under --workdir unless you are logged in)")
    _add_wandb_options(t)
    _add_run_options(t)
    _add_load_options(t)
    t.set_defaults(func=cmd_train)

    m = sub.add_parser("models", help="list registered models",
                       description="List every registered model with its paper, size and claims.")
    m.add_argument("--timm", nargs="*", default=[], metavar="NAME", help="also list these timm models")
    m.add_argument("--trained", nargs="?", const="results", metavar="DIR",
                   help="list the trained models kept under DIR (default results/) with their accuracy")
    m.set_defaults(func=cmd_models)

    b = sub.add_parser("bench", help="run a benchmark suite (resumable) and write its leaderboard",
                       description="Run every (model, recipe, seed) cell of a suite that has no finished "
                                   "record in results/<suite>/runs/, then write results/<suite>/LEADERBOARD.md. "
                                   "Safe to kill and re-run at any time.")
    b.add_argument("suite", help="suite YAML (benchmarks/<name>.yaml, or just <name>)")
    b.add_argument("--data", help=DATA_HELP)
    b.add_argument("--only", metavar="GLOB", help="run only the cells whose key matches GLOB (keys are "
                                                  "model__recipe__s<seed>), e.g. '*onecycle_vgg_light*'")
    b.add_argument("--shard", metavar="I/N", help="run only every N-th cell starting at I (0-based), e.g. for "
                                                 "a SLURM array: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT")
    b.add_argument("--results", default="results", help="results folder (default results/)")
    b.add_argument("--dry-run", action="store_true",
                   help="list the cells, their keys, which are done, and the time left estimated from the "
                        "records; train nothing")
    b.add_argument("--no-wandb", action="store_true", help="do not log to Weights & Biases")
    _add_wandb_options(b)
    b.add_argument("--retry-failed", action="store_true", help="re-run cells recorded as failed")
    b.add_argument("--precision", default="auto", help="as for train")
    b.add_argument("--devices", type=int, default=1, help="devices per cell (default 1)")
    b.add_argument("--no-progress", action="store_true", help="no per-epoch progress bar")
    _add_run_options(b)
    b.add_argument("--keep-checkpoints", action="store_true",
                   help="keep each finished cell's checkpoints (default: delete them once its record is written)")
    b.set_defaults(func=cmd_bench)

    lb = sub.add_parser("leaderboard", help="regenerate a suite's leaderboard from its run records",
                        description="Write results/<suite>/LEADERBOARD.md, leaderboard.csv and plots/ from "
                                    "the run records alone.")
    lb.add_argument("suite", help="suite YAML or name")
    lb.add_argument("--results", default="results", help="results folder (default results/)")
    lb.set_defaults(func=cmd_leaderboard)

    rc = sub.add_parser("recipes", help="list training recipes",
                        description="List every training recipe: where it comes from and what is interpretation.")
    rc.set_defaults(func=cmd_recipes)

    nat = sub.add_parser("natural", help="build a natural-expression test set from ordinary photos",
                         description="Natural-expression test sets from ordinary photos.")
    nsub = nat.add_subparsers(dest="natural_command", required=True, metavar="COMMAND")
    nb = nsub.add_parser("build", help="photos -> 48x48 face crops + manifest",
                         description="Find the largest face in every photo (BlazeFace on ONNX Runtime, or OpenCV "
                                     "Haar cascades; both offline), crop "
                                     "it with a margin, grayscale, CLAHE, 48x48; write OUT/<class>/*.png and "
                                     "OUT/manifest.csv accounting for every photo. Deterministic.")
    nb.add_argument("src", help="SRC/<class>/*.jpg|png|... (any size, colour or gray), or SRC with labels.csv "
                                "(columns file,emotion)")
    nb.add_argument("out", help="output folder (replaced when the build succeeds)")
    _add_detector_option(nb)
    nb.set_defaults(func=cmd_natural_build)

    e = sub.add_parser(
        "eval", help="score a trained model on any labelled face set",
        description="Score a kept model on labelled face sets: class folders (synonyms such as anger, "
                    "happiness, surprised, neutrality and contempt are understood), a folder with labels.csv "
                    "(file,emotion), a FER-2013-format CSV, or a built natural set. Photos are detected and "
                    "cropped as `natural build` does (unless --faces); faces of classes the model cannot predict "
                    "are counted, not scored. Writes one JSON eval record per set and prints a short table.",
        epilog="examples:\n  fer-bench eval results/best/models/<run_id> --on data/natural\n"
               "  fer-bench eval <run_id> --on ~/data/CK+ --faces\n"
               "  fer-bench eval <run_id> --on ~/data/jaffe --label-from-name '\\.([A-Z]{2})[0-9]'",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("model", help="a kept model: its folder, its run record, or its run id "
                                 "(`fer-bench models --trained` lists them)")
    e.add_argument("--on", nargs="+", required=True, metavar="SET", help="one or more labelled face sets")
    e.add_argument("--faces", action="store_true",
                   help="the images are face crops already: only gray + resize to 48x48, no detection")
    e.add_argument("--label-from-name", metavar="REGEX",
                   help="take the class from each file name: the regex's first group (or group 'label'); "
                        "unique prefixes are understood (AN = angry, SU = surprise)")
    _add_detector_option(e)
    e.add_argument("--split", choices=["train", "val", "test"],
                   help="FER-2013-format CSV: score one split only (test = PrivateTest)")
    e.add_argument("--name", help="the set's name in the record (default: the folder or file name)")
    e.add_argument("--precision", help="override the precision the model's record was scored in "
                                       "(32-true, bf16-mixed, 16-mixed)")
    e.add_argument("--results", default="results", help="records go to RESULTS/eval/ (default results)")
    e.add_argument("--out", help="the eval record's path (one set only)")
    e.set_defaults(func=cmd_eval)

    pr = sub.add_parser(
        "predict", help="find and classify every face in photos, folders and videos",
        description="Find every face (as `natural build` crops them), classify it with a kept model and print, "
                    "per face, its box (x, y, w, h in the photo's pixels), its class and the top-3 probabilities. "
                    "A photo with no face is reported; an unreadable file is one line on stderr and the others "
                    "go on (exit status 1 at the end).",
        epilog="examples:\n  fer-bench predict <run_id> photo.jpg\n"
               "  fer-bench predict <run_id> photos/ --annotate out/ --json > faces.jsonl\n"
               "  fer-bench predict <run_id> clip.mp4 --every 25",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    pr.add_argument("model", help="a kept model: its folder, its run record, or its run id")
    pr.add_argument("inputs", nargs="+", metavar="INPUT", help="photos, videos, or folders of them")
    pr.add_argument("--json", action="store_true", help="one JSON object per photo or frame (JSON lines)")
    pr.add_argument("--annotate", metavar="OUT", help="write each photo with its boxes and labels to OUT/*.png")
    pr.add_argument("--every", type=int, default=10, metavar="N", help="videos: classify every N-th frame (10)")
    _add_detector_option(pr)
    pr.set_defaults(func=cmd_predict)

    ex = sub.add_parser(
        "export", help="export a trained model to ONNX (checked against PyTorch)",
        description="Export a kept model to ONNX (opset 18, dynamic batch; input 'image' float32 (N,1,48,48) = "
                    "gray pixel / 255, output 'logits'). The class order, face crop and input scaling are in the "
                    "file's metadata. The file is written only if ONNX Runtime matches PyTorch fp32 to within "
                    "1e-4 in softmax on 512 real PrivateTest images.")
    ex.add_argument("model", help="a kept model: its folder, its run record, or its run id")
    ex.add_argument("--format", dest="fmt", choices=["onnx"], default="onnx", help="export format (onnx)")
    ex.add_argument("--out", help="output file (default: model.onnx in the model's folder)")
    ex.add_argument("--data", help="FER-2013 for the parity check's PrivateTest images. " + DATA_HELP)
    ex.set_defaults(func=cmd_export)

    d = sub.add_parser("data", help="dataset tools", description="Dataset tools.")
    dsub = d.add_subparsers(dest="data_command", required=True, metavar="COMMAND")
    r = dsub.add_parser("report", help="class counts, samples, blanks and duplicates of a dataset",
                        description="Write a markdown report with PNGs: class counts per split, a "
                                    "sample grid per class, blank images, exact duplicates within "
                                    "and across splits.")
    r.add_argument("data", nargs="?", help=DATA_HELP)
    r.add_argument("--out", default="results/data-report", help="output folder (default results/data-report)")
    _add_load_options(r)
    r.set_defaults(func=cmd_data_report)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except FerBenchError as e:
        print(f"fer-bench: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fer-bench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
