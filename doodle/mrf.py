"""MRF patch style loss (Li & Wand 2016) with semantic label channels (Champandard 2016)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .patchmatch import PatchMatch, rescale_matches
from .patches import (DEFAULT_CHUNK_ELEMENTS, extract_patches, label_keys, label_presence, match_keys,
                      match_patches, match_patches_by_label, projection_basis)

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
        ``exact`` searches all style patches every time. ``fast`` does so once and afterwards
        improves the previous matches with :class:`~doodle.patchmatch.PatchMatch`; matches inherited
        from a coarser phase (:meth:`inherit`) replace even the first full search. (A full search
        short-listed in a 64-d projection was tried for the first search: without labels it lost a
        portrait's face to the night sky.)
    generator : torch.Generator, optional
        Random candidates of the fast matcher (on the style's device).

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
                 matcher: str = "exact", chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if (style_labels is None) != (target_labels is None):
            raise ValueError("give label channels for both the style and the target, or for neither")
        self.size, self.stride, self.semantic_weight, self.chunk_elements = size, stride, semantic_weight, chunk_elements
        self.matches: Tensor | None = None  # best style patch of each output patch, from the last search
        self.query_grid: tuple[int, int] | None = None  # output patch positions (h, w) of those matches
        self.stale = True  # search on the next call
        self.inherited: tuple[Tensor, tuple[int, int], tuple[int, int]] | None = None
        with torch.no_grad():
            patches = extract_patches(style, size, stride)
            style_label_patches = None if style_labels is None else extract_patches(style_labels, size, stride)
            # Style features as rows (Hs * Ws, C): matched patches are gathered from here, never stored.
            self.register_buffer("style_rows", style[0].flatten(1).t().contiguous())
            self.style_width = style.shape[-1]
            self.register_buffer("key_squares", patches.pow(2).sum(1))  # |patch|^2 of each style patch
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
            self.patchmatch = None
            self.key_grid = ((style.shape[-2] - size) // stride + 1, (style.shape[-1] - size) // stride + 1)
            basis = None
            if matcher == "fast" and patches.shape[1] > 4 * 64:
                basis = projection_basis(self.keys, patches.shape[1])
            self.query_dominant = self.label_queries = None
            if matcher == "fast" and stride == 1:
                if target is not None and semantic_weight > 0:  # the label part of queries: fixed
                    self.label_queries = label_keys(target, semantic_weight)
                labels = target_labels.shape[1] if target is not None else 1
                self.query_dominant = None if target is None else _dominant(target, labels)
                self.patchmatch = PatchMatch(
                    self.keys, self.key_grid, patches.shape[1],
                    None if style_label_patches is None else _dominant(style_label_patches, labels),
                    basis=basis, label_count=labels, chunk_elements=chunk_elements, generator=generator)

    def refresh(self) -> None:
        """Search for new matches on the next call."""
        self.stale = True

    def inherit(self, coarser: "MRFLoss") -> None:
        """Start the fast matcher from the matches of the same layer in a coarser phase."""
        if coarser.matches is not None and coarser.query_grid is not None:
            self.inherited = (coarser.matches, coarser.query_grid, coarser.key_grid)

    def match(self, features: Tensor) -> Tensor:
        """Index of the best style patch for each output patch. ``(1, C, h, w)`` -> ``(N,)``."""
        grid = self._patch_grid(features)
        with torch.no_grad():
            patches = extract_patches(features.detach(), self.size)
            seed, rounds = self._seed(grid)
            if seed is not None:
                return self.patchmatch(patches, grid, seed, self.query_dominant, self.label_queries, rounds=rounds)
            return self._search(match_keys(patches, self.target_label_patches, self.semantic_weight))

    def _patch_grid(self, features: Tensor) -> tuple[int, int]:
        """Positions (h, w) of the output's patches: ``(1, C, H, W)`` -> ``(H - k + 1, W - k + 1)``."""
        return features.shape[-2] - self.size + 1, features.shape[-1] - self.size + 1

    def _seed(self, grid: tuple[int, int]) -> tuple[Tensor | None, int | None]:
        """Matches to start the fast matcher from, and its rounds; ``(None, None)``: search all."""
        if self.patchmatch is None:
            return None, None
        if self.matches is not None and self.query_grid == grid:
            return self.matches, None
        if self.inherited is not None:
            matches, query_grid, key_grid = self.inherited
            return rescale_matches(matches, query_grid, key_grid, grid, self.key_grid), 2 * self.patchmatch.rounds
        return None, None

    def _search(self, queries: Tensor) -> Tensor:
        with torch.no_grad():
            if self.by_label:
                return match_patches_by_label(queries, self.keys, self.query_labels, self.key_labels,
                                              chunk_elements=self.chunk_elements)
            return match_patches(queries, self.keys, chunk_elements=self.chunk_elements)

    def _fold_matches(self, features: Tensor) -> None:
        """Search matches for ``features`` and fold them into the targets of the elementwise loss."""
        with torch.no_grad():
            self.matches = self.match(features)
            self.query_grid = self._patch_grid(features)
            self.stale = False
            self.target, self.coverage = self._folded_matches(tuple(features.shape[-2:]))
            self.offset = self.key_squares[self.matches].sum() - (self.coverage * self.target.pow(2)).sum()
            self.elements = self.matches.numel() * self.style_rows.shape[1] * self.size ** 2

    def matched_patches(self) -> Tensor:
        """The style patch matched to each output patch. -> ``(N, C * k * k)`` (for tests: large)."""
        h, w = self.query_grid
        (my, mx), k = _grid_positions(self.matches, self.key_grid[1], self.stride), self.size
        channels = self.style_rows.shape[1]
        patches = torch.stack([self.style_rows[(my + i) * self.style_width + mx + j]
                               for i in range(k) for j in range(k)], dim=2)  # (N, C, k * k)
        return patches.reshape(h * w, channels * k * k)

    def _folded_matches(self, shape: tuple[int, int]) -> tuple[Tensor, Tensor]:
        """Mean matched value at each position, and how many patches cover it. -> 2 x ``(1, C|1, H, W)``.

        Gathered straight from the style features, one patch offset at a time, so the ``(N, C * k * k)``
        matched patches are never built.
        """
        (h, w), k = self.query_grid, self.size
        my, mx = _grid_positions(self.matches, self.key_grid[1], self.stride)
        summed = self.style_rows.new_zeros(shape[0], shape[1], self.style_rows.shape[1])  # (H, W, C)
        coverage = self.style_rows.new_zeros(shape[0], shape[1], 1)
        for i in range(k):
            for j in range(k):
                summed[i:i + h, j:j + w] += self.style_rows[(my + i) * self.style_width + mx + j].view(h, w, -1)
                coverage[i:i + h, j:j + w] += 1
        return (summed / coverage).permute(2, 0, 1)[None], coverage.permute(2, 0, 1)[None]

    def forward(self, features: Tensor) -> Tensor:
        if self.stale:
            self._fold_matches(features)
        squared = (self.coverage * (features - self.target).pow(2)).sum() + self.offset
        return squared / self.elements / self.scale


def _grid_positions(matches: Tensor, grid_width: int, stride: int) -> tuple[Tensor, Tensor]:
    """Top-left corner (row, column) in the style features of each matched patch."""
    return (matches // grid_width) * stride, (matches % grid_width) * stride


def _dominant(label_patches: Tensor, labels: int) -> Tensor:
    """The label covering most of each patch. ``(N, K * k * k)`` -> ``(N,)`` int64."""
    return label_patches.view(label_patches.shape[0], labels, -1).sum(dim=2).argmax(dim=1)
