"""Will a painting fit in memory? An estimate made before anything large is allocated.

The estimate adds what the last (full-size) phase holds at its peak: the network's activations on
the output, kept for the backward pass; the style painting's patch keys at every MRF layer; the
output's patches during a search and the search's score block; the scene's images and label maps;
and the process itself (Python, torch, the weights). Each term is counted from the shapes, then
the sum is scaled by a factor measured on this project's benchmark runs (see
``benchmarks/README.md``), so it tracks the peak RSS within about 11 %.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .errors import DoodleError
from .patches import DEFAULT_CHUNK_ELEMENTS
from .plan import Mode, Plan, working_shape_of
from .synthesis import DEFAULT_SYNTHESIS as SYNTHESIS
from .vgg import VGGFeatures

__all__ = ["MemoryEstimate", "estimate_memory", "available_memory", "check_memory"]

_FLOAT = 4  # bytes
_PROCESS = 0.75e9  # Python, torch and its libraries, the weights, the inputs as read: fitted to measured peaks
_CALIBRATION = 0.78  # the terms are not all alive at once: fitted, measured peak RSS / sum of terms
_HEADROOM = 0.9  # use at most this share of the memory that is free
_SUGGESTION_MARGIN = 0.9  # a size suggested when a paint does not fit needs at most this share of the budget
_SMALLEST_STYLE_SCALE = 0.05  # the command line's lower bound of --style-scale
_LBFGS_HISTORY = 50  # curvature pairs L-BFGS keeps (optimiser.optimise)


@dataclass(frozen=True)
class MemoryEstimate:
    """Peak bytes of one painting, by part (``total`` is their calibrated sum)."""

    network: int  # activations kept for the backward pass, and the optimiser's state
    style_keys: int
    search: int
    scene: int
    total: int
    pixels: int = 0  # the pixel finish at the output's size

    def describe(self) -> str:
        """``61.4 GB (pixel finish 53.6, images 7.1, the program 0.7)``: the total and the parts of its
        peak, the network's stage or the pixel finish (whichever is larger), which add up to it."""
        gb = 1e9
        if self.pixels > self.network + self.style_keys + self.search:
            parts = [("pixel finish", self.pixels)]
        else:
            parts = [("network", self.network), ("painting's patches", self.style_keys), ("search", self.search)]
        shown = ", ".join(f"{name} {_CALIBRATION * value / gb:.1f}" for name, value in [*parts, ("images", self.scene)])
        return f"{self.total / gb:.1f} GB ({shown}, the program {_PROCESS / gb:.1f})"


def _layer_shapes(network: VGGFeatures, shape: tuple[int, int], last: str) -> list[tuple[str, int, int, int]]:
    """``(name, channels, height, width)`` of every module's output, up to and including ``last``."""
    (height, width), channels, out = shape, 3, []
    for name, module in zip(network.names, network.features, strict=True):
        if isinstance(module, nn.Conv2d):
            channels = module.out_channels
        elif not isinstance(module, nn.ReLU):  # pooling
            height, width = height // 2, width // 2
        out.append((name, channels, height, width))
        if name == last:
            break
    return out


def estimate_memory(
    network: VGGFeatures, plan: Plan, shape: tuple[int, int], style_shape: tuple[int, int], labels: int
) -> MemoryEstimate:
    """Peak memory of painting ``plan`` at an output of ``shape = (H, W)`` from a style of
    ``style_shape`` (both at full scale), with ``labels`` label channels (0 without maps); the layers
    counted are the plan's largest set of each term. Under a pixel finish the network's stage runs at
    the plan's working size, and the finish at ``shape`` (:func:`pixel_finish_bytes`)."""
    full_pixels = shape[0] * shape[1] + style_shape[0] * style_shape[1]
    scene = 2 * _FLOAT * (3 + labels) * full_pixels  # images and label maps, and their resized copies
    finish = 0
    if plan.pixels:
        finish = pixel_finish_bytes(shape, style_shape, labels, content=plan.content)
        working = working_shape_of(shape, plan.settings.working_size)
        factor = working[1] / shape[1]
        style_shape = max(1, round(style_shape[0] * factor)), max(1, round(style_shape[1] * factor))
        shape = working
    settings = plan.settings
    mrf, gram = list(plan.mrf_layers), list(plan.gram_layers)
    used = mrf + gram + list(plan.content_layers)
    last = max(used, key=network.names.index)
    output_layers = _layer_shapes(network, shape, last)
    style_layers = {name: (c, h, w) for name, c, h, w in _layer_shapes(network, style_shape, last)}
    output_by_name = {name: (c, h, w) for name, c, h, w in output_layers}
    # Saved for the backward pass: each ReLU's and pooling's output (a conv's output is dropped once its
    # ReLU has run), and at its peak the gradients of the two largest layers; then the style's forward.
    sizes = [c * h * w for _, c, h, w in output_layers]
    kept = sum(size for (name, *_), size in zip(output_layers, sizes, strict=True) if not name.startswith("conv"))
    network_bytes = _FLOAT * (kept + 2 * max(sizes) + 2 * max(c * h * w for c, h, w in style_layers.values()))
    network_bytes += _FLOAT * 2 * _LBFGS_HISTORY * 3 * shape[0] * shape[1]  # L-BFGS's curvature pairs
    k2 = settings.patch_size**2
    keys = search = 0
    for name in mrf:
        channels, height, width = style_layers[name]
        _, out_height, out_width = output_by_name[name]
        style_patches = max(0, height - settings.patch_size + 1) * max(0, width - settings.patch_size + 1)
        output_patches = max(0, out_height - settings.patch_size + 1) * max(0, out_width - settings.patch_size + 1)
        key_bytes = _FLOAT * style_patches * (k2 * (channels + labels) + channels)
        keys += key_bytes
        # Building the keys (the patches they are made from), or a search (the output's patches and their
        # keys, the score block, and for the exact matcher a label's share of the style keys), whichever is
        # larger, one layer at a time.
        building = _FLOAT * style_patches * k2 * channels
        searching = _FLOAT * (2 * output_patches * k2 * (channels + labels) + DEFAULT_CHUNK_ELEMENTS)
        searching += key_bytes if settings.matcher == "exact" else 0
        search = max(search, building, searching)
    keys = int(keys * 1.25)  # the coarser phase's objective is still alive while the next one is built
    # The network's stage is over before the finish begins: the larger of the two is the peak.
    total = int(_PROCESS + _CALIBRATION * (max(network_bytes + keys + search, finish) + scene))
    return MemoryEstimate(int(network_bytes), keys, int(search), int(scene), total, finish)


def pixel_finish_bytes(shape: tuple[int, int], style_shape: tuple[int, int], labels: int, *, content: bool) -> int:
    """The pixel finish's finest level (:mod:`doodle.synthesis`): per painting pixel its channels
    (the painting, each guide's) with a resized copy, its compact patch and occupancy; per output
    pixel its guides' channels, compact patches (the guides' part, the queries, the convolution's
    output), matches, candidates and votes."""
    channels = 3 + labels + 4 * content
    dimensions = SYNTHESIS.dimensions + SYNTHESIS.guide_dimensions * 2 * content + (labels + 2) * (labels > 0)
    source = style_shape[0] * style_shape[1] * (_FLOAT * (2 * channels + dimensions + 6) + 16)
    candidates = 9 + 4 + SYNTHESIS.near_search + 1 + SYNTHESIS.random_candidates  # per round, for every pixel
    output = shape[0] * shape[1] * (_FLOAT * (2 * channels + 2 * dimensions + 12) + 8 * (candidates + 6))
    return source + output


def available_memory(device: torch.device) -> int:
    """Bytes free for a painting on ``device``: free GPU memory, or the RAM the system can give."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as meminfo:
            fields = dict(line.split(":", 1) for line in meminfo)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")  # no /proc: all of the RAM


def check_memory(
    network: VGGFeatures,
    plan: Plan,
    shape: tuple[int, int],
    style_shape: tuple[int, int],
    labels: int,
    device: torch.device,
    *,
    limit: int | None = None,
) -> MemoryEstimate:
    """The estimate, or a :class:`DoodleError` with it and the ways out when it exceeds what is free
    (or ``limit`` bytes, a server's own bound, when that is less)."""
    settings = plan.settings
    estimate = estimate_memory(network, plan, shape, style_shape, labels)
    free = available_memory(device)
    budget = _HEADROOM * free if limit is None else min(_HEADROOM * free, limit)
    if estimate.total <= budget:
        return estimate
    where = "on the GPU" if device.type == "cuda" else "in memory"
    if limit is not None and limit < _HEADROOM * free:
        free, where = limit, "to this server (its --max-memory)"
    ways = []
    # The sizes suggested fit with a margin (free memory moves), and as they will be painted: the
    # painting keeps the output's scale, but for a texture (its own scale, whatever the output's size).
    target = _SUGGESTION_MARGIN * budget
    follows = plan.mode != Mode.TEXTURE
    if shape[0] * shape[1] >= style_shape[0] * style_shape[1] / 4:  # (shrinking a small output saves little)
        fits = _largest_fitting(
            lambda f: _need(network, plan, _scale(shape, f), _scale(style_shape, f if follows else 1), labels), target
        )
        if fits > 0:
            height, width = _scale(shape, fits)
            ways.append(f"a smaller `output_size` (about {width}x{height} fits)")
    fits = _largest_fitting(lambda f: _need(network, plan, shape, _scale(style_shape, f), labels), target)
    if fits * settings.style_scale >= _SMALLEST_STYLE_SCALE:
        ways.append(f"a smaller `style_scale` ({fits * settings.style_scale:.2g} fits)")
    if device.type != "cuda" and limit is None:
        ways.append("a GPU")
    if not ways:
        ways.append("smaller images")
    raise DoodleError(
        f"this painting needs about {estimate.describe()}, and {free / 1e9:.1f} GB is free {where}; "
        f"use {', or '.join(ways)}"
    )


def _need(network: VGGFeatures, plan: Plan, shape: tuple[int, int], style_shape: tuple[int, int], labels: int) -> int:
    return estimate_memory(network, plan, shape, style_shape, labels).total


def _scale(shape: tuple[int, int], factor: float) -> tuple[int, int]:
    return max(16, int(shape[0] * factor)), max(16, int(shape[1] * factor))


def _largest_fitting(need: Callable[[float], int], budget: float) -> float:
    """The largest factor in (0, 1] whose ``need(factor)`` is within ``budget`` (bisection; 0: none)."""
    low, high = 0.0, 1.0
    for _ in range(12):
        middle = (low + high) / 2
        low, high = (middle, high) if need(middle) <= budget else (low, middle)
    return low
