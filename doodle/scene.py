"""What to paint, as tensors: the inputs of one paint (:mod:`doodle.inputs`) encoded at output scale."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

import semantic_maps

from .images import ImageInput, resize, scaled_shape, to_tensor
from .inputs import Inputs, read_inputs
from .plan import Mode
from .settings import PaintSettings

__all__ = ["Scene", "encode_scene", "build_scene", "scene_at"]


@dataclass
class Scene:
    """Inputs of a run, as tensors at full (last phase) scale.

    ``style (1, 3, Hs, Ws)``; ``content (1, 3, H, W)`` or None; label channels
    ``style_labels (1, K, Hs, Ws)`` and ``target_labels (1, K, H, W)``, both or neither;
    ``shape = (H, W)`` of the output; ``palette (K, 3)`` uint8 or None. With several paintings,
    ``style`` is an atlas of them side by side (see :func:`~doodle.inputs.side_by_side`) and
    ``paintings (1, P, Hs, Ws)`` says which painting each position belongs to (None for one painting).
    """

    mode: Mode
    style: Tensor
    content: Tensor | None
    style_labels: Tensor | None
    target_labels: Tensor | None
    shape: tuple[int, int]
    palette: np.ndarray | None
    paintings: Tensor | None = None


def _encoded(rgb: np.ndarray, palette: np.ndarray, shape: tuple[int, int]) -> Tensor:
    """A map's label channels ``(1, K, *shape)`` (resized when the map has another size)."""
    labels = torch.from_numpy(semantic_maps.encode_labels(rgb, palette))[None]
    return labels if tuple(labels.shape[-2:]) == shape else resize(labels, shape)


def encode_scene(inputs: Inputs) -> Scene:
    """The inputs as tensors at the output's scale (the costly part of a large paint: do it once the
    memory is known to suffice)."""
    style_labels = target_labels = None
    if inputs.target_map is not None:
        palette = inputs.palette
        style_labels = resize(
            _encoded(inputs.style_map, palette, (inputs.style.height, inputs.style.width)), inputs.style_shape
        )
        # The target is encoded with the missing colours too, so their pixels do not snap to a wrong
        # label; their channels are dropped: all-zero label vectors, matched on features alone.
        everything = np.concatenate([palette, inputs.missing])
        own = inputs.reference if inputs.content is not None else inputs.target_map.shape[:2]
        target_labels = resize(_encoded(inputs.target_map, everything, own)[:, : len(palette)], inputs.shape)
    return Scene(
        mode=inputs.mode,
        style=resize(to_tensor(inputs.style), inputs.style_shape),
        content=None if inputs.content is None else resize(to_tensor(inputs.content), inputs.shape),
        style_labels=style_labels,
        target_labels=target_labels,
        shape=inputs.shape,
        palette=inputs.palette,
        paintings=None if inputs.paintings is None else resize(inputs.paintings, inputs.style_shape),
    )


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
    )


def build_scene(
    style: ImageInput | Sequence[ImageInput],
    *,
    style_map: ImageInput | Sequence[ImageInput | None] | None = None,
    target_map: ImageInput | None = None,
    content: ImageInput | None = None,
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
    inputs = read_inputs(style, style_map=style_map, target_map=target_map, content=content, settings=settings)
    for note in inputs.notes:
        warnings.warn(note, stacklevel=2)
    return encode_scene(inputs)
