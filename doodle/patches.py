"""Patches of feature maps and their matching by normalized cross-correlation, in chunks."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "extract_patches",
    "normalize_rows",
    "match_keys",
    "label_keys",
    "match_patches",
    "match_patches_by_label",
    "label_presence",
    "projection_basis",
    "compact_keys",
    "DEFAULT_CHUNK_ELEMENTS",
]

# Largest score block (query patches x style patches) held at once: 2**24 floats = 64 MiB.
DEFAULT_CHUNK_ELEMENTS = 1 << 24


def extract_patches(x: Tensor, size: int = 3, stride: int = 1) -> Tensor:
    """All ``size x size`` patches of a feature map, as rows.

    Shape: ``(1, C, H, W)`` -> ``(N, C * size * size)`` with ``N = H' * W'`` (row-major positions).
    """
    return F.unfold(x, kernel_size=size, stride=stride)[0].t()


def normalize_rows(rows: Tensor, eps: float = 1e-8) -> Tensor:
    """Each row scaled to unit L2 norm (an all-zero row stays zero). Shape: ``(N, D)``."""
    return rows / rows.norm(dim=1, keepdim=True).clamp_min(eps)


def match_keys(features: Tensor, labels: Tensor | None, semantic_weight: float) -> Tensor:
    """Search keys of patches: the feature part and the label part normalised separately.

    The dot product of two keys is ``ncc(features) + semantic_weight * ncc(labels)``, so the
    semantic weight means the same at every layer and for every image.

    Shape: ``features (N, D)``, ``labels (N, E)`` or None -> ``(N, D + E)`` (or ``(N, D)``).
    """
    keys = normalize_rows(features)
    if labels is None or semantic_weight <= 0:
        return keys
    return torch.cat([keys, label_keys(labels, semantic_weight)], dim=1)


def label_keys(labels: Tensor, semantic_weight: float) -> Tensor:
    """The label part of :func:`match_keys`: normalised, times ``sqrt(semantic_weight)``. ``(N, E)``."""
    return normalize_rows(labels) * semantic_weight**0.5


def match_patches(queries: Tensor, keys: Tensor, *, chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> Tensor:
    """For every query row, the index of the key row with the largest dot product.

    Rows are expected normalised (see :func:`match_keys`), making the dot product a normalized
    cross-correlation. The ``(N, M)`` score matrix is never built: keys are scanned in chunks of
    at most ``chunk_elements // N`` rows, keeping a running best. Memory: ``O(chunk_elements)``.

    Shape: ``queries (N, D)``, ``keys (M, D)`` -> ``(N,)`` int64 in ``[0, M)``.
    """
    count = queries.shape[0]
    step = max(1, chunk_elements // max(count, 1))
    best_score = torch.full((count,), float("-inf"), device=queries.device, dtype=queries.dtype)
    best_index = torch.zeros(count, dtype=torch.long, device=queries.device)
    for start in range(0, keys.shape[0], step):
        scores = keys[start : start + step] @ queries.t()  # (chunk, N)
        score, index = scores.max(dim=0)
        better = score > best_score
        best_score = torch.where(better, score, best_score)
        best_index = torch.where(better, index + start, best_index)
    return best_index


def label_presence(label_patches: Tensor, labels: int, eps: float = 1e-2) -> Tensor:
    """Which labels a patch touches. ``(N, K * k * k)`` label patches -> ``(N, K)`` bool."""
    return label_patches.view(label_patches.shape[0], labels, -1).amax(dim=2) > eps


def match_patches_by_label(
    queries: Tensor,
    keys: Tensor,
    query_labels: Tensor,
    key_labels: Tensor,
    *,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> Tensor:
    """:func:`match_patches`, searching each single-label query only among keys that touch its label.

    Exact whenever a key without the query's label can never win, i.e. when the semantic weight
    exceeds the range of the feature NCC (1 for ReLU features): every patch lying wholly in label
    ``k`` then beats every patch outside it. Queries touching several labels (along edges), and
    labels with no single-label key in the style, are searched among all keys.

    Shape: ``queries (N, D)``, ``keys (M, D)``, ``query_labels (N, K)`` and ``key_labels (M, K)``
    bool (see :func:`label_presence`) -> ``(N,)`` int64.
    """

    def search(q: Tensor, rows: Tensor | None) -> Tensor:
        return match_patches(q, keys if rows is None else keys[rows], chunk_elements=chunk_elements)

    result = torch.empty(queries.shape[0], dtype=torch.long, device=queries.device)
    single_query = query_labels.sum(dim=1) == 1
    single_key = key_labels.sum(dim=1) == 1
    searched = torch.zeros_like(single_query)
    for label in range(query_labels.shape[1]):
        rows = torch.nonzero(single_query & query_labels[:, label]).squeeze(1)
        if len(rows) == 0 or not (single_key & key_labels[:, label]).any():
            continue
        candidates = torch.nonzero(key_labels[:, label]).squeeze(1)
        result[rows] = candidates[search(queries[rows], candidates)]
        searched[rows] = True
    rest = torch.nonzero(~searched).squeeze(1)
    if len(rest):
        result[rest] = search(queries[rest], None)
    return result


def projection_basis(keys: Tensor, feature_dims: int, dimensions: int = 64, sample: int = 4096) -> Tensor:
    """Top right singular vectors of the keys' feature part (uncentred, so dot products are what is kept).

    Computed on at most ``sample`` evenly spaced rows, by a randomized range finder with a fixed
    seed (Halko et al. 2011; 3 power iterations): 20x faster than an exact decomposition of the
    ``(D, D)`` Gram matrix for 4608-long patches, and the same on every call.
    Shape: ``keys (M, D + E)`` -> ``(D, min(dimensions, rows, D))``.
    """
    rows = keys[torch.linspace(0, keys.shape[0] - 1, min(sample, keys.shape[0]), device=keys.device).long()]
    features = rows[:, :feature_dims].float()
    width = min(dimensions + 16, *features.shape)
    generator = torch.Generator(features.device).manual_seed(0)
    probe = torch.randn(feature_dims, width, generator=generator, device=features.device)
    ranges = torch.linalg.qr(features @ probe).Q
    for _ in range(3):  # as torch.svd_lowrank, whose probe comes from the global random stream
        ranges = torch.linalg.qr(features @ torch.linalg.qr(features.t() @ ranges).Q).Q
    vectors = torch.linalg.svd(ranges.t() @ features, full_matrices=False).Vh  # (width, D)
    return vectors[:dimensions].t().contiguous().to(keys.dtype)


def compact_keys(rows: Tensor, basis: Tensor | None, feature_dims: int) -> Tensor:
    """Keys with their feature part projected on ``basis`` and their label part kept.

    Shape: ``(N, D + E)`` -> ``(N, d + E)`` (unchanged when ``basis`` is None).
    """
    if basis is None:
        return rows
    return torch.cat([rows[:, :feature_dims] @ basis, rows[:, feature_dims:]], dim=1)
