"""MRF patch style loss (Li & Wand 2016) with semantic label channels (Champandard 2016)."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .matching import Grid, MatcherName, Matches, build_matcher
from .patches import DEFAULT_CHUNK_ELEMENTS, extract_patches

__all__ = ["MRFLoss", "pool_labels", "blend_bias", "guide_columns", "BLEND_TEMPERATURE"]


def pool_labels(labels: Tensor, size: tuple[int, int]) -> Tensor:
    """Average-pool label channels to a layer's resolution. ``(1, K, H, W)`` -> ``(1, K, h, w)``."""
    return F.adaptive_avg_pool2d(labels, size)


# How much match score a painting of the blend gains per e-fold of weight: with weights 0.7 and 0.3, a
# patch of the second painting is chosen only when it matches 0.085 better (of a feature NCC in [0, 1]).
BLEND_TEMPERATURE = 0.1


def blend_bias(paintings: Tensor, weights: Tensor, size: int) -> Tensor:
    """Each style patch's score bias in a blend of paintings: ``BLEND_TEMPERATURE * log(w / max w)``
    of the painting at its centre. ``paintings (1, P, Hs, Ws)`` pooled to the layer, ``weights (P,)``
    (all positive) -> ``((Hs - size + 1) * (Ws - size + 1),)``."""
    centre = size // 2
    owner = paintings[
        0, :, centre : paintings.shape[2] - size + 1 + centre, centre : paintings.shape[3] - size + 1 + centre
    ]
    prior = BLEND_TEMPERATURE * torch.log(weights / weights.max())
    return prior.to(paintings)[owner.argmax(dim=0).flatten()]


def guide_columns(guides: Tensor, groups: tuple[tuple[int, float], ...], size: int) -> tuple[Tensor, Tensor]:
    """The guide part of the patch keys: for guides ``(1, G, h, w)`` pooled to a layer, in groups of
    ``(channels, weight)`` (:class:`~doodle.scene.Scene`), each patch's columns ``(N, G * size²)`` and
    bias ``(N,)``, such that a query's columns dotted with a key's, plus the key's bias, is minus
    each guide's weight times the mean squared difference of the two patches' values (less a constant
    per query): ``-w |q - k|² / n = (2 q.k - |k|²) w / n - |q|² w / n``."""
    per_channel = torch.cat(
        [torch.full((channels,), weight / (channels * size * size)) for channels, weight in groups]
    ).to(guides)
    scale = per_channel.repeat_interleave(size * size)  # (G * size²,): channel-major, as unfold
    patches = extract_patches(guides, size)
    return patches * (2 * scale).sqrt(), -(patches.square() * scale).sum(1)


class MRFLoss(nn.Module):
    """Pull every patch of the generated features toward its best-matching style patch.

    For each ``size x size`` patch of the generated features, the style patch with the highest
    normalized cross-correlation is found by a matcher (:mod:`doodle.matching`; with label channels
    the score is ``ncc(features) + semantic_weight * ncc(labels)``, so a "sea" patch only matches
    sea). The loss is the mean squared distance to the matches, which are constants.

    Matches are searched on the first call and again after :meth:`refresh`; in between they are
    reused (the image changes little from one L-BFGS step to the next, and a line search needs a
    fixed objective). Between searches the loss needs no patches: with the matched patches folded
    back onto the map (``T``) and the number of patches covering each position (``W``),
    ``sum_i |P_i(F) - S_m(i)|^2 = sum W * (F - T / W)^2 + c``, an elementwise loss on ``F``.

    Parameters
    ----------
    style : (1, C, Hs, Ws) tensor
        Style features at this layer.
    style_labels, target_labels : (1, K, Hs, Ws) and (1, K, h, w) tensors, or None
        Label channels of the style and of the output, already pooled to this layer's size.
    semantic_weight : float
    size : int
        Patch size.
    matcher : "exact" | "fast"
        See :class:`~doodle.matching.ExactMatcher` and :class:`~doodle.matching.FastMatcher`.
    generator : torch.Generator, optional
        Random candidates of the fast matcher (on the style's device).
    key_bias : (Hs - size + 1) * (Ws - size + 1) tensor, optional
        Added to the match score of each style patch: several paintings blended by weight
        (:func:`blend_bias`).
    style_guides, target_guides : (1, G, Hs, Ws) and (1, G, h, w) tensors, or None
        Guide channels (:mod:`doodle.guides`), pooled to this layer's size; ``guide_groups`` their
        ``(channels, weight)`` each: the score less each guide's weight times the mean squared
        difference of the patches' guide values (:func:`guide_columns`).

    Shape: ``forward((1, C, h, w)) -> scalar``.
    """

    def __init__(
        self,
        style: Tensor,
        style_labels: Tensor | None = None,
        target_labels: Tensor | None = None,
        *,
        semantic_weight: float = 0.0,
        size: int = 3,
        matcher: MatcherName = "exact",
        chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
        generator: torch.Generator | None = None,
        key_bias: Tensor | None = None,
        style_guides: Tensor | None = None,
        target_guides: Tensor | None = None,
        guide_groups: tuple[tuple[int, float], ...] = (),
    ) -> None:
        super().__init__()
        if (style_labels is None) != (target_labels is None):
            raise ValueError("give label channels for both the style and the target, or for neither")
        if (style_guides is None) != (target_guides is None):
            raise ValueError("give guide channels for both the style and the target, or for neither")
        self.size, self.guide_groups = size, guide_groups
        style_guide_keys = target_guide_keys = None
        if style_guides is not None:
            style_guide_keys, guide_bias = guide_columns(style_guides, guide_groups, size)
            target_guide_keys = guide_columns(target_guides, guide_groups, size)[0]
            key_bias = guide_bias if key_bias is None else key_bias + guide_bias
        with torch.no_grad():
            patches = extract_patches(style, size)
            # Style features as rows (Hs * Ws, C): matched patches are gathered from here, never stored.
            self.register_buffer("style_rows", style[0].flatten(1).t().contiguous())
            self.register_buffer("key_squares", patches.pow(2).sum(1))  # |patch|^2 of each style patch
            self.register_buffer("scale", patches.pow(2).mean().clamp_min(1e-8))
            labelled = style_labels is not None
            self.matcher = build_matcher(
                matcher,
                patches,
                extract_patches(style_labels, size) if labelled else None,
                extract_patches(target_labels, size) if labelled else None,
                label_count=style_labels.shape[1] if labelled else 1,
                semantic_weight=semantic_weight,
                key_grid=(style.shape[-2] - size + 1, style.shape[-1] - size + 1),
                chunk_elements=chunk_elements,
                generator=generator,
                key_bias=key_bias,
                style_guide_keys=style_guide_keys,
                target_guide_keys=target_guide_keys,
                guide_range=sum(weight for _, weight in guide_groups),
            )
        self.style_width = style.shape[-1]
        self.forget()

    def forget(self) -> None:
        """Drop the matches and their folded targets (the style side stays)."""
        self.matches: Matches | None = None  # the last search's (or, before it, a coarser phase's)
        self.stale = True  # search on the next call
        # The folded form of the matches (see above), set by each search.
        self.target = self.coverage = self.offset = torch.zeros(())
        self.elements = 0

    def for_target(
        self,
        target_labels: Tensor | None,
        target_guides: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> MRFLoss:
        """A fresh loss for another output of the same style layer: the style's features, keys and
        search index are shared, not recomputed (a repaint of the same painting at the same size).

        ``target_labels``: ``(1, K, h, w)``, ``target_guides``: ``(1, G, h, w)``, as in the constructor
        (None without labels, guides).
        """
        other = copy.copy(self)  # shares the buffers: they are never written after __init__
        labels = None if target_labels is None else extract_patches(target_labels, self.size)
        guides = None if target_guides is None else guide_columns(target_guides, self.guide_groups, self.size)[0]
        other.matcher = self.matcher.for_target(labels, guides, generator=generator)
        other.forget()
        return other

    def start_randomly(self, query_grid: Grid) -> None:
        """Start the next search from random matches in each patch's label instead of searching every
        style patch (fast matcher only): rough matches at a fraction of the cost, for training."""
        start = self.matcher.random_matches(query_grid[0] * query_grid[1])
        self.matches, self.stale = Matches(start, query_grid, self.matcher.key_grid), True

    def start_from(self, indices: Tensor, known: Tensor, query_grid: Grid) -> None:
        """Start the next search from ``indices (N,)`` where ``known (N,)`` is True (PatchMatch improves
        them; the fast matcher only), searching the other patches in full: an animation's later frame
        starts from the frame before's matches."""
        device = self.style_rows.device
        self.matches = Matches(indices.to(device), query_grid, self.matcher.key_grid, ~known.to(device))
        self.stale = True

    def refresh(self) -> None:
        """Search for new matches on the next call."""
        self.stale = True

    def inherit(self, coarser: MRFLoss) -> None:
        """Start from the matches of the same layer in a coarser phase, or of a deeper layer (the fast
        matcher rescales and improves them)."""
        if self.matches is None:
            self.matches = coarser.matches

    def match(self, features: Tensor) -> Tensor:
        """Index of the best style patch for each output patch. ``(1, C, h, w)`` -> ``(N,)``."""
        with torch.no_grad():
            patches = extract_patches(features.detach(), self.size)
            return self.matcher(patches, self.patch_grid(features.shape[-2:]), self.matches)

    def patch_grid(self, shape: tuple[int, int]) -> Grid:
        """Positions (h, w) of the patches of features of ``shape = (H, W)``: ``(H - k + 1, W - k + 1)``."""
        return shape[0] - self.size + 1, shape[1] - self.size + 1

    def _fold_matches(self, features: Tensor) -> None:
        """Search matches for ``features`` and fold them into the targets of the elementwise loss."""
        with torch.no_grad():
            self.matches = Matches(self.match(features), self.patch_grid(features.shape[-2:]), self.matcher.key_grid)
            self.stale = False
            self.target, self.coverage = self._folded_matches(tuple(features.shape[-2:]))
            self.offset = self.key_squares[self.matches.indices].sum() - (self.coverage * self.target.pow(2)).sum()
            self.elements = self.matches.indices.numel() * self.style_rows.shape[1] * self.size**2

    def _matched_rows(self, i: int, j: int) -> Tensor:
        """Style feature at offset ``(i, j)`` inside each matched patch. -> ``(N, C)``."""
        indices, width = self.matches.indices, self.matches.key_grid[1]
        return self.style_rows[(indices // width + i) * self.style_width + indices % width + j]

    def matched_patches(self) -> Tensor:
        """The style patch matched to each output patch. -> ``(N, C * k * k)`` (for tests: large)."""
        k, channels = self.size, self.style_rows.shape[1]
        patches = torch.stack([self._matched_rows(i, j) for i in range(k) for j in range(k)], dim=2)  # (N, C, k*k)
        return patches.reshape(-1, channels * k * k)

    def _folded_matches(self, shape: tuple[int, int]) -> tuple[Tensor, Tensor]:
        """Mean matched value at each position, and how many patches cover it. -> 2 x ``(1, C|1, H, W)``.

        Gathered straight from the style features, one patch offset at a time, so the ``(N, C * k * k)``
        matched patches are never built.
        """
        (h, w), k = self.matches.query_grid, self.size
        summed = self.style_rows.new_zeros(shape[0], shape[1], self.style_rows.shape[1])  # (H, W, C)
        coverage = self.style_rows.new_zeros(shape[0], shape[1], 1)
        for i in range(k):
            for j in range(k):
                summed[i : i + h, j : j + w] += self._matched_rows(i, j).view(h, w, -1)
                coverage[i : i + h, j : j + w] += 1
        return (summed / coverage).permute(2, 0, 1)[None], coverage.permute(2, 0, 1)[None]

    def forward(self, features: Tensor) -> Tensor:
        if self.stale:
            self._fold_matches(features)
        squared = (self.coverage * (features - self.target).pow(2)).sum() + self.offset
        return squared / self.elements / self.scale
