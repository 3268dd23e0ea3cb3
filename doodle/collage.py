"""A doodle filled, label by label, with pieces of the painting: where ``doodle paint`` and a
trained painter start from.

Each region of the doodle is tiled with overlapping blocks of the painting (64 pixels by default,
at the painting's scale, half overlapping) cut from where the painting has the same label, in the
manner of Efros & Freeman's image quilting (2001):

- first the blocks the painting *shifted by one offset* has in that label: the offset brings the
  label's centre in the painting near the region's centre in the doodle, so a sky keeps its light
  from horizon to top, and these blocks agree where they overlap (no seam);
- then the others, in four passes of blocks that do not overlap one another. Each takes, of a few
  random places about as near as the nearest place of its label (a wider pick the farther) and of
  the places that continue its placed neighbours' shifts, the one whose colours agree best with
  what its neighbours have already pasted (compared at a quarter of the size).

A texture has no layout to keep: its blocks come from anywhere in the painting, chosen the same
way (``layout=False``), as in image quilting itself.

Blocks are feathered into one another and weighted by the painting's own label at each pixel, so
a block's pixels of other labels are never pasted. This is "texture by numbers" from Hertzmann et
al.'s Image Analogies (2001), and the canvas of Qi et al.'s semi-parametric SIMS (2018). The pixels
keep the painting's own brush strokes, which a network trained for minutes on a CPU cannot invent;
the network (:class:`~doodle.generator.Generator`) learns to mend the seams and the edges between
regions.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["Collage", "BLOCK"]

BLOCK = 64  # side of a block, in pixels of the painting at the scale the painter paints
_STEP = 4  # spacing of the places a block may be cut from
_SHIFT = 0.1  # largest offset of a label's tiling, as a share of the painting's side
_PURE = 0.9  # a block is cut from places at least this pure in its label (or the label's purest)
_CANDIDATES = 16  # random places a block the shifted painting lacks is chosen among (with continuations)
_POOL = 2  # random candidates come from every _POOL-th place, in each direction
_PARITIES = ((0, 0), (1, 1), (0, 1), (1, 0))  # the order of the passes over non-overlapping blocks
_NEIGHBOURS = torch.tensor([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx])  # (8, 2)
_SHARPNESS = 4  # exponent of the Hann window that feathers blocks into one another
_RIM = 3 / 16  # share of a block's side, at each edge, left out when pasting: its window is < 1 % there


class Collage:
    """Cuts doodles' regions from one painting.

    Parameters
    ----------
    painting : (3, Hs, Ws) tensor
        In ``[0, 1]``, at the scale the painter paints.
    labels : (K, Hs, Ws) tensor
        The painting's label weights.
    block : int
        Side of the blocks (smaller when the painting is).
    layout : bool
        Keep the painting's layout where the doodle allows (the shifted painting's blocks first, the
        others from near places). False, for a texture: every block from anywhere in its label, as
        in image quilting.

    Shape: ``collage(labels (B, K, H, W), generator) -> (B, 3, H, W)``; a label absent from the
    painting is filled with grey.
    """

    def __init__(self, painting: Tensor, labels: Tensor, block: int = BLOCK, *, layout: bool = True) -> None:
        self.painting, labels = painting.float(), labels.float()
        self.layout = layout
        height, width = painting.shape[-2:]
        # A multiple of 2 * _STEP, so that blocks (half overlapping) fall on the quarter-size grid.
        self.block = max(2 * _STEP, min(block, height, width) // (2 * _STEP) * (2 * _STEP))
        coverage = F.avg_pool2d(labels[None], self.block, stride=_STEP)[0]  # (K, cy, cx)
        self.places = []  # per label: (N, 2) top-left corners of its blocks (None: a label it lacks)
        self.pool = []  # per label: the places random candidates are drawn from (every _POOL-th)
        self.is_place = []  # per label: (cy, cx) bool, whether (y, x) * _STEP is one of its places
        for share in coverage:
            best = float(share.max())
            pure = share >= _PURE * min(best, 0.95)
            self.places.append(pure.nonzero() * _STEP if best > 0 else None)
            coarse = torch.zeros_like(pure)
            coarse[::_POOL, ::_POOL] = pure[::_POOL, ::_POOL]
            self.pool.append(coarse.nonzero() * _STEP if coarse.any() else self.places[-1])
            self.is_place.append(pure)
        self.window = _window(self.block)
        self.centres = [_centre(share) for share in labels]
        # What a block of label k pastes, per pixel: its colour times its weight, and its weight: the
        # pixel's label-k weight (a hair above 0, so a block is never all zero).
        weight = labels + 1e-4
        sources = torch.cat([self.painting[None] * weight[:, None], weight[:, None]], 1)  # (K, 4, Hs, Ws)
        self.sources = sources.flatten(2).transpose(1, 2).contiguous()  # (K, HsWs, 4): a pixel's 4 values together
        # The same at a quarter of the size, where blocks are chosen: as pasted (with a fifth channel,
        # 0, where the small canvas keeps the region), and as colour and its squared norm.
        small = F.avg_pool2d(sources, _STEP)  # (K, 4, Hs/4, Ws/4)
        self.small_sources = (
            torch.cat([small, torch.zeros_like(small[:, :1])], 1).flatten(2).transpose(1, 2).contiguous()
        )
        colours = small[:, :3] / small[:, 3:]
        colours = torch.cat([colours, colours.square().sum(1, keepdim=True)], 1)  # (K, 4, Hs/4, Ws/4)
        self.small_colours = colours.permute(0, 2, 3, 1).contiguous()  # (K, Hs/4, Ws/4, 4)
        self.small_window = _window(self.block // _STEP)

    def __call__(self, labels: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return torch.cat([self._one(image, generator) for image in labels.float().cpu()]).to(labels.device)

    def _one(self, labels: Tensor, generator: torch.Generator | None) -> Tensor:
        """``labels (K, H, W)`` -> ``(1, 3, H, W)``: each label's fill, weighted by its label.

        The labels are filled side by side in threads (torch's small operations, most of the
        work here, run on one core each), each with its own seed drawn from ``generator``."""
        seeds = torch.randint(0, 2**62, (len(labels),), generator=generator).tolist()

        def fill(k: int) -> Tensor | None:
            if not labels[k].any():
                return None
            if self.places[k] is None:  # a label the painting lacks
                return torch.full((3, *labels.shape[-2:]), 0.5)
            return self._fill(k, labels[k], torch.Generator().manual_seed(seeds[k]))

        image = torch.zeros(1, 3, *labels.shape[-2:])
        # A pool per collage, shut down with it: nothing lingers between paints (a forked child, a
        # worker process, the end of the interpreter), for a cost of well under a millisecond.
        with ThreadPoolExecutor(max(1, min(4, torch.get_num_threads())), thread_name_prefix="collage") as threads:
            parts = list(threads.map(fill, range(len(labels))))
        for k, part in enumerate(parts):
            if part is not None:
                image.addcmul_(part, labels[k])
        return image

    def _fill(self, label: int, weight: Tensor, generator: torch.Generator | None) -> Tensor:
        """The painting's ``label``, tiled over where ``weight (H, W)`` is not 0. -> ``(3, H, W)``."""
        height, width = weight.shape
        size, stride = self.block, self.block // 2
        source_width = self.painting.shape[-1]
        # The block grid, shifted by a random phase so that seams fall in new places every time.
        # The first block starts a stride before the edge, so every pixel is well inside some block.
        phase = (torch.rand(2, generator=generator) * (stride // _STEP)).long() * _STEP + stride
        rows, cols = math.ceil((height + phase[0]) / stride) + 1, math.ceil((width + phase[1]) / stride) + 1
        # Blocks the label needs: block (r, c) is at (r, c) * stride in the weights padded by the phase.
        padded = F.pad(weight[None, None], (int(phase[1]), size + stride, int(phase[0]), size + stride))
        needed = (F.avg_pool2d(padded, size, stride=stride)[0, 0, :rows, :cols] > 0).nonzero()  # (n, 2)
        corners = needed * stride - phase  # in output pixels: within (-size, height), multiples of _STEP
        shift = torch.rand(2, generator=generator)  # (drawn for a texture too: the same random stream)
        wanted = self._shifted(label, weight, corners, shift) if self.layout else None
        margin = size  # the canvas is the image padded by a block, so that every block falls on it
        chosen = self._choose(label, weight, margin, needed, corners + margin, wanted, generator)
        canvas = torch.zeros(height + 2 * margin, width + 2 * margin, 4)  # RGB x weight, weight
        _paste(canvas, self.sources[label], source_width, chosen, corners + margin, self.window)
        inside = canvas[margin : margin + height, margin : margin + width].permute(2, 0, 1)
        return inside[:3] / inside[3:].clamp_min(1e-20)  # (weights are > 0 wherever a block is)

    def _shifted(self, label: int, weight: Tensor, corners: Tensor, shift: Tensor) -> Tensor:
        """Where blocks at ``corners (n, 2)`` of the region ``weight (H, W)`` lie in the painting
        shifted so that ``label``'s centre falls on the region's, give or take (``shift (2,)``, uniform
        in [0, 1): how much). -> ``(n, 2)``."""
        jitter = (shift * 2 - 1) * _SHIFT * torch.tensor(self.painting.shape[-2:])
        offset = self.centres[label] - _centre(weight) + jitter
        # Kept where every block falls in the range of the label's places, if the region fits.
        low, high = self.places[label].amin(0) - corners.amin(0), self.places[label].amax(0) - corners.amax(0)
        offset = torch.where(low <= high, torch.minimum(torch.maximum(offset, low), high), (low + high) / 2)
        return ((corners + offset) / _STEP).round() * _STEP

    def _choose(
        self,
        label: int,
        weight: Tensor,
        margin: int,
        needed: Tensor,
        corners: Tensor,
        wanted: Tensor,
        generator: torch.Generator | None,
    ) -> Tensor:
        """Where in the painting each block comes from. ``needed (n, 2)``: the blocks' places in
        the grid; ``corners (n, 2)``: on the canvas (the region ``weight (H, W)`` padded by
        ``margin``); ``wanted (n, 2)``: in the shifted painting. -> ``(n, 2)`` top-left corners."""
        exact, candidates = self._candidates(label, wanted, len(needed), generator)
        # Blocks the shifted painting has go first; the others, in four passes of blocks that do not
        # overlap one another, each take the candidate that agrees best with what is already there.
        chosen = torch.full((int(needed[:, 0].max()) + 2, int(needed[:, 1].max()) + 2, 2), -1)  # by grid place
        chosen[needed[exact, 0], needed[exact, 1]] = candidates[exact, 0]
        # At a quarter of the size: what is pasted so far (4 channels) and the region (the fifth).
        region = F.avg_pool2d(F.pad(weight, (margin, margin + _STEP, margin, margin + _STEP))[None, None], _STEP)[0, 0]
        small = torch.cat([torch.zeros(*region.shape, 4), region[..., None]], -1)
        source_width = self.painting.shape[-1] // _STEP
        _paste(
            small,
            self.small_sources[label],
            source_width,
            candidates[exact, 0] // _STEP,
            corners[exact] // _STEP,
            self.small_window,
        )
        for parity in _PARITIES:
            pick = (~exact & (needed % 2 == torch.tensor(parity)).all(1)).nonzero()[:, 0]
            if len(pick):
                options = torch.cat([self._continuations(label, needed[pick], chosen), candidates[pick]], 1)
                best = self._agreeing(small, label, options, corners[pick])
                chosen[needed[pick, 0], needed[pick, 1]] = best
                _paste(
                    small,
                    self.small_sources[label],
                    source_width,
                    best // _STEP,
                    corners[pick] // _STEP,
                    self.small_window,
                )
        return chosen[needed[:, 0], needed[:, 1]]

    def _candidates(
        self, label: int, wanted: Tensor | None, count: int, generator: torch.Generator | None
    ) -> tuple[Tensor, Tensor]:
        """Places for ``count`` blocks wanted at ``wanted (n, 2)``: whether each is a place itself,
        ``(n,)`` bool, and ``(n, C, 2)`` candidates, random places about as near as the nearest (wider
        the farther); a row of a place itself repeats it. ``wanted`` None: any places, at random."""
        if wanted is None:
            places = self.pool[label]
            picks = torch.randint(0, len(places), (count, _CANDIDATES), generator=generator)
            return torch.zeros(count, dtype=torch.bool), places[picks]
        grid = (wanted / _STEP).round().long()
        exact = self._is_place(label, grid)
        candidates = (grid * _STEP)[:, None].repeat(1, _CANDIDATES, 1)
        if exact.all():
            return exact, candidates
        places = self.pool[label]
        distance = torch.cdist(wanted[~exact].float(), places.float())  # (m, N)
        nearest = distance.min(1, keepdim=True).values
        logits = -(distance**2 - nearest**2) / (2 * nearest.clamp_min(1e-3) ** 2)
        gumbel = -torch.log(-torch.log(torch.rand(logits.shape, generator=generator).clamp(1e-12, 1 - 1e-7)))
        top = (logits + gumbel).topk(min(_CANDIDATES, len(places)), dim=1).indices
        top = torch.cat([top, top[:, :1].expand(-1, _CANDIDATES - top.shape[1])], 1)
        candidates[~exact] = places[top]
        return exact, candidates

    def _is_place(self, label: int, grid: Tensor) -> Tensor:
        """Whether ``grid (..., 2)`` (in units of _STEP) is one of ``label``'s places. -> ``(...)``."""
        is_place = self.is_place[label]
        inside = ((grid >= 0) & (grid < torch.tensor(is_place.shape))).all(-1)
        found = torch.zeros_like(inside)
        found[inside] = is_place[grid[inside][:, 0], grid[inside][:, 1]]
        return found

    def _continuations(self, label: int, needed: Tensor, chosen: Tensor) -> Tensor:
        """For blocks at grid ``needed (n, 2)``, the places that continue each of their 8 neighbours'
        ``chosen (rows, cols, 2)`` places seamlessly (a neighbour's own shift of the painting), or
        -1 where there is none. -> ``(n, 8, 2)``."""
        neighbours = needed[:, None] + _NEIGHBOURS  # (n, 8, 2)
        inside = ((neighbours >= 0) & (neighbours < torch.tensor(chosen.shape[:2]))).all(-1)
        source = torch.full(neighbours.shape, -1)
        source[inside] = chosen[neighbours[inside][:, 0], neighbours[inside][:, 1]]
        place = source - _NEIGHBOURS * (self.block // 2)
        good = (source >= 0).all(-1) & self._is_place(label, place // _STEP)
        return torch.where(good[..., None], place, -1)

    def _agreeing(self, small: Tensor, label: int, options: Tensor, corners: Tensor) -> Tensor:
        """Of each block's ``options (n, C, 2)`` (-1: none), the one whose colours agree best,
        at a quarter of the size, with what ``small (h, w, 5)`` already holds (colour times weight,
        weight) inside the region (its fifth channel); the first random candidate where nothing is
        there yet. -> ``(n, 2)``."""
        side = self.block // _STEP
        have = _gather(small, corners // _STEP, side)  # (n, side, side, 5)
        trust = have[..., 3].clamp_max(1) * have[..., 4] * self.small_window[..., 0]  # (n, side, side)
        target = have[..., :3] / have[..., 3:4].clamp_min(1e-8)
        # sum of trust * |source - target|^2 = source . (-2 trust target) + |source|^2 trust + const
        probe = torch.cat([-2 * trust[..., None] * target, trust[..., None]], -1).flatten(1)  # (n, side² 4)
        valid = (options >= 0).all(-1) & (trust.sum((-2, -1)) > 1e-3)[:, None]  # (n, C)
        block, option = valid.nonzero().unbind(1)
        source = _gather(self.small_colours[label], options[block, option] // _STEP, side).flatten(1)  # (m, side² 4)
        error = torch.full(valid.shape, torch.inf)
        error[block, option] = torch.linalg.vecdot(source, probe[block])
        best = torch.where(valid.any(1), error.argmin(1), _NEIGHBOURS.shape[0])  # else the first random one
        return options[torch.arange(len(options)), best]


def _gather(image: Tensor, corners: Tensor, side: int) -> Tensor:
    """``side``-square windows of ``image (H, W, C)`` at ``corners (..., 2)``. -> ``(..., side, side, C)``."""
    offsets = torch.arange(side)
    rows = corners[..., 0, None, None] + offsets[:, None]
    cols = corners[..., 1, None, None] + offsets
    taken = image.reshape(-1, image.shape[-1]).index_select(0, (rows * image.shape[1] + cols).flatten())
    return taken.view(*corners.shape[:-1], side, side, image.shape[-1])


def _paste(canvas: Tensor, sources: Tensor, source_width: int, places: Tensor, corners: Tensor, window: Tensor) -> None:
    """Add blocks of ``sources (Hs * Ws, C)`` (colour times weight, weight, ...) cut at ``places (n, 2)``,
    feathered by ``window (s, s, 1)``, into ``canvas (H', W', C)`` at ``corners (n, 2)``."""
    rim = round(window.shape[0] * _RIM)
    size, offsets = window.shape[0] - 2 * rim, torch.arange(rim, window.shape[0] - rim)
    window = window[rim : window.shape[0] - rim, rim : window.shape[0] - rim]
    taken = (places[:, 0, None, None] + offsets[:, None]) * source_width + places[:, 1, None, None] + offsets
    values = sources.index_select(0, taken.flatten()).view(-1, size, size, sources.shape[-1]) * window
    pasted = (corners[:, 0, None, None] + offsets[:, None]) * canvas.shape[1] + corners[:, 1, None, None] + offsets
    canvas.view(-1, canvas.shape[-1]).index_add_(0, pasted.flatten(), values.view(-1, canvas.shape[-1]))


def _window(size: int) -> Tensor:
    """A ``(size, size, 1)`` feathering window, above 0 everywhere."""
    window = torch.hann_window(size + 2, periodic=False)[1:-1] ** _SHARPNESS
    return (window[:, None] * window[None, :])[..., None]


def _centre(weight: Tensor) -> Tensor:
    """The weighted centre ``(y, x)`` of ``weight (H, W)``, in pixels."""
    total = weight.sum().clamp_min(1e-6)
    rows, cols = torch.arange(weight.shape[0], dtype=weight.dtype), torch.arange(weight.shape[1], dtype=weight.dtype)
    return torch.stack([(weight.sum(1) * rows).sum() / total, (weight.sum(0) * cols).sum() / total])
