"""Training a feed-forward painter (``doodle train``).

The generator (:class:`~doodle.generator.Generator`) paints doodles made from the painting's own map
(:class:`~doodle.layouts.LayoutSampler`), over their collages of the painting
(:class:`~doodle.collage.Collage`), and is trained by Adam on the losses ``doodle paint``
optimises: the semantic MRF term (and the Gram term, with ``style_loss='both'``) against the
painting, plus smoothness. Every training image needs new patch matches; instead of an exact search
over every patch of the painting (ten times the cost of the rest of a step), the fast matcher starts
the deepest layer's from random patches of the right label, and each shallower layer's from the
deeper one's, and improves them with PatchMatch. (With a random start at every layer, a crop of the
painting itself scored 0.30 and a grey, textureless painter 0.33: the loss could not tell them apart;
started from the deeper layers, the painting's crop scores 0.07.)
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor

import semantic_maps

from .budget import available_memory, check_memory, estimate_memory
from .devices import network_dtype, resolve_device
from .errors import DoodleError
from .generator import Generator, TrainedPainter
from .images import ImageInput
from .inputs import read_inputs
from .layouts import LayoutSampler
from .losses import LabelGramLoss, out_of_range, total_variation
from .mrf import MRFLoss, pool_labels
from .painter import load_network
from .plan import Mode, Plan, make_plan
from .scene import Scene, encode_scene
from .settings import PaintSettings
from .vgg import VGGFeatures

__all__ = ["PainterLoss", "TrainingStep", "train_painter", "DEFAULT_STEPS"]

DEFAULT_STEPS = 500
DEFAULT_SIZE = 256
DEFAULT_LEARNING_RATE = 2e-3
DEFAULT_COLLAGE_WEIGHT = 10.0


class PainterLoss:
    """The style loss of a batch of generated images against one painting.

    Parameters
    ----------
    network : VGGFeatures
    style : (1, 3, Hs, Ws) tensor
        The painting, at the scale the painter paints.
    style_labels : (1, K, Hs, Ws) tensor
    plan : Plan
        A doodle's plan: its layers, and its settings' ``style_loss``, weights, ``patch_size``,
        ``matcher`` and ``precision``.
    device : torch.device

    Shape: ``loss(images (B, 3, H, W), labels (B, K, H, W)) -> scalar``, the mean over the batch.
    """

    def __init__(
        self,
        network: VGGFeatures,
        style: Tensor,
        style_labels: Tensor,
        plan: Plan,
        device: torch.device,
        generator: torch.Generator | None = None,
    ) -> None:
        settings = plan.settings
        self.network, self.settings, self.device = network, settings, device
        self.dtype = network_dtype(settings.precision, device)
        self.mrf_layers, self.gram_layers = list(plan.mrf_layers), list(plan.gram_layers)
        self.layers = sorted(set(self.mrf_layers + self.gram_layers), key=network.names.index)
        self.generator = generator
        with torch.no_grad(), self._autocast():
            features = {n: f.float() for n, f in network(style.to(device), self.layers).items()}
        style_labels = style_labels.to(device)
        self.mrf = {}
        for name in self.mrf_layers:
            pooled = pool_labels(style_labels, tuple(features[name].shape[-2:]))
            self.mrf[name] = MRFLoss(  # the style side; each image gets its own copy (for_target)
                features[name],
                pooled,
                pooled,
                semantic_weight=settings.semantic_weight,
                size=settings.patch_size,
                matcher=settings.matcher,
                generator=generator,
            )
        self.gram = {
            name: LabelGramLoss(features[name], pool_labels(style_labels, tuple(features[name].shape[-2:])))
            for name in self.gram_layers
        }
        # Deepest first: each layer's matches seed the next shallower one's (a random start is rough
        # everywhere; from a deeper layer's matches PatchMatch finds nearly the exact search's).
        self.mrf_order = sorted(self.mrf, key=network.names.index, reverse=True)

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32)

    def __call__(self, images: Tensor, labels: Tensor) -> Tensor:
        settings = self.settings
        with self._autocast():
            features = self.network(images, self.layers)
        features = {name: value.float() for name, value in features.items()}
        total = images.new_zeros(())
        for b in range(images.shape[0]):
            if self.mrf:
                terms, deeper = [], None
                for name in self.mrf_order:
                    mine = features[name][b : b + 1]
                    pooled = pool_labels(labels[b : b + 1], tuple(mine.shape[-2:]))
                    loss = self.mrf[name].for_target(pooled, generator=self.generator)
                    if deeper is not None:
                        loss.inherit(deeper)  # the deeper layer's matches, rescaled, start this one's
                    elif settings.matcher == "fast":
                        loss.start_randomly(loss.patch_grid(mine.shape[-2:]))
                    terms.append(loss(mine))
                    deeper = loss
                total = total + settings.style_weight * sum(terms) / len(terms)
            if self.gram:
                terms = []
                for name, gram in self.gram.items():
                    mine = features[name][b : b + 1]
                    terms.append(gram(mine, pool_labels(labels[b : b + 1], tuple(mine.shape[-2:]))))
                total = total + settings.style_weight * sum(terms) / len(terms)
        total = total / images.shape[0]
        if settings.smoothness > 0:
            total = total + settings.smoothness * total_variation(images)
        return total + out_of_range(images)


@dataclass
class TrainingStep:
    """Reported after every training step: the step (1-based) of ``steps``, its loss and the seconds
    since training began (setup included)."""

    step: int
    steps: int
    loss: float
    seconds: float


def train_painter(
    style: ImageInput,
    *,
    style_map: ImageInput | None = None,
    settings: PaintSettings | None = None,
    size: int = DEFAULT_SIZE,
    steps: int = DEFAULT_STEPS,
    batch: int = 1,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    collage_weight: float = DEFAULT_COLLAGE_WEIGHT,
    network: VGGFeatures | None = None,
    resume: TrainedPainter | None = None,
    save: Callable[[TrainedPainter], None] | None = None,
    save_every: int = 100,
    callback: Callable[[TrainingStep], None] | None = None,
    on_notes: Callable[[list[str]], None] | None = None,
) -> TrainedPainter:
    """Train a feed-forward painter of ``style`` (a painting with its label map).

    Parameters
    ----------
    style, style_map : path, PIL image or (H, W, 3) uint8 array
        The painting and its map (found beside it as ``X_sem.png`` when not given).
    settings : PaintSettings
        The loss options (``style_layers``, ``style_loss``, weights, ``matcher``, ``style_scale``:
        the painting's scale, hence the brush strokes' size in what the painter paints), the
        network options and ``random_seed``.
    size : int
        Side of the square doodles trained on.
    steps : int
        Adam steps in all (a resumed painter continues to this count).
    batch : int
        Doodles per step.
    collage_weight : float
        Weight of the squared difference, per pixel, between the painter's image and its collage
        (:class:`~doodle.collage.Collage`), added to the style loss. Without it, the MRF loss alone
        drew a milky veil over the collage's colours (Monet, 250 steps).
    resume : TrainedPainter, optional
        A painter saved part way (its optimiser state included) to continue.
    save : called with the painter every ``save_every`` steps, at the end, and when interrupted
        (KeyboardInterrupt is re-raised after it).
    callback : called with a :class:`TrainingStep` after every step.
    on_notes : called once with the notes on the painting and its map (as `doodle paint` gives), if any.

    Returns
    -------
    TrainedPainter
    """
    settings = settings or PaintSettings()
    _check_options(size, steps, batch, save_every, learning_rate, collage_weight)
    started = time.perf_counter()
    device = resolve_device(settings.device)
    if resume is not None and resume.steps >= steps:
        raise DoodleError(
            f"`resume`: the painter has trained {resume.steps} steps already; give `steps` above {resume.steps} "
            "to train it more"
        )
    network, plan, scene, notes = _prepared(style, style_map, settings, size, batch, network, device)
    if notes and on_notes is not None:
        on_notes(notes)
    if resume is not None:
        resume.check_palette(scene.palette, name="`resume`", whose="this painting map's")
    random = torch.Generator().manual_seed(settings.random_seed + (resume.steps if resume else 0))
    device_random = torch.Generator(device).manual_seed(settings.random_seed + (resume.steps if resume else 0))
    loss_fn = PainterLoss(network, scene.style, scene.style_labels, plan, device, device_random)
    sampler = LayoutSampler(scene.style_labels[0:1].cpu(), size, generator=random)
    options = dict(size=size, steps=steps, batch=batch, learning_rate=learning_rate, collage_weight=collage_weight)
    painting, painting_labels = scene.style[0].cpu(), scene.style_labels[0].cpu()
    painter = resume or TrainedPainter(Generator(len(scene.palette)), scene.palette, painting, painting_labels, {})
    painter.settings = {**_plain(asdict(plan.settings)), **options}
    schedule = _Schedule(steps, batch, learning_rate, collage_weight, save_every)
    return _fit(painter, loss_fn, sampler, random, device, schedule, save, callback, started)


@dataclass(frozen=True)
class _Schedule:
    steps: int
    batch: int
    learning_rate: float
    collage_weight: float
    save_every: int


def _fit(
    painter: TrainedPainter,
    loss_fn: PainterLoss,
    sampler: LayoutSampler,
    random: torch.Generator,
    device: torch.device,
    schedule: _Schedule,
    save: Callable[[TrainedPainter], None] | None,
    callback: Callable[[TrainingStep], None] | None,
    started: float,
) -> TrainedPainter:
    """Adam on ``painter``'s generator until it has taken ``schedule.steps`` steps (see :func:`train_painter`)."""
    generator = painter.generator.to(device).train().requires_grad_(True)
    optimiser = torch.optim.Adam(generator.parameters(), lr=schedule.learning_rate)
    if painter.optimiser:
        optimiser.load_state_dict(painter.optimiser)
    scaler = torch.amp.GradScaler(device.type, enabled=loss_fn.dtype == torch.float16)
    clip = _SpikeClip()

    def snapshot() -> None:
        painter.optimiser = optimiser.state_dict()
        if save is not None:
            save(painter)

    def step() -> float:
        """One Adam step on a batch of new doodles; -> its loss."""
        for group in optimiser.param_groups:  # linear decay to a tenth: large steps early, fine ones late
            group["lr"] = schedule.learning_rate * (1 - 0.9 * painter.steps / schedule.steps)
        labels = sampler(schedule.batch).to(device)
        collage = painter.collage(labels, random)
        images = generator(labels, generator.noise(labels, random), collage)
        loss = loss_fn(images, labels) + schedule.collage_weight * (images - collage).square().mean()
        optimiser.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimiser)
        clip(generator.parameters())
        scaler.step(optimiser)
        scaler.update()
        return float(loss.detach())

    try:
        while painter.steps < schedule.steps:
            loss = step()
            painter.steps += 1
            if callback is not None:
                callback(TrainingStep(painter.steps, schedule.steps, loss, time.perf_counter() - started))
            if painter.steps % schedule.save_every == 0 and painter.steps < schedule.steps:
                snapshot()
    except KeyboardInterrupt:
        snapshot()
        raise
    snapshot()
    generator.eval().requires_grad_(False)
    return painter


def _check_options(size: int, steps: int, batch: int, save_every: int, learning_rate: float, collage_weight: float):
    if size < 32:
        raise DoodleError(f"`size` must be at least 32 pixels, got {size}")
    if steps < 1 or batch < 1 or save_every < 1:
        raise DoodleError("`steps`, `batch` and `save_every` must be at least 1")
    if not learning_rate > 0:
        raise DoodleError(f"`learning_rate` must be positive, got {learning_rate}")
    if not collage_weight >= 0:
        raise DoodleError(f"`collage_weight` must be 0 or more, got {collage_weight}")


def _prepared(
    style: ImageInput, style_map: ImageInput | None, settings: PaintSettings, size: int, batch: int, network, device
) -> tuple[VGGFeatures, Plan, Scene, list[str]]:
    """The network (loaded once the inputs are read), the plan of a doodle of ``size``, the painting
    as a scene whose doodle is its own map (checked and scaled as `doodle paint` does), and the notes
    on them (each once: the map is the style's and the doodle's)."""
    map_source = style_map
    if map_source is None:
        beside = semantic_maps.map_path_for(str(style)) if isinstance(style, (str, os.PathLike)) else None
        if beside is None or not beside.is_file():
            hint = f" (or put {beside} beside it)" if beside is not None else ""
            raise DoodleError(
                f"{style}: a painter is trained on the painting's label map; pass `style_map`{hint}, "
                "or make one with: doodle segment PAINTING"
            )
        map_source = beside
    inputs = read_inputs(
        style, style_map=map_source, target_map=map_source, settings=settings.replace(output_size=None)
    )
    network = (network or load_network(settings)).to(device)
    # The painter learns the network's loss on its doodles at full size: no working size, no pixel finish.
    neural = settings.replace(finish="neural")
    plan = make_plan(neural, mode=Mode.DOODLE, shape=(size, size), content=False, paintings=1, model=network.model)
    check_memory(network, plan, (size, size), inputs.style_shape, inputs.labels, device)
    # A batch of doodles holds each one's activations at once: as one doodle of all their pixels.
    need = estimate_memory(network, plan, (size, size * batch), inputs.style_shape, inputs.labels)
    free = available_memory(device)
    if need.total > 0.9 * free:
        raise DoodleError(
            f"training on `batch` {batch} doodles of `size` {size} needs about {need.describe()}, and "
            f"{free / 1e9:.1f} GB is free; use a smaller `batch` or `size`"
        )
    return network, plan, encode_scene(inputs), list(dict.fromkeys(inputs.notes))


class _SpikeClip:
    """Clip each step's gradient norm to ``factor`` times the running mean of the earlier ones.

    One doodle's loss can be fifty times the usual (a layout unlike the painting's); its gradient
    would inflate Adam's second moment, and so shrink every later step for hundreds of steps.
    """

    def __init__(self, factor: float = 2.0, decay: float = 0.95) -> None:
        self.factor, self.decay, self.mean = factor, decay, None

    def __call__(self, parameters) -> None:
        parameters = [p for p in parameters if p.grad is not None]
        limit = math.inf if self.mean is None else self.factor * self.mean
        norm = float(torch.nn.utils.clip_grad_norm_(parameters, limit))
        if math.isfinite(norm):
            norm = min(norm, limit)
            self.mean = norm if self.mean is None else self.decay * self.mean + (1 - self.decay) * norm


def _plain(values: dict) -> dict:
    """Settings as plain values a painter file may hold (paths as strings, tuples as lists)."""
    return {k: str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v for k, v in values.items()}
