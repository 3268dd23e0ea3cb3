"""Finding the label colours of a map: the colours of solid regions, not anti-aliased edges."""

from __future__ import annotations

import numpy as np

from .io import MapError

__all__ = [
    "find_palette",
    "shaded_share",
    "to_hex",
    "SOLID_TOLERANCE",
    "LABEL_DISTANCE",
    "MAX_LABELS",
    "MIN_SOLID_SHARE",
]

# A pixel is solid (inside a region, not on an anti-aliased edge) when every channel of its 3x3
# neighbours is within this of its own: loose enough for JPEG noise, tight enough for edges.
SOLID_TOLERANCE = 12
# Colours nearer than this (RGB Euclidean) are one label: two labels of a map are always farther
# apart (the closest pair of the shared maps, #c00000 and #ff331f, is 87 apart), JPEG noise nearer.
LABEL_DISTANCE = 40.0
# More labels than this is no map (a photo or noise): refused, which also bounds the work of encoding.
MAX_LABELS = 64
# Labels must cover at least this share of a map (its flat regions): hand-painted maps cover about 95 %,
# noise with one flat square or a gradient with a flat pixel next to nothing.
MIN_SOLID_SHARE = 0.3


def find_palette(
    rgb: np.ndarray, *, min_area: int = 20, merge_distance: float = LABEL_DISTANCE, name: str = "map"
) -> np.ndarray:
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
    name : str
        The map's name (its file), for the error.

    Returns
    -------
    palette : (K, 3) uint8 ndarray

    Raises
    ------
    MapError
        More than :data:`MAX_LABELS` labels, or labels covering less than :data:`MIN_SOLID_SHARE` of
        the image (32x32 pixels or more): not a map (a photo, noise, a continuous map).
    """
    pixels = np.ascontiguousarray(rgb)
    # A pixel's spread: the largest difference, in any channel, to a pixel of its 3x3 neighbourhood
    # (edges repeated), i.e. the larger of (neighbourhood max - pixel) and (pixel - neighbourhood min).
    highest, lowest = _neighbourhood(pixels, np.maximum), _neighbourhood(pixels, np.minimum)
    spread = np.maximum(highest - pixels, pixels - lowest).max(axis=2)  # uint8: no wrap, both >= 0
    interior = pixels.reshape(-1, 3)[(spread <= SOLID_TOLERANCE).reshape(-1)]
    large = rgb.shape[0] * rgb.shape[1] >= 32 * 32
    if len(interior) == 0 and large:  # not one flat pixel (noise, smooth shades): no label map
        raise _not_flat(name, 0.0)
    if len(interior) == 0:  # nothing solid at all in a tiny map: fall back to every pixel
        interior = pixels.reshape(-1, 3)
    # Colours in bins of 8 levels a channel: a 15-bit key, so the bins are counted, not sorted.
    keys = (
        ((interior[:, 0] >> 3).astype(np.int32) << 10)
        | ((interior[:, 1] >> 3).astype(np.int32) << 5)
        | (interior[:, 2] >> 3)
    )
    counts = np.bincount(keys, minlength=1 << 15)
    present = np.nonzero(counts)[0]
    sums = np.stack([np.bincount(keys, weights=interior[:, c], minlength=1 << 15)[present] for c in range(3)], axis=1)
    counts = counts[present]
    means = sums / counts[:, None]
    # Greedy merge, biggest bin first: each joins the first label within merge_distance, else starts one.
    totals, sizes = np.zeros((0, 3)), np.zeros(0)
    for index in np.argsort(-counts):
        colour, count = means[index], float(counts[index])
        near = np.nonzero(np.linalg.norm(totals / sizes[:, None] - colour, axis=1) < merge_distance)[0]
        if len(near):
            totals[near[0]] += colour * count
            sizes[near[0]] += count
        else:
            totals, sizes = np.vstack([totals, colour * count]), np.append(sizes, count)
    kept = np.nonzero(sizes >= min_area)[0]
    if len(kept) == 0:
        kept = np.array([0])
    if len(kept) > MAX_LABELS:
        raise MapError(
            f"{name}: {len(kept)} colours fill regions, and a label map has at most {MAX_LABELS}; "
            "is it a photo or a painting rather than a map of flat colours?",
            path=name,
        )
    solid = sizes[kept].sum() / (rgb.shape[0] * rgb.shape[1])
    if solid < MIN_SOLID_SHARE and large:
        raise _not_flat(name, solid)
    kept = kept[np.argsort(-sizes[kept], kind="stable")]
    return np.clip(np.rint(totals[kept] / sizes[kept, None]), 0, 255).astype(np.uint8)


def _not_flat(name: str, solid: float) -> MapError:
    """The error of a map whose regions of flat colour are only ``solid`` of it."""
    return MapError(
        f"{name}: only {100 * solid:.0f} % of it is regions of flat colour, and a label map is made of them "
        "(a hand-painted map is about 95 %); is it a photo, noise or a continuous map rather than a map of "
        "flat colours?",
        path=name,
    )


def shaded_share(rgb: np.ndarray, palette: np.ndarray, *, tolerance: float = LABEL_DISTANCE / 2) -> float:
    """The share of ``rgb``'s solid pixels farther than ``tolerance`` from every colour of ``palette``
    (every fourth row and column, for speed): about 0 for a map of flat colours, large for a
    continuous map (smooth shades) that :func:`find_palette` cut into labels."""
    pixels = np.ascontiguousarray(rgb[::4, ::4])
    highest, lowest = _neighbourhood(pixels, np.maximum), _neighbourhood(pixels, np.minimum)
    solid = np.maximum(highest - pixels, pixels - lowest).max(axis=2) <= SOLID_TOLERANCE
    colours = pixels[solid].astype(np.float32)
    if len(colours) == 0 or len(palette) == 0:
        return 0.0
    labels = palette[None].astype(np.float32)
    far = 0
    for start in range(0, len(colours), 1 << 16):  # (in chunks: a large map's colours x 64 labels is GBs)
        chunk = colours[start : start + (1 << 16), None, :]
        far += int((np.min(np.linalg.norm(chunk - labels, axis=2), axis=1) > tolerance).sum())
    return far / len(colours)


def _neighbourhood(pixels: np.ndarray, pick) -> np.ndarray:
    """``pick`` (np.maximum or np.minimum) over each pixel's 3x3 neighbourhood, edges repeated:
    rows then columns. ``(H, W, C)`` -> ``(H, W, C)``."""
    rows = pick(pixels, pick(np.concatenate([pixels[:1], pixels[:-1]]), np.concatenate([pixels[1:], pixels[-1:]])))
    before = np.concatenate([rows[:, :1], rows[:, :-1]], axis=1)
    after = np.concatenate([rows[:, 1:], rows[:, -1:]], axis=1)
    return pick(rows, pick(before, after))


def to_hex(colour: np.ndarray) -> str:
    """``(3,) uint8`` -> ``'#rrggbb'``."""
    return "#" + "".join(f"{int(c):02x}" for c in colour)
