"""Guided patch synthesis: an image made of the painting's own pixels, at any size.

Texture optimisation (Kwatra et al. 2005), coarse to fine: at every level the E-step finds, for each
output pixel, the painting's patch most like the output's patch there (PatchMatch, Barnes et al.
2009: propagation from neighbours, random search around the match and in the pixel's label) and the
M-step makes each output pixel the mean of the painting's pixels that the patches covering it
vote for. The distance adds, per guide, the squared difference of the guide's source and target
patches (EbSynth's, Jamriška et al. 2019), and a uniformity term that makes a patch of the painting
used far more than its share cost more (Jamriška et al. 2015): without it, a few patches fill whole
regions and repeat in bands.

Patches are compared in a compact space: a patch of every channel (``patch_size``² × C values) is
projected on the top principal directions of the painting's and the output's patches, which is
one convolution, so memory grows with pixels × those directions, whatever the guides.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .errors import Cancelled
from .images import resize, scaled_shape
from .patchmatch import rescale_matches

__all__ = ["Guide", "Synthesis", "DEFAULT_SYNTHESIS", "synthesize", "pyramid_shapes"]

Grid = tuple[int, int]
_DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))
_CONVOLVE_PIXELS = 1 << 18  # output pixels per band of a convolution
_GATHER_ELEMENTS = 1 << 20  # gathered key values per chunk of output pixels (4 MiB: see doodle.patchmatch)


@dataclass(frozen=True)
class Guide:
    """A pair of guide images: ``source (C, Hs, Ws)`` beside the painting and ``target (C, H, W)``
    beside the output, any ``C`` and any values (as in ``[0, 1]``); ``weight`` is shared by its channels.
    ``labels``: the guide is a label map (its channels one label each), whose argmax picks random
    candidates of the same label."""

    source: Tensor
    target: Tensor
    weight: float
    labels: bool = False


@dataclass(frozen=True)
class Synthesis:
    """Settings of :func:`synthesize`.

    ``iterations``: E- and M-steps at each level, coarse to fine (the last count repeats for finer
    ones); ``rounds``: PatchMatch rounds per E-step; ``uniformity``: the weight of using a patch
    more than its share (EbSynth's 3500 on its 0..255 scale is 0.054); ``smallest``: the coarsest
    level's short side; ``dimensions``, ``guide_dimensions``: of the compact patch space, for the
    style and for each guide; ``random_candidates``: random patches of the pixel's label tried per
    round; ``near_search``: at finer levels, random search reaches ``2**near_search`` pixels from
    the match. The defaults are measured in ``benchmarks/README.md`` ("Crisp, fast, any size").
    """

    patch_size: int = 5
    iterations: tuple[int, ...] = (6, 6, 4, 3)
    rounds: int = 2
    uniformity: float = 0.02
    style_weight: float = 1.0
    smallest: int = 48
    dimensions: int = 32
    guide_dimensions: int = 4
    random_candidates: int = 2
    near_search: int = 2
    last_vote: int = 3


DEFAULT_SYNTHESIS = Synthesis()


def pyramid_shapes(shape: Grid, source_shape: Grid, smallest: int) -> list[tuple[Grid, Grid]]:
    """``(target shape, source shape)`` of each level, coarse to fine: halving both until either's
    short side would be under ``smallest`` (one level at least)."""
    levels = [(shape, source_shape)]
    while True:
        target, source = levels[0]
        half_t, half_s = scaled_shape(target, 0.5), scaled_shape(source, 0.5)
        if min(half_t + half_s) < smallest:
            return levels
        levels.insert(0, (half_t, half_s))


def synthesize(
    style: Tensor,
    guides: list[Guide],
    shape: Grid,
    settings: Synthesis = DEFAULT_SYNTHESIS,
    *,
    start: Tensor | None = None,
    matches: Tensor | None = None,
    generator: torch.Generator | None = None,
    progress: Callable[[int, int, Tensor, float], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[Tensor, Tensor]:
    """The output of ``shape = (H, W)`` made of ``style (3, Hs, Ws)``'s pixels, following ``guides``.

    ``start (3, h, w)``: the output's first image at the coarsest level (any size; default: the
    painting's pixels a random match picks). ``matches (H * W,)``: painting positions (row-major
    indices) to start the full-size level from, the coarser ones skipped (an animation's frame from
    the frame before's). ``progress(level, levels, image (3, h, w), cost)`` after each level,
    ``cost`` the mean patch distance of its last E-step. ``stop()``: asked before each level and, in each
    of its iterations, between chunks of pixels of the E-step and of the M-step (one iteration of a
    2048x1536 level takes tens of seconds on a CPU); when it says so, it raises
    :class:`~doodle.errors.Cancelled`.
    -> the output ``(3, H, W)`` in the style's range, and its matches ``(H * W,)``.
    """
    levels = pyramid_shapes(shape, tuple(style.shape[-2:]), settings.smallest)
    if matches is not None:
        levels = levels[-1:]
    image = None
    previous: tuple[Grid, Grid] | None = None
    for index, (target_shape, source_shape) in enumerate(levels):
        _check(stop)
        first = index == 0 and matches is None
        level = _Level(style, guides, target_shape, source_shape, settings, generator, first, stop)
        if matches is None:
            matches = level.random_matches()
            image = level.vote(matches) if start is None else resize(start[None], target_shape)[0].to(style.device)
        elif previous is None:  # given for this level
            matches = level.clamp(matches.to(style.device))
            image = level.vote(matches)
        else:
            matches = rescale_matches(matches, previous[0], previous[1], target_shape, source_shape)
            matches = level.clamp(matches)
            image = level.vote(matches)
        count = settings.iterations[-1 if len(levels) == 1 else min(index, len(settings.iterations) - 1)]
        cost = float("nan")
        for _ in range(count):
            matches, cost = level.search(image, matches)
            image = level.vote(matches)
        previous = (target_shape, source_shape)
        if index == len(levels) - 1 and settings.last_vote < settings.patch_size:
            image = level.vote(matches, radius=settings.last_vote // 2)
        if progress is not None:
            progress(index + 1, len(levels), image, cost)
    return image, matches


def _check(stop: Callable[[], bool] | None) -> None:
    """Raise :class:`~doodle.errors.Cancelled` when ``stop()`` says so."""
    if stop is not None and stop():
        raise Cancelled


class _Level:
    """One level of the pyramid: its painting, guides and compact patch space."""

    def __init__(
        self,
        style: Tensor,
        guides: list[Guide],
        shape: Grid,
        source_shape: Grid,
        settings: Synthesis,
        generator: torch.Generator | None,
        coarsest: bool,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        self.shape, self.source_shape, self.settings, self.generator = shape, source_shape, settings, generator
        self.stop = stop  # asked between the chunks of pixels of an E-step and the patch offsets of an M-step
        self.radius = settings.patch_size // 2
        self.style = resize(style[None], source_shape)[0]
        # Each guide's channels share its weight (as EbSynth's): a weight means the same for any guide.
        # A label guide's pixel of another label differs in two channels: its weight is that pixel's cost.
        source = [self.style * math.sqrt(settings.style_weight / 3)]
        target = []
        for guide in guides:
            scale = math.sqrt(guide.weight / (2 if guide.labels else guide.source.shape[0]))
            source.append(resize(guide.source[None].to(style), source_shape)[0] * scale)
            target.append(resize(guide.target[None].to(style), shape)[0] * scale)
        self.style_scale = math.sqrt(settings.style_weight / 3)
        stand_in = resize(source[0][None], shape)[0]  # the painting's pixels in the output's style channels
        kinds = [False] + [guide.labels for guide in guides]
        self.basis = self._basis(list(zip(source, [stand_in] + target, kinds, strict=True)))  # (d, C, p, p)
        source_stack = torch.cat(source)
        target_guides = torch.cat(target) if target else style.new_zeros((0,) + shape)
        self.keys = _convolve(source_stack, self.basis)  # (Ms, d)
        self.key_norms = self.keys.square().sum(1)
        self.target_guides = target_guides  # (C - 3, H, W): the output's patches are projected with its pixels
        self.labels = _labels(guides, shape, source_shape)  # (target (N,), source order, starts, counts)
        ys, xs = torch.meshgrid(torch.arange(shape[0]), torch.arange(shape[1]), indexing="ij")
        even = ((ys + xs) % 2 == 0).flatten().to(style.device)
        self.halves = (even.nonzero()[:, 0], (~even).nonzero()[:, 0])
        # Random search from the painting's size down at the coarsest level; at finer ones, whose
        # matches come from the level before, only near the match (a few pixels of the level before).
        widest = max(source_shape) if coarsest else 2**settings.near_search
        self.radii = [widest / 2**k for k in range(int(math.log2(widest)) + 1)]
        self.jumps = coarsest  # (finer levels start coherent: longer jumps there cost more than they find)
        self.expected = (shape[0] * shape[1]) / (source_shape[0] * source_shape[1])

    def _basis(self, groups: list[tuple[Tensor, Tensor, bool]], sample: int = 4096) -> Tensor:
        """Principal directions of each channel group's patches (the style's and each guide's, of the
        painting and the output together), block by block: the style keeps ``dimensions`` of its own,
        a smooth guide's few are enough, and a label guide one per label and two more (a label of a
        few pixels, the eyes of a portrait, has too little variance to be among a few). -> ``(d, C, p, p)``."""
        p, channels = self.settings.patch_size, sum(source.shape[0] for source, _, _ in groups)
        blocks, first = [], 0
        for number, (source, target, labels) in enumerate(groups):
            rows = []
            for stack in (source, target):
                rows.append(_sample_patches(stack, p, sample, self.generator))
            rows = torch.cat(rows).float()
            _, _, vh = torch.linalg.svd(rows - rows.mean(0), full_matrices=False)
            wanted = self.settings.dimensions if number == 0 else self.settings.guide_dimensions
            wanted = source.shape[0] + 2 if labels else wanted
            count, c = min(wanted, vh.shape[0]), source.shape[0]
            block = torch.zeros((count, channels, p, p), dtype=source.dtype, device=source.device)
            block[:, first : first + c] = vh[:count].reshape(count, c, p, p)
            blocks.append(block)
            first += c
        return torch.cat(blocks)

    def random_matches(self) -> Tensor:
        """A random painting patch per output pixel, in its label where there are labels. -> ``(N,)``."""
        positions = torch.arange(self.shape[0] * self.shape[1], device=self.style.device)
        return self.clamp(self._random_in_label(positions))

    def clamp(self, matches: Tensor) -> Tensor:
        """Matches moved to patch centres whose patch lies inside the painting."""
        hs, ws = self.source_shape
        r = min(self.radius, (hs - 1) // 2, (ws - 1) // 2)
        y = (matches // ws).clamp(r, hs - 1 - r)
        x = (matches % ws).clamp(r, ws - 1 - r)
        return y * ws + x

    def _random(self, shape: tuple[int, ...]) -> Tensor:
        return torch.rand(shape, generator=self.generator, device=self.style.device)

    def _random_in_label(self, positions: Tensor) -> Tensor:
        """A random painting position for each output pixel at ``positions``, in its label. ``(n,)`` -> ``(n,)``."""
        ms = self.source_shape[0] * self.source_shape[1]
        pick = self._random(positions.shape)
        anywhere = (pick * ms).long().clamp(max=ms - 1)
        if self.labels is None:
            return anywhere
        target, order, starts, counts = self.labels
        wanted = target[positions]
        have = counts[wanted]
        within = (pick * have).long().minimum((have - 1).clamp(min=0))
        in_label = order[(starts[wanted] + within).clamp(max=ms - 1)]
        return torch.where(have > 0, in_label, anywhere)

    def _candidates(self, matches: Tensor, positions: Tensor, jump: int) -> Tensor:
        """For the output pixels at ``positions (n,)``: their match, their neighbours' matches shifted
        back by the neighbour's offset (propagation), random positions around the match at halving
        radii and random positions in their label. -> ``(n, C)`` painting positions."""
        (h, w), (hs, ws) = self.shape, self.source_shape
        py, px = positions // w, positions % w
        own = matches[positions]
        my, mx = own // ws, own % ws
        candidates = [own]
        for distance in (1, jump) if self.jumps else (1,):
            for dy, dx in _DIRECTIONS:
                ny, nx = (py + dy * distance).clamp(0, h - 1), (px + dx * distance).clamp(0, w - 1)
                theirs = matches[ny * w + nx]
                sy, sx = theirs // ws - (ny - py), theirs % ws - (nx - px)
                candidates.append(sy.clamp(0, hs - 1) * ws + sx.clamp(0, ws - 1))
        for radius in self.radii:
            offset = ((self._random((2, len(positions))) * 2 - 1) * radius).round().long()
            candidates.append((my + offset[0]).clamp(0, hs - 1) * ws + (mx + offset[1]).clamp(0, ws - 1))
        candidates += [self._random_in_label(positions) for _ in range(self.settings.random_candidates)]
        return self.clamp(torch.stack(candidates, dim=1))

    def _occupancy_cost(self, matches: Tensor) -> Tensor:
        """Per painting position: how much more than its share the patches around it are used, times
        the uniformity weight (EbSynth's patch occupancy). -> ``(Ms,)``."""
        p = self.settings.patch_size
        count = torch.bincount(matches, minlength=self.source_shape[0] * self.source_shape[1]).to(self.style.dtype)
        count = count.view(1, 1, *self.source_shape)
        covered = F.avg_pool2d(count, p, stride=1, padding=self.radius, count_include_pad=False) * p * p
        occupancy = F.avg_pool2d(covered, p, stride=1, padding=self.radius, count_include_pad=False)
        return occupancy.flatten() / (self.expected * p * p) * self.settings.uniformity

    def search(self, image: Tensor, matches: Tensor) -> tuple[Tensor, float]:
        """The E-step: PatchMatch rounds improving ``matches`` for the output ``image (3, H, W)``;
        -> the matches and their mean patch distance (uniformity cost included).

        Each round updates the pixels of one colour of a checkerboard, then the other, so a pixel
        takes up a neighbour's match while that neighbour keeps it (two neighbours that swapped
        their matches at once would stay incoherent, and their votes blur)."""
        queries = _convolve(torch.cat([image * self.style_scale, self.target_guides]), self.basis, self.stop)  # (N, d)
        costs = torch.zeros(len(matches), dtype=queries.dtype, device=queries.device)
        for round_ in range(self.settings.rounds):
            for half in self.halves:
                occupancy = self._occupancy_cost(matches)
                updated = matches.clone()
                step = max(1, _GATHER_ELEMENTS // (self.keys.shape[1] * 16))
                for positions in half.split(step):
                    _check(self.stop)
                    candidates = self._candidates(matches, positions, (8, 4, 2)[round_ % 3])
                    updated[positions], costs[positions] = self._best(queries[positions], candidates, occupancy)
                matches = updated
        return matches, (costs.mean() + queries.square().sum(1).mean()).item()

    def _best(self, queries: Tensor, candidates: Tensor, occupancy: Tensor) -> tuple[Tensor, Tensor]:
        """The candidate of least distance plus occupancy cost, per output pixel, and that cost less
        ``|query|^2``. ``queries (n, d)``, ``candidates (n, C)`` -> ``(n,)``, ``(n,)``."""
        # |q - k|^2 less |q|^2 (the same for every candidate of a pixel)
        dots = torch.linalg.vecdot(self.keys[candidates], queries[:, None])
        cost = self.key_norms[candidates] + occupancy[candidates] - 2 * dots
        lowest, chosen = cost.min(1)
        return candidates.gather(1, chosen[:, None])[:, 0], lowest

    def vote(self, matches: Tensor, radius: int | None = None) -> Tensor:
        """The M-step: each output pixel the mean of what the patches covering it say (those centred
        within ``radius``, by default the patch's). -> ``(3, H, W)``."""
        (h, w), (hs, ws) = self.shape, self.source_shape
        r = self.radius if radius is None else radius
        y, x = (matches // ws).view(h, w), (matches % ws).view(h, w)
        padded_y = F.pad(y[None, None].float(), (r, r, r, r), value=-1).long()[0, 0]
        padded_x = F.pad(x[None, None].float(), (r, r, r, r), value=-1).long()[0, 0]
        flat = self.style.reshape(3, -1)
        total = torch.zeros((3, h * w), dtype=self.style.dtype, device=self.style.device)
        weight = torch.zeros(h * w, dtype=self.style.dtype, device=self.style.device)
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                _check(self.stop)
                # The patch centred at p - (dy, dx) covers p: its pixel at offset (dy, dx) votes.
                cy = padded_y[r - dy : r - dy + h, r - dx : r - dx + w]
                cx = padded_x[r - dy : r - dy + h, r - dx : r - dx + w]
                valid = (cy >= 0).flatten()
                source = ((cy + dy).clamp(0, hs - 1) * ws + (cx + dx).clamp(0, ws - 1)).flatten()
                total += flat[:, source] * valid
                weight += valid
        return (total / weight.clamp_min(1)).view(3, h, w)


def _convolve(stack: Tensor, basis: Tensor, stop: Callable[[], bool] | None = None) -> Tensor:
    """Every pixel's patch of ``stack (C, H, W)`` (edges repeated) projected on ``basis (d, C, p, p)``,
    in bands of rows (a large image's whole convolution would be one more copy), ``stop()`` asked
    before each. -> ``(H * W, d)``."""
    r, (_, height, width) = basis.shape[-1] // 2, stack.shape
    padded = F.pad(stack[None], (r, r, r, r), mode="replicate")[0]
    out = stack.new_empty((height * width, basis.shape[0]))
    rows = max(1, _CONVOLVE_PIXELS // width)
    for top in range(0, height, rows):
        _check(stop)
        bottom = min(height, top + rows)
        band = F.conv2d(padded[None, :, top : bottom + 2 * r], basis)[0]
        out[top * width : bottom * width] = band.flatten(1).T
    return out


def _sample_patches(stack: Tensor, p: int, count: int, generator: torch.Generator | None) -> Tensor:
    """``count`` random whole patches of ``stack (C, H, W)``. -> ``(count, C p p)``."""
    channels, height, width = stack.shape
    g = _cpu(generator)
    ys = torch.randint(0, max(1, height - p + 1), (count,), generator=g).to(stack.device)
    xs = torch.randint(0, max(1, width - p + 1), (count,), generator=g).to(stack.device)
    offsets = torch.arange(p, device=stack.device)
    rows = (ys[:, None] + offsets).clamp(max=height - 1)  # (count, p)
    columns = (xs[:, None] + offsets).clamp(max=width - 1)
    patches = stack[:, rows[:, :, None], columns[:, None, :]]  # (C, count, p, p)
    return patches.permute(1, 0, 2, 3).reshape(count, channels * p * p)


def _labels(guides: list[Guide], shape: Grid, source_shape: Grid) -> tuple[Tensor, ...] | None:
    """For random same-label candidates: each output pixel's label ``(N,)``, the painting's positions
    sorted by label, and where each label starts and how many it has. None without a label guide."""
    guide = next((guide for guide in guides if guide.labels), None)
    if guide is None or guide.source.shape[0] == 0:
        return None
    target = resize(guide.target[None], shape)[0].argmax(0).flatten()
    source = resize(guide.source[None], source_shape)[0].argmax(0).flatten()
    counts = torch.bincount(source, minlength=guide.source.shape[0])
    return target, torch.argsort(source), torch.cumsum(counts, 0) - counts, counts


def _cpu(generator: torch.Generator | None) -> torch.Generator | None:
    return generator if generator is None or generator.device.type == "cpu" else None
