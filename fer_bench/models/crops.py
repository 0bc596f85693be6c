"""Batched crops for networks trained on crops of the 48x48 faces (ten-crop protocols)."""

from __future__ import annotations

import torch


def random_crop(x: torch.Tensor, size: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """One random size x size crop per image of a (B, C, H, W) batch."""
    b, c, h, w = x.shape
    oy = torch.randint(0, h - size + 1, (b,), generator=generator).to(x.device)
    ox = torch.randint(0, w - size + 1, (b,), generator=generator).to(x.device)
    ar = torch.arange(size, device=x.device)
    rows = (oy[:, None] + ar)[:, :, None]            # (B, size, 1)
    cols = (ox[:, None] + ar)[:, None, :]            # (B, 1, size)
    bi = torch.arange(b, device=x.device)[:, None, None]
    return x.permute(0, 2, 3, 1)[bi, rows, cols].permute(0, 3, 1, 2).contiguous()


def ten_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    """(10 * B, C, size, size): four corners and centre, then the same of the mirrored batch
    (torchvision's TenCrop order), crop-major so that `.view(10, B, ...)` regroups them."""
    h, w = x.shape[-2:]
    cy, cx = (h - size) // 2, (w - size) // 2
    boxes = [(0, 0), (0, w - size), (h - size, 0), (h - size, w - size), (cy, cx)]
    crops = [x[..., y:y + size, x0:x0 + size] for y, x0 in boxes]
    flipped = x.flip(-1)
    crops += [flipped[..., y:y + size, x0:x0 + size] for y, x0 in boxes]
    return torch.cat(crops)
