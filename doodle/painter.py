"""The optimisation: image pixels fitted by L-BFGS, coarse to fine over several phases."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from . import colors
from .budget import check_memory
from .collage import Collage
from .devices import device_clock, network_dtype, resolve_device
from .errors import DoodleError, PaintingStopped
from .generator import TrainedPainter
from .images import ImageInput, load_rgb, resize, scaled_shape, to_pil, to_tensor
from .losses import ContentLoss, GramLoss, out_of_range, total_variation
from .matching import Matches
from .mrf import MRFLoss, blend_bias, pool_labels
from .provenance import job_record, with_record
from .repaint import changed_region, crop_scene
from .scene import Scene, build_scene
from .settings import SEED_KEYWORDS, PaintSettings
from .temporal import FrameGuide, temporal_loss
from .vgg import VGGFeatures, layer_stride, load_vgg, parse_layer

__all__ = ["paint", "Painter", "paint_scene", "paint_and_remember", "Memory", "Step", "Callback", "initial_image"]


@dataclass
class Step:
    """Reported after every iteration. ``size`` is the phase's (width, height); ``image`` is
    ``(1, 3, height, width)`` in ``[0, 1]``: copy it to keep it."""

    phase: int
    phases: int
    iteration: int
    iterations: int
    loss: float
    size: tuple[int, int]
    image: Tensor
    seconds: dict[str, float] = field(default_factory=dict)


Callback = Callable[[Step], None]


class _LossScale:
    """Dynamic loss scaling for float16 backward passes (as ``torch.amp.GradScaler``).

    Gradients of the normalised losses are far below float16's smallest normal number inside
    the network, so the loss is multiplied by ``value`` before ``backward`` and the gradient
    divided after. A non-finite gradient cuts the scale by 4 (the evaluation is repeated);
    every ``interval`` good evaluations it doubles.
    """

    def __init__(self, enabled: bool, value: float = 2.0**24, interval: int = 50) -> None:
        self.enabled, self.value, self.interval, self.good = enabled, value if enabled else 1.0, interval, 0

    def unscale(self, grad: Tensor) -> bool:
        """Divide ``grad`` in place; False (and a smaller scale) if it overflowed."""
        if not self.enabled:
            return True
        if not bool(torch.isfinite(grad).all()) and self.value > 1.0:
            self.value, self.good = self.value / 4, 0
            return False
        grad.div_(self.value)
        self.good += 1
        if self.good % self.interval == 0:
            self.value *= 2
        return True


def _phase_factors(shape: tuple[int, int], phases: int, smallest: int) -> list[float]:
    """Scales ``1/2**(phases-1) ... 1/2, 1``, dropping coarse ones whose short side is under ``smallest``."""
    factors = [0.5 ** (phases - 1 - i) for i in range(phases)]
    return [f for f in factors if min(shape) * f >= smallest] or [1.0]


def _label_colours(scene: Scene, shape: tuple[int, int]) -> Tensor:
    """The target map painted with each label's mean colour in the style. -> ``(1, 3, h, w)``."""
    labels = resize(scene.style_labels, tuple(scene.style.shape[-2:]))[0]  # (K, Hs, Ws)
    means = torch.einsum("khw,chw->kc", labels, scene.style[0]) / labels.sum((1, 2)).clamp_min(1e-6)[:, None]
    return torch.einsum("khw,kc->chw", resize(scene.target_labels, shape)[0], means)[None]


def start_of(scene: Scene, settings: PaintSettings) -> str:
    """What ``settings.seed`` starts ``scene`` from: ``content``, ``collage``, ``labels``, ``noise``,
    or the seed itself (an image or painter file). ``auto`` is the content photo if there is one,
    else a collage of the painting (a doodle or a texture from one painting), else the label colours
    (a doodle of several paintings), else noise."""
    if settings.seed != "auto":
        return str(settings.seed)
    if scene.content is not None:
        return "content"
    if scene.paintings is None:
        return "collage"
    return "labels" if scene.target_labels is not None else "noise"


def scheduled(scene: Scene, settings: PaintSettings) -> PaintSettings:
    """``settings`` with the defaults of ``scene``'s mode and start filled in (:meth:`PaintSettings.for_mode`)."""
    return settings.for_mode(scene.mode, start=start_of(scene, settings))


def initial_image(scene: Scene, settings: PaintSettings, shape: tuple[int, int]) -> Tensor:
    """The first phase's start (see :func:`start_of`): noise, the content, the label colours plus
    noise (``labels``), a collage of the painting cut by the doodle (``collage``), an image file, or
    a trained painter's rendering of the doodle (a ``.pt`` file); with ``noise_ratio``, that start
    blended with noise. -> ``(1, 3, *shape)``."""
    seed, ratio = start_of(scene, settings), settings.noise_ratio
    generator = torch.Generator().manual_seed(settings.random_seed)
    uniform = torch.rand((1, 3) + shape, generator=generator)
    noise = uniform * 0.5 + 0.25
    if seed == "noise":
        start = noise
    elif seed == "content":
        if scene.content is None:
            raise DoodleError("`seed='content'` needs `content`; use `seed='noise'` or an image path")
        start = resize(scene.content, shape)
    elif seed == "labels":
        if scene.target_labels is None:
            raise DoodleError("`seed='labels'` needs `target_map`; use `seed='noise'` or an image path")
        start = _label_colours(scene, shape)
        if ratio is None:
            return (start + (uniform - 0.5) * 0.5).clamp(0, 1)
    elif seed == "collage":
        start = resize(_collage_start(scene, settings.random_seed), shape)
    elif Path(seed).suffix == ".pt":
        start = resize(_rendered_start(scene, Path(seed), settings.random_seed), shape)
    else:
        start = resize(to_tensor(load_rgb(Path(seed), what="seed image")), shape)
    return start if ratio is None else ratio * noise + (1 - ratio) * start


def _collage_start(scene: Scene, random_seed: int) -> Tensor:
    """The doodle filled with pieces of the painting cut where it has the same labels, or, for a
    texture, the painting quilted anew (:class:`~doodle.collage.Collage`), at full size. -> ``(1, 3, H, W)``."""
    texture = scene.target_labels is None
    if scene.paintings is not None or (texture and scene.content is not None):
        raise DoodleError("`seed='collage'` needs one painting, and with a `content` photo a `target_map`")
    if texture:
        painting_labels, labels = torch.ones(1, *scene.style.shape[-2:]), torch.ones(1, 1, *scene.shape)
    else:
        painting_labels, labels = scene.style_labels[0].cpu(), scene.target_labels.cpu()
    collage = Collage(scene.style[0].cpu(), painting_labels, layout=not texture)
    return collage(labels, torch.Generator().manual_seed(random_seed))


def _rendered_start(scene: Scene, path: Path, random_seed: int) -> Tensor:
    """The doodle painted by a trained painter (``doodle train``), at full size. -> ``(1, 3, H, W)``."""
    trained = TrainedPainter.load(path)
    if scene.target_labels is None:
        raise DoodleError(f"`seed` {path}: a trained painter paints doodles; give `target_map`")
    trained.check_palette(scene.palette, name=f"`seed` {path}", whose="the style map's")
    return trained.render(scene.target_labels, seed=random_seed)


def _blend_weights(settings: PaintSettings, paintings: int) -> Tensor:
    """The weights of a blend of ``paintings`` (zero weights are left out before): ``(P,)``, summing to 1."""
    weights = [w for w in settings.style_blend if w > 0] if settings.style_blend else [1.0] * paintings
    if len(weights) != paintings:
        raise DoodleError(f"`style_blend` has {len(weights)} weights above 0 for {paintings} paintings")
    weights = torch.tensor(weights)
    return weights / weights.sum()


def _blended_inputs(
    style: ImageInput | Sequence[ImageInput], style_map: ImageInput | Sequence[ImageInput] | None, blend
) -> tuple:
    """``style`` and ``style_map`` without the paintings of weight 0 in ``blend`` (so a blend of 1 and
    0 paints as the first painting alone); a blend of another length than ``style`` is an error."""
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if blend is None:
        return style, style_map
    if len(blend) != len(styles):
        raise DoodleError(f"`style_blend` has {len(blend)} weights for {len(styles)} paintings; give one per `style`")
    keep = [i for i, weight in enumerate(blend) if weight > 0]
    maps = list(style_map) if isinstance(style_map, (list, tuple)) else None
    if maps is not None and len(maps) == len(styles):
        style_map = [maps[i] for i in keep]
    return [styles[i] for i in keep], style_map


class _Objective:
    """The weighted sum of all losses of one phase. ``(1, 3, h, w)`` image -> scalar."""

    def __init__(
        self,
        network: VGGFeatures,
        scene: Scene,
        settings: PaintSettings,
        factor: float,
        shape: tuple[int, int],
        device: torch.device,
        same_style: _Objective | None = None,
        laid_out: bool = False,
    ) -> None:
        """``same_style``: this phase of an earlier paint of the same painting at the same scale and
        settings, whose style features and patch keys (and layers) are taken instead of computed
        again. ``laid_out``: see :meth:`PaintSettings.mrf_layers`."""
        model = network.model
        self.network, self.settings = network, settings
        self.mrf_layers = (
            [parse_layer(n, model) for n in settings.mrf_layers(laid_out=laid_out)]
            if same_style is None
            else same_style.mrf_layers
        )
        self.gram_layers = (
            [parse_layer(n, model) for n in settings.gram_layers(laid_out=laid_out)]
            if same_style is None
            else same_style.gram_layers
        )
        self.content_layers = (
            [parse_layer(n, model) for n in settings.content_layers_at(laid_out=laid_out)]
            if scene.content is not None and settings.content_weight > 0
            else []
        )
        self.layers = sorted(set(self.mrf_layers + self.gram_layers + self.content_layers), key=network.names.index)
        style_shape = scaled_shape(tuple(scene.style.shape[-2:]), factor)
        self.device, self.dtype = device, network_dtype(settings.precision, device)
        with torch.no_grad(), self._autocast():
            style = (
                network(resize(scene.style, style_shape).to(device), self.mrf_layers + self.gram_layers)
                if same_style is None
                else same_style.style
            )
            content = (
                {} if not self.content_layers else network(resize(scene.content, shape).to(device), self.content_layers)
            )
        self.style = style = {name: value.float() for name, value in style.items()}
        content = {name: value.float() for name, value in content.items()}
        style_labels = (
            None
            if scene.style_labels is None or same_style is not None
            else resize(scene.style_labels, style_shape).to(device)
        )
        target_labels = None if scene.target_labels is None else resize(scene.target_labels, shape).to(device)
        blend = None if scene.paintings is None else _blend_weights(settings, scene.paintings.shape[1])
        paintings = None if blend is None else resize(scene.paintings, style_shape).to(device)

        def pooled(name: str) -> Tensor | None:
            return None if paintings is None else pool_labels(paintings, tuple(style[name].shape[-2:]))

        self.mrf = {}
        for name in self.mrf_layers:
            target_shape = network.feature_shape(name, shape)
            if min(target_shape) < settings.patch_size or min(style[name].shape[-2:]) < settings.patch_size:
                raise DoodleError(
                    f"images too small for {name} at this phase; use a larger `output_size`, "
                    "fewer `phases` or shallower `style_layers`"
                )
            generator = torch.Generator(device).manual_seed(settings.random_seed)
            pooled_target = None if target_labels is None else pool_labels(target_labels, target_shape)
            if same_style is not None:
                self.mrf[name] = same_style.mrf[name].for_target(pooled_target, generator=generator)
                continue
            self.mrf[name] = MRFLoss(
                style[name],
                None if style_labels is None else pool_labels(style_labels, tuple(style[name].shape[-2:])),
                pooled_target,
                semantic_weight=settings.semantic_weight,
                size=settings.patch_size,
                matcher=settings.matcher,
                generator=generator,
                key_bias=None if blend is None else blend_bias(pooled(name), blend, settings.patch_size),
            )
        self.gram = (
            {name: GramLoss(style[name], pooled(name), blend) for name in self.gram_layers}
            if same_style is None
            else same_style.gram
        )
        self.content = {name: ContentLoss(content[name]) for name in self.content_layers}
        self.seconds = {"network": 0.0, "style": 0.0}
        self.loss_scale = _LossScale(self.dtype == torch.float16)
        self.last_good: Tensor | None = None  # the last image whose loss was finite
        self.free: Tensor | None = None  # (1, 1, h, w): where pixels may change (None: everywhere)
        self.temporal: tuple[Tensor, Tensor, float] | None = None  # the frame before carried, where known, weight

    def follow(self, guide: FrameGuide, shape: tuple[int, int], factor: float) -> None:
        """Tie this phase to the frame before (an animation's later frame): the temporal loss toward
        ``guide.carried`` where known, and each MRF layer's search started from its carried matches."""
        if guide.weight > 0:
            carried, known = resize(guide.carried, shape).to(self.device), resize(guide.known, shape).to(self.device)
            self.temporal = (carried, known, guide.weight)
        for name, loss in self.mrf.items():
            query_grid = loss.patch_grid(self.network.feature_shape(name, shape))
            seeds = guide.seeds(name, query_grid, loss.matcher.key_grid, layer_stride(name) / factor, loss.size)
            if seeds is not None:
                loss.start_from(seeds[0].to(self.device), seeds[1].to(self.device), query_grid)

    def last_matches(self) -> dict[str, Matches]:
        """Each MRF layer's last matches (before :meth:`forget_target`)."""
        return {name: loss.matches for name, loss in self.mrf.items() if loss.matches is not None}

    def forget_target(self) -> None:
        """Drop what belongs to this paint (matches, the folded targets): a later one reuses the rest."""
        for loss in self.mrf.values():
            loss.forget()
        self.last_good = self.free = self.temporal = None

    def _autocast(self) -> torch.autocast:
        """The network's arithmetic (see :func:`~doodle.devices.network_dtype`)."""
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32)

    def refresh_matches(self) -> None:
        for loss in self.mrf.values():
            loss.refresh()

    def evaluate(self, image: Tensor) -> Tensor:
        """The loss, with its gradient accumulated in ``image.grad`` (unscaled).

        Raises :class:`_NotFinite` when the loss is NaN or infinite (nothing to optimise from there).
        """
        while True:
            image.grad = None
            loss = self(image)
            if not bool(torch.isfinite(loss)):
                raise _NotFinite(float(loss))
            self.last_good = image.detach().clamp(0.0, 1.0)  # a copy: the optimiser updates `image` in place
            start = device_clock(self.device)
            (loss * self.loss_scale.value).backward()
            self.seconds["network"] += device_clock(self.device) - start  # backward runs mostly through VGG
            if self.loss_scale.unscale(image.grad):
                if self.free is not None:
                    image.grad.mul_(self.free)  # kept pixels do not move
                return loss

    def __call__(self, image: Tensor) -> Tensor:
        settings = self.settings
        start = device_clock(self.device)
        with self._autocast():
            features = self.network(image, self.layers)
        features = {name: value.float() for name, value in features.items()}
        middle = device_clock(self.device)
        loss = image.new_zeros(())
        if self.mrf:
            loss = loss + settings.style_weight * sum(m(features[n]) for n, m in self.mrf.items()) / len(self.mrf)
        if self.gram:
            loss = loss + settings.style_weight * sum(g(features[n]) for n, g in self.gram.items()) / len(self.gram)
        if self.content:
            loss = loss + settings.content_weight * sum(c(features[n]) for n, c in self.content.items()) / len(
                self.content
            )
        if settings.smoothness > 0:
            loss = loss + settings.smoothness * total_variation(image)
        if self.temporal is not None:
            carried, known, weight = self.temporal
            loss = loss + weight * temporal_loss(image, carried, known)
        loss = loss + out_of_range(image)
        self.seconds["style"] += device_clock(self.device) - middle
        self.seconds["network"] += middle - start
        return loss


class _NotFinite(Exception):
    """The loss became NaN or infinite (its value is the argument)."""


def _optimise(
    objective: _Objective,
    image: Tensor,
    settings: PaintSettings,
    iterations: int,
    on_step: Callable[[int, float, Tensor], None],
) -> Tensor:
    """Fit the pixels for ``iterations`` steps. ``on_step(iteration, loss, image)`` after every one.

    L-BFGS with a strong-Wolfe line search (a fixed step overshoots on the quartic Gram loss);
    patch matches are refreshed before every ``match_every`` iterations, never inside a line search.
    """
    image = image.clone().requires_grad_(True)

    if settings.optimizer == "adam":
        optimiser = torch.optim.Adam([image], lr=0.02)
        for iteration in range(iterations):
            if iteration % settings.match_every == 0:
                objective.refresh_matches()
            loss = objective.evaluate(image)
            optimiser.step()
            on_step(iteration, float(loss.detach()), image.detach())
        return image.detach().clamp(0.0, 1.0)

    optimiser = torch.optim.LBFGS(
        [image], lr=1.0, history_size=50, line_search_fn="strong_wolfe", tolerance_grad=0.0, tolerance_change=0.0
    )
    progress = {"reported": 0, "loss": float("nan"), "block_start": True}

    def report(completed: int) -> None:
        while progress["reported"] < completed:
            on_step(progress["reported"], progress["loss"], image.detach())
            progress["reported"] += 1

    def closure() -> Tensor:
        # LBFGS counts iterations in its state; the first evaluation of a call precedes its first iteration.
        iteration = optimiser.state[image].get("n_iter", 0)
        report(iteration if progress["block_start"] else iteration - 1)
        progress["block_start"] = False
        loss = objective.evaluate(image)
        progress["loss"] = float(loss.detach())
        return loss

    # One L-BFGS call per block of ``match_every`` iterations, each on fixed matches; the curvature
    # history carries over (the matches change little from one block to the next).
    done = 0
    while done < iterations:
        objective.refresh_matches()
        block = min(settings.match_every, iterations - done)
        optimiser.param_groups[0].update(max_iter=block, max_eval=2 * block)
        progress["block_start"] = True
        optimiser.step(closure)
        if optimiser.state[image]["n_iter"] == done:
            break  # converged
        done = optimiser.state[image]["n_iter"]
    report(iterations)  # the last iteration, or all remaining ones if converged early
    return image.detach().clamp(0.0, 1.0)


def paint_scene(
    scene: Scene, settings: PaintSettings, network: VGGFeatures, *, callback: Callback | None = None
) -> Tensor:
    """Paint a prepared scene. Returns the image ``(1, 3, H, W)`` in ``[0, 1]`` on the CPU.

    The network runs on the settings' device and is returned to its own device afterwards (load it
    on the painting device to avoid the copies when painting repeatedly). To reuse one paint's work
    in the next, see :func:`paint_and_remember` and :class:`Painter`. Raises as :func:`paint`.
    """
    return paint_and_remember(scene, settings, network, callback=callback)[0]


def paint_and_remember(
    scene: Scene,
    settings: PaintSettings,
    network: VGGFeatures,
    *,
    callback: Callback | None = None,
    previous: Memory | None = None,
    guide: FrameGuide | None = None,
) -> tuple[Tensor, Memory]:
    """:func:`paint_scene`, also returning what the next paint of the same painting can reuse.

    When ``previous`` painted the same painting (and map) at the same size with the same settings
    (the random seed aside), its style features and patch keys are reused. When the settings are the
    same, seed included: the same doodle (and content) returns its image (painting is deterministic);
    a doodle changed in less than half of the image (with margins, see :mod:`doodle.repaint`) is
    painted again only there, every phase, with the rest of the last result kept around it.

    ``guide``: ties to the frame before, for an animation's later frame (:mod:`doodle.temporal`).
    """
    method = settings.preserve_colors
    if method is None:
        return _paint_remembering(scene, settings, network, callback, previous, guide)
    if guide is not None:
        guide = colors.prepare_guide(guide, method)
    image, memory = _paint_remembering(colors.prepare(scene, method), settings, network, callback, previous, guide)
    return colors.finish(image, scene, method), memory  # (the memory keeps the image as painted)


def _paint_remembering(
    scene: Scene,
    settings: PaintSettings,
    network: VGGFeatures,
    callback: Callback | None,
    previous: Memory | None,
    guide: FrameGuide | None,
) -> tuple[Tensor, Memory]:
    settings = scheduled(scene, settings)
    device = resolve_device(settings.device)
    labels = 0 if scene.target_labels is None else scene.target_labels.shape[1]
    check_memory(
        network,
        settings,
        scene.shape,
        tuple(scene.style.shape[-2:]),
        labels,
        device,
        content=scene.content is not None and settings.content_weight > 0,
    )
    key = _style_key(scene, settings, network)
    start = None  # (1, 3, H, W): the start image, where it is not the settings' seed
    if guide is not None:
        plain = "content" if scene.content is not None else "labels" if scene.target_labels is not None else "noise"
        fresh = (
            None if guide.filled else initial_image(scene, settings.replace(seed=plain, noise_ratio=0.0), scene.shape)
        )
        start = guide.start(fresh)
    same = previous if previous is not None and previous.key == key else None
    target, region = _target(scene), None
    from_file = settings.seed not in SEED_KEYWORDS  # a start image may have changed on disk
    if same is not None and same.settings == settings and same.target.shape == target.shape:
        # Deterministic: the same inputs and settings paint the same image (with a start image file, only
        # for an animation's frame: a still one is the frame before).
        if (not from_file or guide is not None) and torch.equal(same.target, target):
            return same.image, same
        smallest = _smallest_side(settings, network) * 2 ** (settings.phases - 1)  # at the coarsest phase
        region = changed_region(same.target, target, smallest=smallest)
    home = next(network.parameters()).device
    try:
        if region is None:
            image, objectives, matches = _paint_phases(
                scene, settings, network.to(device), device, callback, same, guide, start=start
            )
            return image, Memory(key, objectives, settings, target, image, matches)
        top, left, height, width = region.box
        kept = same.image[..., top : top + height, left : left + width]
        if start is None and from_file and Path(settings.seed).suffix != ".pt":
            start = initial_image(scene, settings, scene.shape)
        if start is not None:  # the start image's own part of the box
            start = start[..., top : top + height, left : left + width]
        part, _, matches = _paint_phases(
            crop_scene(scene, region.box),
            settings,
            network.to(device),
            device,
            callback,
            same,
            None if guide is None else guide.cropped(region.box),
            (kept, region.free),
            start,
        )
        image = same.image.clone()
        image[..., top : top + height, left : left + width] = part
        matches = _pasted_matches(same.matches, matches, (top, left), network)
        return image, Memory(key, same.objectives, settings, target, image, matches)
    finally:
        network.to(home)


@dataclass
class Memory:
    """What one paint leaves for the next in the same process: each phase's objective (its style
    features and patch keys), the settings, what was painted (labels or content), the result, and
    the full-size phase's patch matches by MRF layer (where an animation's next frame starts its search)."""

    key: tuple
    objectives: dict
    settings: PaintSettings
    target: Tensor
    image: Tensor
    matches: dict[str, Matches] | None = None


def _pasted_matches(
    whole: dict[str, Matches] | None, part: dict[str, Matches], origin: tuple[int, int], network: VGGFeatures
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
        stride = layer_stride(parse_layer(name, network.model))
        top, left = round(origin[0] / stride), round(origin[1] / stride)
        rows = min(inside.query_grid[0], matches.query_grid[0] - top)
        columns = min(inside.query_grid[1], matches.query_grid[1] - left)
        grid = matches.indices.view(matches.query_grid).clone()
        grid[top : top + rows, left : left + columns] = inside.indices.view(inside.query_grid)[:rows, :columns]
        pasted[name] = Matches(grid.flatten(), matches.query_grid, matches.key_grid)
    return pasted


def _fingerprint(tensor: Tensor | None) -> str:
    if tensor is None:
        return ""
    return hashlib.blake2b(tensor.detach().cpu().contiguous().numpy().tobytes(), digest_size=16).hexdigest()


def _style_key(scene: Scene, settings: PaintSettings, network: VGGFeatures) -> tuple:
    """Equal for two paints whose style side (features, keys) is the same."""
    return (
        id(network),
        _fingerprint(scene.style),
        _fingerprint(scene.style_labels),
        scene.shape,
        None if scene.palette is None else scene.palette.tobytes(),
        scene.content is None,  # (see _paint_phases's laid_out)
        start_of(scene, settings) == "collage",
        # (the start does not touch the style side, but for whether it is laid out)
        scheduled(scene, settings).replace(random_seed=0, seed="auto", noise_ratio=None),
    )


def _target(scene: Scene) -> Tensor:
    """What is painted besides the style: the target labels and the content. ``(1, C, H, W)``."""
    parts = [part for part in (scene.target_labels, scene.content) if part is not None]
    return torch.cat(parts, dim=1) if parts else torch.zeros((1, 0) + scene.shape)


def _paint_phases(
    scene: Scene,
    settings: PaintSettings,
    network: VGGFeatures,
    device: torch.device,
    callback: Callback | None,
    previous: Memory | None,
    guide: FrameGuide | None = None,
    context: tuple[Tensor, Tensor] | None = None,
    start: Tensor | None = None,
) -> tuple[Tensor, dict[float, _Objective], dict[str, Matches]]:
    """Paint coarse to fine. ``guide``: ties to the frame before (an animation's later frame).
    ``context = (image, free)``: start from ``image (1, 3, H, W)`` and paint only where ``free (1, 1, H,
    W)`` is 1 (0: keep). ``start (1, 3, H, W)``: the start image, instead of the settings' seed. -> the
    image, each phase's objective by scale, and the last phase's matches by MRF layer."""
    factors = _phase_factors(scene.shape, settings.phases, smallest=_smallest_side(settings, network))
    iterations = settings.phase_iterations(len(factors))
    from_collage = start_of(scene, settings) == "collage"
    image = objective = None
    objectives = {}
    for phase, factor in enumerate(factors, start=1):
        shape = scaled_shape(scene.shape, factor)
        started = time.perf_counter()
        if image is None:
            image = initial_image(scene, settings, shape) if start is None else resize(start, shape)
        else:
            image = resize(image, shape)
            if guide is not None:  # the coarser phase was for what is new; the frame before stays sharp
                image = guide.keep_known(image)
        same_style = None if previous is None else previous.objectives.get(factor)
        # The layout is set by a coarser phase, by the frame before, or by a collage start; with a
        # content photo, only for the full-size phase (the content keeps its deep layers before it).
        laid_out = (phase > 1 or guide is not None or from_collage) and (scene.content is None or phase == len(factors))
        coarser, objective = (
            objective,
            _Objective(network, scene, settings, factor, shape, device, same_style, laid_out),
        )
        if context is not None:
            free = resize(context[1], shape)
            image = resize(context[0], shape) * (1 - free) + image * free
            objective.free = free.to(device)
        if coarser is not None:
            for name, loss in objective.mrf.items():
                if name in coarser.mrf:
                    loss.inherit(coarser.mrf[name])
        coarser = None
        if guide is not None:
            objective.follow(guide, shape, factor)
        objectives[factor] = objective
        report = _phase_reporter(callback, objective, phase, len(factors), iterations[phase - 1], shape, started)
        try:
            image = _optimise(objective, image.to(device), settings, iterations[phase - 1], report).cpu()
        except _NotFinite as error:
            good = image if objective.last_good is None else objective.last_good.cpu()
            raise PaintingStopped(
                f"the loss became {error.args[0]} in phase {phase} of {len(factors)}; painting stopped "
                "(check the weights and the inputs for extreme values)",
                to_pil(resize(good, scene.shape)),
            ) from None
    matches = objective.last_matches()
    for kept in objectives.values():
        kept.forget_target()
    return image, objectives, matches


def _smallest_side(settings: PaintSettings, network: VGGFeatures) -> int:
    """The smallest image side a phase may have: one patch of the deepest MRF layer."""
    deepest = max([layer_stride(parse_layer(n, network.model)) for n in settings.mrf_layers()] or [1])
    return deepest * settings.patch_size


def _phase_reporter(
    callback: Callback | None,
    objective: _Objective,
    phase: int,
    phases: int,
    iterations: int,
    shape: tuple[int, int],
    started: float,
) -> Callable[[int, float, Tensor], None]:
    """``on_step(iteration, loss, image)`` for one phase: a :class:`Step` to ``callback``, if any."""
    setup = time.perf_counter() - started

    def on_step(iteration: int, loss: float, current: Tensor) -> None:
        if callback is not None:
            seconds = dict(objective.seconds, setup=setup, total=time.perf_counter() - started)
            size = (shape[1], shape[0])  # the API's (width, height)
            callback(Step(phase, phases, iteration + 1, iterations, loss, size, current, seconds))

    return on_step


def paint(
    style: ImageInput | Sequence[ImageInput],
    *,
    style_map: ImageInput | Sequence[ImageInput | None] | None = None,
    target_map: ImageInput | None = None,
    content: ImageInput | None = None,
    settings: PaintSettings | None = None,
    network: VGGFeatures | None = None,
    callback: Callback | None = None,
    **options,
) -> Image.Image:
    """Paint an image in the style of ``style``: a doodle, a style transfer or a texture.

    Parameters
    ----------
    style : path, PIL image or (H, W, 3) uint8 array, or a list of them
        The painting whose style is used; several are blended (``style_blend`` weighs them).
    style_map, target_map : same types, optional
        Label maps of the style (one per painting) and of the output (the doodle, or the content's
        map). Found beside their images as ``X_sem.png`` when not given.
    content : same types, optional
        A photo whose layout the output keeps.
    settings : PaintSettings, optional; ``**options`` override its fields (e.g. ``iterations=50``).
    network : VGGFeatures, optional
        A loaded network to reuse (then the ``model``, ``weights``, ``preprocess`` and ``pooling``
        settings are not used); by default one is loaded from the settings.
    callback : called with a :class:`Step` after every iteration.

    Returns
    -------
    PIL.Image.Image (RGB)
        Its ``info["doodle"]`` records what made it (:mod:`doodle.provenance`); :func:`doodle.save_atomic`
        writes that into a PNG (`doodle info`, `doodle paint --from` read it back).

    Raises
    ------
    DoodleError
        Bad inputs or settings, no weights, or a painting that would not fit in memory (checked
        before anything large is allocated, see :mod:`doodle.budget`).
    PaintingStopped
        The loss stopped being a finite number; its ``image`` is the last good one.

    Example
    -------
    >>> image = doodle.paint("Monet.jpg", style_map="Monet_sem.png", target_map="Coastline_sem.png",
    ...                      weights="vgg16_hed_caffe_fp16.pth", output_size=(256, 192))  # doctest: +SKIP
    """
    return Painter(settings, network=network, **options).paint(
        style, style_map=style_map, target_map=target_map, content=content, callback=callback
    )


class Painter:
    """Paints again and again in one process (``doodle watch``, a studio, a script editing a doodle).

    Keeps the network, and after each paint what it computed of the painting: a repaint of the same
    painting at the same size and settings (the random seed aside) reuses the painting's features
    and patch keys; a repaint of the very same inputs returns the last image at once (see
    :func:`paint_and_remember`). What is kept (the painting's patch keys, about 0.4 GB at 512x384)
    lives as long as the painter.

    ``settings`` and ``**options`` as for :func:`paint`; ``network`` is loaded on the first paint
    when not given. ``settings`` may be replaced between paints (the studio does, with the page's
    options); the network settings (``model``, ``weights``, ``preprocess``, ``pooling``) and
    ``device`` then stay those of the first.

    >>> painter = doodle.Painter(weights="vgg16_hed_caffe_fp16.pth")  # doctest: +SKIP
    >>> first = painter.paint("Monet.jpg", target_map="Coastline_sem.png")  # doctest: +SKIP
    >>> second = painter.paint("Monet.jpg", target_map="Coastline_edited_sem.png")  # doctest: +SKIP
    """

    def __init__(self, settings: PaintSettings | None = None, *, network: VGGFeatures | None = None, **options) -> None:
        self.settings = (settings or PaintSettings()).replace(**options)
        self.device = resolve_device(self.settings.device)
        network_dtype(self.settings.precision, self.device)  # an unavailable device fails before any loading
        self.network = network
        self.memory: Memory | None = None

    def paint(
        self,
        style: ImageInput | Sequence[ImageInput],
        *,
        style_map: ImageInput | Sequence[ImageInput | None] | None = None,
        target_map: ImageInput | None = None,
        content: ImageInput | None = None,
        callback: Callback | None = None,
        guide: FrameGuide | None = None,
    ) -> Image.Image:
        """Paint with this painter's settings; the inputs are those of :func:`paint`. ``guide``: ties to
        the frame before, for an animation's later frame (:mod:`doodle.temporal`)."""
        settings = self.settings
        recorded = dict(style=style, style_map=style_map, target_map=target_map, content=content)
        style, style_map = _blended_inputs(style, style_map, settings.style_blend)

        def check_size(mode: str, shape: tuple[int, int], style_shape: tuple[int, int], labels: int) -> None:
            # Called once the inputs are read: their errors come first, then the weights', then the size's.
            if self.network is None:
                loaded = load_vgg(
                    settings.model, settings.weights, preprocess=settings.preprocess, pooling=settings.pooling
                )
                self.network = loaded.to(self.device)
            content_used = content is not None and settings.content_weight > 0
            check_memory(
                self.network, settings.for_mode(mode), shape, style_shape, labels, self.device, content=content_used
            )

        scene = build_scene(
            style,
            style_map=style_map,
            target_map=target_map,
            content=content,
            output_size=settings.output_size,
            style_scale=settings.style_scale,
            allow_missing_labels=settings.allow_missing_labels,
            check_size=check_size,
        )
        if self.memory is not None and self.memory.key != _style_key(scene, settings, self.network):
            self.memory = None  # another painting: free what was kept before painting it
        image, self.memory = paint_and_remember(
            scene, settings, self.network, callback=callback, previous=self.memory, guide=guide
        )
        # Recorded as painted: the start and schedule the inputs chose, so `--from` paints it again.
        ran = scheduled(scene, settings).replace(seed=start_of(scene, settings))
        return with_record(to_pil(image), job_record("paint", ran, recorded))
