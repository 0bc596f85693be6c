"""Batched augmentation against the library way of doing it: torchvision.transforms.v2 applied image by
image (each image its own random flip, rotation and zoom, as our batched warp draws them), on the same
uint8 batches in the same run. Decides whether fer_bench.data.augment earns its place over a library."""

from __future__ import annotations

import os

import torch
from _common import time_it, write_report
from precision import BATCH
from torchvision.transforms import v2

from fer_bench.data.augment import augment, to_float
from fer_bench.recipes import get_recipe


def main() -> None:
    images = torch.randint(0, 256, (28709, 48, 48), dtype=torch.uint8)
    g = torch.Generator().manual_seed(0)
    cfg = get_recipe("onecycle_vgg_light").augment          # flip, rotation 10, zoom 0.1: the arena's
    per_image = v2.Compose([v2.RandomHorizontalFlip(), v2.RandomAffine(degrees=cfg.rotation,
                                                                       scale=(1 - cfg.zoom, 1 + cfg.zoom))])
    idx = torch.randint(0, len(images), (BATCH,))

    def batched() -> torch.Tensor:
        return augment(to_float(images[idx]), cfg, g)

    def library() -> torch.Tensor:
        x = to_float(images[idx])
        return torch.stack([per_image(im) for im in x])

    load = os.getloadavg()[0]          # this machine may be busy with a suite: say so in the report
    rows, ips = [], {}
    for name, fn in (("fer_bench batched affine warp (one grid_sample a batch)", batched),
                     ("torchvision.transforms.v2, per image (RandomHorizontalFlip + RandomAffine)", library)):
        ips[name] = BATCH / time_it(fn, warmup=3, repeats=10, min_seconds=2.0)
    base = ips[next(iter(ips))]
    rows = [[name, f"{v:,.0f}", f"{base / v:.1f}x"] for name, v in ips.items()]
    write_report("augment_per_sample", "Batched augmentation against torchvision per image",
                 f"Augmented images per second, batch {BATCH} of 48x48 grey float images on the CPU, the "
                 f"arena's augmentation (hflip, rotation {cfg.rotation:g} deg, zoom {cfg.zoom:g}) with each "
                 "image's own random parameters; both sides in this run.",
                 ["pipeline", "img/s", "batched is faster by"], rows,
                 ["", f"1-minute load average when the run started: {load:.1f} on {os.cpu_count()} cores"
                  + (" (other work was running: compare the two rows, not their absolute numbers with other "
                     "files)." if load > 0.5 else ".")])


if __name__ == "__main__":
    main()
