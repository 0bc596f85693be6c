"""Batched crops for networks trained on crops of the 48x48 faces (ten-crop protocols)."""

from __future__ import annotations

import torch
from torch import nn


class CropAveraging(nn.Module):
    """A network that sees crops of the 48x48 face and averages its evaluation crops. Training and scoring set
    its view through this typed interface (isinstance, never by probing attributes); a plugin with the same
    protocol subclasses it. Its card's `eval_view` states the view its own numbers are scored in."""

    crop: int = 40
    # 10 = ten-crop; 2 = centre crop and its mirror (fast validation); 1 = the centre crop alone (the single view
    # every other model is ranked in)
    eval_crops: int = 10
    # False: training sees the centre crop too (recipes with model_crop=False: the data path shifts instead)
    train_random_crop: bool = True

    @property
    def mirror_invariant(self) -> bool:
        """Centre + mirror and ten-crop evaluation already hold every crop's mirror: the mirrored image
        gives the same crops, so an hflip-TTA pass would repeat the same logits at twice the cost."""
        return self.eval_crops in (2, 10)


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
