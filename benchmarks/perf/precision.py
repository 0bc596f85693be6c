"""Training-step throughput of every registered model: the suite's default (bf16-mixed autocast
+ channels_last on a bf16 CPU) against fp32 eager NCHW, side by side in one run.

A step = forward, cross-entropy, backward, SGD update, on a batch of 128 random 1x48x48 images
(throughput does not depend on pixel values)."""

from __future__ import annotations

import sys

import torch
from _common import profile_ops, time_it, write_report
from torch import nn

from fer_bench.models import create_model, list_models

BATCH = 128


def step_fn(name: str, bf16: bool, channels_last: bool, compiled: bool = False, batch: int = BATCH,
            fused: bool = False):
    torch.manual_seed(0)
    model = create_model(name).train()
    x = torch.rand(batch, 1, 48, 48)
    y = torch.randint(0, 7, (batch,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, **({"fused": True} if fused else {}))
    loss_fn = nn.CrossEntropyLoss()
    fwd = torch.compile(model) if compiled else model

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = fwd(x)
        loss = loss_fn(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def main(models: list[str]) -> None:
    rows = []
    for name in models:
        heavy = name in ("khaireddin_vgg", "sahi_resnet50")
        kw = dict(warmup=2, repeats=4 if heavy else 8, min_seconds=2.0)
        fp32 = BATCH / time_it(step_fn(name, bf16=False, channels_last=False), **kw)
        bf16_cl = BATCH / time_it(step_fn(name, bf16=True, channels_last=True), **kw)
        bf16 = BATCH / time_it(step_fn(name, bf16=True, channels_last=False), **kw)
        rows.append([name, f"{fp32:,.0f}", f"{bf16:,.0f}", f"{bf16_cl:,.0f}", f"{bf16_cl / fp32:.2f}x",
                     "yes" if bf16_cl / fp32 >= 2.5 else "no"])
        print(rows[-1], file=sys.stderr, flush=True)
    notes = []
    for row in rows:
        if row[-1] == "no":
            notes += op_profile(row[0])
    write_report(
        "precision", "Precision: bf16-mixed + channels_last vs fp32, training step",
        f"Training images per second (median step time, batch {BATCH}); ratio = suite default / fp32 eager. "
        "Goal: >= 2.5x on the seed CNNs.",
        ["model", "fp32 NCHW img/s", "bf16 NCHW img/s", "bf16 + channels_last img/s (default)", "ratio", ">= 2.5x"],
        rows, notes,
    )


def op_profile(name: str, steps: int = 10) -> list[str]:
    """Where a bf16 + channels_last step of a model below the goal spends its time (torch.profiler,
    self CPU time): convolutions/matmuls are what bf16 speeds up; the rest is what limits it."""
    table, ms, events = profile_ops(step_fn(name, bf16=True, channels_last=True), steps, top=8)
    total = sum(e.self_cpu_time_total for e in events)
    compute = sum(e.self_cpu_time_total for e in events
                  if any(k in e.key for k in ("conv", "mm", "linear", "addmm")))
    return ["", f"**{name}** below 2.5x: profile of its bf16 + channels_last step ({ms:.1f} ms under the "
            f"profiler); convolution/matmul kernels take {100 * compute / total:.0f}% of it, the rest (casts, "
            "batch-norm, pooling, element-wise, optimiser) is what bf16 cannot shorten.", "", *table]

if __name__ == "__main__":
    main(sys.argv[1:] or list_models())
