"""One registry for every model: a builder plus the card that says where it comes from.

Like timm's `register_model` / `create_model`: model files register themselves on
import; everything else (CLI, leaderboard, claims audit) reads the cards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from fer_bench.core.errors import FerBenchError


@dataclass(frozen=True)
class PerClassTable:
    """A paper's per-class report (precision, recall, support per class), kept as evidence for or
    against its headline number: the leaderboard sets it beside the class prior and the suite's own."""

    source: str                     # where in the paper, e.g. "Table 1"
    classes: tuple[str, ...]        # the paper's class names, in the paper's order
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    support: tuple[int, ...]


@dataclass(frozen=True)
class Claim:
    """A number a paper reports, and on what it was measured."""

    metric: str          # e.g. "accuracy"
    value: float         # as a fraction, 0.7292
    split: str           # the paper's words for the data it was measured on
    note: str = ""
    # What the suite compares it with: test (PrivateTest), val (PublicTest), val+test (both together, rebuilt
    # from each record's two confusion matrices), natural
    measured: str = "test"
    per_class: PerClassTable | None = None
    # The training budget (epochs) the claim was made at: a shorter run cannot refute it. None: not stated.
    epochs: int | None = None
    # Why no run here can test the claim (other split, other data, fine-tuned vs from scratch); "" = comparable
    not_comparable: str = ""


@dataclass(frozen=True)
class ModelCard:
    name: str
    paper: str                      # short citation
    year: int | None
    source: str                     # seed file or public reference
    recipe: str                     # default recipe name
    claims: tuple[Claim, ...] = ()
    interpretation: tuple[str, ...] = ()   # what the paper leaves open and how we read it
    expected_params: int | None = None     # from the paper's layer table, when it has one
    tags: tuple[str, ...] = field(default_factory=tuple)
    authors: str = ""                      # short form for tables, e.g. "Khaireddin & Chen"
    # How the model's own protocol views a test image: "single" (one view), or its crop average ("ten-crop");
    # under an arena's single-view protocol every model is scored on one view whatever this says
    eval_view: str = "single"

    @property
    def citation(self) -> str:
        """'Authors (year)' for tables; the year is 'n.d.' where the paper gives none."""
        who = self.authors or self.paper
        return f"{who} ({self.year if self.year else 'n.d.'})"


_BUILDERS: dict[str, Callable[..., nn.Module]] = {}
_CARDS: dict[str, ModelCard] = {}


def register_model(card: ModelCard) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        # The same card again is the same source imported a second way (a plugin file by path, then as an
        # installed package): the latest builder serves. A different card under one name is a clash.
        if card.name in _BUILDERS and _CARDS[card.name] != card:
            raise ValueError(f"model {card.name!r} registered twice")
        _BUILDERS[card.name] = fn
        _CARDS[card.name] = card
        return fn
    return wrap


# Loaders another module installs (plugins.py: 'module:fn' specs and entry points), called with a name the
# registry does not know (or None before listing), so that the registry imports nothing of theirs.
_LOADERS: list[Callable[[str | None], None]] = []


def register_loader(loader: Callable[[str | None], None]) -> None:
    _LOADERS.append(loader)


def list_models() -> list[str]:
    for load in _LOADERS:
        load(None)
    return sorted(_BUILDERS)


# Name prefixes another module serves ("timm:<name>" -> timm_models), registered by that module so
# that the registry imports nothing above it: prefix -> (card of a name, builder of a name).
_NAMESPACES: dict[str, tuple[Callable[[str], ModelCard], Callable[..., nn.Module]]] = {}


def register_namespace(prefix: str, card: Callable[[str], ModelCard], build: Callable[..., nn.Module]) -> None:
    _NAMESPACES[prefix] = (card, build)


def _namespace(name: str):
    prefix, sep, rest = name.partition(":")
    return (_NAMESPACES[prefix], rest) if sep and prefix in _NAMESPACES else (None, name)


def get_card(name: str) -> ModelCard:
    ns, rest = _namespace(name)
    if ns:
        return ns[0](rest)
    _check(name)
    return _CARDS[name]


def create_model(name: str, num_classes: int = 7, in_chans: int = 1, **kwargs) -> nn.Module:
    """Build a model for (N, in_chans, 48, 48) input and num_classes logits: a registered
    name, or `timm:<name>` for any timm model. kwargs go to the builder (e.g. pretrained)."""
    ns, rest = _namespace(name)
    if ns:
        return ns[1](rest, num_classes, in_chans, **kwargs)
    _check(name)
    return _BUILDERS[name](num_classes=num_classes, in_chans=in_chans, **kwargs)


def _check(name: str) -> None:
    for load in _LOADERS:
        if name not in _BUILDERS:
            load(name)
    if name not in _BUILDERS:
        raise FerBenchError(f"unknown model {name!r}; `fer-bench models` lists them: "
                            + ", ".join(list_models()))


def keras_init_(model: nn.Module) -> nn.Module:
    """Keras' defaults: Glorot-uniform kernels, zero biases.

    Papers written in Keras trained from this start; PyTorch's default (Kaiming-uniform
    with a=sqrt(5)) gives smaller weights and a measurably slower start for deep plain
    CNNs without batch-norm.
    """
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def count_macs(model: nn.Module, size: int = 48, in_chans: int = 1) -> int:
    """Multiply-accumulates of one eval-mode forward pass on a (1, in_chans, size, size) image
    (ten-crop models count all ten crops)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    was_training = model.training
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(torch.zeros(1, in_chans, size, size))
    model.train(was_training)
    return fc.get_total_flops() // 2


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def model_costs(name: str) -> tuple[int, int]:
    """(parameters, MACs in the model's own view) of a registered name, cached: building all models to count
    them took 20 s of `fer-bench models`. The cache key holds the builder's source file, torch and timm
    versions, so an edited model is counted again."""
    import hashlib
    import json
    import sys
    from importlib.metadata import version
    from pathlib import Path

    from fer_bench.core.io import atomic_write, cache_dir
    ns, _ = _namespace(name)
    if not ns:
        _check(name)
    module = sys.modules.get((ns[1] if ns else _BUILDERS[name]).__module__)
    src = getattr(module, "__file__", None)
    digest = hashlib.sha256(Path(src).read_bytes()).hexdigest()[:16] if src else "?"
    key = f"{name}|{digest}|torch {version('torch')}|timm {version('timm')}"
    path = cache_dir() / "model-costs.json"
    try:
        cache = json.loads(path.read_text())
    except (OSError, ValueError):
        cache = {}
    cache = cache if isinstance(cache, dict) else {}
    hit = cache.get(key)
    if isinstance(hit, list) and len(hit) == 2 and all(isinstance(v, int) for v in hit):
        return hit[0], hit[1]
    model = create_model(name)
    cache[key] = [count_params(model), count_macs(model)]
    try:
        atomic_write(path, lambda f: json.dump(cache, f, indent=0))
    except OSError:
        pass   # a read-only cache only costs the next call the counting
    return cache[key][0], cache[key][1]
