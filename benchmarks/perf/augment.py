"""Data pipeline: augmented training batches per second with each recipe's augmentation (uint8
slice -> float -> batched augmentation, on the CPU), against the fastest model's training
consumption measured in the same run. Goal: >= 10x, so data never waits."""

from __future__ import annotations

import sys

import torch
from _common import profile_ops, time_it, write_report
from precision import BATCH, step_fn

from fer_bench.data.augment import augment, to_float
from fer_bench.models import get_card, list_models
from fer_bench.recipes import RECIPES


def main() -> None:
    images = torch.randint(0, 256, (28709, 48, 48), dtype=torch.uint8)
    g = torch.Generator().manual_seed(0)
    model_ips = {name: BATCH / time_it(step_fn(name, bf16=True, channels_last=True), warmup=2, repeats=5,
                                       min_seconds=1.0) for name in list_models()}
    fastest = max(model_ips, key=model_ips.get)
    best = model_ips[fastest]
    rows, own_ratios = [], []
    for r in sorted(RECIPES.values(), key=lambda r: r.name):
        idx = torch.randint(0, len(images), (BATCH,))

        def batch(idx=idx, cfg=r.augment):
            x = to_float(images[idx])
            return augment(x, cfg, g).contiguous(memory_format=torch.channels_last)
        ips = BATCH / time_it(batch, warmup=3, repeats=20, min_seconds=1.0)
        on = active(r.augment)
        users = [m for m in model_ips if get_card(m).recipe == r.name]
        own = max((model_ips[m] for m in users), default=None)
        if own:
            own_ratios.append((ips / own, r.name, users))
        rows.append([r.name, ", ".join(on) or "none", f"{ips:,.0f}", f"{ips / best:.1f}x",
                     "yes" if ips / best >= 10 else "no",
                     f"{ips / own:.0f}x ({', '.join(users)})" if own else "– (no model's default)"])
        print(rows[-1], file=sys.stderr, flush=True)
    richest = max(RECIPES.values(), key=lambda r: len(active(r.augment))).augment
    notes = profile_notes(images, richest, g)
    below = [row[0] for row in rows if row[4] == "no"]
    if below and own_ratios:
        low, name, users = min(own_ratios)
        mine = get_card(fastest).recipe
        mine_aug = ", ".join(active(RECIPES[mine].augment)) or "none"
        verdict = "so no model waits for its own data" if low >= 10 else "below the goal for its own models"
        notes = ["", f"Below 10x of the fastest model: {len(below)} recipes. Against the models that train with "
                 f"them, every recipe gives at least {low:.0f}x ({name}: {', '.join(users)}), {verdict}; "
                 f"{fastest} trains with {mine} ({mine_aug}), and would wait only if given one of "
                 "the recipes below 10x. Where a batch's time goes is the "
                 "profile below: the interpolation itself (grid_sampler_2d, and affine_grid's bmm) and per-batch "
                 "small-tensor work on the parameter vectors, which does not shrink with the image count."] + notes
    write_report("augment", "Data pipeline: augmented batches vs model consumption",
                 f"Images per second through slicing + float conversion + each recipe's batched augmentation "
                 f"(batch {BATCH}, CPU, same process), against the fastest registered model's training step "
                 f"({fastest}: {best:,.0f} img/s, bf16 + channels_last) measured in this run.",
                 ["recipe", "augmentation", "augmented img/s", "ratio to fastest model", ">= 10x",
                  "ratio to the models whose recipe it is"], rows, notes)


def active(cfg) -> list[str]:
    return [k for k, v in cfg.to_dict().items() if v and k != "fill"]


def profile_notes(images: torch.Tensor, cfg, g: torch.Generator, steps: int = 200) -> list[str]:
    """Where the time of one augmented batch goes (torch.profiler, self CPU time per op)."""
    idx = torch.randint(0, len(images), (BATCH,))
    table, ms, _ = profile_ops(
        lambda: augment(to_float(images[idx]), cfg, g).contiguous(memory_format=torch.channels_last), steps,
        warmup=10, per="batch")
    return ["", f"Profile of the richest augmentation ({', '.join(active(cfg))}), {steps} batches of {BATCH} "
            f"under torch.profiler: self CPU time per op, {ms:.2f} ms a batch in all (profiler overhead "
            "included).", "", *table]

if __name__ == "__main__":
    main()
