"""What to paint, as tensors: the inputs of one paint (:mod:`doodle.inputs`) encoded at output scale."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

import semantic_maps

from .colorspace import luminance
from .guides import luminance_guide, luminance_weights, position_guide
from .images import ImageInput, resize, scaled_shape, to_tensor
from .inputs import Inputs, read_inputs
from .plan import Mode
from .settings import PaintSettings
from .synthesis import Guide

__all__ = ["Scene", "encode_scene", "build_scene", "scene_at"]


@dataclass
class Scene:
    """Inputs of a run, as tensors at full (last phase) scale.

    ``style (1, 3, Hs, Ws)``; ``content (1, 3, H, W)`` or None; label channels
    ``style_labels (1, K, Hs, Ws)`` and ``target_labels (1, K, H, W)``, both or neither;
    ``shape = (H, W)`` of the output; ``palette (K, 3)`` uint8 or None. With several paintings,
    ``style`` is an atlas of them side by side (see :func:`~doodle.inputs.side_by_side`) and
    ``paintings (1, P, Hs, Ws)`` says which painting each position belongs to (None for one painting).
    Guides (:mod:`doodle.guides`): ``style_guides (1, G, Hs, Ws)`` and ``target_guides (1, G, H, W)``,
    both or neither, in ``[0, 1]``; ``guide_groups``: each guide's ``(channels, weight)``, in order
    (their channels add up to ``G``).
    """

    mode: Mode
    style: Tensor
    content: Tensor | None
    style_labels: Tensor | None
    target_labels: Tensor | None
    shape: tuple[int, int]
    palette: np.ndarray | None
    paintings: Tensor | None = None
    style_guides: Tensor | None = None
    target_guides: Tensor | None = None
    guide_groups: tuple[tuple[int, float], ...] = ()

    def guides(self) -> list[tuple[Tensor, Tensor, float]]:
        """Each guide's ``(source (1, C, Hs, Ws), target (1, C, H, W), weight)``, in order."""
        pairs, first = [], 0
        for channels, weight in self.guide_groups:
            part = slice(first, first + channels)
            pairs.append((self.style_guides[:, part], self.target_guides[:, part], weight))
            first += channels
        return pairs

    def pixel_guides(self, label_weight: float) -> list[Guide]:
        """The label maps (weighed ``label_weight``) and every guide as the pixel stage takes them
        (:mod:`doodle.synthesis`)."""
        guides = []
        if self.style_labels is not None:
            guides.append(Guide(self.style_labels[0], self.target_labels[0], label_weight, labels=True))
        guides += [Guide(source[0], target[0], weight) for source, target, weight in self.guides() if weight > 0]
        return guides


def _encoded(rgb: np.ndarray, palette: np.ndarray, own: tuple[int, int], shape: tuple[int, int], count: int) -> Tensor:
    """A map's first ``count`` label channels, at its image's shape ``own = (H, W)`` (resized when the
    map has another size), then resized to ``shape``: ``(1, count, *shape)``. A channel at a time, so a
    large painting's labels take one channel's memory at its size, not K (a 6000x4000 map of 64
    labels: 6 GB)."""
    table, index = semantic_maps.label_table(rgb, palette)
    channels = []
    for label in range(count):
        channel = torch.from_numpy(table[:, label][index])[None, None]
        channels.append(resize(channel if tuple(channel.shape[-2:]) == own else resize(channel, own), shape))
    return torch.cat(channels, dim=1)


def encode_scene(inputs: Inputs) -> Scene:
    """The inputs as tensors at the output's scale (the costly part of a large paint: do it once the
    memory is known to suffice)."""
    style_labels = target_labels = None
    if inputs.target_map is not None:
        palette = inputs.palette
        painting = (inputs.style.height, inputs.style.width)
        style_labels = _encoded(inputs.style_map, palette, painting, inputs.style_shape, len(palette))
        # The target is encoded with the missing colours too, so their pixels do not snap to a wrong
        # label; their channels are dropped: all-zero label vectors, matched on features alone.
        everything = np.concatenate([palette, inputs.missing])
        own = inputs.reference if inputs.content is not None else inputs.target_map.shape[:2]
        target_labels = _encoded(inputs.target_map, everything, own, inputs.shape, len(palette))
    style = resize(to_tensor(inputs.style), inputs.style_shape)
    content = None if inputs.content is None else resize(to_tensor(inputs.content), inputs.shape)
    style_guides, target_guides, groups = _guides(inputs, style, content)
    return Scene(
        mode=inputs.mode,
        style=style,
        content=content,
        style_labels=style_labels,
        target_labels=target_labels,
        shape=inputs.shape,
        palette=inputs.palette,
        paintings=None if inputs.paintings is None else resize(inputs.paintings, inputs.style_shape),
        style_guides=style_guides,
        target_guides=target_guides,
        guide_groups=groups,
    )


def _guides(inputs: Inputs, style: Tensor, content: Tensor | None) -> tuple[Tensor | None, Tensor | None, tuple]:
    """The guide pairs given and made (position, luminance), stacked at the painting's and the output's
    scale: ``(1, G, Hs, Ws)``, ``(1, G, H, W)`` (None, None without guides) and each one's ``(C, weight)``."""
    pairs = [
        (
            resize(_as_tensor(guide.source), inputs.style_shape),
            resize(_as_tensor(guide.target), inputs.shape),
            guide.weight,
        )
        for guide in inputs.guides
    ]
    if inputs.position_weight > 0:
        pairs.append((position_guide(inputs.style_shape), position_guide(inputs.shape), inputs.position_weight))
    both_stages = luminance_weights(inputs.luminance_weight, content is not None)[0]
    if both_stages > 0:
        pairs.append((*luminance_guide(luminance(style), luminance(content)), both_stages))
    if not pairs:
        return None, None, ()
    groups = tuple((source.shape[1], float(weight)) for source, _, weight in pairs)
    return torch.cat([p[0] for p in pairs], dim=1), torch.cat([p[1] for p in pairs], dim=1), groups


def _as_tensor(values: np.ndarray) -> Tensor:
    """``(H, W, C)`` float32 -> ``(1, C, H, W)``."""
    return torch.from_numpy(np.ascontiguousarray(values.transpose(2, 0, 1)))[None]


def scene_at(scene: Scene, shape: tuple[int, int]) -> Scene:
    """``scene`` for an output of ``shape = (H, W)``: the content and target map resized to it, the
    painting (and its map) by the same factor, so the painting keeps its scale to the output."""
    if tuple(shape) == tuple(scene.shape):
        return scene
    factor = (shape[0] / scene.shape[0] + shape[1] / scene.shape[1]) / 2
    style_shape = scaled_shape(tuple(scene.style.shape[-2:]), factor)

    def sized(tensor: Tensor | None, size: tuple[int, int]) -> Tensor | None:
        return None if tensor is None else resize(tensor, size)

    return Scene(
        mode=scene.mode,
        style=resize(scene.style, style_shape),
        content=sized(scene.content, shape),
        style_labels=sized(scene.style_labels, style_shape),
        target_labels=sized(scene.target_labels, shape),
        shape=tuple(shape),
        palette=scene.palette,
        paintings=sized(scene.paintings, style_shape),
        style_guides=sized(scene.style_guides, style_shape),
        target_guides=sized(scene.target_guides, shape),
        guide_groups=scene.guide_groups,
    )


def build_scene(
    style: ImageInput | Sequence[ImageInput],
    *,
    style_map: ImageInput | Sequence[ImageInput | None] | None = None,
    target_map: ImageInput | None = None,
    content: ImageInput | None = None,
    guides: Sequence[tuple[ImageInput, ImageInput]] | None = None,
    output_size: tuple[int, int] | None = None,
    style_scale: float = 1.0,
    allow_missing_labels: bool = False,
) -> Scene:
    """Read, check and encode the inputs of a run in one step (for scripts; its notes are warnings).

    See :func:`~doodle.inputs.read_inputs` for the modes and the maps found beside their images;
    ``output_size`` (width, height) rescales the whole scene: the target map or content, and the
    style with them.
    """
    settings = PaintSettings(
        output_size=output_size, style_scale=style_scale, allow_missing_labels=allow_missing_labels
    )
    inputs = read_inputs(
        style, style_map=style_map, target_map=target_map, content=content, guides=guides, settings=settings
    )
    for note in inputs.notes:
        warnings.warn(note, stacklevel=2)
    return encode_scene(inputs)
