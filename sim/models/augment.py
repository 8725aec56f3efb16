"""Training-time augmentation on whole batches (random crop with zero padding, horizontal flip).

Runs on the batch's device; every random draw comes from the given CPU
``torch.Generator``, so a run is reproducible and resumable from its state.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["augment_batch"]


def augment_batch(x: torch.Tensor, gen: torch.Generator, *, crop_pad: int, flip: bool) -> torch.Tensor:
    """Random ``crop_pad``-pixel shifts (zero fill) and, if ``flip``, mirror each image with probability 1/2."""
    n, c, h, w = x.shape
    if crop_pad > 0:
        oy = torch.randint(0, 2 * crop_pad + 1, (n,), generator=gen).to(x.device)
        ox = torch.randint(0, 2 * crop_pad + 1, (n,), generator=gen).to(x.device)
        padded = F.pad(x, (crop_pad, crop_pad, crop_pad, crop_pad))
        rows = (oy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        batch = torch.arange(n, device=x.device)[:, None, None, None]
        chan = torch.arange(c, device=x.device)[None, :, None, None]
        x = padded[batch, chan, rows, cols]
    if flip:
        mirror = (torch.rand(n, generator=gen) < 0.5).to(x.device)[:, None, None, None]
        x = torch.where(mirror, x.flip(3), x)
    return x
