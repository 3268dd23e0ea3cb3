"""Patches of feature maps and their matching by normalized cross-correlation, in chunks."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["extract_patches", "normalize_rows", "match_keys", "match_patches", "DEFAULT_CHUNK_ELEMENTS"]

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
    return torch.cat([keys, normalize_rows(labels) * semantic_weight ** 0.5], dim=1)


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
        scores = keys[start:start + step] @ queries.t()  # (chunk, N)
        score, index = scores.max(dim=0)
        better = score > best_score
        best_score = torch.where(better, score, best_score)
        best_index = torch.where(better, index + start, best_index)
    return best_index
