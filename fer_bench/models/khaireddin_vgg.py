"""Khaireddin & Chen (2021), "Facial Emotion Recognition: State of the Art Performance on
FER2013": the VGG-style network of their public code (usef-kh/fer), the strongest published
single network on FER-2013 (73.28%)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fer_bench.models.crops import CropAveraging, random_crop, ten_crop
from fer_bench.models.layers import Dropout
from fer_bench.models.registry import Claim, ModelCard, register_model

CARD = ModelCard(
    name="khaireddin_vgg",
    paper="Khaireddin & Chen, Facial Emotion Recognition: State of the Art Performance on FER2013",
    year=2021, authors="Khaireddin & Chen",
    source="public reference (arXiv 2105.03588; code usef-kh/fer)",
    recipe="khaireddin_sgd",
    claims=(Claim("accuracy", 0.7328, "FER-2013 PrivateTest",
                  "their code selects the checkpoint on PrivateTest", epochs=300),),
    interpretation=(
        "Layers as in their code: four blocks of two 3x3 convs (64, 128, 256, 512) with BN and ReLU, "
        "max-pool after each block, on 40x40 crops (-> 512x2x2), dense 4096-4096-7 with dropout 0.2.",
        "Crops live inside the model so it takes the suite's 48x48 batches: training uses one random "
        "40x40 crop per image (their code trains on all ten crops, 10x the compute), evaluation "
        "averages the logits of the ten crops, as their code does.",
        "Their per-image RandomErasing and colour jitter on ten crops are not reproduced; the recipe's "
        "batched augmentation covers resized crop, shift, flip, rotation and brightness.",
    ),
    tags=("reference", "vgg"),
    eval_view="ten-crop",
)


class KhaireddinVGG(CropAveraging):
    crop = 40
    eval_crops = 10     # their ten-crop protocol

    def __init__(self, num_classes: int = 7, in_chans: int = 1, drop: float = 0.2,
                 widths: tuple[int, ...] = (64, 128, 256, 512), hidden: int = 4096) -> None:
        super().__init__()
        chans = [in_chans, *widths]
        blocks = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            blocks += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                       nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
        self.features = nn.Sequential(*blocks)
        side = self.crop // 2 ** len(widths)
        self.lin1 = nn.Linear(widths[-1] * side * side, hidden)
        self.lin2 = nn.Linear(hidden, hidden)
        self.lin3 = nn.Linear(hidden, num_classes)
        self.drop = Dropout(drop)

    def forward_crops(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x).flatten(1)
        x = F.relu(self.drop(self.lin1(x)))      # their order: dropout, then ReLU
        x = F.relu(self.drop(self.lin2(x)))
        return self.lin3(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] == self.crop:
            return self.forward_crops(x)
        if self.training and self.train_random_crop:
            return self.forward_crops(random_crop(x, self.crop))
        b = x.shape[0]
        o = (x.shape[-1] - self.crop) // 2
        centre = x[..., o:o + self.crop, o:o + self.crop]
        if self.training or self.eval_crops == 1:
            return self.forward_crops(centre)
        if self.eval_crops == 2:
            return self.forward_crops(torch.cat([centre, centre.flip(-1)])).view(2, b, -1).mean(0)
        return self.forward_crops(ten_crop(x, self.crop)).view(10, b, -1).mean(0)


@register_model(CARD)
def khaireddin_vgg(num_classes: int = 7, in_chans: int = 1) -> nn.Module:
    return KhaireddinVGG(num_classes, in_chans)
