"""The `fer-bench` command line."""

from __future__ import annotations

import argparse
import sys

from fer_bench import commands
from fer_bench.core.errors import FerBenchError
from fer_bench.core.overrides import Overrides

DATA_HELP = ("FER-2013: a folder with fer2013.csv[.gz] or train/ test/ image folders, or the CSV "
             "itself (default: $FER_BENCH_DATA, $DATA, data/fer2013, ../shared/data/fer2013)")


def _add_load_options(p: argparse.ArgumentParser) -> None:
    """Flags for LoadOptions: each flag's dest is the field's name (commands._load_options maps them)."""
    p.add_argument("--format", dest="fmt", choices=["auto", "csv", "folder"], default="auto",
                   help="which copy to read when the folder has both (default: auto = CSV)")
    p.add_argument("--labels", choices=["fer2013", "ferplus"], default="fer2013",
                   help="label source: the FER-2013 emotion column, or FER+ votes (see --ferplus-mode)")
    p.add_argument("--ferplus-mode", choices=["majority", "plurality"], default="majority",
                   help="FER+: majority = the FER+ reference protocol (single votes removed, then the top emotion "
                        "needs more than half of the remaining votes; default), plurality = top vote, ties dropped")
    p.add_argument("--ferplus", dest="ferplus_path", metavar="CSV",
                   help="FER+ votes file (default: fer2013new.csv beside the CSV)")
    p.add_argument("--no-contempt", dest="contempt", action="store_false",
                   help="FER+: drop contempt rows instead of an 8th class")
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


PRECISIONS = ("auto", "32-true", "bf16-mixed", "16-mixed")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda")


def _positive(text: str) -> int:
    """An integer >= 1 (argparse type: a bad value is argparse's one-line error, before any work)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} must be at least 1")
    return n


def _seed(text: str) -> int:
    """A seed numpy and torch both accept."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= n < 2 ** 32:
        raise argparse.ArgumentTypeError(f"{n} is not in 0 .. 2**32 - 1")
    return n


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
    Overrides.add_arguments(t)   # --epochs --batch-size --lr --optimizer --pretrained: the suites' override keys
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="changes",
                   help="change any recipe field, repeatable: --set label_smoothing=0.1 --set augment.shift=0.1 "
                        "(values as YAML; keys as in a suite's overrides; `fer-bench recipes` shows the fields)")
    t.add_argument("--data", help=DATA_HELP)
    t.add_argument("--seed", type=_seed, default=0, help="random seed, 0 to 2**32 - 1 (default 0)")
    t.add_argument("--precision", default="auto", choices=PRECISIONS,
                   help="auto (bf16-mixed on a bf16 CPU or a bf16 GPU, else 16-mixed on CUDA, 32-true on other CPUs), "
                        "32-true, bf16-mixed, 16-mixed")
    t.add_argument("--no-channels-last", action="store_true", help="keep NCHW memory layout")
    t.add_argument("--limit-train", type=int, metavar="N", help="train on a stratified subset of N images")
    t.add_argument("--limit-eval", type=int, metavar="N", help="use stratified subsets of N val / test images")
    t.add_argument("--out", help="run record path (default results/train/runs/<run_id>.json; the kept model goes "
                                 "to results/train/models/, like a suite's)")
    t.add_argument("--workdir", default="work", help="where checkpoints go (default work/)")
    t.add_argument("--accelerator", default="auto", choices=ACCELERATORS, help="auto (CUDA when visible), cpu or gpu")
    t.add_argument("--devices", type=_positive, default=1,
                   help="devices for this run (default 1); N > 1: DDP, this command re-run once per extra "
                        "device; the recipe's batch is the global batch, split across devices (record: "
                        "config.distributed)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--observe-test", action="store_true",
                   help="also score every epoch's weights on PrivateTest, for time-to-accuracy only "
                        "(stored as observed/test_acc; never used for selection)")
    t.add_argument("--wandb", action="store_true",
                   help="log the run to Weights & Biases (offline under --workdir unless you are logged in)")
    _add_wandb_options(t)
    _add_run_options(t)
    _add_load_options(t)
    t.set_defaults(func=commands.cmd_train)

    m = sub.add_parser("models", help="list registered models",
                       description="List every registered model with its paper, size and claims.")
    m.add_argument("--timm", nargs="*", default=[], metavar="NAME", help="also list these timm models")
    m.add_argument("--trained", nargs="?", const="results", metavar="DIR",
                   help="list the shipped models, then those kept under DIR (default results/), with their accuracy")
    m.set_defaults(func=commands.cmd_models)

    b = sub.add_parser("bench", help="run a benchmark suite (resumable) and write its leaderboard",
                       description="Run every (model, recipe, seed) cell of a suite that has no finished "
                                   "record in results/<suite>/runs/, then write results/<suite>/LEADERBOARD.md. "
                                   "Safe to kill and re-run at any time.")
    b.add_argument("suite", help="suite YAML (benchmarks/<name>.yaml, or just <name>)")
    b.add_argument("--data", help=DATA_HELP)
    b.add_argument("--only", metavar="GLOB", help="run only the cells whose key matches GLOB (keys are "
                                                  "model__recipe__s<seed>), e.g. '*onecycle_vgg_light*'; in a "
                                                  "suite with tuning: the architectures whose name matches")
    b.add_argument("--shard", metavar="I/N", help="run only every N-th cell starting at I (0-based), e.g. for "
                                                 "a SLURM array: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT"
                                                 " (in a suite with tuning: every N-th architecture)")
    b.add_argument("--storage", metavar="URL",
                   help="suites with tuning: the Optuna storage shared by every process of the study (an RDB URL "
                        "such as postgresql://host/db, for several machines or SLURM tasks; default: SQLite in "
                        "results/<suite>/optuna.sqlite3). The trial records in results/<suite>/trials/ stay the "
                        "truth: a fresh storage is refilled from them")
    b.add_argument("--results", default="results", help="results folder (default results/)")
    b.add_argument("--dry-run", action="store_true",
                   help="list the cells, their keys, which are done, and the time left estimated from the "
                        "records; train nothing")
    b.add_argument("--no-wandb", action="store_true", help="do not log to Weights & Biases")
    _add_wandb_options(b)
    b.add_argument("--retry-failed", action="store_true", help="re-run cells recorded as failed")
    b.add_argument("--precision", default="auto", choices=PRECISIONS, help="as for train")
    b.add_argument("--devices", type=_positive, default=1,
                   help="devices per cell (default 1); N > 1: workers spawned per cell (DDP spawn: a "
                        "suite cannot be re-run per device), the recipe's batch split across them")
    b.add_argument("--accelerator", default="auto", choices=ACCELERATORS, help="as for train")
    b.add_argument("--no-progress", action="store_true", help="no per-epoch progress bar")
    _add_run_options(b)
    b.add_argument("--keep-checkpoints", action="store_true",
                   help="keep each finished cell's checkpoints (default: delete them once its record is written)")
    b.set_defaults(func=commands.cmd_bench)

    lb = sub.add_parser("leaderboard", help="regenerate a suite's leaderboard from its run records",
                        description="Write results/<suite>/LEADERBOARD.md, leaderboard.csv and plots/ from "
                                    "the run records alone.")
    lb.add_argument("suite", help="suite YAML or name")
    lb.add_argument("--results", default="results", help="results folder (default results/)")
    lb.set_defaults(func=commands.cmd_leaderboard)

    rs = sub.add_parser("results", help="regenerate results/README.md and README.md's headline table",
                        description="Write results/README.md (every suite: its question, runs, dates, hardware, "
                        "top rows) and the headline table between README.md's markers, from the run records "
                        "alone (arena v2 beside arena v1).")
    rs.add_argument("--results", default="results", help="results folder (default results/)")
    rs.add_argument("--readme", default="README.md", help="the README whose headline table is replaced "
                    "(skipped when the file does not exist)")
    rs.set_defaults(func=commands.cmd_results)

    rc = sub.add_parser("recipes", help="list training recipes",
                        description="List every training recipe: where it comes from and what is interpretation.")
    rc.set_defaults(func=commands.cmd_recipes)

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
    nb.set_defaults(func=commands.cmd_natural_build)

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
    e.add_argument("model", help="a shipped model (best), a kept model's folder, its run record, or its run id "
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
    e.add_argument("--precision", choices=PRECISIONS[1:],
                   help="override the precision the model's record was scored in (32-true, bf16-mixed, 16-mixed)")
    e.add_argument("--results", default="results", help="records go to RESULTS/eval/ (default results)")
    e.add_argument("--out", help="the eval record's path (one set only)")
    e.set_defaults(func=commands.cmd_eval)

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
    pr.add_argument("model", help="a shipped model (best), a kept model's folder, its run record, or its run id")
    pr.add_argument("inputs", nargs="+", metavar="INPUT", help="photos, videos, or folders of them")
    pr.add_argument("--json", action="store_true", help="one JSON object per photo or frame (JSON lines)")
    pr.add_argument("--annotate", metavar="OUT",
                    help="write each photo with its boxes and labels to OUT/<its path in the folder given>_<ext>.png "
                         "(a.jpg -> a_jpg.png; videos add _frameNNNNNN); refuses to overwrite an input, another "
                         "annotation or an existing file")
    pr.add_argument("--force", action="store_true", help="--annotate may replace existing files (never an input)")
    pr.add_argument("--every", type=_positive, default=10, metavar="N", help="videos: classify every N-th frame (10)")
    _add_detector_option(pr)
    pr.set_defaults(func=commands.cmd_predict)

    ex = sub.add_parser(
        "export", help="export a trained model to ONNX (checked against PyTorch)",
        description="Export a kept model to ONNX (opset 18, dynamic batch; input 'image' float32 (N,1,48,48) = "
                    "gray pixel / 255, output 'logits'). The class order, face crop and input scaling are in the "
                    "file's metadata. The file is written only if ONNX Runtime matches PyTorch fp32 to within "
                    "1e-4 in softmax on 512 real PrivateTest images.")
    ex.add_argument("model", help="a shipped model (best), a kept model's folder, its run record, or its run id")
    ex.add_argument("--format", dest="fmt", choices=["onnx"], default="onnx", help="export format (onnx)")
    ex.add_argument("--out", help="output file (default: model.onnx in the model's folder); an existing file is "
                                  "replaced only with --force, the model's own files never")
    ex.add_argument("--force", action="store_true", help="replace an existing --out file")
    ex.add_argument("--data", help="FER-2013 for the parity check's PrivateTest images. " + DATA_HELP)
    ex.set_defaults(func=commands.cmd_export)
    for cmd in (e, pr, ex):   # a kept model runs where asked, in that device's autocast
        cmd.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="auto (CUDA when "
                         "visible, else the CPU), cpu or cuda; cuda on a machine without one is refused")

    d = sub.add_parser("data", help="dataset tools", description="Dataset tools.")
    dsub = d.add_subparsers(dest="data_command", required=True, metavar="COMMAND")
    r = dsub.add_parser("report", help="class counts, samples, blanks and duplicates of a dataset",
                        description="Write a markdown report with PNGs: class counts per split, a "
                                    "sample grid per class, blank images, exact duplicates within "
                                    "and across splits.")
    r.add_argument("data", nargs="?", help=DATA_HELP)
    r.add_argument("--out", default="results/data-report", help="output folder (default results/data-report)")
    _add_load_options(r)
    r.set_defaults(func=commands.cmd_data_report)
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
