"""Programmatic edits of a label map (what a user would paint by hand)."""

from __future__ import annotations

import numpy as np

__all__ = ["grow_upward"]


def grow_upward(rgb: np.ndarray, colour: np.ndarray, pixels: int) -> np.ndarray:
    """Raise the top edge of a label: in every column, the ``pixels`` above its topmost pixel of
    ``colour`` take that colour ("move the sea line up").

    Shape: ``(H, W, 3)`` uint8 -> a new ``(H, W, 3)`` uint8 array.
    """
    edited = rgb.copy()
    inside = (rgb == np.asarray(colour, dtype=rgb.dtype)).all(axis=2)
    for x in np.nonzero(inside.any(axis=0))[0]:
        top = int(np.argmax(inside[:, x]))
        edited[max(0, top - pixels) : top, x] = colour
    return edited
