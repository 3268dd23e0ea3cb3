"""MRF patch style loss (Li & Wand 2016) with semantic label channels (Champandard 2016)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .patches import (DEFAULT_CHUNK_ELEMENTS, ProjectedSearch, extract_patches, label_presence, match_keys,
                      match_patches, match_patches_by_label)

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
    matcher : "exact" | "fast"
        ``fast`` short-lists candidates in a 64-dimensional projection and scores them exactly
        (:class:`ProjectedSearch`); used only where patches are longer than that.

    With label channels and a semantic weight above the range of the feature NCC, each output
    patch lying in one label is searched only among style patches touching that label: the same
    answer as the full search, at a fraction of its cost.

    Between searches the loss is evaluated without cutting patches: with the matched patches
    folded back onto the map (``T``) and the number of patches covering each position (``W``),
    ``sum_i |P_i(F) - S_m(i)|^2 = sum W * (F - T / W)^2 + c``, an elementwise loss on ``F``.

    The matches are searched on the first call and again after :meth:`refresh`; in between they
    are reused (the image changes little from one L-BFGS step to the next, and a line search
    needs a fixed objective).

    Shape: ``forward((1, C, h, w)) -> scalar``.
    """

    def __init__(self, style: Tensor, style_labels: Tensor | None = None, target_labels: Tensor | None = None,
                 *, semantic_weight: float = 0.0, size: int = 3, stride: int = 1,
                 matcher: str = "exact", chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> None:
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
            # Feature NCC lies in [0, 1] for non-negative (ReLU) features, else in [-1, 1]; with a
            # semantic weight above that range (plus a margin for soft edges), a patch never
            # matches outside its label, and the search can be split by label.
            feature_range = 1.0 if bool((patches >= 0).all()) else 2.0
            self.by_label = target is not None and semantic_weight >= 1.25 * feature_range
            if self.by_label:
                labels = target_labels.shape[1]
                self.register_buffer("key_labels", label_presence(style_label_patches, labels))
                self.register_buffer("query_labels", label_presence(target, labels))
            self.search = None
            if matcher == "fast" and self.keys.shape[1] > 4 * 64:
                self.search = ProjectedSearch(self.keys, chunk_elements=chunk_elements)

    def refresh(self) -> None:
        """Search for new matches on the next call."""
        self.matches = None

    def match(self, features: Tensor) -> Tensor:
        """Index of the best style patch for each output patch. ``(1, C, h, w)`` -> ``(N,)``."""
        return self._match_rows(extract_patches(features.detach(), self.size))

    def _match_rows(self, patches: Tensor) -> Tensor:
        with torch.no_grad():
            queries = match_keys(patches, self.target_label_patches, self.semantic_weight)
            if self.by_label:
                return match_patches_by_label(queries, self.keys, self.query_labels, self.key_labels,
                                              chunk_elements=self.chunk_elements, search=self.search)
            if self.search is not None:
                return self.search(queries, self.keys, None)
            return match_patches(queries, self.keys, chunk_elements=self.chunk_elements)

    def _fold_matches(self, features: Tensor) -> None:
        """Search matches for ``features`` and fold them into the targets of the elementwise loss."""
        with torch.no_grad():
            self.matches = self.match(features)
            matched = self.patches[self.matches]  # (N, C * k * k)
            size, shape = self.size, features.shape[-2:]
            fold = lambda rows: F.fold(rows.t()[None], shape, kernel_size=size)  # noqa: E731
            self.coverage = fold(torch.ones_like(matched[:, :1]).expand(-1, size * size).contiguous())
            self.target = fold(matched) / self.coverage  # mean matched value at each position
            self.offset = matched.pow(2).sum() - (self.coverage * self.target.pow(2)).sum()
            self.elements = matched.numel()

    def forward(self, features: Tensor) -> Tensor:
        if self.matches is None:
            self._fold_matches(features)
        squared = (self.coverage * (features - self.target).pow(2)).sum() + self.offset
        return squared / self.elements / self.scale
