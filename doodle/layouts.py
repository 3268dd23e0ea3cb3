"""Doodles to train a feed-forward painter on, made from the painting's own map.

Most are the map itself cropped at a random place, scaled, mirrored and smoothly warped; the rest are
maps of random blobs in the same labels, so the painter also sees layouts the painting lacks (a
label beside another it never touches there, a region of an unusual shape or size).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["LayoutSampler"]


class LayoutSampler:
    """Random training doodles of ``size x size`` from a painting's label channels.

    Parameters
    ----------
    labels : (1, K, H, W) tensor
        The painting's label weights (summing to 1 over K).
    size : int
        Side of every doodle.
    synthetic : float
        Share of random-blob maps; the rest are warped crops of ``labels``.
    scales : (low, high)
        Range of the crops' scale (log-uniform); 1 keeps the painting's scale, so brush strokes keep
        their size. A map smaller than ``size`` is scaled up to fit.
    warp : float
        Largest displacement of the smooth warp, as a share of the doodle's side.
    generator : torch.Generator, optional

    Shape: ``sampler(batch) -> (batch, K, size, size)``.
    """

    def __init__(
        self,
        labels: Tensor,
        size: int,
        *,
        synthetic: float = 0.25,
        scales: tuple[float, float] = (0.75, 1.33),
        warp: float = 0.06,
        generator: torch.Generator | None = None,
    ) -> None:
        self.labels, self.size, self.synthetic, self.scales, self.warp = labels.float(), size, synthetic, scales, warp
        self.generator = generator
        self.frequency = self.labels.mean(dim=(0, 2, 3))  # (K,) share of each label

    def _uniform(self, *shape: int) -> Tensor:
        return torch.rand(shape, generator=self.generator)

    def __call__(self, batch: int) -> Tensor:
        return torch.cat([self._blobs() if self._uniform(1) < self.synthetic else self._crop() for _ in range(batch)])

    def _crop(self) -> Tensor:
        """The map, cropped, scaled, perhaps mirrored and warped. -> ``(1, K, size, size)``."""
        height, width = self.labels.shape[-2:]
        low, high = (math.log(s) for s in self.scales)
        scale = math.exp(low + (high - low) * float(self._uniform(1)))
        side = min(self.size / scale, height, width)  # the crop's side in map pixels
        # Centred on a random pixel of a random label: a small label is seen as often as a large one.
        label = int(self._uniform(1) * self.labels.shape[1])
        ys, xs = torch.nonzero(self.labels[0, label] > 0.5, as_tuple=True)
        if len(ys):
            pick = int(self._uniform(1) * len(ys))
            centre_y, centre_x = float(ys[pick]), float(xs[pick])
        else:
            centre_y, centre_x = float(self._uniform(1)) * height, float(self._uniform(1)) * width
        top = min(max(centre_y - side / 2, 0.0), height - side)
        left = min(max(centre_x - side / 2, 0.0), width - side)
        # affine_grid's coordinates: [-1, 1] across the whole map.
        flip = -1.0 if self._uniform(1) < 0.5 else 1.0
        theta = torch.tensor(
            [
                [flip * side / width, 0.0, (2 * left + side) / width - 1],
                [0.0, side / height, (2 * top + side) / height - 1],
            ]
        )[None]
        grid = F.affine_grid(theta, [1, 1, self.size, self.size], align_corners=False)
        grid = grid + self._displacement() * torch.tensor([side / width, side / height])
        return F.grid_sample(self.labels, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def _displacement(self) -> Tensor:
        """A smooth random field of offsets, at most ``warp`` of the side. -> ``(1, size, size, 2)``."""
        coarse = (self._uniform(1, 2, 4, 4) * 2 - 1) * self.warp * 2  # x2: [-1, 1] spans the side twice
        field = F.interpolate(coarse, size=(self.size, self.size), mode="bicubic", align_corners=True)
        return field.permute(0, 2, 3, 1)

    def _blobs(self) -> Tensor:
        """Random smooth regions in the painting's labels, common ones more often. -> ``(1, K, size, size)``."""
        count = len(self.frequency)
        cells = 2 + int(self._uniform(1) * 5)  # 2..6 blobs across
        fields = F.interpolate(self._uniform(1, count, cells, cells), size=(self.size, self.size), mode="bicubic")
        bias = 0.3 * self.frequency.clamp_min(1e-3).log()
        kept = self._uniform(count) > 0.3
        kept[int(self.frequency.argmax())] = True  # never no label at all
        scores = torch.where(kept[None, :, None, None], fields + bias[None, :, None, None], -math.inf)
        hard = F.one_hot(scores.argmax(dim=1), count).permute(0, 3, 1, 2).float()
        return F.avg_pool2d(hard, 3, stride=1, padding=1, count_include_pad=False)  # soft edges, as drawn maps
