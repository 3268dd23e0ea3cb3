"""Reading label maps painted in any program: PNG/JPEG/WebP/BMP/GIF/TIFF, 8 or 16 bits, modes RGB, RGBA,
L, LA, P, PA, CMYK, 1, I;16 and I."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ["MapError", "open_image", "read_map", "map_path_for", "to_rgb", "MAX_PIXELS"]

# Largest image read: Pillow's decompression-bomb limit (89 megapixels, a 10900 x 8200 photo). A larger
# file is refused from its header, before it is decoded.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485

# Integer grey modes of 16-bit files (PNG/TIFF from GIMP, Krita, Photoshop): 0..65535.
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


class MapError(ValueError):
    """A label map that cannot be used; the message names the file and the fix, ``path`` the file
    (or the name it was given as), for callers that act on which file is at fault."""

    def __init__(self, message: str, *, path: str | Path | None = None, hint: str | None = None) -> None:
        super().__init__(message if hint is None else f"{message}, {hint}")
        self.message, self.hint = message, hint  # (the hint: another way out, for callers that offer it)
        self.path = None if path is None else str(path)


def read_map(path: str | Path) -> np.ndarray:
    """Read a label map as RGB.

    Transparent pixels (RGBA, LA, P with transparency) are composited over black, so a map painted
    on a transparent canvas reads the same as one painted on black; palette (P) and grey (L) maps
    are expanded to their RGB colours; 16-bit files are scaled to 8 bits.

    Returns
    -------
    rgb : (H, W, 3) uint8 ndarray
    """
    return to_rgb(open_image(path, what="map"), name=str(path))


def open_image(path: str | Path, *, what: str = "image") -> Image.Image:
    """Open and fully read an image file; a missing or unreadable file is a :class:`MapError`
    naming the file and ``what`` it was meant to be."""
    path = Path(path)
    if path.is_dir():
        raise MapError(f"{path}: is a folder, not a {what} file", path=path)
    if not path.is_file():
        raise MapError(f"{path}: {what} file not found", path=path)
    too_large = f"too large to read as a {what} (at most {MAX_PIXELS // 1_000_000} megapixels); scale it down first"
    try:
        with warnings.catch_warnings():  # the size is checked here, with a message of our own
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
            if image.width * image.height > MAX_PIXELS:
                raise MapError(f"{path}: {image.width}x{image.height} is {too_large}", path=path)
            image.load()
            return image.copy()
    except Image.DecompressionBombError:
        raise MapError(f"{path}: {too_large}", path=path) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:  # Pillow's errors for bad files
        if isinstance(error, MapError):
            raise
        raise MapError(f"{path}: cannot read {what} ({error})", path=path) from None


def to_rgb(image: Image.Image, *, name: str = "image") -> np.ndarray:
    """Any PIL image -> (H, W, 3) uint8, alpha composited over black, 16-bit values scaled to 8 bits.

    Modes that hold no colour to read (32-bit float, or ones Pillow cannot convert) are refused with
    a :class:`MapError` naming ``name``.
    """
    if image.mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.int64)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise MapError(
                f"{name}: 32-bit integer image (mode {image.mode}) with values outside 0..65535; "
                "save it as an 8- or 16-bit PNG",
                path=name,
            )
        grey = np.rint(values / 257.0).astype(np.uint8)  # 65535 -> 255
        return np.repeat(grey[..., None], 3, axis=2)
    if image.mode == "F":
        raise MapError(f"{name}: 32-bit floating-point image (mode F); save it as an 8- or 16-bit PNG", path=name)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    try:
        if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
            rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
            rgb = rgba[..., :3] * (rgba[..., 3:] / 255.0)
            return np.rint(rgb).astype(np.uint8)
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    except ValueError as error:  # a mode Pillow cannot turn into RGB (LAB, HSV ...)
        raise MapError(
            f"{name}: cannot read colours of mode {image.mode} ({error}); save it as an RGB PNG", path=name
        ) from None


def map_path_for(image_path: str | Path) -> Path:
    """The original neural-doodle convention: ``Monet.jpg`` -> ``Monet_sem.png`` beside it."""
    image_path = Path(image_path)
    return image_path.with_name(f"{image_path.stem}_sem.png")
