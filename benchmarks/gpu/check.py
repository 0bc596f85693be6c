"""`make gpu-check`: the CUDA path, exercised end to end on one GPU in at most about 8 minutes.

1. training throughput of three architectures (images/s of a full optimiser step, peak GPU memory);
2. the smoke suite (seed 0) in bf16-mixed, through the same runner as `fer-bench bench`;
3. one seed of the `speedrun-gpu` suite (speedrun_vgg, speedrun recipe, precision auto);
4. the smoke suite again in 16-mixed.

Writes OUT/gpu-check.json, OUT/README.md (device, versions, data, every number with its command) and the
run records of steps 2-3 under OUT/<suite>/runs/. The kept models and checkpoints stay in --work, outside OUT.

It runs from the working tree with nothing installed (the GPU box gets only the tree: no `pip install`, no
wandb, no package index) and reads FER-2013 from the data pack that `make gpu-pack` puts in data/gpu/.
On a machine without a GPU it says so in one line and exits 0; `--dry-run` runs every step on the CPU at toy
sizes (the tests do), to prove the plumbing without a GPU.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))   # fer_bench from this tree, not an installed copy

import torch  # noqa: E402

from fer_bench.core.errors import FerBenchError  # noqa: E402
from fer_bench.core.table import table  # noqa: E402

PACK = ROOT / "data" / "gpu" / "fer2013.npz.xz"
THROUGHPUT_MODELS = ("speedrun_vgg", "khaireddin_vgg", "resnet18_fer")
SMOKE_PRECISIONS = ("bf16-mixed", "16-mixed")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="benchmarks/gpu/check.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("--data", help=f"FER-2013: the pack (default {PACK.relative_to(ROOT)}), a CSV or a folder")
    p.add_argument("--out", default=str(ROOT / "results" / "gpu"), help="where the summary and records go")
    p.add_argument("--work", default=str(ROOT / "work" / "gpu-check"), help="scratch: kept models, checkpoints")
    p.add_argument("--dry-run", action="store_true", help="every step on the CPU at toy sizes (no GPU needed)")
    p.add_argument("--force", action="store_true", help="replace an existing OUT/gpu-check.json")
    return p.parse_args(argv)


def throughput(data_path: str, device: str, precision: str, batch: int, steps: int) -> list[dict]:
    """Images/s of forward + backward + AdamW step on real training images, and peak GPU memory."""
    from fer_bench.data.augment import to_float
    from fer_bench.data.fer2013 import TRAIN
    from fer_bench.data.load import load_dataset
    from fer_bench.models.registry import create_model
    data = load_dataset(data_path)
    train = data.images[data.splits == TRAIN][:batch]
    x = to_float(train).to(device)
    y = data.labels[data.splits == TRAIN][:batch].to(device)
    dtype = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(precision)
    rows = []
    for name in THROUGHPUT_MODELS:
        sec = _train_steps(create_model(name).to(device).train(), x, y, device, dtype, steps)
        rows.append({"model": name, "batch": batch, "steps": steps, "precision": precision,
                     "images_per_second": round(batch * steps / sec, 1),
                     "peak_memory_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1) if device == "cuda"
                     else None})
        print(f"gpu-check: throughput {name}: {rows[-1]['images_per_second']:,.0f} images/s", file=sys.stderr)
    return rows


def _train_steps(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, device: str, dtype, steps: int) -> float:
    """Seconds for `steps` optimiser steps after a warm-up (cuDNN autotuning, allocator growth)."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step() -> None:
        with torch.autocast(device_type=device, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3 if device == "cuda" else 1):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def run_suite_step(suite_name: str, data: str, work: Path, out: Path, precision: str, accelerator: str,
                   keep: Callable[..., bool], dry: bool, rename: str | None = None) -> dict:
    """One suite's chosen cells through the runner; their records are copied to OUT/<name>/runs/."""
    from dataclasses import replace

    from fer_bench.core.record import read_record
    from fer_bench.runner.cells import record_path
    from fer_bench.runner.run import run_suite
    from fer_bench.runner.suite import load_suite
    suite = load_suite(ROOT / "benchmarks" / f"{suite_name}.yaml")
    suite.name = rename or suite.name
    suite.cells = [c for c in suite.cells if keep(c)]
    if dry:   # toy sizes: the plumbing, not the numbers
        suite.cells = [replace(c, overrides=(*((k, v) for k, v in c.overrides if k != "epochs"), ("epochs", 1)))
                       for c in suite.cells[:1]]
        suite.limit_train, suite.limit_eval = 64, 64
    t = time.perf_counter()
    counts = run_suite(suite, data, results=str(work), use_wandb=False, precision=precision, progress=False,
                       accelerator=accelerator)
    wall = time.perf_counter() - t
    cells = []
    for cell in suite.cells:
        path = record_path(suite, cell, str(work))
        dest = out / suite.name / "runs" / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        rec = read_record(path)
        if rec.status != "finished":
            cells.append({"cell": cell.key, "status": rec.status, "reason": rec.reason})
            continue
        cells.append({"cell": cell.key, "status": rec.status, "test_accuracy": rec.metrics.test.accuracy,
                      "val_accuracy": rec.selection.best_score, "train_minutes": round(rec.timing.fit_seconds / 60, 2),
                      "precision": rec.config.get("precision"), "hardware": rec.environment["hardware"].get("cuda")})
    return {"suite": suite.name, "precision": precision, "wall_seconds": round(wall, 1), "counts": counts,
            "cells": cells}


def markdown(summary: dict) -> str:
    """OUT/README.md: every number of the check with the device, versions, data and command beside it."""
    env = summary["environment"]
    lines = [
        "# GPU check", "",
        f"Run {summary['date']} by `{summary['command']}` on {summary['device']} (torch {env['torch']}, CUDA "
        f"{env['cuda']}), {summary['wall_seconds'] / 60:.1f} min in all. Data: {summary['data']}.", "",
        "## Training throughput (full optimiser step, real training images)", "",
        *table(["model", "precision", "batch", "images/s", "peak GPU memory (MiB)"], "llrrr",
               [[r["model"], r["precision"], str(r["batch"]), f"{r['images_per_second']:,.0f}",
                 "n/a" if r["peak_memory_mib"] is None else str(r["peak_memory_mib"])] for r in summary["throughput"]]),
    ]
    for step in summary["suites"]:
        lines += ["", f"## {step['suite']} ({step['precision']}): {step['counts']['finished']} finished, "
                  f"{step['counts']['failed']} failed, {step['wall_seconds'] / 60:.1f} min", "",
                  *table(["cell", "status", "PrivateTest %", "PublicTest % (selected)", "training min"], "llrrr",
                         [[c["cell"], f"{c['status']}: {c['reason']}", "", "", ""] if c["status"] != "finished" else
                          [c["cell"], "finished", f"{100 * c['test_accuracy']:.2f}", f"{100 * c['val_accuracy']:.2f}",
                           f"{c['train_minutes']:.2f}"] for c in step["cells"]])]
    lines += ["", "The smoke rows are one epoch on 1,000 images: they check the path, their accuracies mean nothing. "
              "A speedrun row trained on a Training subset (see Data) is not comparable with the speedrun suites.",
              "Records: the `runs/` folders beside this file."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    from fer_bench.core.io import atomic_write
    from fer_bench.core.runinfo import environment
    from fer_bench.data.fer2013 import default_data_path
    from fer_bench.data.load import load_dataset
    if not a.dry_run and not torch.cuda.is_available():
        print(f"gpu-check: no CUDA GPU on this machine (torch {torch.__version__}, CUDA build "
              f"{torch.version.cuda or 'none'}); nothing to check")
        return 0
    out, work = Path(a.out), Path(a.work)
    if (out / "gpu-check.json").exists() and not a.force:
        raise FerBenchError(f"{out / 'gpu-check.json'}: a GPU check is already there; --force replaces it, "
                            "or give another --out")
    data = a.data or str(PACK if PACK.exists() else default_data_path())
    if not Path(data).exists():
        raise FerBenchError(f"{data}: no FER-2013 here; `make gpu-pack` writes {PACK.relative_to(ROOT)} "
                            "(then run the device command with carry: [data/gpu])")
    if a.dry_run:
        device, accelerator, precisions, batch, steps = "cpu", "cpu", ("32-true",), 8, 1
    else:
        device, accelerator, precisions, batch, steps = "cuda", "gpu", SMOKE_PRECISIONS, 256, 20
        torch.set_float32_matmul_precision("high")
    shutil.rmtree(work, ignore_errors=True)   # scratch only: a check never resumes an older one
    t0 = time.perf_counter()
    info = load_dataset(data).info
    summary = {"date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
               "command": "python benchmarks/gpu/check.py" + (" --dry-run" if a.dry_run else ""),
               "device": torch.cuda.get_device_name(0) if device == "cuda" else "CPU (dry run)",
               "environment": {"torch": torch.__version__, "cuda": torch.version.cuda,
                               "hardware": environment()["hardware"]},
               "data": f"{data} ({info.get('pack') or info.get('format')})", "throughput": [], "suites": []}

    def save() -> None:   # after every step: a check cut off by a time limit still leaves what it measured
        summary["wall_seconds"] = round(time.perf_counter() - t0, 1)
        atomic_write(out / "gpu-check.json", lambda f: json.dump(summary, f, indent=1))
        atomic_write(out / "README.md", lambda f: f.write(markdown(summary)))

    summary["throughput"] = throughput(data, device, precisions[0], batch, steps)
    save()
    # The speedrun seed before the second precision's smoke: if the call's time limit cuts the check short,
    # what is lost is the repeat of a path already exercised.
    steps = [("smoke", precisions[0], lambda c: c.seed == 0),
             ("speedrun-gpu", "auto", lambda c: c.seed == 0 and c.model == "speedrun_vgg"),
             *(("smoke", p, lambda c: c.seed == 0) for p in precisions[1:])]
    for name, precision, keep in steps:
        summary["suites"].append(run_suite_step(name, data, work, out, precision, accelerator, keep, a.dry_run,
                                                rename=f"smoke-{precision}" if name == "smoke" else None))
        save()
    print(f"gpu-check: {out / 'README.md'} ({summary['wall_seconds'] / 60:.1f} min)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FerBenchError as e:
        print(f"gpu-check: {e}", file=sys.stderr)
        sys.exit(1)
