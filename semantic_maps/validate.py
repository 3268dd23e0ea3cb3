"""Checking that a target map speaks the style map's labels, and pointing at specks."""

from __future__ import annotations

import numpy as np

from .encode import SOLID_WEIGHT, encode_labels
from .io import MapError
from .palette import LABEL_DISTANCE, SOLID_TOLERANCE, find_palette, to_hex

__all__ = ["shared_palette", "missing_labels", "stray_regions"]


def _where(rgb: np.ndarray, colour: np.ndarray) -> str:
    ys, xs = np.nonzero(np.abs(rgb.astype(int) - colour.astype(int)).max(axis=2) <= SOLID_TOLERANCE)
    return f"around x={int(np.median(xs))}, y={int(np.median(ys))}" if len(xs) else "in anti-aliased edges"


def missing_labels(
    palette: np.ndarray, target_rgb: np.ndarray, *, tolerance: float = LABEL_DISTANCE, target_name: str = "target map"
) -> np.ndarray:
    """Label colours of ``target_rgb`` farther than ``tolerance`` (RGB) from every colour of ``palette``.

    Returns
    -------
    missing : (M, 3) uint8 ndarray, possibly empty.
    """
    found = find_palette(target_rgb, name=target_name)
    distance = np.linalg.norm(found[:, None].astype(float) - palette[None].astype(float), axis=2)
    return found[distance.min(axis=1) > tolerance].reshape(-1, 3)


def shared_palette(
    style_rgb: np.ndarray,
    target_rgb: np.ndarray,
    *,
    tolerance: float = LABEL_DISTANCE,
    allow_missing: bool = False,
    target_name: str = "target map",
    style_name: str = "style map",
) -> tuple[np.ndarray, np.ndarray]:
    """The style map's labels, after checking the target map's labels are among them.

    Parameters
    ----------
    style_rgb, target_rgb : (H, W, 3) uint8 ndarray
    tolerance : float
        A target colour within this RGB distance of a style label is that label.
    allow_missing : bool
        Return target labels absent from the style instead of raising.

    Returns
    -------
    palette : (K, 3) uint8 ndarray
        The style map's labels.
    missing : (M, 3) uint8 ndarray
        Target labels not in ``palette`` (empty unless ``allow_missing``).

    Raises
    ------
    MapError
        A target label absent from the style map, naming its colour and where it is.
    """
    palette = find_palette(style_rgb, name=style_name)
    missing = missing_labels(palette, target_rgb, tolerance=tolerance, target_name=target_name)
    if len(missing) and not allow_missing:
        colour = missing[0]
        labels = " ".join(to_hex(c) for c in palette)
        raise MapError(
            f"{target_name}: label colour {to_hex(colour)} ({_where(target_rgb, colour)}) is not in "
            f"the {style_name}, whose labels are {labels}; repaint it with one of those",
            path=target_name,
            hint="or pass `allow_missing_labels=True` to style it without semantics",
        )
    return palette, missing


def stray_regions(rgb: np.ndarray, palette: np.ndarray, *, max_pixels: int = 16) -> list[str]:
    """Connected specks of a label of at most ``max_pixels`` pixels: usually a slip of the brush.

    A speck must hold at least one pixel of solid label colour: the blended pixels where
    anti-aliased edges meet are not specks.

    Returns
    -------
    descriptions : list of str, e.g. ``"#ff331f: 3 pixels at x=120, y=44"``.
    """
    from scipy import ndimage  # here, not at import: scipy.ndimage costs a command's start 0.3 s or more

    weights = encode_labels(rgb, palette)
    labels, solid = weights.argmax(axis=0), weights.max(axis=0) >= SOLID_WEIGHT
    found = []
    for index, colour in enumerate(palette):
        components, count = ndimage.label(labels == index)
        if count == 0:
            continue
        sizes = np.bincount(components.ravel())[1:]
        has_solid = np.bincount(components[solid], minlength=count + 1)[1:] > 0
        for component in np.nonzero((sizes <= max_pixels) & has_solid)[0][:5]:
            ys, xs = np.nonzero(components == component + 1)
            found.append(f"{to_hex(colour)}: {sizes[component]} pixels at x={int(xs.mean())}, y={int(ys.mean())}")
    return found
