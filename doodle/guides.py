"""Guides: any pair of images, one beside the painting and one beside the output, that says which
part of the painting belongs where (EbSynth's guides, Jamriška et al. 2019; StyLit's render passes,
Fišer et al. 2016; FaceStyle's face maps, Fišer et al. 2017).

A guide is continuous where a label map is flat: greyscale or colour, any number of shades, each pair
weighted. Two kinds the tool makes itself: each image's position (x and y from 0 to 1: keep the
layout where the painting has it) and luminance (the painting's and the content photo's).

A guide's values are in ``[0, 1]`` and its channels share its weight, so a weight means the same for
any guide: the cost of a patch is ``weight`` times the mean squared difference of its guide values,
added to the network's patch score (:func:`doodle.mrf.guide_columns`) and to the pixel stage's patch
distance (:mod:`doodle.synthesis`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from semantic_maps.io import open_image

from .errors import DoodleError, map_errors
from .images import ImageInput

__all__ = [
    "InputGuide",
    "read_guides",
    "position_guide",
    "luminance_guide",
    "PHOTO_LUMINANCE_WEIGHT",
    "LABEL_WEIGHT",
    "luminance_weights",
]

# The photo's luminance in the pixel stage, when `luminance_guide` is not given (its fine edges).
PHOTO_LUMINANCE_WEIGHT = 0.5
# The label maps in the pixel stage: a pixel of another label costs this; one of the painting's own
# pixels at most 1.
LABEL_WEIGHT = 2.0


def luminance_weights(luminance_guide: float | None, content: bool) -> tuple[float, float]:
    """The luminance guide's one rule: ``(its weight in both stages, the photo's luminance's weight in
    the pixel stage alone)``. Given (`luminance_guide`), both stages hold it, as a guide; unset, the
    pixel stage alone holds the photo's at :data:`PHOTO_LUMINANCE_WEIGHT`; without a photo, neither."""
    if not content:
        return 0.0, 0.0
    return (0.0, PHOTO_LUMINANCE_WEIGHT) if luminance_guide is None else (float(luminance_guide), 0.0)


_GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


@dataclass(frozen=True)
class InputGuide:
    """A guide pair as read: ``source (Hs, Ws, C)`` beside the painting and ``target (H, W, C)`` beside
    the output, float32 in ``[0, 1]``, the same ``C`` (1 or 3 from image files, any from arrays);
    ``weight``."""

    source: np.ndarray
    target: np.ndarray
    weight: float


def _values(image: Image.Image) -> np.ndarray:
    """A guide image's values in ``[0, 1]``: ``(H, W, 1)`` for a greyscale image (8 or 16 bits, or
    floats), ``(H, W, 3)`` for any other (alpha dropped)."""
    if image.mode in _GREY_MODES:
        if image.mode in ("1", "L", "LA"):
            return np.asarray(image.convert("L"), dtype=np.float32)[..., None] / 255.0
        values = np.asarray(image, dtype=np.float32)
        top = 65535.0 if image.mode.startswith("I") and values.max(initial=0) > 255 else 255.0
        if image.mode == "F":
            top = 1.0 if values.max(initial=0) <= 1.0 else 255.0
        return np.clip(values / top, 0.0, 1.0)[..., None]
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def _read(source: ImageInput, what: str) -> np.ndarray:
    if isinstance(source, np.ndarray) and source.dtype != np.uint8:
        values = np.asarray(source, dtype=np.float32)
        values = values[..., None] if values.ndim == 2 else values
        if values.ndim != 3 or values.shape[2] == 0 or not np.isfinite(values).all():
            raise DoodleError(f"{what}: an array guide is (H, W) or (H, W, C) of finite values in [0, 1]")
        return np.clip(values, 0.0, 1.0)
    if isinstance(source, np.ndarray):
        source = Image.fromarray(source)
    if isinstance(source, Image.Image):
        return _values(source)
    with map_errors():
        image = open_image(source, what=what)
    return _values(image)


def read_guides(
    guides: Sequence[tuple[ImageInput, ImageInput]] | None, weights: tuple[float, ...] | None
) -> list[InputGuide]:
    """The guide pairs ``(source, target)`` read, each with its weight (``weights`` one per pair, in
    order; None: 1 each). A greyscale image beside a colour one is taken as colour (grey channels)."""
    guides = list(guides or [])
    if weights is not None and len(weights) != len(guides):
        raise DoodleError(
            f"{len(weights)} guide weight(s) for {len(guides)} guide(s); give one `guide_weights` per guide, in order",
            parameter="guide_weights",
        )
    read = []
    for index, pair in enumerate(guides):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2 or any(part is None for part in pair):
            raise DoodleError(
                f"guide {index + 1} is not a pair: give each of `guides` as (source, target), the guide "
                "beside the painting and the one beside the output",
                parameter="guides",
            )
        source, target = pair
        values = [_read(source, "guide source"), _read(target, "guide target")]
        channels = sorted({values[0].shape[2], values[1].shape[2]})
        if channels == [1, 3]:
            values = [v if v.shape[2] == 3 else np.repeat(v, 3, axis=2) for v in values]
        elif len(channels) > 1:
            raise DoodleError(
                f"guide {index + 1}: its source has {values[0].shape[2]} channels and its target "
                f"{values[1].shape[2]}; give both the same",
                parameter="guides",
            )
        weight = 1.0 if weights is None else float(weights[index])
        read.append(InputGuide(values[0], values[1], weight))
    return read


def position_guide(shape: tuple[int, int]) -> Tensor:
    """Each pixel's position, x then y, from 0 at the first pixel to 1 at the last. ``(1, 2, H, W)``."""
    ys = torch.linspace(0.0, 1.0, shape[0])[:, None].expand(shape)
    xs = torch.linspace(0.0, 1.0, shape[1])[None, :].expand(shape)
    return torch.stack([xs, ys])[None].contiguous()


def luminance_guide(style_luminance: Tensor, content_luminance: Tensor) -> tuple[Tensor, Tensor]:
    """The luminance guide pair: the painting's ``(1, 1, Hs, Ws)`` and the photo's ``(1, 1, H, W)``
    given the painting's mean and spread (a photo lit otherwise still finds its shades)."""
    spread = content_luminance.std().clamp_min(1e-6)
    target = (content_luminance - content_luminance.mean()) / spread * style_luminance.std() + style_luminance.mean()
    return style_luminance, target
