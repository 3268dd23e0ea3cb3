"""The pixel finish: the network's stage lays the image out at a working size; the painting's own
pixels make the output, at its full size (:mod:`doodle.synthesis`).

The network's result starts the synthesis at its coarsest level, so its layout, and the regions the
semantic channels gave each part, carry into the output. The label maps are a guide (a patch keeps
to its label's part of the painting), and so is every guide of the scene (:mod:`doodle.guides`). With
a content photo, the network's result is a guide at every level too (it is the photo seen as the
painting: the correspondences a pixel matcher cannot find), and so is the photo's luminance (its
fine edges) unless `luminance_guide` weighs it otherwise. What it follows, and how much, is the plan's
(:class:`~doodle.pixel_plan.PixelFinish`): this module carries it out.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import torch
from torch import Tensor

from .colorspace import luminance
from .guides import luminance_guide
from .images import resize, scaled_shape
from .phases import Callback, Step
from .pixel_plan import PixelFinish
from .plan import Plan
from .scene import Scene
from .synthesis import Guide, synthesize
from .temporal import FrameGuide

__all__ = ["finish_pixels", "pixel_guides", "pixel_steps"]

Progress = Callable[[int, int, Tensor, float], None]


def pixel_guides(scene: Scene, neural: Tensor, finish: PixelFinish, frame: FrameGuide | None = None) -> list[Guide]:
    """The guides of ``scene``'s pixel finish, weighed as ``finish`` plans, given the network's result
    ``neural (1, 3, h, w)``; with ``frame`` (an animation's later frame), the frame before carried by
    the motion where known (the network's result elsewhere), beside the painting: a patch that was
    there stays."""
    guides = []
    if frame is not None and finish.frame > 0:
        carried, known = resize(frame.carried, scene.shape)[0], resize(frame.known, scene.shape)[0]
        here = resize(neural, scene.shape)[0]
        guides.append(Guide(scene.style[0], torch.where(known > 0.5, carried, here), finish.frame))
    labelled = scene.pixel_guides(finish.labels)
    if scene.style_labels is not None:
        guides.append(labelled.pop(0))
    if scene.content is not None:
        style = scene.style[0]
        # The painting as the network's stage saw it (at its scale), beside that stage's result.
        factor = neural.shape[-1] / scene.shape[1]
        seen = resize(resize(style[None], scaled_shape(tuple(style.shape[-2:]), factor)), tuple(style.shape[-2:]))[0]
        guides.append(Guide(seen, neural[0], finish.network))
        if finish.photo_luminance > 0:
            source, target = luminance_guide(luminance(style[None]), luminance(scene.content))
            guides.append(Guide(source[0], target[0], finish.photo_luminance))
    return guides + labelled


def finish_pixels(
    scene: Scene,
    neural: Tensor,
    plan: Plan,
    device: torch.device,
    *,
    frame: FrameGuide | None = None,
    before: Tensor | None = None,
    progress: Progress | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[Tensor, Tensor]:
    """The output of ``scene.shape`` made of the painting's pixels, laid out by the network's result
    ``neural (1, 3, h, w)`` (any size); ``frame``: ties to an animation's frame before, and
    ``before (H * W,)`` that frame's matches, carried by the motion to start from (None: coarse to
    fine as a first frame). ``progress``: called after each level (:func:`pixel_steps`); ``stop()``:
    asked all through each level (a level of a large output takes minutes), raising
    :class:`~doodle.errors.Cancelled`. -> ``(1, 3, H, W)`` in ``[0, 1]`` on the CPU, and its matches."""
    generator = torch.Generator(device).manual_seed(plan.settings.random_seed)
    guides = [
        dataclasses.replace(g, source=g.source.to(device), target=g.target.to(device))
        for g in pixel_guides(scene, neural, plan.finish, frame)
    ]
    matches = None
    if frame is not None and before is not None and before.numel() == scene.shape[0] * scene.shape[1]:
        carried = frame.motion.carry(before.view(scene.shape).cpu().numpy())
        matches = torch.from_numpy(carried).flatten().to(device)
    image, matches = synthesize(
        scene.style[0].to(device),
        guides,
        scene.shape,
        plan.finish.synthesis,
        start=neural[0].to(device),
        matches=matches,
        generator=generator,
        progress=progress,
        stop=stop,
    )
    return image[None].clamp(0, 1).cpu(), matches.cpu()


def pixel_steps(plan: Plan, callback: Callback | None) -> Callable[[int, int, Tensor, float], None]:
    """The pixel finish's progress as :class:`Step` s of one more phase (its levels its iterations,
    its loss the mean patch distance)."""
    started = time.perf_counter()
    width, height = plan.shape[1], plan.shape[0]

    def progress(level: int, levels: int, image: Tensor, cost: float) -> None:
        if callback is not None:
            seconds = dict(setup=0.0, total=time.perf_counter() - started)
            phases = plan.stage_count
            callback(Step(phases, phases, level, levels, cost, (width, height), image[None].cpu(), seconds))

    return progress
