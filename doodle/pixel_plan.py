"""The pixel finish's part of a plan (:func:`~doodle.plan.make_plan`): its synthesis settings and the
weight of every guide it follows, decided once, recorded with the image, printed by `doodle info`,
and carried out by :mod:`doodle.pixels`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .guides import LABEL_WEIGHT, luminance_weights
from .settings import PaintSettings
from .synthesis import DEFAULT_SYNTHESIS, Synthesis

__all__ = ["PixelFinish", "plan_pixel_finish", "NEURAL_WEIGHT", "FRAME_TIE"]

NEURAL_WEIGHT = 0.5  # the network's result, with a content photo
FRAME_TIE = 0.4  # the frame before's weight, carried by the motion, per unit of `temporal_weight` (4 at its 10)


@dataclass(frozen=True)
class PixelFinish:
    """How the pixel finish makes the output of ``shape = (H, W)``: ``synthesis`` (its levels'
    iterations, patch size, uniformity, last vote) and the weights of its guides, 0 where absent:
    ``frame`` (an animation's frame before, carried by the motion), ``labels`` (the label maps),
    ``network`` (the network's result, with a photo), ``photo_luminance`` (the photo's luminance,
    in this stage alone), and ``guides``: the scene's own guides by name, in order (``guide 1`` ...,
    ``position``, ``luminance``), weighed as in the network's stage."""

    shape: tuple[int, int]
    synthesis: Synthesis
    frame: float = 0.0
    labels: float = 0.0
    network: float = 0.0
    photo_luminance: float = 0.0
    guides: tuple[tuple[str, float], ...] = ()

    def weights(self) -> dict[str, float]:
        """Every guide followed, by name, with its weight (those of weight 0 left out)."""
        built_in = {
            "frame before": self.frame,
            "labels": self.labels,
            "network's result": self.network,
            "photo's luminance": self.photo_luminance,
        }
        return {name: weight for name, weight in (*built_in.items(), *self.guides) if weight > 0}

    def describe(self) -> dict:
        """What the record keeps, and `doodle info` prints."""
        settings = self.synthesis
        return dict(
            size=[self.shape[1], self.shape[0]],  # the painting's pixels, at this size
            iterations=list(settings.iterations),
            patch_size=settings.patch_size,
            uniformity=settings.uniformity,
            last_vote=settings.last_vote,
            guides=self.weights(),
        )


def plan_pixel_finish(
    settings: PaintSettings,
    *,
    shape: tuple[int, int],
    labels: bool,
    content: bool,
    guide_pairs: int,
    temporal_weight: float,
) -> PixelFinish:
    """The finish of an output of ``shape`` painted with ``settings``, with label maps or not, a
    content photo or not, ``guide_pairs`` guide pairs given, and an animation's ``temporal_weight``
    (0: no frame before). The luminance guide's weights: :func:`~doodle.guides.luminance_weights`."""
    named = [
        (f"guide {number}", weight) for number, weight in enumerate(settings.guide_weights or (1.0,) * guide_pairs, 1)
    ]
    if settings.position_guide > 0:
        named.append(("position", settings.position_guide))
    both_stages, finish_alone = luminance_weights(settings.luminance_guide, content)
    if both_stages > 0:
        named.append(("luminance", both_stages))
    return PixelFinish(
        shape,
        dataclasses.replace(DEFAULT_SYNTHESIS, last_vote=settings.last_vote),
        frame=FRAME_TIE * temporal_weight,
        labels=LABEL_WEIGHT if labels else 0.0,
        network=NEURAL_WEIGHT if content else 0.0,
        photo_luminance=finish_alone,
        guides=tuple((name, float(weight)) for name, weight in named),
    )
