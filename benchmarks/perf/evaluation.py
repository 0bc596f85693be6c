"""Evaluation speed per model: PrivateTest-sized inference (3,589 images, batch 512) and batch-1
latency, in the suite's default precision (bf16-mixed + channels_last) and in fp32 eager."""

from __future__ import annotations

import sys

import torch
from _common import time_it, write_report

from fer_bench.models import create_model, list_models

N_TEST, BATCH = 3589, 512


def runner(name: str, batch: int, bf16: bool):
    model = create_model(name).eval()
    x = torch.rand(batch, 1, 48, 48)
    if bf16:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    @torch.no_grad()
    def run():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return model(x)
    return run


def main(models: list[str]) -> None:
    rows = []
    for name in models:
        row = [name]
        for bf16 in (False, True):
            per_batch = time_it(runner(name, BATCH, bf16), warmup=2, repeats=3, min_seconds=1.0)
            row.append(f"{N_TEST / BATCH * per_batch:.2f}")
        for bf16 in (False, True):
            row.append(f"{1000 * time_it(runner(name, 1, bf16), warmup=5, repeats=30, min_seconds=0.5):.2f}")
        rows.append(row)
        print(row, file=sys.stderr, flush=True)
    write_report("evaluation", "Evaluation: PrivateTest inference and batch-1 latency",
                 f"Seconds to score {N_TEST:,} images at batch {BATCH} (median batch time x batches) and median "
                 "milliseconds for one image, eval mode, no gradients. khaireddin_vgg scores ten 40x40 crops per "
                 "image (its protocol).",
                 ["model", "PrivateTest s fp32", "PrivateTest s bf16+CL", "batch-1 ms fp32", "batch-1 ms bf16+CL"],
                 rows)


if __name__ == "__main__":
    main(sys.argv[1:] or list_models())
