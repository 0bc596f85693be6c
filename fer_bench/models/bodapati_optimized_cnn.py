"""Bodapati, Maturi, Tanneru: "Deep Learning-Based Facial Emotion Recognition with Optimized
CNN" (seed 001). The layer figure is not in the text."""

from __future__ import annotations

from torch import nn

from fer_bench.models.layers import Dropout, conv_bn
from fer_bench.models.registry import Claim, ModelCard, keras_init_, register_model

CARD = ModelCard(
    name="bodapati_cnn",
    paper="Bodapati, Maturi & Tanneru, Deep Learning-Based Facial Emotion Recognition with Optimized CNN",
    year=None, authors="Bodapati, Maturi & Tanneru",
    source="seeds/001",
    recipe="bodapati_amsgrad",
    claims=(
        Claim("accuracy", 0.65, "image-folder test/ (PublicTest + PrivateTest, 7,177 images)",
              "blank images and emoji removed first; AMSGrad lr 0.01; the paper states no epoch count "
              "(our recipe's 30 is our choice)", measured="val+test"),
        Claim("macro_f1", 0.64, "image-folder test/ (PublicTest + PrivateTest)",
              "per-class table has class names out of order against the supports", measured="val+test"),
    ),
    interpretation=(
        "The layer figure is missing: the common Sequential 'conv + BatchNorm + max-pool + dropout' "
        "FER CNN is used: four 3x3 'same' conv blocks 64-128-256-512, each BN, ReLU, pool 2, "
        "dropout 0.25; dense 256 and 512, each BN, ReLU, dropout 0.25; dense 7.",
        "The paper tests on PublicTest + PrivateTest together; the suite reports PrivateTest "
        "(PublicTest selects the checkpoint), so its number is compared against a different split.",
        "Keras default initialisation.",
    ),
    tags=("seed", "cnn"),
)


class BodapatiCNN(nn.Module):
    def __init__(self, num_classes: int = 7, in_chans: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(in_chans, 64, dropout=0.25),    # 64x24x24
            conv_bn(64, 128, dropout=0.25),         # 128x12x12
            conv_bn(128, 256, dropout=0.25),        # 256x6x6
            conv_bn(256, 512, dropout=0.25),        # 512x3x3
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(512 * 3 * 3, 256), nn.BatchNorm1d(256), nn.ReLU(inplace=True), Dropout(0.25),
            nn.Linear(256, 512), nn.BatchNorm1d(512), nn.ReLU(inplace=True), Dropout(0.25),
            nn.Linear(512, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


@register_model(CARD)
def bodapati_cnn(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return keras_init_(BodapatiCNN(num_classes, in_chans))
