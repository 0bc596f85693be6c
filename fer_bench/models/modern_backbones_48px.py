"""Modern ImageNet backbones from timm, adapted to 48x48 grey faces the way the FER literature does it.

At 48 px an ImageNet stem (stride 4) leaves 12x12 for the first stage and 2x2 or less for the last,
so every adapted variant halves the stem's down-sampling (and drops ResNet's max-pool): the last
stage then sees 3x3. Each card says exactly what changed. Weights start from scratch (no network).
"""

from __future__ import annotations

from torch import nn

from fer_bench.models.registry import ModelCard, register_model

_SCRATCH = "Trained from scratch (ImageNet weights cannot be fetched here), 1 input channel, 7-way head."


def _card(name: str, paper: str, year: int, changes: str, *notes: str) -> ModelCard:
    authors, _ = paper.split(", ", 1) if paper.count(", ") == 1 else paper.rsplit(", ", 1)
    return ModelCard(name=name, paper=paper, year=year, authors=_short(authors),
                     source="timm 1.0.31 (adapted to 48x48)", recipe="arena",
                     interpretation=(changes, _SCRATCH, *notes), tags=("modern", "timm"))


def _short(authors: str) -> str:
    """'A, B, C & D' -> 'A et al.'; two authors stay as they are."""
    names = authors.replace(" & ", ", ").split(", ")
    return authors if len(names) <= 2 else f"{names[0]} et al."


@register_model(_card(
    "resnet18_fer", "He, Zhang, Ren & Sun, Deep Residual Learning for Image Recognition", 2016,
    "timm resnet18 with the 7x7/2 stem conv replaced by a 3x3/2 conv and no max-pool: stages see "
    "24, 12, 6 and 3 px instead of 12, 6, 3 and 2."))
def resnet18_fer(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    import timm  # here, not at import: listing the models need not load timm (1-3 s)
    m = timm.create_model("resnet18", num_classes=num_classes, in_chans=in_chans)
    m.conv1 = nn.Conv2d(in_chans, 64, 3, stride=2, padding=1, bias=False)
    m.maxpool = nn.Identity()
    return m


@register_model(_card(
    "convnext_atto_fer", "Liu, Mao, Wu, Feichtenhofer, Darrell & Xie, A ConvNet for the 2020s", 2022,
    "timm convnext_atto with the 4x4/4 patchify stem replaced by a 2x2/2 one: stages see 24, 12, 6 "
    "and 3 px instead of 12, 6, 3 and 1.",
    "Under the arena's shared recipe (one-cycle SGD to lr 0.02) its training loss stayed near the class prior "
    "for all 12 epochs of seeds 0 and 1 (27.67% and 27.42% PrivateTest; seed 1's training accuracy peaked at "
    "28.4%). Not diagnosed: 300-step probes on the real data "
    "(2026-12-02; layer-scale init 1e-6 or 1.0, SGD 0.02 or 2e-3, AdamW 2e-3) all stayed at the prior, but so "
    "did resnet18_fer, which learns under the same recipe, so the probes were too short to tell. The row is "
    "what this architecture does with the shared recipe, not what it can do with its own (AdamW, warm-up)."))
def convnext_atto_fer(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    import timm  # here, not at import: listing the models need not load timm (1-3 s)
    m = timm.create_model("convnext_atto", num_classes=num_classes, in_chans=in_chans)
    m.stem[0] = nn.Conv2d(in_chans, m.stem[0].out_channels, 2, stride=2)
    return m


def _stride1_stem(timm_name: str, stem: str, num_classes: int, in_chans: int) -> nn.Module:
    """timm model whose stem conv (at attribute path `stem`) becomes a stride-1 3x3 conv."""
    import timm  # here, not at import: listing the models need not load timm (1-3 s)
    m = timm.create_model(timm_name, num_classes=num_classes, in_chans=in_chans)
    parent_name, _, attr = stem.rpartition(".")
    parent = m.get_submodule(parent_name) if parent_name else m
    out_channels = getattr(parent, attr).out_channels
    setattr(parent, attr, nn.Conv2d(in_chans, out_channels, 3, stride=1, padding=1, bias=False))
    return m


_STRIDE_16 = ("with a stride-1 3x3 stem (stride 2 in the original): total stride 16, so the last stage sees "
              "3x3 instead of 2x2 (ceil).")


@register_model(_card("efficientnet_b0_fer", "Tan & Le, EfficientNet: Rethinking Model Scaling for CNNs", 2019,
                      f"timm efficientnet_b0 {_STRIDE_16}"))
def efficientnet_b0_fer(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return _stride1_stem("efficientnet_b0", "conv_stem", num_classes, in_chans)


@register_model(_card("mobilenetv3_fer", "Howard et al., Searching for MobileNetV3", 2019,
                      f"timm mobilenetv3_large_100 {_STRIDE_16}"))
def mobilenetv3_fer(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return _stride1_stem("mobilenetv3_large_100", "conv_stem", num_classes, in_chans)


@register_model(_card("regnety_004_fer", "Radosavovic, Kosaraju, Girshick, He & Dollar, Designing Network Design "
                      "Spaces", 2020, f"timm regnety_004 {_STRIDE_16}"))
def regnety_004_fer(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return _stride1_stem("regnety_004", "stem.conv", num_classes, in_chans)
