"""What limits ResNet50 at 48x48 on this CPU, and what helps: training-step throughput of
sahi_resnet50 in layout x precision x batch variants, side by side in one run, then a
torch.profiler breakdown of the suite's default step (bf16-mixed + channels_last, batch 128)."""

from __future__ import annotations

import sys

from _common import profile_ops, time_it, write_report
from precision import step_fn

NAME = "sahi_resnet50"
VARIANTS = [  # (label, bf16, channels_last, batch, fused SGD)
    ("fp32 NCHW, batch 128 (baseline)", False, False, 128, False),
    ("bf16 NCHW, batch 128", True, False, 128, False),
    ("bf16 channels_last, batch 128", True, True, 128, False),
    ("bf16 channels_last, batch 128, fused SGD (suite default)", True, True, 128, True),
    ("bf16 channels_last, batch 256, fused SGD", True, True, 256, True),
    ("bf16 channels_last, batch 512, fused SGD", True, True, 512, True),
    ("fp32 NCHW, batch 512", False, False, 512, False),
]


def main() -> None:
    rows, base = [], None
    for label, bf16, cl, batch, fused in VARIANTS:
        ips = batch / time_it(step_fn(NAME, bf16=bf16, channels_last=cl, batch=batch, fused=fused), warmup=2, repeats=8,
                              min_seconds=3.0)
        base = base or ips
        rows.append([label, f"{ips:,.0f}", f"{ips / base:.2f}x"])
        print(rows[-1], file=sys.stderr, flush=True)
    table, ms, _ = profile_ops(step_fn(NAME, bf16=True, channels_last=True, fused=True), steps=6, warmup=2, top=12)
    notes = ["", "Profile of the suite's default step (bf16-mixed + channels_last, fused SGD, batch 128; "
             f"{ms:.0f} ms a step under the profiler): self CPU time per op, top 12.", "",
             *table]
    write_report("resnet50", "ResNet50 at 48x48: what limits it, what helps",
                 f"Training images per second of {NAME} (timm resnet50, 1-channel stem, 48x48 input) per variant, "
                 "median step time; ratio against fp32 NCHW at batch 128.",
                 ["variant", "img/s", "ratio"], rows, notes)


if __name__ == "__main__":
    main()
