"""Batched data augmentation on image tensors, on whatever device the batch is on.

One affine warp per batch (rotation, shift, zoom, shear and flip folded into one
2x3 matrix per image) instead of per-image PIL transforms in Python. Random
parameters are drawn on the CPU from a seeded generator, so a seed gives the same
augmentation on CPU and CUDA.

Hand-written rather than a library's because it is measured to be faster: torchvision.transforms.v2
applied image by image (each image its own parameters, as here) gave 20-24x fewer images per second
on the same batches (benchmarks/perf/augment_per_sample.py -> results/perf/augment_per_sample.md).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges in Keras ImageDataGenerator terms, since that is how the papers state them."""

    hflip: bool = False           # horizontal flip with probability 0.5
    vflip: bool = False           # vertical flip with probability 0.5 (seed 000 mentions it)
    rotation: float = 0.0         # degrees, uniform in [-rotation, rotation]
    shift: float = 0.0            # fraction of the image size, per axis
    zoom: float = 0.0             # scale uniform in [1 - zoom, 1 + zoom]
    shear: float = 0.0            # degrees, like Keras' shear_range (keras-preprocessing >= 1.0.6)
    brightness: tuple[float, float] | None = None  # multiplicative factor range
    fill: str = "border"          # grid_sample padding: border (= Keras 'nearest'), zeros, reflection
    erase: float = 0.0            # random erasing probability (Zhong et al. 2017; torchvision's ranges)

    @property
    def geometric(self) -> bool:
        return bool(self.rotation or self.shift or self.zoom or self.shear)

    @property
    def active(self) -> bool:
        return self.geometric or self.hflip or self.vflip or self.brightness is not None or self.erase > 0

    def to_dict(self) -> dict:
        return asdict(self)


def _uniform(n: int, lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) * (hi - lo) + lo


def augment(x: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    """Augment a float batch (B, C, H, W) in [0, 1]; returns a new tensor, same shape and range."""
    if not cfg.active:
        return x
    b = x.shape[0]
    flip_x = torch.where(torch.rand(b, generator=g) < 0.5, -1.0, 1.0) if cfg.hflip else torch.ones(b)
    flip_y = torch.where(torch.rand(b, generator=g) < 0.5, -1.0, 1.0) if cfg.vflip else torch.ones(b)
    if cfg.geometric:
        ang = torch.deg2rad(_uniform(b, -cfg.rotation, cfg.rotation, g))
        shear = torch.deg2rad(_uniform(b, -cfg.shear, cfg.shear, g))
        scale = 1.0 / _uniform(b, 1 - cfg.zoom, 1 + cfg.zoom, g)  # sampling grid shrinks = zoom in
        tx = _uniform(b, -cfg.shift, cfg.shift, g) * 2  # normalised coordinates span 2
        ty = _uniform(b, -cfg.shift, cfg.shift, g) * 2
        cos, sin, tan = torch.cos(ang), torch.sin(ang), torch.tan(shear)
        # theta maps output pixel coordinates to input ones: R(ang) @ Shear @ S(scale) @ Flip
        theta = torch.stack([cos * scale * flip_x, (cos * tan - sin) * scale * flip_y, tx,
                             sin * scale * flip_x, (sin * tan + cos) * scale * flip_y, ty], 1).view(b, 2, 3)
        theta = theta.to(device=x.device, dtype=x.dtype, non_blocking=True)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode=cfg.fill, align_corners=False)
    else:
        # Flips alone are exact: no interpolation.
        fx = (flip_x < 0).to(x.device).view(b, 1, 1, 1)
        fy = (flip_y < 0).to(x.device).view(b, 1, 1, 1)
        x = torch.where(fx, x.flip(-1), x)
        x = torch.where(fy, x.flip(-2), x)
    if cfg.brightness is not None:
        lo, hi = cfg.brightness
        factor = _uniform(b, lo, hi, g).to(device=x.device, dtype=x.dtype).view(b, 1, 1, 1)
        x = x.mul_(factor).clamp_(0.0, 1.0)   # in place: the warp or the flips above made x, not the caller
    if cfg.erase > 0:
        x = random_erase(x, cfg.erase, g)
    return x


def random_erase(x: torch.Tensor, p: float, g: torch.Generator,
                 area: tuple[float, float] = (0.02, 0.33), ratio: tuple[float, float] = (0.3, 3.3)) -> torch.Tensor:
    """Zero one random rectangle per image with probability p, as torchvision's RandomErasing
    (area fraction and log-uniform aspect ratio from the same ranges), for a whole batch at once.
    Rectangles that would not fit are clipped to the image instead of re-drawn."""
    b, _, h, w = x.shape
    a = _uniform(b, *area, g) * h * w
    r = torch.exp(_uniform(b, math.log(ratio[0]), math.log(ratio[1]), g))
    eh = (a * r).sqrt().round().clamp(1, h)
    ew = (a / r).sqrt().round().clamp(1, w)
    top = (torch.rand(b, generator=g) * (h - eh + 1)).floor()
    left = (torch.rand(b, generator=g) * (w - ew + 1)).floor()
    on = torch.rand(b, generator=g) < p
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    # The box is the outer product of a row band and a column band: one full-size op instead of five.
    in_rows = (rows >= top.view(b, 1, 1)) & (rows < (top + eh).view(b, 1, 1)) & on.view(b, 1, 1)
    in_cols = (cols >= left.view(b, 1, 1)) & (cols < (left + ew).view(b, 1, 1))
    return x.masked_fill((in_rows & in_cols).unsqueeze(1).to(x.device, non_blocking=True), 0.0)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, H, W) -> float (B, 1, H, W) in [0, 1]."""
    return images.unsqueeze(1).float().div_(255.0)

