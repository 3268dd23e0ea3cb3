"""How each output patch finds its style patch: one small interface, one class per strategy.

A matcher is built once per layer and phase from the style's patches, then called with the
output's patches each time the MRF loss refreshes its matches:

- :class:`ExactMatcher` searches every style patch (split by label when that gives the same answer);
- :class:`FastMatcher` does so once, then improves the previous matches with PatchMatch, starting
  even the first search of a finer phase from the coarser phase's matches.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

import torch
from torch import Tensor

from .patches import (
    DEFAULT_CHUNK_ELEMENTS,
    label_keys,
    label_presence,
    match_keys,
    match_patches,
    match_patches_by_label,
    projection_basis,
)
from .patchmatch import PatchMatch, rescale_matches

__all__ = ["MatcherName", "MATCHERS", "Matches", "Matcher", "ExactMatcher", "FastMatcher", "build_matcher"]

Grid = tuple[int, int]
MatcherName = Literal["exact", "fast"]
MATCHERS: tuple[str, ...] = get_args(MatcherName)

# The label part of a key must outweigh the feature NCC's whole range by this factor before the
# search may be split by label: soft (anti-aliased) label edges lower a patch's label NCC a little.
_LABEL_MARGIN = 1.25
# PatchMatch scores its candidates in a projection of this many dimensions, for longer patches.
_PROJECTION_DIMENSIONS = 64
# A label whose output patches times the style patches it holds is at most this many pairs is searched
# exactly at every refresh, after PatchMatch: a small region (a portrait's eyes) has few neighbours in its
# own label to propagate from, and its rare patches are the ones the projection represents worst.
_EXACT_PAIRS = 1 << 16


@dataclass(frozen=True)
class Matches:
    """The best style patch of each output patch, and the grids they index.

    ``indices (h * w,)`` int64, row-major into the style's ``key_grid = (hs, ws)`` patch positions,
    one per output patch position of ``query_grid = (h, w)``. ``unknown (h * w,)`` bool, optional:
    positions whose index is only a placeholder (a start with nothing known there), searched in full.
    """

    indices: Tensor
    query_grid: Grid
    key_grid: Grid
    unknown: Tensor | None = None


class Matcher(Protocol):
    """``(patches (N, D), query_grid (h, w), previous Matches | None) -> (N,)`` style patch indices."""

    key_grid: Grid

    def __call__(self, patches: Tensor, query_grid: Grid, previous: Matches | None = None) -> Tensor: ...

    def for_target(
        self,
        target_label_patches: Tensor | None,
        target_guide_keys: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> Matcher:
        """The same style side, for another output's ``(N, E)`` label patches and ``(N, X)`` guide columns."""
        ...


class ExactMatcher:
    """Brute-force normalized cross-correlation against every style patch, in chunks.

    With label channels and a semantic weight above the feature NCC's range, an output patch lying
    in one label can never match a style patch outside it, so each is searched only among the
    style patches touching its label: the same answer at a fraction of the cost.

    Parameters
    ----------
    style_patches : (M, D) tensor
        The style's feature patches (:func:`~doodle.patches.extract_patches`).
    style_label_patches, target_label_patches : (M, E) and (N, E) tensors, or None (both or neither)
        Label patches of the style and of the output; ``E = K * k * k``.
    label_count : int
        ``K``, the number of labels.
    semantic_weight : float
    key_grid : (hs, ws)
        Positions of the style patches.
    key_bias : (M,) tensor, optional
        Added to every score of each style patch (several paintings blended by weight, guides); as
        one more key column, met by a column of ones in the queries.
    style_guide_keys, target_guide_keys : (M, X) and (N, X) tensors, or None (both or neither)
        Guide columns of the keys and of the queries (:func:`~doodle.mrf.guide_columns`), whose dot
        product, with ``key_bias``, is minus the guides' weighted distance.
    guide_range : float
        How much the guides can change a score (their weights' sum): the search is split by label
        only when the labels outweigh the features and the guides together.
    """

    def __init__(
        self,
        style_patches: Tensor,
        style_label_patches: Tensor | None,
        target_label_patches: Tensor | None,
        *,
        label_count: int,
        semantic_weight: float,
        key_grid: Grid,
        chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
        key_bias: Tensor | None = None,
        style_guide_keys: Tensor | None = None,
        target_guide_keys: Tensor | None = None,
        guide_range: float = 0.0,
    ) -> None:
        self.key_grid, self.semantic_weight, self.chunk_elements = key_grid, semantic_weight, chunk_elements
        self.feature_dims, self.label_count = style_patches.shape[1], label_count
        self.keys = match_keys(style_patches, style_label_patches, semantic_weight)
        if style_guide_keys is not None:
            self.keys = torch.cat([self.keys, style_guide_keys.to(self.keys)], dim=1)
        self.biased = key_bias is not None
        if self.biased:
            self.keys = torch.cat([self.keys, key_bias[:, None].to(self.keys)], dim=1)
        # Feature NCC lies in [0, 1] for non-negative (ReLU) features, else in [-1, 1].
        feature_range = 1.0 if bool((style_patches >= 0).all()) else 2.0
        self.splits = style_label_patches is not None and semantic_weight >= _LABEL_MARGIN * (
            feature_range + guide_range
        )
        self.key_labels = label_presence(style_label_patches, label_count) if self.splits else None
        self._bind(target_label_patches, target_guide_keys)

    def _bind(self, target_label_patches: Tensor | None, target_guide_keys: Tensor | None) -> None:
        self.target_label_patches, self.target_guide_keys = target_label_patches, target_guide_keys
        self.by_label = self.splits and target_label_patches is not None
        self.query_labels = label_presence(target_label_patches, self.label_count) if self.by_label else None

    def with_extra_columns(self, queries: Tensor | None, count: int = 0) -> Tensor | None:
        """``queries (N, D)`` with the columns that meet the keys' guide columns and bias (``count``
        rows when None; None when there are none)."""
        parts = [] if queries is None else [queries]
        if self.target_guide_keys is not None:
            parts.append(self.target_guide_keys.to(self.keys))
        if self.biased:
            parts.append(self.keys.new_ones(count if queries is None else queries.shape[0], 1))
        return torch.cat(parts, dim=1) if parts else None

    def for_target(
        self,
        target_label_patches: Tensor | None,
        target_guide_keys: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> ExactMatcher:
        """The same style keys, for another output's label patches and guide columns (shared, not
        copied; no randomness)."""
        other = copy.copy(self)
        other._bind(target_label_patches, target_guide_keys)
        return other

    def __call__(self, patches: Tensor, query_grid: Grid, previous: Matches | None = None) -> Tensor:
        queries = self.with_extra_columns(match_keys(patches, self.target_label_patches, self.semantic_weight))
        if self.by_label:
            return match_patches_by_label(
                queries, self.keys, self.query_labels, self.key_labels, chunk_elements=self.chunk_elements
            )
        return match_patches(queries, self.keys, chunk_elements=self.chunk_elements)


class FastMatcher:
    """An exact first search, then PatchMatch (:class:`~doodle.patchmatch.PatchMatch`) from the previous matches.

    Matches of the same grids seed PatchMatch as they are; matches of a coarser phase are rescaled
    first and get twice the rounds. Only a search with nothing to start from is exact, and, after
    every PatchMatch, the output patches of small labels (:data:`_EXACT_PAIRS`): PatchMatch alone
    left a portrait's eyes, 20 patches against the painting's 10, less eye-like (0.344 of them over
    six seeds, 0.458 with this; benchmarks/README.md). (A full search short-listed in a
    64-d projection was tried for the first search: without labels it lost a portrait's face to the
    night sky.)

    Parameters
    ----------
    exact : ExactMatcher
        The exact search over the same style patches, for the first search; its keys are PatchMatch's.
    style_label_patches : (M, E) tensor or None
        As for :class:`ExactMatcher`.
    generator : torch.Generator, optional
        PatchMatch's random candidates (on the style's device).
    """

    def __init__(
        self, exact: ExactMatcher, style_label_patches: Tensor | None, *, generator: torch.Generator | None = None
    ) -> None:
        self.key_grid = exact.key_grid
        keys, feature_dims, labels = exact.keys, exact.feature_dims, exact.label_count
        long_patches = feature_dims > 4 * _PROJECTION_DIMENSIONS  # (short ones are scored in full)
        basis = projection_basis(keys, feature_dims, _PROJECTION_DIMENSIONS) if long_patches else None
        key_labels = None if style_label_patches is None else _dominant(style_label_patches, labels)
        self.patchmatch = PatchMatch(
            keys,
            self.key_grid,
            feature_dims,
            key_labels,
            basis=basis,
            label_count=labels,
            chunk_elements=exact.chunk_elements,
            generator=generator,
        )
        self._bind(exact)

    def _bind(self, exact: ExactMatcher) -> None:
        self.exact, target = exact, exact.target_label_patches
        # The label part of the queries is fixed for a phase: computed once.
        has_labels = target is not None and exact.semantic_weight > 0
        self.label_queries = label_keys(target, exact.semantic_weight) if has_labels else None
        self.query_labels = None if target is None else _dominant(target, exact.label_count)
        self.small_label_queries = self._in_small_labels()

    def for_target(
        self,
        target_label_patches: Tensor | None,
        target_guide_keys: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> FastMatcher:
        """The same style keys and projection, for another output's label patches, guide columns and
        random stream."""
        other = copy.copy(self)
        other._bind(self.exact.for_target(target_label_patches, target_guide_keys))
        other.patchmatch = copy.copy(self.patchmatch)
        other.patchmatch.generator = generator
        return other

    def random_matches(self, query_count: int) -> Tensor:
        """A random style patch of each output patch's label: a start for PatchMatch that costs
        nothing (training a feed-forward painter searches anew for every image). -> ``(N,)``."""
        labels = self.query_labels
        if labels is None:
            labels = torch.zeros(query_count, dtype=torch.long, device=self.exact.keys.device)
        return self.patchmatch.random_keys(labels)

    def _search_unknown(self, patches: Tensor, query_grid: Grid, seed: Tensor, unknown: Tensor) -> Tensor:
        """``seed`` with the exact search's matches where ``unknown``."""
        rows = unknown.nonzero().squeeze(1)
        labels, guides = self.exact.target_label_patches, self.exact.target_guide_keys
        exact = self.exact.for_target(
            None if labels is None else labels[rows], None if guides is None else guides[rows]
        )
        seed = seed.clone()
        seed[rows] = exact(patches[rows], query_grid)
        return seed

    def __call__(self, patches: Tensor, query_grid: Grid, previous: Matches | None = None) -> Tensor:
        if previous is None:
            return self.exact(patches, query_grid)
        if previous.query_grid == query_grid and previous.key_grid == self.key_grid:
            seed, rounds = previous.indices, self.patchmatch.rounds
            if previous.unknown is not None and bool(previous.unknown.any()):
                seed = self._search_unknown(patches, query_grid, seed, previous.unknown)
        else:  # from a coarser phase
            seed = rescale_matches(previous.indices, previous.query_grid, previous.key_grid, query_grid, self.key_grid)
            rounds = 2 * self.patchmatch.rounds
        extra = self.exact.with_extra_columns(self.label_queries, patches.shape[0])  # the queries' non-feature part
        matches = self.patchmatch(patches, query_grid, seed, self.query_labels, extra, rounds=rounds)
        small = self.small_label_queries
        return matches if small is None else self._search_unknown(patches, query_grid, matches, small)

    def _in_small_labels(self) -> Tensor | None:
        """``(N,)`` bool: the output patches of labels small enough to search exactly (see
        :data:`_EXACT_PAIRS`), or None when there are none (or no labels)."""
        if self.query_labels is None or not self.exact.by_label:
            return None
        queries = torch.bincount(self.query_labels, minlength=self.exact.label_count)
        pairs = queries * self.patchmatch.label_counts
        small = (pairs > 0) & (pairs <= _EXACT_PAIRS)
        return small[self.query_labels] if bool(small.any()) else None


def build_matcher(
    name: MatcherName,
    style_patches: Tensor,
    style_label_patches: Tensor | None,
    target_label_patches: Tensor | None,
    *,
    label_count: int,
    semantic_weight: float,
    key_grid: Grid,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
    generator: torch.Generator | None = None,
    key_bias: Tensor | None = None,
    style_guide_keys: Tensor | None = None,
    target_guide_keys: Tensor | None = None,
    guide_range: float = 0.0,
) -> Matcher:
    """The matcher called ``name`` (one of :data:`MATCHERS`); see :class:`ExactMatcher` for the parameters."""
    if name not in MATCHERS:
        raise ValueError(f"matcher {name!r} is not one of {', '.join(MATCHERS)}")
    exact = ExactMatcher(
        style_patches,
        style_label_patches,
        target_label_patches,
        label_count=label_count,
        semantic_weight=semantic_weight,
        key_grid=key_grid,
        chunk_elements=chunk_elements,
        key_bias=key_bias,
        style_guide_keys=style_guide_keys,
        target_guide_keys=target_guide_keys,
        guide_range=guide_range,
    )
    return exact if name == "exact" else FastMatcher(exact, style_label_patches, generator=generator)


def _dominant(label_patches: Tensor, labels: int) -> Tensor:
    """The label covering most of each patch. ``(N, K * k * k)`` -> ``(N,)`` int64."""
    return label_patches.view(label_patches.shape[0], labels, -1).sum(dim=2).argmax(dim=1)
