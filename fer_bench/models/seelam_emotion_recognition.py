"""Seelam, Devaraj, Dharavathu: "Image Classification: Emotion Recognition" (seed 003)."""

from __future__ import annotations

from torch import nn

from fer_bench.models.layers import Dropout, conv_bn
from fer_bench.models.registry import Claim, ModelCard, keras_init_, register_model

CARD = ModelCard(
    name="seelam_cnn",
    paper="Seelam, Devaraj & Dharavathu, Image Classification: Emotion Recognition",
    year=None, authors="Seelam, Devaraj & Dharavathu",
    source="seeds/003",
    recipe="seelam_adam",
    claims=(
        Claim("accuracy", 0.6612, "validation (their split)", "epoch 219 of 239; train 81.51%",
              measured="val", epochs=239,
              not_comparable="other split: the paper's own validation split; PublicTest is shown for reference"),
    ),
    interpretation=(
        "Layer list followed exactly; Keras defaults fill the gaps: 'valid' padding (feature maps "
        "46-23, 21-10, 8-4, 2-1), ReLU inside the conv, BatchNorm after it, Glorot init.",
        "Keras L2(l) on the four conv kernels and the dense-256 kernel (1e-3 on the first conv, "
        "1e-2 on the rest), not on biases, BN or the output layer: applied as coupled weight decay "
        "2*l on exactly those tensors (the `keras_l2` attribute), not AdamW.",
        "The claim is a validation number; the suite's headline is PrivateTest with PublicTest "
        "selection.",
    ),
    tags=("seed", "cnn"),
)


class SeelamCNN(nn.Module):
    def __init__(self, num_classes: int = 7, in_chans: int = 1) -> None:
        super().__init__()
        block = dict(padding=0, dropout=0.4, bn_before_relu=False)
        self.features = nn.Sequential(
            conv_bn(in_chans, 32, **block),   # 32x46x46 -> 23x23
            conv_bn(32, 64, **block),         # 64x21x21 -> 10x10
            conv_bn(64, 128, **block),        # 128x8x8 -> 4x4
            conv_bn(128, 512, **block),       # 512x2x2 -> 1x1
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(512, 256), nn.ReLU(inplace=True), Dropout(0.5),
            nn.Linear(256, num_classes),
        )
        # parameter name -> Keras L2 factor l (loss += l * sum(w^2))
        self.keras_l2 = {
            "features.0.0.weight": 1e-3, "features.1.0.weight": 1e-2, "features.2.0.weight": 1e-2,
            "features.3.0.weight": 1e-2, "classifier.1.weight": 1e-2,
        }

    def forward(self, x):
        return self.classifier(self.features(x))


@register_model(CARD)
def seelam_cnn(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return keras_init_(SeelamCNN(num_classes, in_chans))
