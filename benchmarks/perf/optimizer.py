"""Optimiser step: torch's default (foreach) against the fused kernels (CPU fused SGD / Adam /
AdamW exist since torch 2.4), on the parameters of the largest models, side by side in one run.
Decides whether build_optimizers asks for fused=True on the CPU as well as on CUDA."""

from __future__ import annotations

import sys

import torch
from _common import time_it, write_report

from fer_bench.models import count_params, create_model

MODELS = ["khaireddin_vgg", "sahi_resnet50", "majeed_cnn"]
OPTIMIZERS = {
    "sgd (momentum, nesterov)": lambda ps, **kw: torch.optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True,
                                                                weight_decay=5e-4, **kw),
    "adam": lambda ps, **kw: torch.optim.Adam(ps, lr=1e-3, **kw),
    "amsgrad": lambda ps, **kw: torch.optim.Adam(ps, lr=1e-3, amsgrad=True, **kw),
}


def step_fn(model: torch.nn.Module, make, fused: bool):
    params = [p for p in model.parameters()]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    opt = make(params, **({"fused": True} if fused else {"foreach": True}))
    return opt.step


def main() -> None:
    rows = []
    for name in MODELS:
        model = create_model(name)
        for label, make in OPTIMIZERS.items():
            with torch.no_grad():
                foreach = time_it(step_fn(model, make, False), warmup=3, repeats=10, min_seconds=1.0)
                fused = time_it(step_fn(model, make, True), warmup=3, repeats=10, min_seconds=1.0)
            rows.append([name, f"{count_params(model) / 1e6:.1f}M", label, f"{1000 * foreach:.1f}",
                         f"{1000 * fused:.1f}", f"{foreach / fused:.2f}x"])
            print(rows[-1], file=sys.stderr, flush=True)
    write_report("optimizer", "Optimiser step: foreach vs fused on the CPU",
                 "Milliseconds per optimiser step (median) on each model's parameters with random gradients; "
                 "speed-up = foreach / fused.",
                 ["model", "params", "optimiser", "foreach ms", "fused ms", "speed-up"], rows)


if __name__ == "__main__":
    main()
