"""Checking that a target map speaks the style map's labels."""

from __future__ import annotations

import numpy as np

from .io import MapError
from .palette import find_palette, to_hex

__all__ = ["shared_palette"]


def shared_palette(style_rgb: np.ndarray, target_rgb: np.ndarray, *, tolerance: float = 40.0,
                   target_name: str = "target map", style_name: str = "style map") -> np.ndarray:
    """The style map's labels, after checking every label of the target map is among them.

    Parameters
    ----------
    style_rgb, target_rgb : (H, W, 3) uint8 ndarray
    tolerance : float
        A target colour within this RGB distance of a style label is that label.

    Returns
    -------
    palette : (K, 3) uint8 ndarray, the style map's labels.

    Raises
    ------
    MapError
        A target label absent from the style map, naming its colour and where it is.
    """
    palette = find_palette(style_rgb)
    for colour in find_palette(target_rgb):
        distance = np.linalg.norm(palette.astype(float) - colour.astype(float), axis=1)
        if distance.min() > tolerance:
            ys, xs = np.nonzero(np.abs(target_rgb.astype(int) - colour.astype(int)).max(axis=2) <= 12)
            where = f"around x={int(np.median(xs))}, y={int(np.median(ys))}" if len(xs) else ""
            labels = " ".join(to_hex(c) for c in palette)
            raise MapError(f"{target_name}: label colour {to_hex(colour)} ({where}) is not in the "
                           f"{style_name}, whose labels are {labels}; repaint it with one of those")
    return palette
