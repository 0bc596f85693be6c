"""An example architecture from outside fer-bench: a two-block CNN, registered with fer-bench's own decorator
and card, so that it trains, ranks and predicts like the built-in models."""

from __future__ import annotations

from torch import nn

from fer_bench.models import ModelCard, register_model

CARD = ModelCard(
    name="tiny_mine",
    paper="fer-bench example plugin (examples/my_model)",
    year=None,
    source="examples/my_model/fer_bench_my_model/__init__.py",
    recipe="arena_tuned",          # the recipe `fer-bench train --model tiny_mine` uses when none is given
    interpretation=("Two conv blocks (16, 32 channels) and a linear head: small enough to train in seconds.",),
    tags=("plugin", "example"),
)


@register_model(CARD)
def tiny_mine(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(in_chans, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(32, num_classes))
