"""Data pipeline: augmented training batches per second with each recipe's augmentation (uint8
slice -> float -> batched augmentation, on the CPU), against the fastest model's training
consumption measured in the same run. Goal: >= 10x, so data never waits."""

from __future__ import annotations

import sys

import torch
from _common import time_it, write_report
from precision import BATCH, step_fn

from fer_bench.data.augment import augment, to_float
from fer_bench.models import list_models
from fer_bench.recipes import RECIPES


def main() -> None:
    images = torch.randint(0, 256, (28709, 48, 48), dtype=torch.uint8)
    g = torch.Generator().manual_seed(0)
    fastest, best = None, 0.0
    for name in list_models():
        ips = BATCH / time_it(step_fn(name, bf16=True, channels_last=True), warmup=2, repeats=5, min_seconds=1.0)
        if ips > best:
            fastest, best = name, ips
    rows = []
    for r in sorted(RECIPES.values(), key=lambda r: r.name):
        idx = torch.randint(0, len(images), (BATCH,))

        def batch(idx=idx, cfg=r.augment):
            x = to_float(images[idx])
            return augment(x, cfg, g).contiguous(memory_format=torch.channels_last)
        ips = BATCH / time_it(batch, warmup=3, repeats=20, min_seconds=1.0)
        on = [k for k, v in r.augment.to_dict().items() if v and k != "fill"]
        rows.append([r.name, ", ".join(on) or "none", f"{ips:,.0f}", f"{ips / best:.1f}x",
                     "yes" if ips / best >= 10 else "no"])
        print(rows[-1], file=sys.stderr, flush=True)
    write_report("augment", "Data pipeline: augmented batches vs model consumption",
                 f"Images per second through slicing + float conversion + each recipe's batched augmentation "
                 f"(batch {BATCH}, CPU, same process), against the fastest registered model's training step "
                 f"({fastest}: {best:,.0f} img/s, bf16 + channels_last) measured in this run.",
                 ["recipe", "augmentation", "augmented img/s", "ratio to fastest model", ">= 10x"], rows)


if __name__ == "__main__":
    main()
