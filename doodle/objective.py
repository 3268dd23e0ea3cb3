"""One phase's objective: the weighted sum of every loss of the image at one scale."""

from __future__ import annotations

import torch
from torch import Tensor

from .devices import network_dtype
from .errors import DoodleError
from .images import resize, scaled_shape
from .losses import ContentLoss, GramLoss, out_of_range, total_variation
from .matching import Matches
from .mrf import MRFLoss, blend_bias, pool_labels
from .plan import Phase
from .scene import Scene
from .settings import PaintSettings
from .temporal import FrameGuide, temporal_loss
from .vgg import VGGFeatures, layer_stride

__all__ = ["Objective", "LossScale", "NotFinite", "blend_weights"]


class NotFinite(Exception):
    """The loss became NaN or infinite (its value is the argument)."""


class LossScale:
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


def blend_weights(settings: PaintSettings, paintings: int) -> Tensor:
    """The weights of a blend of ``paintings`` (zero weights are left out before): ``(P,)``, summing to 1."""
    weights = [w for w in settings.style_blend if w > 0] if settings.style_blend else [1.0] * paintings
    if len(weights) != paintings:
        raise DoodleError(f"`style_blend` has {len(weights)} weights above 0 for {paintings} paintings")
    weights = torch.tensor(weights)
    return weights / weights.sum()


class Objective:
    """The weighted sum of all losses of one phase. ``(1, 3, h, w)`` image -> scalar."""

    def __init__(
        self,
        network: VGGFeatures,
        scene: Scene,
        settings: PaintSettings,
        phase: Phase,
        device: torch.device,
        same_style: Objective | None = None,
    ) -> None:
        """``phase`` of a paint with ``settings`` (as painted); ``same_style``: this phase of an earlier
        paint of the same painting at the same scale and settings, whose style features and patch
        keys are taken instead of computed again."""
        self.network, self.settings, self.device = network, settings, device
        self.shape = phase.shape
        self.mrf_layers = list(phase.mrf_layers if same_style is None else same_style.mrf_layers)
        self.gram_layers = list(phase.gram_layers if same_style is None else same_style.gram_layers)
        self.content_layers = list(phase.content_layers) if scene.content is not None else []
        self.layers = sorted(set(self.mrf_layers + self.gram_layers + self.content_layers), key=network.names.index)
        self.dtype = network_dtype(settings.precision, device)
        style_shape = scaled_shape(tuple(scene.style.shape[-2:]), phase.scale)
        with torch.no_grad(), self._autocast():
            if same_style is None:
                style = network(resize(scene.style, style_shape).to(device), self.mrf_layers + self.gram_layers)
                self.style = {name: value.float() for name, value in style.items()}
            else:
                self.style = same_style.style
            content = {}
            if self.content_layers:
                content = network(resize(scene.content, phase.shape).to(device), self.content_layers)
        self.content = {name: ContentLoss(value.float()) for name, value in content.items()}
        blend = None if scene.paintings is None else blend_weights(settings, scene.paintings.shape[1])
        paintings = None if blend is None else resize(scene.paintings, style_shape).to(device)
        if same_style is None:
            self.mrf = self._mrf_losses(scene, style_shape, paintings, blend)
            self.gram = {
                name: GramLoss(self.style[name], _pooled(paintings, self.style[name]), blend)
                for name in self.gram_layers
            }
        else:
            self.mrf = {
                name: loss.for_target(
                    self._target_labels(scene, name), self._target_guides(scene, name), generator=self._generator()
                )
                for name, loss in same_style.mrf.items()
            }
            self.gram = same_style.gram
        self.loss_scale = LossScale(self.dtype == torch.float16)
        self.last_good: Tensor | None = None  # the last image whose loss was finite
        self.free: Tensor | None = None  # (1, 1, h, w): where pixels may change (None: everywhere)
        self.temporal: tuple[Tensor, Tensor, float] | None = None  # the frame before carried, where known, weight

    def _generator(self) -> torch.Generator:
        return torch.Generator(self.device).manual_seed(self.settings.random_seed)

    def _target_labels(self, scene: Scene, name: str) -> Tensor | None:
        """The output's label channels pooled to layer ``name``'s positions. ``(1, K, h', w')``."""
        return self._pooled_target(scene.target_labels, name)

    def _target_guides(self, scene: Scene, name: str) -> Tensor | None:
        """The output's guide channels pooled to layer ``name``'s positions. ``(1, G, h', w')``."""
        return self._pooled_target(scene.target_guides, name)

    def _pooled_target(self, channels: Tensor | None, name: str) -> Tensor | None:
        """Channels of the output ``(1, C, H, W)`` (or None) pooled to layer ``name``'s positions."""
        if channels is None:
            return None
        target_shape = self.network.feature_shape(name, self.shape)
        return pool_labels(resize(channels, self.shape).to(self.device), target_shape)

    def _mrf_losses(self, scene: Scene, style_shape, paintings: Tensor | None, blend: Tensor | None) -> dict:
        """Each MRF layer's loss, its keys made from the painting's features (and labels, guides, blend)."""
        settings, losses = self.settings, {}
        style_labels = None if scene.style_labels is None else resize(scene.style_labels, style_shape).to(self.device)
        style_guides = None if scene.style_guides is None else resize(scene.style_guides, style_shape).to(self.device)
        for name in self.mrf_layers:
            style = self.style[name]
            if (
                min(self.network.feature_shape(name, self.shape)) < settings.patch_size
                or min(style.shape[-2:]) < settings.patch_size
            ):
                raise DoodleError(
                    f"images too small for {name} at this phase; use a larger `output_size`, "
                    "fewer `phases` or shallower `style_layers`"
                )
            losses[name] = MRFLoss(
                style,
                None if style_labels is None else pool_labels(style_labels, tuple(style.shape[-2:])),
                self._target_labels(scene, name),
                semantic_weight=settings.semantic_weight,
                size=settings.patch_size,
                matcher=settings.matcher,
                generator=self._generator(),
                key_bias=None if blend is None else blend_bias(_pooled(paintings, style), blend, settings.patch_size),
                style_guides=None if style_guides is None else pool_labels(style_guides, tuple(style.shape[-2:])),
                target_guides=self._target_guides(scene, name),
                guide_groups=scene.guide_groups,
            )
        return losses

    def follow(self, frame: FrameGuide, factor: float) -> None:
        """Tie this phase to the frame before (an animation's later frame): the temporal loss toward
        ``frame.carried`` where known, and each MRF layer's search started from its carried matches."""
        shape = self.shape
        if frame.weight > 0:
            carried, known = resize(frame.carried, shape).to(self.device), resize(frame.known, shape).to(self.device)
            self.temporal = (carried, known, frame.weight)
        for name, loss in self.mrf.items():
            query_grid = loss.patch_grid(self.network.feature_shape(name, shape))
            seeds = frame.seeds(name, query_grid, loss.matcher.key_grid, layer_stride(name) / factor, loss.size)
            if seeds is not None:
                loss.start_from(seeds[0].to(self.device), seeds[1].to(self.device), query_grid)

    def inherit(self, coarser: Objective) -> None:
        """Start each MRF layer's search from the coarser phase's matches, scaled up."""
        for name, loss in self.mrf.items():
            if name in coarser.mrf:
                loss.inherit(coarser.mrf[name])

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

        Raises :class:`NotFinite` when the loss is NaN or infinite (nothing to optimise from there).
        """
        while True:
            image.grad = None
            loss = self(image)
            if not bool(torch.isfinite(loss)):
                raise NotFinite(float(loss.detach()))
            self.last_good = image.detach().clamp(0.0, 1.0)  # a copy: the optimiser updates `image` in place
            (loss * self.loss_scale.value).backward()
            if self.loss_scale.unscale(image.grad):
                if self.free is not None:
                    image.grad.mul_(self.free)  # kept pixels do not move
                return loss

    def __call__(self, image: Tensor) -> Tensor:
        with self._autocast():
            features = self.network(image, self.layers)
        return self.losses(image, {name: value.float() for name, value in features.items()})

    def losses(self, image: Tensor, features: dict[str, Tensor]) -> Tensor:
        """Every term on ``features`` of ``image`` by layer name: the style, content, smoothness,
        temporal and range terms, weighted."""
        settings = self.settings
        loss = image.new_zeros(())
        for weight, terms in (
            (settings.style_weight, self.mrf),
            (settings.style_weight, self.gram),
            (settings.content_weight, self.content),
        ):
            if terms:
                loss = loss + weight * sum(term(features[name]) for name, term in terms.items()) / len(terms)
        if settings.smoothness > 0:
            loss = loss + settings.smoothness * total_variation(image)
        if self.temporal is not None:
            carried, known, weight = self.temporal
            loss = loss + weight * temporal_loss(image, carried, known)
        return loss + out_of_range(image)


def _pooled(paintings: Tensor | None, feature: Tensor) -> Tensor | None:
    """Which painting each position of ``feature (1, C, h, w)`` belongs to. ``(1, P, h, w)`` or None."""
    return None if paintings is None else pool_labels(paintings, tuple(feature.shape[-2:]))
