"""What a later frame of an animation takes from the frame before it.

- :class:`Motion`: where each pixel of a frame was in the frame before, from the maps' own geometry
  (:func:`motion_from_labels`) or from the optical flow of photo frames (:func:`motion_from_flow`);
- :class:`FrameGuide`: the frame before carried by that motion, pulling the pixels that are known
  toward it (the temporal loss), and the frame before's patch matches, carried the same way, as
  the start of the new frame's search.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .matching import Matches

__all__ = [
    "TEMPORAL_WEIGHT",
    "Motion",
    "motion_from_labels",
    "motion_from_flow",
    "FrameGuide",
    "temporal_loss",
    "OBJECT_SHARE",
    "FLOW_TOLERANCE",
]

# The pull of a later frame toward the frame before, where that is known (`--temporal-weight`).
TEMPORAL_WEIGHT = 10.0
# A label covering less of the frame than this is an object, moved with its region's centre.
OBJECT_SHARE = 0.25
# A pixel whose colour differs from where the flow says it came from by more than this (of 0..1, the
# mean over channels) is taken as disoccluded: the flow is wrong there, or the pixel is new.
FLOW_TOLERANCE = 0.08


@dataclass(frozen=True)
class Motion:
    """Where each pixel of a frame was in the frame before.

    ``rows``, ``columns``: ``(H, W)`` int64, the pixel's place in the frame before (inside it);
    ``known``: ``(H, W)`` bool, False where the pixel was not there (a new label, a disocclusion).
    """

    rows: np.ndarray
    columns: np.ndarray
    known: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.known.shape

    def carry(self, image: np.ndarray) -> np.ndarray:
        """The frame before ``(H, W, ...)`` moved to this frame (unknown pixels keep their own place's value)."""
        return np.where(self.known[..., None] if image.ndim == 3 else self.known, image[self.rows, self.columns], image)


def motion_from_labels(before: np.ndarray, after: np.ndarray) -> Motion:
    """The motion between two label maps ``(H, W)`` (label indices): a pixel whose label stays keeps
    its place; an object (a label covering less than :data:`OBJECT_SHARE` of the frame) moves with
    its region's centre, so its texture travels with it. Unknown: a label new at a place, or an
    object's pixel that was not the object where it would come from."""
    rows, columns = np.indices(after.shape)
    known = before == after
    source_rows, source_columns = rows.copy(), columns.copy()
    for label in np.unique(after):
        was, now = before == label, after == label
        if not was.any() or now.mean() >= OBJECT_SHARE:
            continue
        move = np.round(np.argwhere(now).mean(axis=0) - np.argwhere(was).mean(axis=0)).astype(int)
        if not move.any():
            continue
        from_rows, from_columns = rows - move[0], columns - move[1]
        inside = (from_rows >= 0) & (from_rows < after.shape[0]) & (from_columns >= 0) & (from_columns < after.shape[1])
        take = now & inside
        take[take] = was[from_rows[take], from_columns[take]]
        source_rows[take], source_columns[take] = from_rows[take], from_columns[take]
        known[now] = take[now]
    return Motion(source_rows, source_columns, known)


def motion_from_flow(
    before: np.ndarray, after: np.ndarray, labels: tuple[np.ndarray, np.ndarray] | None = None
) -> Motion:
    """The motion between two photo frames ``(H, W, 3)`` in ``[0, 1]``, by TV-L1 optical flow on their
    grey levels (scikit-image). Unknown: where the colour the flow brings differs from the frame's by
    more than :data:`FLOW_TOLERANCE` (occlusions, flow errors), and, with ``labels`` (the two frames'
    label maps ``(H, W)``), where the label brought is not the pixel's."""
    from skimage.registration import optical_flow_tvl1  # here: a still paint need not load it

    grey = np.array([0.299, 0.587, 0.114])
    flow_rows, flow_columns = optical_flow_tvl1(after @ grey, before @ grey)
    (height, width), (rows, columns) = after.shape[:2], np.indices(after.shape[:2])
    source_rows, source_columns = (
        np.round(rows + flow_rows).astype(np.int64),
        np.round(columns + flow_columns).astype(np.int64),
    )
    known = (source_rows >= 0) & (source_rows < height) & (source_columns >= 0) & (source_columns < width)
    source_rows, source_columns = source_rows.clip(0, height - 1), source_columns.clip(0, width - 1)
    known &= np.abs(before[source_rows, source_columns] - after).mean(axis=-1) <= FLOW_TOLERANCE
    if labels is not None:
        known &= labels[0][source_rows, source_columns] == labels[1]
    return Motion(source_rows, source_columns, known)


def temporal_loss(image: Tensor, carried: Tensor, known: Tensor) -> Tensor:
    """Mean squared difference to the carried frame over the known pixels.
    ``(1, 3, H, W)``, ``(1, 3, H, W)``, ``(1, 1, H, W)`` (0..1) -> scalar."""
    return (known * (image - carried).pow(2)).sum() / (3 * known.sum()).clamp_min(1.0)


@dataclass(frozen=True)
class FrameGuide:
    """A later frame's ties to the frame before it.

    ``carried (1, 3, H, W)``: the frame before, moved by ``motion``; ``known (1, 1, H, W)``: 1 where that
    is this frame's place (0: disoccluded or new, painted afresh); ``weight``: of :func:`temporal_loss`
    (0: none). ``matches``: the frame before's patch matches of its full-size phase, by MRF layer, or
    None; they start this frame's search where known. ``origin``: ``(top, left)`` of the painted part
    in the frame (a repaint of a box of it, see :meth:`cropped`). ``filled``: the unknown pixels of
    ``carried`` hold the known ones mirrored into them (see :func:`guide_from`), and start from them.
    """

    carried: Tensor
    known: Tensor
    motion: Motion
    weight: float = 0.0
    matches: dict[str, Matches] | None = None
    origin: tuple[int, int] = (0, 0)
    filled: bool = False

    def start(self, fresh: Tensor | None) -> Tensor:
        """The frame's start: the carried frame where known (everywhere when ``filled``: then ``fresh``
        may be None), ``fresh (1, 3, H, W)`` elsewhere."""
        return self.carried.clone() if self.filled else torch.where(self.known > 0, self.carried, fresh).contiguous()

    def keep_known(self, image: Tensor) -> Tensor:
        """``image (1, 3, h, w)`` with the carried frame (at that size) where known."""
        carried, known = self.carried, self.known
        if tuple(image.shape[-2:]) != tuple(carried.shape[-2:]):
            carried = F.interpolate(carried, image.shape[-2:], mode="bilinear", antialias=True, align_corners=False)
            known = F.interpolate(known, image.shape[-2:], mode="area")
        return torch.where(known > 0.5, carried.to(image), image).contiguous()

    def cropped(self, box: tuple[int, int, int, int]) -> FrameGuide:
        """The guide of the part ``box = (top, left, height, width)`` of the frame."""
        top, left, height, width = box
        return dataclasses.replace(
            self,
            carried=self.carried[..., top : top + height, left : left + width],
            known=self.known[..., top : top + height, left : left + width],
            origin=(self.origin[0] + top, self.origin[1] + left),
        )

    def seeds(
        self, name: str, query_grid: tuple[int, int], key_grid: tuple[int, int], stride: float, patch_size: int
    ) -> tuple[Tensor, Tensor] | None:
        """The frame before's matches of layer ``name`` carried to this frame's patches: ``(N,)`` style
        patch indices and ``(N,)`` bool, True where carried (else the index is meaningless), for a
        patch grid ``query_grid`` whose features are ``stride`` of this frame's pixels apart. None
        when there are no such matches (or they index another ``key_grid``)."""
        previous = None if self.matches is None else self.matches.get(name)
        if previous is None or previous.key_grid != key_grid:
            return None
        height, width = self.motion.shape
        centre = patch_size // 2 * stride + (stride - 1) / 2  # a patch's centre pixel, from its first feature's
        pixel_rows = np.round(np.arange(query_grid[0]) * stride + centre).astype(int) + self.origin[0]
        pixel_columns = np.round(np.arange(query_grid[1]) * stride + centre).astype(int) + self.origin[1]
        pixel_rows, pixel_columns = np.meshgrid(
            pixel_rows.clip(0, height - 1), pixel_columns.clip(0, width - 1), indexing="ij"
        )
        known = self.motion.known[pixel_rows, pixel_columns]
        before_stride_rows = height / (previous.query_grid[0] + patch_size - 1)  # the frame before's full-size grid
        before_stride_columns = width / (previous.query_grid[1] + patch_size - 1)
        grid_rows = np.round((self.motion.rows[pixel_rows, pixel_columns] - centre) / before_stride_rows).astype(int)
        grid_columns = np.round(
            (self.motion.columns[pixel_rows, pixel_columns] - centre) / before_stride_columns
        ).astype(int)
        known &= (grid_rows >= 0) & (grid_rows < previous.query_grid[0])
        known &= (grid_columns >= 0) & (grid_columns < previous.query_grid[1])
        flat = grid_rows.clip(0, previous.query_grid[0] - 1) * previous.query_grid[1]
        flat += grid_columns.clip(0, previous.query_grid[1] - 1)
        indices = previous.indices.cpu()[torch.from_numpy(flat.ravel())]
        return indices, torch.from_numpy(known.ravel())


def guide_from(
    previous: np.ndarray,
    motion: Motion,
    *,
    weight: float,
    matches: dict[str, Matches] | None,
    margin: int = 1,
    fill: bool = False,
) -> FrameGuide:
    """The guide of a frame from the frame before ``previous (H, W, 3)`` in ``[0, 1]`` and the
    ``motion`` between them; pixels within ``margin`` of an unknown one are unknown too. ``fill``:
    unknown pixels start from the known ones mirrored across the nearest edge of the known region
    (a clip's disocclusions: a photo's start there stays a photo under a global Gram loss), not
    from the first frame's kind of start."""
    from scipy import ndimage

    known = ~ndimage.binary_dilation(~motion.known, iterations=margin) if margin > 0 else motion.known
    motion = dataclasses.replace(motion, known=known)
    carried = motion.carry(previous)
    filled = fill and bool(known.any()) and not bool(known.all())
    if filled:  # each unknown pixel mirrored through its nearest known one: texture, not a smear
        near_rows, near_columns = ndimage.distance_transform_edt(~known, return_distances=False, return_indices=True)
        rows, columns = np.indices(known.shape)
        mirror_rows = (2 * near_rows - rows).clip(0, known.shape[0] - 1)
        mirror_columns = (2 * near_columns - columns).clip(0, known.shape[1] - 1)
        mirrored = known[mirror_rows, mirror_columns]
        carried = carried[np.where(mirrored, mirror_rows, near_rows), np.where(mirrored, mirror_columns, near_columns)]
    carried = torch.from_numpy(carried.astype(np.float32)).permute(2, 0, 1)[None].contiguous()
    known = torch.from_numpy(known.astype(np.float32))[None, None]
    return FrameGuide(carried, known, motion, weight, matches, filled=filled)
