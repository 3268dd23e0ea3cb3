"""Painting again only where the doodle changed: the region to repaint, and the scene cropped to it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .matching import Matches
from .scene import Scene
from .vgg import layer_stride

__all__ = ["Region", "changed_region", "crop_scene", "pasted_matches"]

# Pixels this far from a changed one are painted again too: a 3x3 patch at relu4_1 spans 24 pixels.
MARGIN = 24
# Around those, this much of the last result is kept but seen by the network (the context patches
# are matched against, so the new part continues the old one).
CONTEXT = 32
# Above this share of the image, painting everything afresh costs about as much: it is done instead.
LARGEST_SHARE = 0.5


@dataclass(frozen=True)
class Region:
    """What to paint again: ``box = (top, left, height, width)`` in output pixels, and ``free``
    ``(1, 1, height, width)``, 1 where the pixels are painted, 0 where the last result is kept."""

    box: tuple[int, int, int, int]
    free: Tensor


def changed_region(before: Tensor, now: Tensor, *, smallest: int) -> Region | None:
    """The region to repaint where ``now`` differs from ``before`` (both ``(1, C, H, W)``: labels and
    content), or None when nothing changed or so much that a fresh paint is as cheap.

    The box is at least ``smallest`` pixels a side: the coarsest phase of the box needs room for
    one patch of the deepest layer.
    """
    height, width = now.shape[-2:]
    moved = ((now - before).abs().amax(1, keepdim=True) > 1e-3).float()
    if not bool(moved.any()):
        return None
    free = F.max_pool2d(moved, 2 * MARGIN + 1, stride=1, padding=MARGIN)
    rows, columns = torch.nonzero(free[0, 0].amax(1)).squeeze(1), torch.nonzero(free[0, 0].amax(0)).squeeze(1)
    top, bottom = _span(int(rows[0]) - CONTEXT, int(rows[-1]) + 1 + CONTEXT, height, smallest)
    left, right = _span(int(columns[0]) - CONTEXT, int(columns[-1]) + 1 + CONTEXT, width, smallest)
    if (bottom - top) * (right - left) > LARGEST_SHARE * height * width:
        return None
    return Region((top, left, bottom - top, right - left), free[..., top:bottom, left:right])


def _span(start: int, end: int, size: int, smallest: int) -> tuple[int, int]:
    """``[start, end)`` inside ``[0, size)``, widened about its middle to at least ``smallest``."""
    grow = max(0, min(smallest, size) - (end - start))
    start, end = start - grow // 2, end + grow - grow // 2
    shift = max(0, -start) - max(0, end - size)  # slide back inside the image
    return max(0, start + shift), min(size, end + shift)


def crop_scene(scene: Scene, box: tuple[int, int, int, int]) -> Scene:
    """The scene's output side (target labels, guides, content) cut to ``box``; the style is the whole painting."""
    top, left, height, width = box

    def cut(tensor: Tensor | None) -> Tensor | None:
        return None if tensor is None else tensor[..., top : top + height, left : left + width]

    return dataclasses.replace(
        scene,
        target_labels=cut(scene.target_labels),
        target_guides=cut(scene.target_guides),
        content=cut(scene.content),
        shape=(height, width),
    )


def pasted_matches(
    whole: dict[str, Matches] | None, part: dict[str, Matches], origin: tuple[int, int]
) -> dict[str, Matches] | None:
    """The matches of a whole image ``whole`` with those of the box painted again at ``origin =
    (top, left)`` pasted in (at the nearest patch positions: they start a later search, nothing more)."""
    if whole is None:
        return None
    pasted = {}
    for name, matches in whole.items():
        inside = part.get(name)
        if inside is None or inside.key_grid != matches.key_grid:
            pasted[name] = matches
            continue
        stride = layer_stride(name)
        top, left = round(origin[0] / stride), round(origin[1] / stride)
        rows = min(inside.query_grid[0], matches.query_grid[0] - top)
        columns = min(inside.query_grid[1], matches.query_grid[1] - left)
        grid = matches.indices.view(matches.query_grid).clone()
        grid[top : top + rows, left : left + columns] = inside.indices.view(inside.query_grid)[:rows, :columns]
        pasted[name] = Matches(grid.flatten(), matches.query_grid, matches.key_grid)
    return pasted
