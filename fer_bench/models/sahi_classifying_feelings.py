"""Sahi, Elgayar, Hikal: "Classifying Feelings Using Facial Expression Recognition" (seed 004):
a regular CNN, the same CNN with attention, and a fine-tuned ResNet50."""

from __future__ import annotations

import torch
from torch import nn

from fer_bench.models.layers import Dropout, conv_bn
from fer_bench.models.registry import Claim, ModelCard, PerClassTable, keras_init_, register_model
from fer_bench.models.timm_models import create_timm

AUTHORS = "Sahi, Elgayar & Hikal"
PAPER = "Sahi, Elgayar & Hikal, Classifying Feelings Using Facial Expression Recognition"
SHUFFLE_NOTE = ("their per-class tables show precision/recall near each class's prior with the "
                "training set's supports: the signature of scoring with a shuffled generator")
# The paper's per-class tables, verbatim (Kaggle folder order). Tables 1 and 2 are identical, and their
# supports sum to 28,821 - the size of a training set, not of the 3,589-image test set they describe.
_CLASSES = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
_SUPPORT = (3993, 436, 4103, 7164, 4982, 4938, 3205)
_TABLE_1_2 = dict(classes=_CLASSES, support=_SUPPORT, precision=(0.13, 0.01, 0.14, 0.25, 0.17, 0.17, 0.12),
                  recall=(0.17, 0.01, 0.10, 0.25, 0.19, 0.15, 0.12))
CNN_TABLE = PerClassTable("Table 1 (regular CNN)", **_TABLE_1_2)
ATTENTION_TABLE = PerClassTable("Table 2 (CNN with attention)", **_TABLE_1_2)
RESNET_TABLE = PerClassTable("Table 3 (ResNet50)", classes=_CLASSES, support=_SUPPORT,
                             precision=(0.14, 0.02, 0.14, 0.25, 0.18, 0.17, 0.11),
                             recall=(0.14, 0.01, 0.10, 0.25, 0.22, 0.19, 0.09))
COMMON = (
    "Keras' Conv2D(activation='relu') then BatchNormalization: ReLU before BN.",
    "Keras default initialisation.",
)

CNN_CARD = ModelCard(
    name="sahi_cnn", paper=PAPER, year=2024, authors=AUTHORS, source="seeds/004", recipe="sahi_adam",
    claims=(Claim("accuracy", 0.7941, "FER-2013 test (3,589 images)", SHUFFLE_NOTE, per_class=CNN_TABLE, epochs=50),),
    interpretation=("Second conv: 128 filters 5x5 'same' (the text says only that sizes vary).", *COMMON),
    tags=("seed", "cnn"),
)
ATTENTION_CARD = ModelCard(
    name="sahi_attention_cnn", paper=PAPER, year=2024, authors=AUTHORS, source="seeds/004", recipe="sahi_adam",
    claims=(Claim("accuracy", 0.5519, "FER-2013 test (3,589 images)", SHUFFLE_NOTE, per_class=ATTENTION_TABLE,
                  epochs=50),),
    interpretation=(
        "Backbone of sahi_cnn; after the last conv block: squeeze-and-excitation (reduction 16), "
        "then spatial softmax attention A = softmax over positions of Q*K (Q, K: 1x1 convs), "
        "features multiplied by A and flattened into the same dense head (its batch-norm absorbs "
        "the 1/positions scale).",
        *COMMON,
    ),
    tags=("seed", "cnn", "attention"),
)
RESNET_CARD = ModelCard(
    name="sahi_resnet50", paper=PAPER, year=2024, authors=AUTHORS, source="seeds/004",
    recipe="sahi_resnet50_finetune",
    claims=(Claim("accuracy", 0.7276, "FER-2013 test (3,589 images)", SHUFFLE_NOTE, per_class=RESNET_TABLE, epochs=5),),
    interpretation=(
        "timm's resnet50 with a 1-channel stem (pretrained RGB stem weights summed over channels, "
        "as timm adapts them) and a 7-way head, on 48x48 input.",
        "ImageNet weights only when given offline (--pretrained PATH or the timm/HF cache); "
        "otherwise trained from scratch and the record says pretrained: false.",
    ),
    tags=("seed", "resnet"),
)


class SahiCNN(nn.Module):
    def __init__(self, num_classes: int = 7, in_chans: int = 1, attention: bool = False) -> None:
        super().__init__()
        block = dict(dropout=0.25, bn_before_relu=False)
        self.features = nn.Sequential(
            conv_bn(in_chans, 64, 3, **block),    # 64x24x24
            conv_bn(64, 128, 5, **block),         # 128x12x12
            conv_bn(128, 512, 3, **block),        # 512x6x6
        )
        self.attention = SpatialChannelAttention(512) if attention else nn.Identity()
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(512 * 6 * 6, 256), nn.ReLU(inplace=True), nn.BatchNorm1d(256),
            Dropout(0.25), nn.Linear(256, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.attention(self.features(x)))


class SpatialChannelAttention(nn.Module):
    """Squeeze-and-excitation, then A[i,j,k] = softmax_{(i,j)}(Q[i,j,k] * K[i,j,k])."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.se = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, channels // reduction, 1), nn.ReLU(inplace=True),
            nn.Conv2d(channels // reduction, channels, 1), nn.Sigmoid(),
        )
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        x = x * self.se(x)
        scores = (self.q(x) * self.k(x)).flatten(2)             # (B, C, H*W)
        a = torch.softmax(scores.float(), dim=-1).to(x.dtype).view_as(x)
        return x * a


@register_model(CNN_CARD)
def sahi_cnn(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return keras_init_(SahiCNN(num_classes, in_chans))


@register_model(ATTENTION_CARD)
def sahi_attention_cnn(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return keras_init_(SahiCNN(num_classes, in_chans, attention=True))


@register_model(RESNET_CARD)
def sahi_resnet50(num_classes: int = 7, in_chans: int = 1, pretrained: bool | str = False) -> nn.Module:
    return create_timm("resnet50", num_classes, in_chans, pretrained)
