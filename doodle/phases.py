"""A plan's phases painted in order, coarse to fine, each starting from the one before."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from .errors import Cancelled, PaintingStopped
from .images import resize, to_pil
from .matching import Matches
from .objective import NotFinite, Objective
from .optimiser import optimise
from .plan import Plan
from .scene import Scene
from .starts import plan_start
from .temporal import FrameGuide
from .vgg import VGGFeatures

__all__ = ["Step", "Callback", "paint_phases"]


@dataclass
class Step:
    """Reported after every iteration. ``size`` is the phase's (width, height); ``image`` is
    ``(1, 3, height, width)`` in ``[0, 1]``: copy it to keep it. ``seconds``: ``setup`` (the phase's
    objective built) and ``total``, since the phase began."""

    phase: int
    phases: int
    iteration: int
    iterations: int
    loss: float
    size: tuple[int, int]
    image: Tensor
    seconds: dict[str, float] = field(default_factory=dict)


Callback = Callable[[Step], None]


def paint_phases(
    scene: Scene,
    plan: Plan,
    network: VGGFeatures,
    device: torch.device,
    *,
    callback: Callback | None = None,
    previous: dict[float, Objective] | None = None,
    frame: FrameGuide | None = None,
    context: tuple[Tensor, Tensor] | None = None,
    start: Tensor | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[Tensor, dict[float, Objective], dict[str, Matches]]:
    """Paint ``plan``'s phases. ``previous``: an earlier paint's objectives by scale, whose style side
    is reused. ``frame``: ties to the frame before (an animation's later frame). ``context = (image,
    free)``: start from ``image (1, 3, H, W)`` and paint only where ``free (1, 1, H, W)`` is 1 (0: keep).
    ``start (1, 3, H, W)``: the start image, instead of the plan's. ``stop()``: checked at each step of
    the setup and after every iteration; :class:`~doodle.errors.Cancelled` when it says so. -> the
    image, each phase's objective by scale, and the last phase's matches by MRF layer."""
    settings = plan.settings

    def check() -> None:
        if stop is not None and stop():
            raise Cancelled

    image = objective = None
    objectives = {}
    for number, phase in enumerate(plan.phases, start=1):
        started = time.perf_counter()
        check()
        if image is None:
            image = plan_start(scene, plan, phase.shape) if start is None else resize(start, phase.shape)
        else:
            image = resize(image, phase.shape)
            if frame is not None:  # the coarser phase was for what is new; the frame before stays sharp
                image = frame.keep_known(image)
        check()
        same_style = None if previous is None else previous.get(phase.scale)
        coarser, objective = objective, Objective(network, scene, settings, phase, device, same_style)
        check()
        if context is not None:
            free = resize(context[1], phase.shape)
            image = resize(context[0], phase.shape) * (1 - free) + image * free
            objective.free = free.to(device)
        if coarser is not None:
            objective.inherit(coarser)
        coarser = None
        if frame is not None:
            objective.follow(frame, phase.scale)
        objectives[phase.scale] = objective
        report = _reporter(callback, check, number, plan.stage_count, phase.iterations, phase.shape, started)
        try:
            image = optimise(
                objective,
                image.to(device),
                phase.iterations,
                report,
                method=settings.optimizer,
                match_every=settings.match_every,
            ).cpu()
        except NotFinite as error:
            # The last image a step reached: this phase's last finite one, else the coarser phase's
            # result; none when the very first evaluation failed (the start image is no painting).
            good = objective.last_good if objective.last_good is not None else image if number > 1 else None
            raise PaintingStopped(
                f"the loss became {error.args[0]} in phase {number} of {len(plan.phases)}; painting stopped "
                "(check the weights and the inputs for extreme values)",
                None if good is None else to_pil(resize(good.cpu(), scene.shape)),
            ) from None
    matches = objective.last_matches()
    for kept in objectives.values():
        kept.forget_target()
    return image, objectives, matches


def _reporter(
    callback: Callback | None,
    check: Callable[[], None],
    phase: int,
    phases: int,
    iterations: int,
    shape: tuple[int, int],
    started: float,
) -> Callable[[int, float, Tensor], None]:
    """``on_step(iteration, loss, image)`` for one phase: a :class:`Step` to ``callback``, if any,
    then ``check()`` (which raises to stop)."""
    setup = time.perf_counter() - started

    def on_step(iteration: int, loss: float, current: Tensor) -> None:
        check()
        if callback is not None:
            seconds = dict(setup=setup, total=time.perf_counter() - started)
            size = (shape[1], shape[0])  # the API's (width, height)
            callback(Step(phase, phases, iteration + 1, iterations, loss, size, current, seconds))

    return on_step
