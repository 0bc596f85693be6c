"""Building blocks shared by the papers' Keras-style CNNs."""

from __future__ import annotations

import torch
from torch import nn


class _BitsDropout(torch.autograd.Function):
    """Dropout whose keep-mask is read off random 16-bit integers: torch's CPU bernoulli_ draws one random
    number per element through a slow path (a quarter of bodapati_cnn's bf16 training step,
    results/perf/precision.md); one 64-bit draw here serves four elements."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, p: float) -> torch.Tensor:
        bits = torch.randint(-2 ** 63, 2 ** 63 - 1, ((x.numel() + 3) // 4,), dtype=torch.int64, device=x.device)
        # The mask takes x's strides (x is dense: contiguous or channels_last), so that the element-wise ops
        # below walk both in the same order; the bits are i.i.d., so any layout gives the same distribution.
        u16 = torch.as_strided(bits.view(torch.int16), x.shape, x.stride())
        # Written straight in x's dtype (the scale rounds as a float32 -> x.dtype cast would): no float32 pass.
        scale, zero = (torch.tensor(v, dtype=x.dtype, device=x.device) for v in (1 / (1 - p), 0.0))
        mask = torch.where(u16 >= round(p * 65536) - 32768, scale, zero)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (mask,) = ctx.saved_tensors
        return grad * mask, None


class Dropout(nn.Dropout):
    """nn.Dropout with the same law (each element kept with probability 1 - p, kept ones scaled by 1 / (1 - p);
    p resolved to 1/65536) and a cheaper mask on the CPU. Elsewhere, and for non-dense inputs, torch's own."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dense = x.is_contiguous() or (x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last))
        if not (self.training and 0 < self.p < 1 and x.device.type == "cpu" and dense and not self.inplace):
            return super().forward(x)
        return _BitsDropout.apply(x, self.p)


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
        layers.append(Dropout(dropout))
    return nn.Sequential(*layers)
