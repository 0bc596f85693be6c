"""fer-bench's own network for the FER-2013 speedrun (issue #21): Khaireddin & Chen's VGG, narrowed so that
a 2-core CPU can give it enough epochs inside a 20-minute training budget."""

from __future__ import annotations

from torch import nn

from fer_bench.models.khaireddin_vgg import KhaireddinVGG
from fer_bench.models.registry import ModelCard, register_model

WIDTHS = (32, 64, 128, 256)
HIDDEN = 1024

CARD = ModelCard(
    name="speedrun_vgg",
    paper="fer-bench, a narrow VGG for the FER-2013 speedrun (after Khaireddin & Chen 2021)",
    year=2026, authors="fer-bench",
    source="fer-bench (issue #21); layers from khaireddin_vgg",
    recipe="speedrun",
    interpretation=(
        f"khaireddin_vgg's layers at half width: four blocks of two 3x3 convs ({', '.join(map(str, WIDTHS))}) "
        f"with BN and ReLU, max-pool after each block, on 40x40 crops (-> {WIDTHS[-1]}x2x2), dense "
        f"{HIDDEN}-{HIDDEN}-7 with dropout 0.2: about a quarter of the convolution MACs and a ninth of the "
        "parameters, so 3.6x (AMD EPYC) to 4.5x (Sapphire Rapids Xeon) the training images per second of the "
        "full width on 2 CPU cores (benchmarks/perf/speedrun_width.py, results/perf/speedrun_width.md).",
        "The same crop protocol as khaireddin_vgg: one random 40x40 crop per training image, centre crop and "
        "mirror for per-epoch validation, ten crops at test.",
    ),
    tags=("speedrun", "vgg"),
    eval_view="ten-crop",
)


@register_model(CARD)
def speedrun_vgg(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return KhaireddinVGG(num_classes, in_chans, widths=WIDTHS, hidden=HIDDEN)
