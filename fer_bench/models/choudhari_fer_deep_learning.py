"""Choudhari, Giri, Khan: "Facial expression recognition system using Deep learning" (seed 000).

The paper names the layer types (conv, max-pooling, dropout, batch-norm, dense, softmax)
but gives no table; this is the common Keras FER-2013 CNN of that description.
"""

from __future__ import annotations

from torch import nn

from fer_bench.models.layers import Dropout, conv_bn
from fer_bench.models.registry import ModelCard, keras_init_, register_model

CARD = ModelCard(
    name="choudhari_cnn",
    paper="Choudhari, Giri & Khan, Facial expression recognition system using Deep learning",
    year=None, authors="Choudhari, Giri & Khan",
    source="seeds/000",
    recipe="choudhari_adam",
    claims=(),
    interpretation=(
        "No layer table: the common Keras FER-2013 CNN is used: conv32-conv64-pool-drop0.25, "
        "conv128-pool-conv128-pool-drop0.25, dense 1024-drop0.5, dense 7; 3x3 'same' convs, "
        "batch-norm after every conv (the paper names batch-norm).",
        "Keras default initialisation.",
    ),
    tags=("seed", "cnn"),
)


class ChoudhariCNN(nn.Module):
    def __init__(self, num_classes: int = 7, in_chans: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(in_chans, 32, pool=False),
            conv_bn(32, 64, dropout=0.25),          # 64x24x24
            conv_bn(64, 128),                       # 128x12x12
            conv_bn(128, 128, dropout=0.25),        # 128x6x6
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(128 * 6 * 6, 1024), nn.ReLU(inplace=True), Dropout(0.5),
            nn.Linear(1024, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


@register_model(CARD)
def choudhari_cnn(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return keras_init_(ChoudhariCNN(num_classes, in_chans))
