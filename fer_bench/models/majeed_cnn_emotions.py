"""Majeed, Naeem, Saeed: "Utilization of Convolutional Neural Network for Effective
Recognition of Complex and Common Facial Emotions" (seed 002)."""

from __future__ import annotations

from torch import nn

from fer_bench.models.layers import Dropout
from fer_bench.models.registry import Claim, ModelCard, keras_init_, register_model

PAPER = "Majeed, Naeem & Saeed, Utilization of CNN for Effective Recognition of Complex and Common Facial Emotions"

MAJEED_CNN = ModelCard(
    name="majeed_cnn",
    paper=PAPER,
    year=None,  # the seed text gives no publication date
    authors="Majeed, Naeem & Saeed",
    source="seeds/002",
    recipe="majeed_sgd",
    claims=(
        Claim("accuracy", 0.7292, "FER-2013 test (PrivateTest)", "76 epochs; validation 0.64", epochs=76),
        Claim("accuracy", 0.8510, "self-made natural set (337/396)", measured="natural", epochs=76,
              not_comparable="other data: the paper's own 396 photos; ours are 370 crops of other photos"),
    ),
    interpretation=(
        "Layer table (Table I) is complete and followed exactly: 8,779,047 parameters.",
        "Softmax is folded into the cross-entropy loss; the module outputs logits.",
        "Dropout placement: after the ReLU of dense layers 8 (0.6) and 9 (0.4).",
        "Keras default initialisation (Glorot-uniform, zero bias); the paper names none. On the real "
        "data it learns faster than PyTorch's default: val acc 0.356 vs 0.325 after 2 epochs (flip-only "
        "augmentation, seed 0).",
    ),
    expected_params=8_779_047,
    tags=("seed", "cnn"),
)


class MajeedCNN(nn.Module):
    """Table I: 1x1 conv, then 5x5 / 3x3 / 3x3 convs with 2x2 pooling, two dense layers."""

    def __init__(self, num_classes: int = 7, in_chans: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 32, 1), nn.ReLU(inplace=True),             # 32x48x48
            nn.Conv2d(32, 32, 5), nn.ReLU(inplace=True),                   # 32x44x44
            nn.MaxPool2d(2),                                               # 32x22x22
            nn.Conv2d(32, 64, 3), nn.ReLU(inplace=True),                   # 64x20x20
            nn.MaxPool2d(2),                                               # 64x10x10
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(inplace=True),       # 128x10x10
            nn.MaxPool2d(2),                                               # 128x5x5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(128 * 5 * 5, 2048), nn.ReLU(inplace=True), Dropout(0.6),
            nn.Linear(2048, 1024), nn.ReLU(inplace=True), Dropout(0.4),
            nn.Linear(1024, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


@register_model(MAJEED_CNN)
def majeed_cnn(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return keras_init_(MajeedCNN(num_classes, in_chans))


LENET5 = ModelCard(
    name="lenet5",
    paper="LeNet-5 (LeCun et al. 1998), as re-run by " + PAPER,
    year=1998, authors="LeCun et al.",
    source="seeds/002 (baseline it re-ran)",
    recipe="majeed_sgd",
    claims=(),
    interpretation=(
        "Classic LeNet-5 shape on 48x48 input: conv5x5 6 - maxpool - conv5x5 16 - maxpool - "
        "dense 120 - dense 84 - dense 7, ReLU and max-pooling (the modern reading; the 1998 network "
        "used tanh and trainable sub-sampling). seed 002 does not give its variant.",
        "Trained with the seed-002 recipe, as the paper compares them under its own set-up.",
        "Table II's numbers (0.6455, 0.7074, 0.7142) are for three cited references, and the text "
        "does not say which is LeNet-5; no claim is attached here.",
    ),
    tags=("seed", "baseline", "cnn"),
)


class LeNet5(nn.Module):
    def __init__(self, num_classes: int = 7, in_chans: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 6, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),   # 6x22x22
            nn.Conv2d(6, 16, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),         # 16x9x9
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 9 * 9, 120), nn.ReLU(inplace=True),
            nn.Linear(120, 84), nn.ReLU(inplace=True), nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


@register_model(LENET5)
def lenet5(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return keras_init_(LeNet5(num_classes, in_chans))
