"""Building blocks shared by the papers' Keras-style CNNs."""

from __future__ import annotations

from torch import nn


def conv_bn(cin: int, cout: int, k: int = 3, padding: str | int = "same", dropout: float = 0.0,
            pool: bool = True, bn_before_relu: bool = True) -> nn.Sequential:
    """Conv -> BatchNorm -> ReLU [-> MaxPool 2] [-> Dropout]: the Keras FER block.

    Keras code usually writes Conv2D(activation='relu') then BatchNormalization, i.e.
    ReLU before BN; `bn_before_relu=False` gives that order.
    """
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, padding=padding)]
    act = nn.ReLU(inplace=True)
    layers += [nn.BatchNorm2d(cout), act] if bn_before_relu else [act, nn.BatchNorm2d(cout)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)
