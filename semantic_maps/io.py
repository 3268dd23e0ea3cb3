"""Reading label maps painted in any program: PNG/JPEG/WebP/BMP/GIF, modes RGB, RGBA, L, P."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ["MapError", "open_image", "read_map", "map_path_for", "to_rgb"]


class MapError(ValueError):
    """A label map that cannot be used; the message names the file and the fix."""


def read_map(path: str | Path) -> np.ndarray:
    """Read a label map as RGB.

    Transparent pixels (RGBA, LA, P with transparency) are composited over black, so a map painted
    on a transparent canvas reads the same as one painted on black; palette (P) and grey (L) maps
    are expanded to their RGB colours.

    Returns
    -------
    rgb : (H, W, 3) uint8 ndarray
    """
    return to_rgb(open_image(path, what="map"))


def open_image(path: str | Path, *, what: str = "image") -> Image.Image:
    """Open and fully read an image file; a missing or unreadable file is a :class:`MapError`
    naming the file and ``what`` it was meant to be."""
    path = Path(path)
    if not path.is_file():
        raise MapError(f"{path}: {what} file not found")
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except (UnidentifiedImageError, OSError) as error:
        raise MapError(f"{path}: cannot read {what} ({error})") from None


def to_rgb(image: Image.Image) -> np.ndarray:
    """Any PIL map image -> (H, W, 3) uint8, alpha composited over black."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
        rgb = rgba[..., :3] * (rgba[..., 3:] / 255.0)
        return np.rint(rgb).astype(np.uint8)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def map_path_for(image_path: str | Path) -> Path:
    """The original neural-doodle convention: ``Monet.jpg`` -> ``Monet_sem.png`` beside it."""
    image_path = Path(image_path)
    return image_path.with_name(f"{image_path.stem}_sem.png")
