"""MRF patch style loss (Li & Wand 2016) with semantic label channels (Champandard 2016)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .patches import DEFAULT_CHUNK_ELEMENTS, extract_patches, match_keys, match_patches

__all__ = ["MRFLoss", "pool_labels"]


def pool_labels(labels: Tensor, size: tuple[int, int]) -> Tensor:
    """Average-pool label channels to a layer's resolution. ``(1, K, H, W)`` -> ``(1, K, h, w)``."""
    return F.adaptive_avg_pool2d(labels, size)


class MRFLoss(nn.Module):
    """Pull every patch of the generated features toward its best-matching style patch.

    For each ``size x size`` patch of the generated features, the style patch with the highest
    normalized cross-correlation is found (with label channels: ``ncc(features) +
    semantic_weight * ncc(labels)``, so a "sea" patch only matches sea). The loss is the mean
    squared distance to the matches, which are constants (found under ``no_grad``).

    Parameters
    ----------
    style : (1, C, H, W) tensor
        Style features at this layer.
    style_labels, target_labels : (1, K, H, W) and (1, K, h, w) tensors, or None
        Label channels of the style and of the output, already pooled to this layer's size.
    semantic_weight : float
    size, stride : int
        Patch size; stride between style patches (the output's patches always use stride 1).

    The matches are searched on the first call and again after :meth:`refresh`; in between they
    are reused (the image changes little from one L-BFGS step to the next, and a line search
    needs a fixed objective).

    Shape: ``forward((1, C, h, w)) -> scalar``.
    """

    def __init__(self, style: Tensor, style_labels: Tensor | None = None, target_labels: Tensor | None = None,
                 *, semantic_weight: float = 0.0, size: int = 3, stride: int = 1,
                 chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> None:
        super().__init__()
        if (style_labels is None) != (target_labels is None):
            raise ValueError("give label channels for both the style and the target, or for neither")
        self.size, self.semantic_weight, self.chunk_elements = size, semantic_weight, chunk_elements
        self.matches: Tensor | None = None
        with torch.no_grad():
            patches = extract_patches(style, size, stride)
            style_label_patches = None if style_labels is None else extract_patches(style_labels, size, stride)
            self.register_buffer("patches", patches)
            self.register_buffer("keys", match_keys(patches, style_label_patches, semantic_weight))
            self.register_buffer("scale", patches.pow(2).mean().clamp_min(1e-8))
            target = None if target_labels is None else extract_patches(target_labels, size, 1)
            self.register_buffer("target_label_patches", target)

    def refresh(self) -> None:
        """Search for new matches on the next call."""
        self.matches = None

    def match(self, features: Tensor) -> Tensor:
        """Index of the best style patch for each output patch. ``(1, C, h, w)`` -> ``(N,)``."""
        return self._match_rows(extract_patches(features.detach(), self.size))

    def _match_rows(self, patches: Tensor) -> Tensor:
        with torch.no_grad():
            queries = match_keys(patches, self.target_label_patches, self.semantic_weight)
            return match_patches(queries, self.keys, chunk_elements=self.chunk_elements)

    def forward(self, features: Tensor) -> Tensor:
        patches = extract_patches(features, self.size)
        if self.matches is None:
            self.matches = self._match_rows(patches.detach())
        matched = self.patches[self.matches]
        return (patches - matched).pow(2).mean() / self.scale
