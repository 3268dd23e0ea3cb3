"""Turning an RGB map into per-label channels, soft along anti-aliased edges."""

from __future__ import annotations

import numpy as np

__all__ = ["encode_labels", "label_table", "snap_palette", "SOLID_WEIGHT"]

# A pixel (or pooled patch) lies wholly in one label when that label's weight is at least this.
SOLID_WEIGHT = 0.99
# Distinct colours encoded at once: bounds the (colours x labels) work arrays (a photo has millions).
_COLOURS_PER_CHUNK = 1 << 16


def encode_labels(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Per-label weights of every pixel.

    Each pixel colour is explained as a blend of at most two label colours, ``a*p_i + (1-a)*p_j``
    (the pair and ``a`` that reproduce it best), so an anti-aliased edge between sky and sea stays a
    blend of sky and sea instead of becoming a third label. Labels are compared by colour value,
    never by direction: ``#c00000`` and ``#ff331f`` stay apart.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 ndarray
    palette : (K, 3) uint8 ndarray

    Returns
    -------
    weights : (K, H, W) float32 ndarray, summing to 1 over K.
    """
    table, index = label_table(rgb, palette)
    return table[index.reshape(-1)].T.reshape(len(palette), *rgb.shape[:2])


def label_table(rgb: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`encode_labels` as a table: the weights of each distinct colour of ``rgb``, ``(U, K)``
    float32, and each pixel's row of it, ``(H, W)`` int64 (``table[index]`` is ``encode_labels``,
    channels last). A label's channel is ``table[:, k][index]``: one at a time, a large map's labels
    need one channel's memory, not K."""
    packed = rgb.reshape(-1, 3).astype(np.uint32)
    pixel_keys = (packed[:, 0] << 16) | (packed[:, 1] << 8) | packed[:, 2]
    keys = np.sort(np.unique_values(pixel_keys))  # hashed, then the few distinct colours sorted: 2x np.unique's speed
    index = np.searchsorted(keys, pixel_keys).reshape(rgb.shape[:2])
    colours = np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=1).astype(np.float64)
    table = np.concatenate(
        [
            _encode_colours(colours[start : start + _COLOURS_PER_CHUNK], palette.astype(np.float64))
            for start in range(0, len(colours), _COLOURS_PER_CHUNK)
        ]
    ).astype(np.float32)
    return table, index


def _encode_colours(colours: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """(U, 3) colours, (K, 3) palette -> (U, K) blend weights."""
    count = len(palette)
    weights = np.zeros((len(colours), count))
    distance = np.linalg.norm(colours[:, None, :] - palette[None], axis=2)  # (U, K)
    nearest = distance.argmin(axis=1)
    best = distance[np.arange(len(colours)), nearest]
    weights[np.arange(len(colours)), nearest] = 1.0
    for i in range(count):
        for j in range(i + 1, count):
            edge = palette[i] - palette[j]
            alpha = np.clip(((colours - palette[j]) @ edge) / (edge @ edge), 0.0, 1.0)
            residual = np.linalg.norm(colours - (palette[j] + alpha[:, None] * edge), axis=1)
            better = residual < best - 1e-9
            if better.any():
                best[better] = residual[better]
                weights[better] = 0.0
                weights[better, i] = alpha[better]
                weights[better, j] = 1.0 - alpha[better]
    return weights


def snap_palette(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Every pixel replaced by the label colour with the largest weight: a flat, edge-free map.

    Returns
    -------
    snapped : (H, W, 3) uint8 ndarray
    """
    return palette[encode_labels(rgb, palette).argmax(axis=0)]
