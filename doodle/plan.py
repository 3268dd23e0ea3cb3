"""One paint, decided once: its mode, what it starts from, and each phase's scale, iterations and layers.

Every default that depends on the inputs is decided here and nowhere else: :func:`make_plan`
turns the settings (where ``None`` means "not given": the plan decides) and what the inputs are
into a :class:`Plan`. The painter executes it, the record of the image stores it, ``doodle info``
prints it, and the command line's help is written from the constants below.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .errors import DoodleError
from .images import scaled_shape
from .pixel_plan import PixelFinish, plan_pixel_finish
from .settings import PaintSettings, format_iterations
from .vgg import ModelName, layer_stride, parse_layer

__all__ = [
    "Mode",
    "Start",
    "Phase",
    "Plan",
    "make_plan",
    "check_painting_scale",
    "working_shape_of",
    "start_of",
    "iterations_per_phase",
    "SEED_KEYWORDS",
    "DEFAULT_MRF_LAYERS",
    "DEFAULT_GRAM_LAYERS",
    "DEFAULT_CONTENT_LAYERS",
    "TEXTURE_LAYERS",
    "LAID_OUT_MRF_LAYERS",
    "LAID_OUT_TEXTURE_GRAM_LAYERS",
    "LAID_OUT_CONTENT_LAYERS",
    "DEFAULT_SCHEDULE",
    "COLLAGE_SCHEDULE",
    "PHOTO_SCHEDULE",
    "WORKING_SIZES",
]


class Mode(StrEnum):
    """What the inputs ask for (see :func:`doodle.inputs.read_inputs`)."""

    DOODLE = "doodle"  # a target map, no content
    SEMANTIC_TRANSFER = "semantic style transfer"  # content and both maps
    TRANSFER = "style transfer"  # content alone
    TEXTURE = "texture synthesis"  # the style alone
    GUIDED = "guided synthesis"  # guide pairs, no map, no content


class Start(StrEnum):
    """The first phase's image."""

    NOISE = "noise"
    CONTENT = "content"  # the content photo
    LABELS = "labels"  # the doodle in its labels' mean colours, plus noise
    COLLAGE = "collage"  # the doodle filled with pieces of the painting (a texture: the painting quilted anew)
    IMAGE = "image"  # an image file
    PAINTER = "painter"  # a trained painter's rendering of the doodle (a .pt file)
    FRAME = "frame"  # an animation's frame before, carried by the motion


FINISH_ONLY = ("last_vote",)  # the settings the pixel finish alone reads (the network's stage does not)
SEED_KEYWORDS = ("auto", "noise", "content", "labels", "collage")  # the starts of `seed` that are not a file
DEFAULT_MRF_LAYERS = ("relu2_1", "relu3_1", "relu4_1")
DEFAULT_GRAM_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
DEFAULT_CONTENT_LAYERS = ("relu4_2",)
# Texture synthesis matches patches at relu1_1 too, the one layer that sees colour pixel by pixel:
# without it the Gram term alone matched the painting's colours, and tinted flat paper.
TEXTURE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
# Once a phase's layout is set (by a coarser phase, a collage start or an animation's frame before;
# with a content photo, only the full-size phase), relu4_1 is left out: its three convolutions are
# 45 % of the network's cost (benchmarks/README.md). A texture leaves its relu1_1 patches out too,
# and a photo holds its content at relu3_1: the network then stops there.
LAID_OUT_MRF_LAYERS = ("relu2_1", "relu3_1")
LAID_OUT_TEXTURE_GRAM_LAYERS = ("relu1_1", "relu2_1", "relu3_1")
LAID_OUT_CONTENT_LAYERS = ("relu3_1",)
# (phases, iterations) when neither is given: from noise or label colours, coarse to fine; from a
# collage, whose layout is already the doodle's, two short phases; from a photo painted with patches,
# shorter later phases.
DEFAULT_SCHEDULE = (3, (100, 100, 70))
COLLAGE_SCHEDULE = (2, (20, 40))
PHOTO_SCHEDULE = (3, (100, 60, 40))

# The network's stage under a pixel finish: its long side, by mode. It decides the layout and gives
# the pixel stage its start (and, with a photo, a guide); the painting's own pixels make the detail,
# so a small stage loses nothing that shows (benchmarks/README.md, "Crisp, fast, any size"). Guides
# lay out a guided synthesis themselves: its stage is smaller still (the same figures at 128 as at 192,
# benchmarks/README.md, "Guides").
WORKING_SIZES = {
    Mode.DOODLE: 192,
    Mode.TEXTURE: 192,
    Mode.GUIDED: 128,
    Mode.SEMANTIC_TRANSFER: 256,
    Mode.TRANSFER: 256,
}

ITERATIONS_HELP = (
    f"auto: {format_iterations(COLLAGE_SCHEDULE[1])} from a collage (a doodle or texture from one painting), "
    f"{format_iterations(PHOTO_SCHEDULE[1])} from a photo painted with patches, "
    f"else {format_iterations(DEFAULT_SCHEDULE[1])}."
)
PHASES_HELP = (
    f"Default: {COLLAGE_SCHEDULE[0]} from a collage, else {DEFAULT_SCHEDULE[0]} (or as many as --iterations lists)."
)


@dataclass(frozen=True)
class Phase:
    """One resolution of the paint: ``scale`` of the output size, ``shape = (H, W)`` there, its
    iterations, and the layers of each term (full names, ``relu3_1``). ``laid_out``: its layout was
    set before it (by a coarser phase, a collage or the frame before)."""

    scale: float
    shape: tuple[int, int]
    iterations: int
    mrf_layers: tuple[str, ...]
    gram_layers: tuple[str, ...]
    content_layers: tuple[str, ...]
    laid_out: bool

    def describe(self) -> dict:
        """What the record keeps of it."""
        return dict(
            size=[self.shape[1], self.shape[0]],
            iterations=self.iterations,
            mrf_layers=list(self.mrf_layers),
            gram_layers=list(self.gram_layers),
            content_layers=list(self.content_layers),
        )


@dataclass(frozen=True)
class Plan:
    """What one paint does, in ``mode``, with a ``content`` photo or not. ``settings``: the settings
    as painted (the start, style loss, schedule, finish and working size resolved; what a record
    stores to paint it again); ``shape``: the output's ``(H, W)``; ``working_shape``: the network's
    stage's (the output's under a neural finish); ``phases``, coarse to fine, of the network's
    stage; ``smallest``: the
    smallest side a phase may have. ``mrf_layers``, ``gram_layers``, ``content_layers``: the
    largest set of each over the phases (what the memory estimate counts)."""

    mode: Mode
    content: bool
    start: Start
    start_file: Path | None
    settings: PaintSettings
    shape: tuple[int, int]
    working_shape: tuple[int, int]
    phases: tuple[Phase, ...]
    smallest: int
    mrf_layers: tuple[str, ...]
    gram_layers: tuple[str, ...]
    content_layers: tuple[str, ...]
    rules: _Layers = field(repr=False, compare=False)
    finish: PixelFinish | None = None

    @property
    def style_loss(self) -> str:
        return self.settings.style_loss

    @property
    def pixels(self) -> bool:
        """The output is made of the painting's pixels after the network's stage (:mod:`doodle.pixels`)."""
        return self.settings.finish == "pixels"

    @property
    def network_settings(self) -> PaintSettings:
        """The settings as the network's stage reads them: those of the finish alone (:data:`FINISH_ONLY`)
        at their defaults, so a change of the finish alone keeps the network's result."""
        return self.settings.replace(**{name: getattr(PaintSettings, name) for name in FINISH_ONLY})

    @property
    def stage_count(self) -> int:
        """The phases a paint reports: the network's, and the pixel finish as one more."""
        return len(self.phases) + self.pixels

    @property
    def from_collage(self) -> bool:
        return self.start == Start.COLLAGE or (self.start == Start.FRAME and self.settings.seed == "collage")

    def for_shape(self, shape: tuple[int, int]) -> Plan:
        """The same network stage for another ``shape`` (a box of the working image painted again)."""
        return _phased(self, shape, follows_frame=self.start == Start.FRAME)

    def describe(self) -> dict:
        """What the record keeps, and ``doodle info`` prints."""
        start = str(self.start_file) if self.start_file is not None else str(self.start)
        described = dict(mode=str(self.mode), start=start, phases=[phase.describe() for phase in self.phases])
        if self.finish is not None:
            described["finish"] = self.finish.describe()
        return described


def start_of(seed: str | Path, *, content: bool, paintings: int, target: bool) -> str:
    """What ``seed`` starts from, as a seed: ``content``, ``collage``, ``labels``, ``noise``, or the
    seed itself (an image or painter file). ``auto`` is the content photo if there is one, else a
    collage of the painting (a doodle or a texture from one painting), else the label colours (a
    doodle of several paintings), else noise."""
    if seed != "auto":
        return str(seed)
    if content:
        return "content"
    if paintings == 1:
        return "collage"
    return "labels" if target else "noise"


def working_shape_of(shape: tuple[int, int], working_size: int | None) -> tuple[int, int]:
    """The network's stage's ``(H, W)`` for an output of ``shape``: its long side at most
    ``working_size`` (None: the output's own, a neural finish)."""
    if working_size is None:
        return shape
    return scaled_shape(shape, min(1.0, working_size / max(shape)))


def _painting_shortfall(plan: Plan, style_shape: tuple[int, int]) -> tuple[float, int, Phase | None, tuple]:
    """How much too small the painting, ``style_shape = (H, W)`` at the output's scale, is in the phase of
    the network's stage where it is shortest of a whole patch at the deepest patch layer. -> ``(ratio (at
    most 1: large enough), the side needed, that phase, the painting's (H, W) there)``."""
    working = plan.working_shape[0] / plan.shape[0]
    needs = [
        (max(layer_stride(layer) for layer in phase.mrf_layers) * plan.settings.patch_size, phase)
        for phase in plan.phases
        if phase.mrf_layers
    ]
    if not needs:
        return 0.0, 0, None, style_shape
    needed, phase = max(needs, key=lambda pair: pair[0] / pair[1].scale)
    scaled = scaled_shape(style_shape, working * phase.scale)
    return needed / min(scaled), needed, phase, scaled


def check_painting_scale(plan: Plan, style_shape: tuple[int, int], name: str) -> None:
    """A :class:`DoodleError` unless the painting ``name``, ``style_shape = (H, W)`` at the output's
    scale, keeps a whole patch at the deepest patch layer in each phase of the network's stage (a small
    painting for a large doodle is a few pixels there: nothing to match)."""
    ratio, needed, phase, scaled = _painting_shortfall(plan, style_shape)
    if ratio <= 1:
        return
    ways = [f"`style_scale={plan.settings.style_scale * ratio:.3g}` or more (the painting larger in the output)"]
    if plan.pixels and max(plan.shape) >= plan.settings.working_size * ratio:
        ways.append(f"`working_size={math.ceil(plan.settings.working_size * ratio)}` or more")
    raise DoodleError(
        f"{name}: {style_shape[1]}x{style_shape[0]} at this output's scale, the painting is {scaled[1]}x{scaled[0]} "
        f"in the network's {'first ' if phase is plan.phases[0] else ''}phase ({phase.shape[1]}x{phase.shape[0]}), "
        f"too small for its patches (at least {needed} pixels a side); use {', or '.join(ways)}, or a smaller output",
        parameter="style_scale",
    )


def iterations_per_phase(iterations: int | tuple[int, ...], phases: int) -> tuple[int, ...]:
    """Iterations of each of ``phases`` phases, coarse to fine: a list ends with the full-size
    phase (``(100, 100, 50)`` over 2 phases is ``(100, 50)``, over 4 ``(100, 100, 100, 50)``: the
    first count repeats); one number is every phase's."""
    counts = (iterations,) if isinstance(iterations, int) else tuple(iterations)
    return (counts[0],) * max(0, phases - len(counts)) + counts[max(0, len(counts) - phases) :]


def _schedule(settings: PaintSettings, start: str, style_loss: str) -> tuple[int, int | tuple[int, ...]]:
    """``(phases, iterations)``: as given, else the start's schedule (a list of iterations sets the phases)."""
    if settings.phases is not None and settings.iterations is not None:
        return settings.phases, settings.iterations
    phases, iterations = (
        COLLAGE_SCHEDULE
        if start == "collage"
        else PHOTO_SCHEDULE
        if start == "content" and style_loss == "mrf"
        else DEFAULT_SCHEDULE
    )
    if settings.iterations is not None:
        iterations = settings.iterations
        phases = len(iterations) if isinstance(iterations, tuple | list) and len(iterations) > 1 else phases
    return settings.phases or phases, iterations


def make_plan(
    settings: PaintSettings,
    *,
    mode: Mode,
    shape: tuple[int, int],
    content: bool,
    paintings: int,
    model: ModelName,
    follows_frame: bool = False,
    style_shape: tuple[int, int] | None = None,
    guide_pairs: int = 0,
    temporal_weight: float = 0.0,
) -> Plan:
    """The plan of painting an output of ``shape = (H, W)`` in ``mode``, with a content photo or not,
    from ``paintings`` paintings, on a network of ``model``. ``follows_frame``: an animation's later
    frame, started from the frame before (its layout set from the first phase), tied to it by
    ``temporal_weight``. ``guide_pairs``: guide pairs given (for the finish's weights). ``style_shape``: the
    painting's ``(H, W)`` at the output's scale; where the default working size would leave it under
    a patch (a small painting for a large doodle or texture), the working size is raised to keep one."""
    given = dict(mode=mode, shape=shape, content=content, paintings=paintings, model=model,
                 follows_frame=follows_frame, guide_pairs=guide_pairs, temporal_weight=temporal_weight)  # fmt: skip
    plan = _plan(settings, **given)
    for _ in range(2):  # (a larger working size may keep a coarser phase: look again once)
        if style_shape is None or settings.working_size is not None or not plan.pixels:
            break
        ratio = _painting_shortfall(plan, style_shape)[0]
        if ratio <= 1 or max(plan.working_shape) >= max(shape):
            break
        working = min(max(shape), math.ceil(plan.settings.working_size * ratio))
        plan = _plan(settings.replace(working_size=working), **given)
    return plan


def _plan(
    settings: PaintSettings,
    *,
    mode: Mode,
    shape: tuple[int, int],
    content: bool,
    paintings: int,
    model: ModelName,
    follows_frame: bool,
    guide_pairs: int,
    temporal_weight: float,
) -> Plan:
    """:func:`make_plan` at the working size of ``settings`` (or the mode's)."""
    target = mode in (Mode.DOODLE, Mode.SEMANTIC_TRANSFER)
    seed = start_of(settings.seed, content=content, paintings=paintings, target=target)
    style_loss = settings.style_loss or ("both" if mode == Mode.TEXTURE else "mrf")
    phases, iterations = _schedule(settings, seed, style_loss)
    # Gram statistics make no correspondences for pixels to follow: a Gram transfer stays the network's.
    finish = settings.finish or ("neural" if style_loss == "gram" else "pixels")
    working = (settings.working_size or WORKING_SIZES[mode]) if finish == "pixels" else None
    painted = settings.replace(
        seed=seed, style_loss=style_loss, phases=phases, iterations=iterations, finish=finish, working_size=working
    )
    working_shape = working_shape_of(shape, working)
    finish = None
    if painted.finish == "pixels":
        finish = plan_pixel_finish(painted, shape=shape, labels=target, content=content, guide_pairs=guide_pairs,
                                   temporal_weight=temporal_weight if follows_frame else 0.0)  # fmt: skip
    if follows_frame:
        start, start_file = Start.FRAME, None
    elif seed in SEED_KEYWORDS:
        start, start_file = Start(seed), None
    else:
        start, start_file = (Start.PAINTER if Path(seed).suffix == ".pt" else Start.IMAGE), Path(seed)
    layers = _Layers(painted, mode, content and settings.content_weight > 0, model)
    # A phase's short side holds a whole patch at the deepest patch layer. Without patches (a Gram
    # transfer), twice the deepest layer's stride: relu5_1 is 1/16 of the image, and the painting, often
    # smaller than the photo, must keep a position there too.
    deepest = max([layer_stride(name) for name in layers.mrf(False)] or [1])
    deepest_other = max([layer_stride(name) for name in layers.gram(False) + layers.content(False)] or [1])
    deepest_other = 2 * deepest_other if not layers.mrf(False) else 1
    plan = Plan(
        mode,
        content,
        start,
        start_file,
        painted,
        shape,
        working_shape,
        (),
        max(deepest * settings.patch_size, deepest_other),
        layers.mrf(False),
        layers.gram(False),
        layers.content(False),
        layers,
        finish,
    )
    return _phased(plan, working_shape, follows_frame=follows_frame)


def _phased(plan: Plan, shape: tuple[int, int], *, follows_frame: bool) -> Plan:
    """``plan`` with its phases for an output of ``shape``: scales ``1/2**(phases-1) ... 1/2, 1``,
    dropping coarse ones whose short side is under ``plan.smallest``."""
    settings = plan.settings
    factors = [0.5 ** (settings.phases - 1 - i) for i in range(settings.phases)]
    factors = [f for f in factors if min(shape) * f >= plan.smallest] or [1.0]
    counts = iterations_per_phase(settings.iterations, len(factors))
    content, layers = plan.content, plan.rules
    phases = []
    for index, (factor, iterations) in enumerate(zip(factors, counts, strict=True)):
        # The layout is set by a coarser phase, the frame before or a collage start; with a content
        # photo, only for the full-size phase (the content keeps its deep layers before it).
        laid_out = (index > 0 or follows_frame or plan.from_collage) and (not content or index == len(factors) - 1)
        scaled = scaled_shape(shape, factor)
        phases.append(
            Phase(
                factor,
                scaled,
                iterations,
                layers.mrf(laid_out),
                layers.gram(laid_out),
                layers.content(laid_out),
                laid_out,
            )
        )
    return dataclasses.replace(plan, phases=tuple(phases))


class _Layers:
    """Each term's layers in a phase, laid out or not (see the constants above)."""

    def __init__(self, settings: PaintSettings, mode: Mode, content: bool, model: ModelName) -> None:
        """``settings`` with the style loss resolved; ``content``: a content term is painted."""
        self.style_loss, self.content_used = settings.style_loss, content
        texture = mode == Mode.TEXTURE
        given = None if settings.style_layers is None else tuple(parse_layer(n, model) for n in settings.style_layers)
        self.style = given or (TEXTURE_LAYERS if texture and self.style_loss != "gram" else None)
        self.texture_defaults = texture and given is None and self.style_loss == "both"
        self.patch_defaults = self.style_loss == "mrf" and given is None
        content_layers = settings.content_layers
        self.content_given = None if content_layers is None else tuple(parse_layer(n, model) for n in content_layers)

    def mrf(self, laid_out: bool) -> tuple[str, ...]:
        if self.style_loss == "gram":
            return ()
        if laid_out and self.texture_defaults:
            return LAID_OUT_MRF_LAYERS
        return self.style or (LAID_OUT_MRF_LAYERS if laid_out else DEFAULT_MRF_LAYERS)

    def gram(self, laid_out: bool) -> tuple[str, ...]:
        if self.style_loss == "mrf":
            return ()
        if laid_out and self.texture_defaults:
            return LAID_OUT_TEXTURE_GRAM_LAYERS
        return self.style or DEFAULT_GRAM_LAYERS

    def content(self, laid_out: bool) -> tuple[str, ...]:
        if not self.content_used:
            return ()
        if self.content_given is not None:
            return self.content_given
        return LAID_OUT_CONTENT_LAYERS if laid_out and self.patch_defaults else DEFAULT_CONTENT_LAYERS
