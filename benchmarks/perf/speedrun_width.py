"""How wide can the speedrun's VGG be? Training images/s of Khaireddin & Chen's VGG layers at several widths,
side by side in one run, as the speedrun trains them: 40x40 crops, batch 128, bf16-mixed autocast +
channels_last, cross-entropy with label smoothing, fused SGD Nesterov. The full-width network is the baseline
of every ratio; the 20-minute budget divided by the epoch time is the epoch count a width can afford.

A step = forward, loss, backward, optimiser update on random images (throughput does not depend on pixels)."""

from __future__ import annotations

import sys

import torch
from _common import time_it, write_report
from torch import nn

from fer_bench.models.khaireddin_vgg import KhaireddinVGG
from fer_bench.models.registry import count_params

BATCH = 128
TRAIN_IMAGES = 28709
BUDGET_MIN = 20.0
# (conv widths of the four blocks, dense hidden units); the first is khaireddin_vgg, the second speedrun_vgg
WIDTHS = [
    ((64, 128, 256, 512), 4096),
    ((32, 64, 128, 256), 1024),
    ((32, 64, 128, 256), 2048),
    ((40, 80, 160, 320), 1024),
    ((48, 96, 192, 384), 2048),
    ((24, 48, 96, 192), 1024),
]


def step_fn(widths: tuple[int, ...], hidden: int):
    torch.manual_seed(0)
    model = KhaireddinVGG(7, 1, widths=widths, hidden=hidden).train().to(memory_format=torch.channels_last)
    x = torch.rand(BATCH, 1, 40, 40).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 7, (BATCH,))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, nesterov=True, weight_decay=5e-4, fused=True)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(x)
        loss = loss_fn(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step, count_params(model)


def main() -> None:
    rows, base = [], None
    for widths, hidden in WIDTHS:
        step, params = step_fn(widths, hidden)
        ips = BATCH / time_it(step, warmup=2, repeats=6, min_seconds=3.0)
        base = base or ips
        epoch_min = TRAIN_IMAGES / ips / 60
        rows.append(["/".join(map(str, widths)), str(hidden), f"{params / 1e6:.2f}M", f"{ips:,.0f}",
                     f"{ips / base:.2f}x", f"{epoch_min:.2f}", f"{BUDGET_MIN / epoch_min:.0f}"])
        print(rows[-1], file=sys.stderr, flush=True)
    write_report(
        "speedrun_width", "Speedrun: training throughput against network width",
        f"Training images per second (median step time, batch {BATCH}, 40x40 crops, bf16-mixed + channels_last, "
        "fused SGD Nesterov); ratio against the full-width khaireddin_vgg (first row) in the same run. "
        f"Steps only: an epoch of {TRAIN_IMAGES} images also pays augmentation and per-epoch validation "
        f"(about 15-20% here), so the epochs that fit {BUDGET_MIN:.0f} minutes are an upper bound.",
        ["conv widths", "hidden", "params", "train img/s", "vs full width", "min / epoch (steps)",
         f"epochs in {BUDGET_MIN:.0f} min (steps)"],
        rows,
    )


if __name__ == "__main__":
    main()
