"""What to paint: the inputs of one run read, checked and turned into tensors at output scale."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

import semantic_maps

from .errors import DoodleError, map_errors
from .images import ImageInput, load_rgb, resize, scaled_shape, to_tensor
from .settings import MIN_SIZE

MAX_PIXELS = semantic_maps.io.MAX_PIXELS  # the largest image read is also the largest painted

__all__ = ["Scene", "build_scene", "SizeCheck", "side_by_side", "found_map"]

SizeCheck = Callable[[str, tuple[int, int], tuple[int, int], int], None]


@dataclass
class Scene:
    """Inputs of a run, as tensors at full (last phase) scale.

    ``style (1, 3, Hs, Ws)``; ``content (1, 3, H, W)`` or None; label channels
    ``style_labels (1, K, Hs, Ws)`` and ``target_labels (1, K, H, W)``, both or neither;
    ``shape = (H, W)`` of the output; ``palette (K, 3)`` uint8 or None. With several paintings,
    ``style`` is an atlas of them side by side (see :func:`side_by_side`) and ``paintings
    (1, P, Hs, Ws)`` says which painting each position belongs to (None for one painting).
    """

    mode: str
    style: Tensor
    content: Tensor | None
    style_labels: Tensor | None
    target_labels: Tensor | None
    shape: tuple[int, int]
    palette: np.ndarray | None
    paintings: Tensor | None = None


def _name(source: ImageInput | None, default: str) -> str:
    return str(source) if isinstance(source, (str, Path)) else default


def found_map(image: ImageInput | None) -> Path | None:
    """The label map beside an image file (``X.jpg`` -> ``X_sem.png``), if there is one."""
    if isinstance(image, (str, Path)):
        candidate = semantic_maps.map_path_for(image)
        if candidate.is_file():
            return candidate
    return None


def _labels(rgb: np.ndarray, palette: np.ndarray, shape: tuple[int, int], name: str, image_name: str) -> Tensor:
    """Encode a map and bring it to ``shape = (H, W)``, saying so when it had another size."""
    if rgb.shape[:2] != shape:
        warnings.warn(
            f"{name}: map is {rgb.shape[1]}x{rgb.shape[0]} but {image_name} is {shape[1]}x{shape[0]}; resizing the map",
            stacklevel=3,
        )
    return resize(torch.from_numpy(semantic_maps.encode_labels(rgb, palette))[None], shape)


def side_by_side(images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(H_i, W_i, C)`` placed left to right, each mirrored downward to the tallest's height.

    -> the atlas ``(H, sum W_i, C)`` and which image each column holds, ``(sum W_i,)`` int64.
    """
    height = max(image.shape[0] for image in images)
    padded = [np.pad(image, ((0, height - image.shape[0]), (0, 0), (0, 0)), mode="symmetric") for image in images]
    owner = np.concatenate([np.full(image.shape[1], index) for index, image in enumerate(images)])
    return np.concatenate(padded, axis=1), owner


def _paintings_side_by_side(
    styles: list[ImageInput], style_maps: list[ImageInput | None] | None
) -> tuple[Image.Image, np.ndarray | None, Tensor, tuple[int, int]]:
    """Several paintings (and their maps, given or found beside them) as one atlas painting.

    -> the atlas, its map (None when no painting has one), which painting each position is
    ``(1, P, H, W)``, and the first painting's shape. Every painting keeps its own size (its brush
    scale); maps are scaled to theirs.
    """
    if style_maps is not None and len(style_maps) != len(styles):
        raise DoodleError(
            f"{len(styles)} paintings and {len(style_maps)} style maps; give one `style_map` per `style`, "
            "in the same order, or none (found beside each painting)"
        )
    images = [load_rgb(style, what="style image") for style in styles]
    maps = [
        found_map(style) if style_maps is None or style_maps[i] is None else style_maps[i]
        for i, style in enumerate(styles)
    ]
    if any(m is None for m in maps) and not all(m is None for m in maps):
        lacking = _name(styles[[m is None for m in maps].index(True)], "a painting")
        raise DoodleError(
            f"{lacking}: has no label map, and the other paintings have one; give each painting its map "
            "(`style_map`, once per `style`) or none"
        )
    atlas, owner = side_by_side([np.asarray(image) for image in images])
    atlas_map = None
    if maps[0] is not None:
        read = [
            load_rgb(m, what="style map").resize(image.size, Image.NEAREST)
            for m, image in zip(maps, images, strict=True)
        ]
        atlas_map, _ = side_by_side([np.asarray(m) for m in read])
    which = torch.from_numpy(owner)[None, :] == torch.arange(len(styles))[:, None]  # (P, W)
    which = which[None, :, None, :].expand(-1, -1, atlas.shape[0], -1).float()
    return Image.fromarray(atlas), atlas_map, which, (images[0].height, images[0].width)


def build_scene(
    style: ImageInput | Sequence[ImageInput],
    *,
    style_map: ImageInput | Sequence[ImageInput | None] | None = None,
    target_map: ImageInput | None = None,
    content: ImageInput | None = None,
    output_size: tuple[int, int] | None = None,
    style_scale: float = 1.0,
    allow_missing_labels: bool = False,
    check_size: SizeCheck | None = None,
) -> Scene:
    """Read and check the inputs of a run and decide its mode.

    Modes: a target map and no content -> doodle; content + both maps -> semantic style transfer;
    content alone -> style transfer; style alone -> texture synthesis. Maps are found beside their
    images by the ``X.jpg`` -> ``X_sem.png`` convention when not given. ``output_size`` (width,
    height) rescales the whole scene: the target map or content, and the style with them.
    With ``allow_missing_labels``, target pixels of a label the style map lacks get no label
    channels (features alone match them) and a warning says so.

    ``check_size(mode, shape, style_shape, labels)`` is called once the sizes are known, before the
    label maps are encoded and scaled (the costly part of a huge scene): it may raise to stop there.

    Several paintings (a list of ``style``, and of ``style_map`` in the same order or None) are
    painted from as one: side by side in one atlas, their labels shared by colour (``paintings``
    says which is where). A texture then takes the first painting's size.
    """
    paintings, explicit_style_map = None, style_map is not None
    if isinstance(style, (list, tuple)):
        maps = None if style_map is None else list(style_map) if isinstance(style_map, (list, tuple)) else [style_map]
        if len(style) == 1:
            style, style_map = style[0], None if maps is None else maps[0]
        else:
            style, style_map, paintings, first_shape = _paintings_side_by_side(list(style), maps)
            if style_map is None and target_map is not None:
                raise DoodleError("a target map needs the paintings' label maps; give `style_map` once per `style`")
    style_image = load_rgb(style, what="style image")
    content_image = None if content is None else load_rgb(content, what="content image")
    explicit_target_map = target_map is not None
    style_map = style_map if style_map is not None else found_map(style)
    if target_map is None and content is not None:
        target_map = found_map(content)
    if target_map is not None and style_map is None and not explicit_target_map:
        warnings.warn(
            f"{target_map}: found beside the content but the style has no map; painting without semantics", stacklevel=2
        )
        target_map = None
    if target_map is not None and style_map is None:
        beside = semantic_maps.map_path_for(_name(style, "style"))
        raise DoodleError(
            f"{_name(style, 'style image')}: the style has no label map, and a target map needs one; pass "
            f"`style_map` (or put {beside} beside the style)"
        )
    if explicit_style_map and target_map is None:
        raise DoodleError(
            f"{_name(style_map, 'style map')}: a style map needs a target map; pass `target_map` "
            "(the doodle, or the content's map)"
        )
    target_rgb = None if target_map is None else np.asarray(load_rgb(target_map, what="target map"))
    if target_rgb is None:
        style_map = None

    if content_image is not None:
        reference = (content_image.height, content_image.width)
    elif target_rgb is not None:
        reference = target_rgb.shape[:2]
    else:
        reference = (style_image.height, style_image.width) if paintings is None else first_shape
    shape = reference if output_size is None else (output_size[1], output_size[0])  # (width, height) -> shape
    scene_scale = (
        1.0
        if content_image is None and target_rgb is None
        else (shape[0] * shape[1] / (reference[0] * reference[1])) ** 0.5
    )
    if min(shape) < MIN_SIZE:
        too_small = f"{shape[1]}x{shape[0]} is too small to paint (at least {MIN_SIZE}x{MIN_SIZE})"
        if output_size is not None:
            raise DoodleError(f"`output_size` {too_small}")
        source = content if content_image is not None else target_map if target_rgb is not None else style
        raise DoodleError(f"{_name(source, 'image')}: {too_small}; pass a larger `output_size`")
    style_tensor = to_tensor(style_image)
    style_shape = scaled_shape(tuple(style_tensor.shape[-2:]), scene_scale * style_scale)
    if shape[0] * shape[1] > MAX_PIXELS:
        too_large = f"{shape[1]}x{shape[0]} is too large to paint (at most {MAX_PIXELS // 1_000_000} megapixels)"
        raise DoodleError(
            f"`output_size` {too_large}" if output_size is not None else f"{_name(style, 'image')}: {too_large}"
        )
    if style_shape[0] * style_shape[1] > MAX_PIXELS:
        raise DoodleError(
            f"{_name(style, 'style image')}: scaled to {style_shape[1]}x{style_shape[0]} (by the output "
            f"size and `style_scale`), it is too large (at most {MAX_PIXELS // 1_000_000} megapixels); "
            "use a smaller `style_scale`"
        )
    if min(style_shape) < MIN_SIZE:
        raise DoodleError(f"{_name(style, 'style image')}: too small at this scale ({style_shape[1]}x{style_shape[0]})")

    if content_image is not None:
        mode = "semantic style transfer" if target_rgb is not None else "style transfer"
    else:
        mode = "doodle" if target_rgb is not None else "texture synthesis"
    style_rgb = None if target_rgb is None else np.asarray(load_rgb(style_map, what="style map"))
    if check_size is not None:
        with map_errors():
            labels = (
                0 if style_rgb is None else len(semantic_maps.find_palette(style_rgb, name=_name(style_map, "map")))
            )
        check_size(mode, shape, style_shape, labels)

    style_labels = target_labels = palette = None
    if target_rgb is not None:
        target_name = _name(target_map, "target map")
        with map_errors():
            palette, missing = semantic_maps.shared_palette(
                style_rgb,
                target_rgb,
                allow_missing=allow_missing_labels,
                target_name=target_name,
                style_name=_name(style_map, "style map"),
            )
        if len(missing):
            warnings.warn(
                f"{target_name}: labels {' '.join(map(semantic_maps.to_hex, missing))} are not in the "
                "style map; those pixels are styled without semantics",
                stacklevel=2,
            )
        # The target is encoded with the missing colours too, so their pixels do not snap to a wrong
        # label; their channels are dropped below: all-zero label vectors, matched on features alone.
        everything = np.concatenate([palette, missing])
        specks = semantic_maps.stray_regions(target_rgb, everything)
        if specks:
            warnings.warn(
                f"{target_name}: {len(specks)} stray speck(s), painted as their label: {'; '.join(specks)}",
                stacklevel=2,
            )
        style_labels = resize(
            _labels(
                style_rgb,
                palette,
                (style_image.height, style_image.width),
                _name(style_map, "style map"),
                _name(style, "the style"),
            ),
            style_shape,
        )
        target_labels = (
            _labels(target_rgb, everything, reference, target_name, _name(content, "the content"))
            if content_image is not None
            else torch.from_numpy(semantic_maps.encode_labels(target_rgb, everything))[None]
        )
        target_labels = resize(target_labels[:, : len(palette)], shape)

    return Scene(
        mode=mode,
        style=resize(style_tensor, style_shape),
        content=None if content_image is None else resize(to_tensor(content_image), shape),
        style_labels=style_labels,
        target_labels=target_labels,
        shape=shape,
        palette=palette,
        paintings=None if paintings is None else resize(paintings, style_shape),
    )
