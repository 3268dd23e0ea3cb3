"""A doodle filled, label by label, with pieces of the painting: what a trained painter starts from.

Each region of the doodle is tiled with overlapping blocks of the painting (64 pixels by default,
at the painting's scale) cut from where the painting has the same label. Blocks are placed
*coherently*: each label's tiling is the painting shifted by one offset, so neighbouring blocks
come from neighbouring places and agree where they overlap (no seam). The offset brings the label's
centre in the painting near the region's centre in the doodle, so a sky keeps its light from
horizon to top. Where the shifted painting has another label, a block comes from the nearest place
that has the right one, picked at random among places about as near (so a large region fed by a
small one does not repeat one block). Blocks are feathered into one another and weighted by the
painting's own label at each pixel, so a block's pixels of other labels are never pasted.

This is "texture by numbers" from Hertzmann et al.'s Image Analogies (2001), and the canvas of Qi
et al.'s semi-parametric SIMS (2018). The pixels keep the painting's own brush strokes, which a
network trained for minutes on a CPU cannot invent; the network
(:class:`~doodle.generator.Generator`) learns to mend the seams and the edges between regions.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["Collage", "BLOCK"]

BLOCK = 64  # side of a block, in pixels of the painting at the scale the painter paints
_STEP = 4  # spacing of the places a block may be cut from
_SHIFT = 0.1  # largest offset of a label's tiling, as a share of the painting's side
_PURE = 0.9  # a block is cut from places at least this pure in its label (or the label's purest)
_SHARPNESS = 4  # exponent of the Hann window that feathers blocks into one another


class Collage:
    """Cuts doodles' regions from one painting.

    Parameters
    ----------
    painting : (3, Hs, Ws) tensor
        In ``[0, 1]``, at the scale the painter paints.
    labels : (K, Hs, Ws) tensor
        The painting's label weights.
    block : int
        Side of the blocks (smaller when the painting is).

    Shape: ``collage(labels (B, K, H, W), generator) -> (B, 3, H, W)``; a label absent from the
    painting is filled with grey.
    """

    def __init__(self, painting: Tensor, labels: Tensor, block: int = BLOCK) -> None:
        self.painting, labels = painting.float(), labels.float()
        height, width = painting.shape[-2:]
        self.block = max(_STEP, min(block, height, width) // _STEP * _STEP)
        coverage = F.avg_pool2d(labels[None], self.block, stride=_STEP)[0]  # (K, cy, cx)
        self.places = []  # per label: (N, 2) top-left corners of its blocks (None: a label it lacks)
        self.is_place = []  # per label: (cy, cx) bool, whether (y, x) * _STEP is one of its places
        for share in coverage:
            best = float(share.max())
            pure = share >= _PURE * min(best, 0.95)
            self.places.append(pure.nonzero() * _STEP if best > 0 else None)
            self.is_place.append(pure)
        self.window = _window(self.block)
        self.centres = [_centre(share) for share in labels]
        # What a block of label k pastes, per pixel: its colour times its weight, and its weight: the
        # pixel's label-k weight (a hair above 0, so a block is never all zero).
        weight = labels + 1e-4
        sources = torch.cat([self.painting[None] * weight[:, None], weight[:, None]], 1)  # (K, 4, Hs, Ws)
        self.sources = sources.flatten(2).transpose(1, 2).contiguous()  # (K, HsWs, 4): a pixel's 4 values together

    def __call__(self, labels: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return torch.cat([self._one(image, generator) for image in labels.float().cpu()]).to(labels.device)

    def _one(self, labels: Tensor, generator: torch.Generator | None) -> Tensor:
        """``labels (K, H, W)`` -> ``(1, 3, H, W)``: each label's fill, weighted by its label."""
        image = torch.zeros(1, 3, *labels.shape[-2:])
        for k, weight in enumerate(labels):
            if not weight.any():
                continue
            if self.places[k] is None:  # a label the painting lacks
                image += 0.5 * weight
            else:
                image += self._fill(k, weight, generator) * weight
        return image

    def _fill(self, label: int, weight: Tensor, generator: torch.Generator | None) -> Tensor:
        """The painting's ``label``, tiled over where ``weight (H, W)`` is not 0. -> ``(3, H, W)``."""
        height, width = weight.shape
        size, stride = self.block, self.block // 2
        source_height, source_width = self.painting.shape[-2:]
        # The block grid, shifted by a random phase so that seams fall in new places every time.
        # The first block starts a stride before the edge, so every pixel is well inside some block.
        phase = (torch.rand(2, generator=generator) * stride).long() + stride
        rows, cols = math.ceil((height + phase[0]) / stride) + 1, math.ceil((width + phase[1]) / stride) + 1
        # Blocks the label needs: block (r, c) is at (r, c) * stride in the weights padded by the phase.
        padded = F.pad(weight[None, None], (int(phase[1]), size + stride, int(phase[0]), size + stride))
        needed = (F.avg_pool2d(padded, size, stride=stride)[0, 0, :rows, :cols] > 0).nonzero()  # (n, 2)
        corners = needed * stride - phase  # in output pixels (may be < 0)
        # The painting shifted so that the label's centre falls on the region's, give or take.
        jitter = (torch.rand(2, generator=generator) * 2 - 1) * _SHIFT * torch.tensor([source_height, source_width])
        offset = self.centres[label] - _centre(weight) + jitter
        # ... and kept where every block falls in the range of the label's places, if the region fits.
        low, high = self.places[label].amin(0) - corners.amin(0), self.places[label].amax(0) - corners.amax(0)
        offset = torch.where(low <= high, torch.minimum(torch.maximum(offset, low), high), (low + high) / 2)
        wanted = ((corners + offset) / _STEP).round() * _STEP  # where the shifted painting is
        chosen = self._nearest_places(label, wanted, generator)
        margin = size + 2 * stride
        canvas = torch.zeros(height + 2 * margin, width + 2 * margin, 4)  # RGB x weight, weight
        self._paste(canvas, label, chosen, corners + margin)
        inside = canvas[margin : margin + height, margin : margin + width].permute(2, 0, 1)
        return inside[:3] / inside[3:].clamp_min(1e-20)  # (weights are > 0 wherever a block is)

    def _nearest_places(self, label: int, wanted: Tensor, generator: torch.Generator | None) -> Tensor:
        """For each ``wanted (n, 2)`` corner (a multiple of the places' spacing), a place of
        ``label``'s: itself when it is one, else one about as near as the nearest (a random pick,
        wider the farther). -> ``(n, 2)``."""
        is_place = self.is_place[label]
        grid = (wanted / _STEP).round().long()
        inside = ((grid >= 0) & (grid < torch.tensor(is_place.shape))).all(1)
        exact = inside.clone()
        exact[inside] = is_place[grid[inside, 0], grid[inside, 1]]
        chosen = grid * _STEP
        if exact.all():
            return chosen
        places = self.places[label].float()
        distance = torch.cdist(wanted[~exact].float(), places)  # (m, N)
        nearest = distance.min(1, keepdim=True).values
        logits = -(distance**2 - nearest**2) / (2 * nearest.clamp_min(1e-3) ** 2)
        gumbel = -torch.log(-torch.log(torch.rand(logits.shape, generator=generator).clamp(1e-12, 1 - 1e-7)))
        chosen[~exact] = self.places[label][(logits + gumbel).argmax(1)]
        return chosen

    def _paste(self, canvas: Tensor, label: int, sources: Tensor, corners: Tensor) -> None:
        """Add ``sources (n, 2)`` blocks of the painting, feathered and weighted by their pixels'
        ``label`` weight, into ``canvas (H', W', 4)`` at ``corners (n, 2)``."""
        size, offsets = self.block, torch.arange(self.block)
        source_width = self.painting.shape[-1]
        taken = (sources[:, 0, None, None] + offsets[:, None]) * source_width + sources[:, 1, None, None] + offsets
        values = self.sources[label].index_select(0, taken.flatten()).view(-1, size, size, 4) * self.window
        pasted = (corners[:, 0, None, None] + offsets[:, None]) * canvas.shape[1] + corners[:, 1, None, None] + offsets
        canvas.view(-1, 4).index_add_(0, pasted.flatten(), values.view(-1, 4))


def _window(size: int) -> Tensor:
    """A ``(size, size, 1)`` feathering window, above 0 everywhere."""
    window = torch.hann_window(size + 2, periodic=False)[1:-1] ** _SHARPNESS
    return (window[:, None] * window[None, :])[..., None]


def _centre(weight: Tensor) -> Tensor:
    """The weighted centre ``(y, x)`` of ``weight (H, W)``, in pixels."""
    total = weight.sum().clamp_min(1e-6)
    rows, cols = torch.arange(weight.shape[0], dtype=weight.dtype), torch.arange(weight.shape[1], dtype=weight.dtype)
    return torch.stack([(weight.sum(1) * rows).sum() / total, (weight.sum(0) * cols).sum() / total])
