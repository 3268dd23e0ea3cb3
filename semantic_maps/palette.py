"""Finding the label colours of a map: the colours of solid regions, not anti-aliased edges."""

from __future__ import annotations

import numpy as np

__all__ = ["find_palette", "to_hex", "SOLID_TOLERANCE", "LABEL_DISTANCE"]

# A pixel is solid (inside a region, not on an anti-aliased edge) when every channel of its 3x3
# neighbours is within this of its own: loose enough for JPEG noise, tight enough for edges.
SOLID_TOLERANCE = 12
# Colours nearer than this (RGB Euclidean) are one label: two labels of a map are always farther
# apart (the closest pair of the shared maps, #c00000 and #ff331f, is 87 apart), JPEG noise nearer.
LABEL_DISTANCE = 40.0


def find_palette(rgb: np.ndarray, *, min_area: int = 20, merge_distance: float = LABEL_DISTANCE) -> np.ndarray:
    """Label colours of a map, largest region first.

    A label is a colour that fills solid areas: pixels whose 3x3 neighbourhood is within a small
    tolerance of their own colour. Anti-aliased edge colours never form such areas; JPEG noise does
    not break them thanks to the tolerance. Interior colours closer than ``merge_distance`` (RGB
    Euclidean) are one label, represented by their area-weighted mean.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 ndarray
    min_area : int
        Fewest solid (interior) pixels that make a label: small enough for a portrait's eyes,
        large enough to ignore specks.
    merge_distance : float
        Interior colours nearer than this are the same label.

    Returns
    -------
    palette : (K, 3) uint8 ndarray
    """
    pixels = rgb.astype(np.int16)
    height, width = pixels.shape[:2]
    padded = np.pad(pixels, ((1, 1), (1, 1), (0, 0)), mode="edge")
    spread = np.zeros((height, width), dtype=np.int16)
    for dy in range(3):
        for dx in range(3):
            diff = np.abs(padded[dy : dy + height, dx : dx + width] - pixels).max(axis=2)
            spread = np.maximum(spread, diff)
    interior = pixels[spread <= SOLID_TOLERANCE].reshape(-1, 3)
    if len(interior) == 0:  # nothing solid at all (tiny or noisy map): fall back to every pixel
        interior = pixels.reshape(-1, 3)
    quantised = (interior // 8).astype(np.int32)
    keys = (quantised[:, 0] << 10) | (quantised[:, 1] << 5) | quantised[:, 2]
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    sums = np.zeros((len(uniq), 3))
    np.add.at(sums, inverse, interior)
    means = sums / counts[:, None]
    labels: list[tuple[np.ndarray, float]] = []  # (colour sum, count), greedily merged, big first
    for index in np.argsort(-counts):
        colour, count = means[index], float(counts[index])
        for j, (total, n) in enumerate(labels):
            if np.linalg.norm(total / n - colour) < merge_distance:
                labels[j] = (total + colour * count, n + count)
                break
        else:
            labels.append((colour * count, count))
    floor = min_area
    kept = sorted(((total / n, n) for total, n in labels if n >= floor), key=lambda item: -item[1])
    if not kept:
        kept = [(labels[0][0] / labels[0][1], labels[0][1])]
    return np.array([np.clip(np.rint(colour), 0, 255) for colour, _ in kept], dtype=np.uint8)


def to_hex(colour: np.ndarray) -> str:
    """``(3,) uint8`` -> ``'#rrggbb'``."""
    return "#" + "".join(f"{int(c):02x}" for c in colour)
