"""The output's size and the painting's scale to it, each ``(H, W)``: checked against the smallest and
largest sizes painted, with notes where the painting's scale costs time or memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

import semantic_maps

from .errors import DoodleError
from .images import ImageInput, scaled_shape
from .settings import MIN_SIZE, PaintSettings

__all__ = ["sizes", "scale_notes", "name_of", "path_of", "MAX_PIXELS"]

MAX_PIXELS = semantic_maps.io.MAX_PIXELS  # the largest image read is also the largest painted


def name_of(source: ImageInput | None, default: str) -> str:
    """A source's name in messages: its path, or ``default`` for an image in memory."""
    return str(source) if isinstance(source, (str, Path)) else default


def sizes(
    inputs: dict,
    painting_shape: tuple[int, int],
    first_shape: tuple[int, int],
    target_rgb: np.ndarray | None,
    content_image: Image.Image | None,
    guide_target: np.ndarray | None,
    settings: PaintSettings,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """``(shape, reference, style_shape)``, each ``(H, W)``, checked against the smallest and largest
    sizes. ``inputs``: the sources by parameter name (``style``, ``target_map``, ``content``,
    ``guide``), to name them; ``painting_shape``: the painting's (an atlas of several), ``first_shape``
    the first painting's. The reference is the content's size, else the target map's
    (``target_rgb (H, W, 3)``), else the first guide target's (``guide_target (H, W, C)``), else the
    first painting's; ``settings``: their `output_size` and `style_scale`."""
    output_size, style_scale = settings.output_size, settings.style_scale
    if content_image is not None:
        reference = (content_image.height, content_image.width)
    elif target_rgb is not None:
        reference = target_rgb.shape[:2]
    elif guide_target is not None:
        reference = guide_target.shape[:2]
    else:
        reference = first_shape
    shape = reference if output_size is None else (output_size[1], output_size[0])  # (width, height) -> shape
    laid_out = content_image is not None or target_rgb is not None or guide_target is not None
    scale = (shape[0] * shape[1] / np.prod(reference)) ** 0.5 if laid_out else 1.0
    style = inputs["style"]
    source = (
        inputs["content"]
        if content_image is not None
        else inputs["target_map"]
        if target_rgb is not None
        else inputs["guide"]
        if guide_target is not None
        else style
    )
    if laid_out and min(reference) < MIN_SIZE:  # (scaled up to the output, it would say nothing of a layout)
        raise DoodleError(
            f"{name_of(source, 'image')}: {reference[1]}x{reference[0]} is too small to lay out an output "
            f"(at least {MIN_SIZE}x{MIN_SIZE})",
            path=path_of(source),
        )
    if min(shape) < MIN_SIZE:
        too_small = f"{shape[1]}x{shape[0]} is too small to paint (at least {MIN_SIZE}x{MIN_SIZE})"
        if output_size is not None:
            raise DoodleError(f"`output_size` {too_small}")
        raise DoodleError(f"{name_of(source, 'image')}: {too_small}; pass a larger `output_size`", path=path_of(source))
    if min(painting_shape) < MIN_SIZE:
        raise DoodleError(
            f"{name_of(style, 'style image')}: {painting_shape[1]}x{painting_shape[0]} is too small to paint from "
            f"(at least {MIN_SIZE}x{MIN_SIZE})",
            path=path_of(style),
        )
    # At the output's scale, but never under the smallest side (a 16x16 output of a large doodle).
    style_shape = scaled_shape(painting_shape, max(scale * style_scale, MIN_SIZE / min(painting_shape)))
    if shape[0] * shape[1] > MAX_PIXELS:
        too_large = f"{shape[1]}x{shape[0]} is too large to paint (at most {MAX_PIXELS // 1_000_000} megapixels)"
        raise DoodleError(
            f"`output_size` {too_large}" if output_size is not None else f"{name_of(source, 'image')}: {too_large}",
            path=None if output_size is not None else path_of(source),
        )
    if style_shape[0] * style_shape[1] > MAX_PIXELS:
        by = (
            f"`style_scale` and the output, {scale:.3g}x {name_of(source, 'the image')}"
            if laid_out
            else "`style_scale`"
        )
        raise DoodleError(
            f"{name_of(style, 'style image')}: scaled to {style_shape[1]}x{style_shape[0]} (by {by}), it is too "
            f"large (at most {MAX_PIXELS // 1_000_000} megapixels); use a smaller `style_scale`"
            + (" or `output_size`" if output_size is not None and scale > 1 else ""),
            path=path_of(style),
        )
    return shape, reference, style_shape


def path_of(source) -> str | None:
    return str(source) if isinstance(source, (str, Path)) else None


def scale_notes(
    painting_shape: tuple[int, int], style_shape: tuple[int, int], shape: tuple[int, int], name: str
) -> list[str]:
    """A note when the painting, ``painting_shape = (H, W)``, is painted at a small part of its size
    (``style_shape``; it is read whole all the same), or at many times the output's ``shape`` (its
    patches then take most of the time and memory: a 6000x4000 painting at 1500x1000 for a 64x48
    doodle took 6 GB)."""
    painted = style_shape[0] * style_shape[1]
    told = f"{name}: {painting_shape[1]}x{painting_shape[0]} is painted at {style_shape[1]}x{style_shape[0]}"
    if painting_shape[0] * painting_shape[1] > 16 * painted:
        return [f"{told}, its scale to the output (`style_scale`); a copy of that size reads faster and in less memory"]
    if painted > max(64 * shape[0] * shape[1], 2**20):
        return [
            f"{told}, its scale to the {shape[1]}x{shape[0]} output, and read whole: its patches take most of the "
            "time and memory; a smaller `style_scale` paints faster, its strokes smaller"
        ]
    return []
