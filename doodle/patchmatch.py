"""PatchMatch (Barnes et al. 2009) for feature patches: improve earlier matches instead of searching anew.

Between two searches the image moves a little, so most patches keep their best match or move to a
neighbour's. Every round, each output patch tries a handful of candidates at once, as tensor
gathers: its neighbours' matches shifted back by one position, and those of patches a jump of 8, 4
or 2 positions away (propagation); random positions around its own match at halving radii; and a
few random style patches of its label. Candidates are scored in a compact space (the feature part
projected on its top singular vectors, the label part kept); finally the exact score decides among
the last round's best few and the match the search started from, so a patch's exact score never
drops below its seed's.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from .patches import DEFAULT_CHUNK_ELEMENTS, compact_keys

__all__ = ["PatchMatch", "rescale_matches"]

Grid = tuple[int, int]
_DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))
# Gathered candidate keys per chunk: 2**20 floats (4 MiB). Blocks above glibc's mmap threshold
# (32 MiB at most) are fresh pages on every chunk: 64 MiB blocks made the gather 7x slower.
# A GPU has no such cost, and there small chunks are many kernel launches that each cost more than
# their work (4 MiB made a 2048x1536 paint launch-bound): there chunks are as large as `chunk_elements`.
_CPU_GATHER_ELEMENTS = 1 << 20
_JUMPS = (8, 4, 2)  # extra propagation distance, one per round in turn (as jump flooding)


def rescale_matches(
    matches: Tensor, query_grid: Grid, key_grid: Grid, new_query_grid: Grid, new_key_grid: Grid
) -> Tensor:
    """Carry matches to grids of another size (the next, finer phase).

    A query takes the match of the query at the same relative place in the old grid, scaled to the
    new style grid and shifted by its own offset within that place, so a coherent region stays
    coherent. Shape: ``(h * w,)`` -> ``(h' * w',)`` indices into the new style grid.
    """
    (h, w), (hs, ws), (nh, nw), (nhs, nws) = query_grid, key_grid, new_query_grid, new_key_grid
    device = matches.device
    ys = torch.arange(nh, device=device, dtype=torch.float32)[:, None].expand(nh, nw)
    xs = torch.arange(nw, device=device, dtype=torch.float32)[None, :].expand(nh, nw)
    old_y = (ys * h / nh).floor().clamp(0, h - 1)
    old_x = (xs * w / nw).floor().clamp(0, w - 1)
    old = matches.view(h, w)[old_y.long(), old_x.long()]
    key_y = (old // ws).float() * nhs / hs + (ys - old_y * nh / h)
    key_x = (old % ws).float() * nws / ws + (xs - old_x * nw / w)
    key_y = key_y.round().clamp(0, nhs - 1).long()
    key_x = key_x.round().clamp(0, nws - 1).long()
    return (key_y * nws + key_x).flatten()


class PatchMatch:
    """Refine a nearest-neighbour field over a grid of style patches.

    Parameters
    ----------
    keys : (M, D + E) tensor
        Search keys (see :func:`~doodle.patches.match_keys`), ``M = hs * ws`` in row-major order.
    key_grid : (hs, ws)
    feature_dims : int
        ``D``: the feature part of each key; the last ``E`` columns are the label part.
    key_labels : (M,) int64 tensor or None
        The label each style patch mostly lies in, for the random same-label candidate.
    label_count : int
        Number of labels (query labels lie in ``[0, label_count)``).
    basis : (D, d) tensor or None
        Projection of the feature part in which candidates are scored
        (:func:`~doodle.patches.projection_basis`); None scores them in full.
    generator : torch.Generator, optional
        For reproducible random candidates (on the keys' device).

    Shape: ``__call__(patches (N, D), query_grid (h, w), seed (N,), query_labels (N,) | None,
    label_queries (N, E) | None) -> (N,)`` indices into ``keys``.
    """

    def __init__(
        self,
        keys: Tensor,
        key_grid: Grid,
        feature_dims: int,
        key_labels: Tensor | None = None,
        *,
        basis: Tensor | None = None,
        label_count: int = 1,
        rounds: int = 3,
        label_samples: int = 4,
        shortlist: int = 3,
        chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
        generator: torch.Generator | None = None,
    ) -> None:
        self.keys, self.key_grid, self.feature_dims, self.basis = keys, key_grid, feature_dims, basis
        self.rounds, self.label_samples, self.shortlist = rounds, label_samples, shortlist
        self.chunk_elements, self.generator = chunk_elements, generator
        self.compact_keys = compact_keys(keys, basis, feature_dims)
        labels = torch.zeros(keys.shape[0], dtype=torch.long, device=keys.device) if key_labels is None else key_labels
        self.label_order = torch.argsort(labels)
        self.label_counts = torch.bincount(labels, minlength=label_count)
        self.label_starts = torch.cumsum(self.label_counts, 0) - self.label_counts

    def _random(self, shape: tuple[int, ...], device: torch.device) -> Tensor:
        return torch.rand(shape, generator=self.generator, device=device)

    def _candidates(self, matches: Tensor, query_grid: Grid, query_labels: Tensor | None, jump: int) -> Tensor:
        """Candidate key indices for every query. ``(N,)`` -> ``(N, C)``."""
        (h, w), (hs, ws) = query_grid, self.key_grid
        device = matches.device
        key_y, key_x = (matches // ws).view(h, w), (matches % ws).view(h, w)
        candidates = [matches]
        for distance in (1, jump):
            for dy, dx in _DIRECTIONS:  # the match of the patch `distance` away, shifted back by as much
                dy, dx = dy * distance, dx * distance
                ny = torch.roll(key_y, shifts=(-dy, -dx), dims=(0, 1)) - dy
                nx = torch.roll(key_x, shifts=(-dy, -dx), dims=(0, 1)) - dx
                candidates.append((ny.clamp(0, hs - 1) * ws + nx.clamp(0, ws - 1)).flatten())
        radii = [max(hs, ws) / 2**level for level in range(int(math.log2(max(hs, ws))) + 1)]
        for radius in radii:  # random search around the current match at halving radii
            offset = ((self._random((2, h, w), device) * 2 - 1) * radius).round().long()
            ry = (key_y + offset[0]).clamp(0, hs - 1)
            rx = (key_x + offset[1]).clamp(0, ws - 1)
            candidates.append((ry * ws + rx).flatten())
        labels = torch.zeros_like(matches) if query_labels is None else query_labels
        candidates += [self.random_keys(labels) for _ in range(self.label_samples)]
        return torch.stack(candidates, dim=1)

    def random_keys(self, query_labels: Tensor) -> Tensor:
        """A random style patch in each query's label (anywhere at all if the style has none).

        ``query_labels (N,)`` int64 -> ``(N,)`` key indices.
        """
        counts = self.label_counts[query_labels]
        pick = self._random(query_labels.shape, query_labels.device)
        within = (pick * counts).long().minimum((counts - 1).clamp(min=0))
        anywhere = (pick * self.keys.shape[0]).long().clamp(max=self.keys.shape[0] - 1)
        in_label = self.label_order[(self.label_starts[query_labels] + within).clamp(max=self.keys.shape[0] - 1)]
        return torch.where(counts > 0, in_label, anywhere)

    def _best(
        self, queries: Tensor | Callable[[slice], Tensor], keys: Tensor, candidates: Tensor, k: int = 1
    ) -> Tensor:
        """The ``k`` candidates with the largest dot products, in row chunks. -> ``(N, k)`` key indices.

        ``queries`` is ``(N, d)``, or a function giving the rows of a chunk (built only when needed).
        """
        best = torch.empty((candidates.shape[0], k), dtype=torch.long, device=candidates.device)
        block = min(self.chunk_elements, _CPU_GATHER_ELEMENTS) if keys.device.type == "cpu" else self.chunk_elements
        step = max(1, block // (candidates.shape[1] * keys.shape[1]))
        for start in range(0, candidates.shape[0], step):
            rows = slice(start, start + step)
            chosen = candidates[rows]
            chunk = queries(rows) if callable(queries) else queries[rows]
            scores = torch.linalg.vecdot(keys[chosen], chunk[:, None, :])  # (n, C): 2x einsum's speed here
            best[rows] = chosen.gather(1, scores.topk(k, dim=1).indices if k > 1 else scores.argmax(1, True))
        return best

    def __call__(
        self,
        patches: Tensor,
        query_grid: Grid,
        seed: Tensor,
        query_labels: Tensor | None = None,
        label_queries: Tensor | None = None,
        rounds: int | None = None,
    ) -> Tensor:
        """Improve ``seed``: the best style patch for each output patch.

        ``patches`` are the output's raw feature patches ``(N, D)`` (normalised here), and
        ``label_queries`` ``(N, E)`` their label part as in :func:`~doodle.patches.match_keys`,
        constant for a phase (None without labels).
        """
        inverse_norm = 1.0 / patches.norm(dim=1).clamp_min(1e-8)
        features = patches @ self.basis if self.basis is not None else patches
        compact = features * inverse_norm[:, None]
        if label_queries is not None:
            compact = torch.cat([compact, label_queries], dim=1)
        matches, rounds = seed, self.rounds if rounds is None else rounds
        for round_ in range(rounds):
            candidates = self._candidates(matches, query_grid, query_labels, _JUMPS[round_ % len(_JUMPS)])
            last = round_ == rounds - 1 and self.basis is not None
            best = self._best(compact, self.compact_keys, candidates, self.shortlist if last else 1)
            matches = best[:, 0]
        if self.basis is None:
            return matches

        # The exact score decides among the short list of the last round and the seed.
        def exact_queries(rows: slice) -> Tensor:  # as match_keys, one chunk at a time
            chunk = patches[rows] * inverse_norm[rows, None]
            return chunk if label_queries is None else torch.cat([chunk, label_queries[rows]], dim=1)

        return self._best(exact_queries, self.keys, torch.cat([seed[:, None], best], dim=1))[:, 0]
