"""The inputs of one paint read and checked, not yet tensors: files or arrays in, images, label maps,
their palette, the mode and the sizes out. Nothing here needs the network."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

import semantic_maps

from .errors import DoodleError, map_errors
from .guides import InputGuide, luminance_weights, read_guides
from .images import ImageInput, load_rgb
from .plan import Mode
from .settings import PaintSettings
from .sizes import name_of, scale_notes, sizes

SHADED_NOTE = 0.2  # a map more shaded than this (a continuous map cut into labels) gets a note
GUIDE_HINT = "a map of soft shades (a soft segmentation, a gradient, a render pass) is a guide: pass it with `guides`"

__all__ = ["Inputs", "read_inputs", "shaded_note", "found_map", "side_by_side"]


@dataclass
class Inputs:
    """One paint's inputs, read and checked.

    ``style`` is the painting (an atlas of several side by side, ``paintings (1, P, Hs, Ws)`` then
    saying which is where); ``style_map`` and ``target_map`` ``(H, W, 3) uint8`` label maps, both or
    neither; ``palette (K, 3)`` their shared labels and ``missing (M, 3)`` the target's colours the
    style lacks (``allow_missing_labels``); ``shape = (H, W)`` of the output, ``reference`` the
    target's or content's own, ``style_shape`` the painting's at the output's scale. ``given``:
    the sources as the caller named them, ``found``: maps found beside their images (``X_sem.png``),
    both by parameter name, for the record. ``notes``: what the user should hear about them.
    ``guides``: the guide pairs read (:mod:`doodle.guides`), each weighted; ``position_weight`` and
    ``luminance_weight``: of the guides the tool makes (0: none; None: the luminance's default).
    """

    mode: Mode
    style: Image.Image
    style_map: np.ndarray | None
    target_map: np.ndarray | None
    content: Image.Image | None
    palette: np.ndarray | None
    missing: np.ndarray
    shape: tuple[int, int]
    reference: tuple[int, int]
    style_shape: tuple[int, int]
    paintings: Tensor | None
    names: dict[str, str]
    given: dict[str, object]
    found: dict[str, Path | list[Path]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    guides: list[InputGuide] = field(default_factory=list)
    position_weight: float = 0.0
    luminance_weight: float | None = None

    @property
    def painting_count(self) -> int:
        return 1 if self.paintings is None else self.paintings.shape[1]

    @property
    def labels(self) -> int:
        """Label channels painted (0 without maps)."""
        return 0 if self.palette is None else len(self.palette)

    @property
    def side_channels(self) -> int:
        """Channels painted beside the features: labels and guides (2 for position, 1 for luminance)."""
        both_stages = luminance_weights(self.luminance_weight, self.content is not None)[0]
        made = (2 if self.position_weight > 0 else 0) + (1 if both_stages > 0 else 0)
        return self.labels + sum(guide.source.shape[2] for guide in self.guides) + made


def found_map(image: ImageInput | None) -> Path | None:
    """The label map beside an image file (``X.jpg`` -> ``X_sem.png``), if there is one."""
    if isinstance(image, (str, Path)):
        candidate = semantic_maps.map_path_for(image)
        if candidate.is_file():
            return candidate
    return None


def side_by_side(images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(H_i, W_i, C)`` placed left to right, each mirrored downward to the tallest's height.

    -> the atlas ``(H, sum W_i, C)`` and which image each column holds, ``(sum W_i,)`` int64.
    """
    height = max(image.shape[0] for image in images)
    padded = [np.pad(image, ((0, height - image.shape[0]), (0, 0), (0, 0)), mode="symmetric") for image in images]
    owner = np.concatenate([np.full(image.shape[1], index) for index, image in enumerate(images)])
    return np.concatenate(padded, axis=1), owner


def _blended(style: list, style_map, blend: tuple[float, ...] | None) -> tuple[list, list | None]:
    """The paintings (and maps) without those of weight 0 in ``blend``, so a blend of 1 and 0 paints
    as the first painting alone; a blend of another length than ``style`` is an error."""
    if blend is None:
        return style, style_map
    if len(blend) != len(style):
        raise DoodleError(
            f"`style_blend` has {len(blend)} weights for {len(style)} paintings; give one per `style`",
            parameter="style_blend",
        )
    keep = [i for i, weight in enumerate(blend) if weight > 0]
    if isinstance(style_map, list) and len(style_map) == len(style):
        style_map = [style_map[i] for i in keep]
    return [style[i] for i in keep], style_map


@dataclass
class _Painting:
    """The style side as read: the painting (or atlas), its map (given or found), which painting is where."""

    image: Image.Image
    map_source: ImageInput | None
    map_rgb: np.ndarray | None  # an atlas's map, already read
    paintings: Tensor | None
    first_shape: tuple[int, int]
    found: Path | list[Path] | None

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the painting (or atlas)."""
        return self.image.height, self.image.width


def _paintings(styles: list[ImageInput], style_maps: list[ImageInput | None] | None) -> _Painting:
    """Several paintings (and their maps, given or found beside them) as one atlas painting. Every
    painting keeps its own size (its brush scale); maps are scaled to theirs."""
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
        lacking = name_of(styles[[m is None for m in maps].index(True)], "a painting")
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
    found = None
    if style_maps is None and maps[0] is not None:
        found = list(maps)
    return _Painting(Image.fromarray(atlas), None, atlas_map, which, (images[0].height, images[0].width), found)


def _painting(style, style_map) -> _Painting:
    """The style side of one painting or several (lists)."""
    if isinstance(style, (list, tuple)):
        maps = None if style_map is None else list(style_map) if isinstance(style_map, (list, tuple)) else [style_map]
        if len(style) > 1:
            return _paintings(list(style), maps)
        style, style_map = style[0], None if maps is None else maps[0]
    image = load_rgb(style, what="style image")
    found = found_map(style) if style_map is None else None
    return _Painting(
        image, style_map if style_map is not None else found, None, None, (image.height, image.width), found
    )


def _target_map(style, painting: _Painting, target_map, content, style_map_given: bool, notes: list) -> tuple:
    """The target map's source and pixels (or None), and the one found beside the content (or None)."""
    explicit = target_map is not None
    found = None
    if target_map is None and content is not None:
        target_map = found = found_map(content)
    has_style_map = painting.map_source is not None or painting.map_rgb is not None
    if target_map is not None and not has_style_map and not explicit:
        notes.append(f"{target_map}: found beside the content but the style has no map; painting without semantics")
        target_map = found = None
    if target_map is not None and not has_style_map:
        if painting.paintings is not None:
            raise DoodleError("a target map needs the paintings' label maps; give `style_map` once per `style`")
        beside = semantic_maps.map_path_for(name_of(style, "style"))
        raise DoodleError(
            f"{name_of(style, 'style image')}: the style has no label map, and a target map needs one; pass "
            f"`style_map` (or put {beside} beside the style)"
        )
    if style_map_given and target_map is None:
        map_name = name_of(painting.map_source, "style map")
        raise DoodleError(
            f"{map_name}: a style map needs a target map; pass `target_map` (the doodle, or the content's map)"
        )
    rgb = None if target_map is None else np.asarray(load_rgb(target_map, what="target map"))
    return target_map, rgb, found


def _labels(style_rgb, target_rgb, names: dict, allow_missing: bool, notes: list) -> tuple[np.ndarray, np.ndarray]:
    """The palette the two maps share and the target's colours the style lacks, with notes on both.
    A map that is no label map, or a target whose colours the style lacks, is an error that points
    to guides too (:data:`GUIDE_HINT`)."""
    try:
        with map_errors():
            palette, missing = semantic_maps.shared_palette(
                style_rgb,
                target_rgb,
                allow_missing=allow_missing,
                target_name=names["target_map"],
                style_name=names["style_map"],
            )
    except DoodleError as error:
        hint = GUIDE_HINT if error.hint is None else f"{error.hint}; or, {GUIDE_HINT}"
        raise DoodleError(error.message, path=error.path, hint=hint) from None
    if len(missing):
        notes.append(
            f"{names['target_map']}: labels {' '.join(map(semantic_maps.to_hex, missing))} are not in the "
            "style map; those pixels are styled without semantics"
        )
    everything = np.concatenate([palette, missing])  # (the target's labels the style lacks are labels too)
    for rgb, key, labels in ((style_rgb, "style_map", palette), (target_rgb, "target_map", everything)):
        notes += shaded_note(rgb, labels, names[key])
    specks = semantic_maps.stray_regions(target_rgb, everything)
    if specks:
        notes.append(
            f"{names['target_map']}: {len(specks)} stray speck(s), painted as their label: {'; '.join(specks)}"
        )
    return palette, missing


def shaded_note(rgb: np.ndarray, labels: np.ndarray, name: str) -> list[str]:
    """A note when much of the map ``rgb (H, W, 3)`` is shades between its ``labels (K, 3)``: a continuous
    map (a soft segmentation, a render pass) cut into labels, which a guide would follow."""
    shaded = semantic_maps.shaded_share(rgb, labels)
    if shaded <= SHADED_NOTE:
        return []
    return [
        f"{name}: {100 * shaded:.0f} % of its regions are shades between its colours (a continuous map?); "
        f"they are painted as the nearest of its {len(labels)} labels ({GUIDE_HINT})"
    ]


def _mismatch(rgb: np.ndarray, shape: tuple[int, int], name: str, image_name: str) -> list[str]:
    """A note when a map is not of its image's ``shape = (H, W)`` (it is resized to it)."""
    if rgb.shape[:2] == shape:
        return []
    return [f"{name}: map is {rgb.shape[1]}x{rgb.shape[0]} but {image_name} is {shape[1]}x{shape[0]}; resizing the map"]


def _guides(guides, settings: PaintSettings, content: bool) -> list[InputGuide]:
    """The guide pairs read and weighted (:func:`~doodle.guides.read_guides`); the luminance guide
    checked to have a photo."""
    if settings.luminance_guide and not content:
        raise DoodleError(
            "`luminance_guide` weighs the content photo's luminance against the painting's; give `content`, "
            "or pass a greyscale guide pair with `guides`",
            parameter="luminance_guide",
        )
    return read_guides(guides, settings.guide_weights)


def _maps(painting: _Painting, target_rgb, content: bool, reference, names: dict, settings: PaintSettings, notes: list):
    """The style map's pixels, the labels both maps share and the target's the style lacks (None, None,
    none without maps), with notes on them."""
    if target_rgb is None:
        return None, None, np.zeros((0, 3), np.uint8)
    style_rgb = (
        painting.map_rgb
        if painting.map_rgb is not None
        else np.asarray(load_rgb(painting.map_source, what="style map"))
    )
    palette, missing = _labels(style_rgb, target_rgb, names, settings.allow_missing_labels, notes)
    if painting.paintings is None:
        notes += _mismatch(style_rgb, painting.first_shape, names["style_map"], names["style"])
    if content:
        notes += _mismatch(target_rgb, reference, names["target_map"], names["content"])
    return style_rgb, palette, missing


def read_inputs(
    style: ImageInput | Sequence[ImageInput],
    *,
    style_map: ImageInput | Sequence[ImageInput | None] | None = None,
    target_map: ImageInput | None = None,
    content: ImageInput | None = None,
    guides: Sequence[tuple[ImageInput, ImageInput]] | None = None,
    settings: PaintSettings | None = None,
) -> Inputs:
    """Read and check the inputs of a paint and decide its mode (the settings used are
    ``output_size``, ``style_scale``, ``allow_missing_labels``, ``style_blend`` and the guides').

    Modes: a target map and no content -> doodle; content + both maps -> semantic style transfer;
    content alone -> style transfer; guides alone -> guided synthesis, at the first guide target's
    size; style alone -> texture synthesis. ``guides``: pairs ``(source, target)`` of guide images
    beside the painting and beside the output (:mod:`doodle.guides`). Maps are found beside their
    images by the ``X.jpg`` -> ``X_sem.png`` convention when not given. Several paintings (a list of
    ``style``, and of ``style_map`` in the same order or None) are painted from as one atlas, their
    labels shared by colour; a texture then takes the first painting's size.
    """
    settings = settings or PaintSettings()
    given = dict(style=style, style_map=style_map, target_map=target_map, content=content)
    if guides:
        given["guides"] = [list(pair) if isinstance(pair, (tuple, list)) else pair for pair in guides]
    if isinstance(style, (list, tuple)) or settings.style_blend is not None:
        styles = list(style) if isinstance(style, (list, tuple)) else [style]
        maps = list(style_map) if isinstance(style_map, (list, tuple)) else style_map
        style, style_map = _blended(styles, maps, settings.style_blend)
    notes: list[str] = []
    painting = _painting(style, style_map)
    content_image = None if content is None else load_rgb(content, what="content image")
    target_source, target_rgb, found_target = _target_map(
        style, painting, target_map, content, given["style_map"] is not None, notes
    )
    first = style[0] if isinstance(style, (list, tuple)) else style
    guide_pairs = _guides(guides, settings, content_image is not None)
    guide_target = guide_pairs[0].target if guide_pairs else None
    sources = dict(style=first, target_map=target_source, content=content, guide=guides[0][1] if guides else None)
    shape, reference, style_shape = sizes(
        sources, painting.shape, painting.first_shape, target_rgb, content_image, guide_target, settings
    )
    notes += scale_notes(painting.shape, style_shape, shape, name_of(first, "the style"))
    names = dict(
        style=name_of(first, "the style"),
        style_map=name_of(painting.map_source, "style map"),
        target_map=name_of(target_source, "target map"),
        content=name_of(content, "the content"),
    )
    style_rgb, palette, missing = _maps(
        painting, target_rgb, content_image is not None, reference, names, settings, notes
    )
    found = {}
    if painting.found is not None and target_rgb is not None:
        found["style_map"] = painting.found
    if found_target is not None:
        found["target_map"] = found_target
    if content_image is not None:
        mode = Mode.SEMANTIC_TRANSFER if target_rgb is not None else Mode.TRANSFER
    else:
        mode = Mode.DOODLE if target_rgb is not None else Mode.GUIDED if guide_pairs else Mode.TEXTURE
    return Inputs(
        mode,
        painting.image,
        style_rgb,
        target_rgb,
        content_image,
        palette,
        missing,
        shape,
        reference,
        style_shape,
        painting.paintings,
        names,
        given,
        found,
        notes,
        guide_pairs,
        settings.position_guide,
        settings.luminance_guide,
    )
