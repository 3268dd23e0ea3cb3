"""All the knobs of one painting, in one frozen dataclass; validated once, here.

The choices of every option are the ``Literal`` types below; the command line reads its choices
and defaults from here.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from .errors import DoodleError
from .matching import MatcherName
from .vgg import ModelName, Pooling, Preprocess

__all__ = [
    "PaintSettings",
    "StyleLoss",
    "Optimizer",
    "Precision",
    "PreserveColors",
    "parse_size",
    "parse_iterations",
    "format_iterations",
    "DEFAULT_MRF_LAYERS",
    "DEFAULT_GRAM_LAYERS",
    "TEXTURE_LAYERS",
    "LAID_OUT_MRF_LAYERS",
    "LAID_OUT_TEXTURE_GRAM_LAYERS",
    "MIN_SIZE",
    "SEED_KEYWORDS",
    "DEFAULT_SCHEDULE",
    "COLLAGE_SCHEDULE",
    "PHOTO_SCHEDULE",
    "DEFAULT_CONTENT_LAYERS",
    "LAID_OUT_CONTENT_LAYERS",
]

StyleLoss = Literal["mrf", "gram", "both"]
Optimizer = Literal["lbfgs", "adam"]
Precision = Literal["auto", "float32", "float16", "bfloat16"]
PatchSize = Literal[1, 3, 5]
PreserveColors = Literal["luminance", "histogram"]
DEFAULT_MRF_LAYERS = ("relu2_1", "relu3_1", "relu4_1")
DEFAULT_GRAM_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
TEXTURE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")  # both terms, in texture synthesis: see for_mode
LAID_OUT_MRF_LAYERS = ("relu2_1", "relu3_1")  # the default MRF layers once the layout is set: see mrf_layers
LAID_OUT_TEXTURE_GRAM_LAYERS = ("relu1_1", "relu2_1", "relu3_1")  # a texture's Gram layers, layout set
DEFAULT_CONTENT_LAYERS = ("relu4_2",)
LAID_OUT_CONTENT_LAYERS = ("relu3_1",)  # a photo's full-size phase, with patches: see content_layers_at
SEED_KEYWORDS = ("auto", "noise", "content", "labels", "collage")  # the starts of `seed` that are not a file
# (phases, iterations) when neither is given: from noise or label colours, coarse to fine; from a
# collage, whose layout is already the doodle's, two short phases; from a photo painted with patches,
# shorter later phases (benchmarks/README.md, issue 11).
DEFAULT_SCHEDULE = (3, (100, 100, 70))
COLLAGE_SCHEDULE = (2, (20, 40))
PHOTO_SCHEDULE = (3, (100, 60, 40))
MIN_SIZE = 16  # smallest output side, in pixels: below it VGG's deeper layers have no positions left


def _as_tuple(iterations: int | tuple[int, ...]) -> tuple[int, ...]:
    return (iterations,) if isinstance(iterations, int) else tuple(iterations)


def parse_iterations(text: str) -> int | tuple[int, ...] | None:
    """``'100'`` -> ``100``; ``'100,100,50'`` -> ``(100, 100, 50)`` (one count per phase, coarse to fine);
    ``'auto'`` or ``''`` -> ``None`` (the start's own schedule)."""
    if text.strip().lower() in ("", "auto"):
        return None
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise DoodleError(f"iterations {text!r} is not a number or a list like 100,100,50") from None
    return counts[0] if len(counts) == 1 else counts


def format_iterations(iterations: int | tuple[int, ...] | None) -> str:
    """The inverse of :func:`parse_iterations`: ``(100, 100, 50)`` -> ``'100,100,50'``, ``None`` -> ``'auto'``."""
    return "auto" if iterations is None else ",".join(map(str, _as_tuple(iterations)))


def parse_size(text: str) -> tuple[int, int]:
    """``'512x384'`` -> ``(512, 384)`` as (width, height)."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise DoodleError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 512x384") from None
    if width < MIN_SIZE or height < MIN_SIZE:
        raise DoodleError(f"size {text!r} is too small; use at least {MIN_SIZE}x{MIN_SIZE}")
    return width, height


# Fields whose value must be one of a Literal's choices (None allowed where the default is None).
_CHOICES = {
    "style_loss": StyleLoss,
    "optimizer": Optimizer,
    "precision": Precision,
    "matcher": MatcherName,
    "model": ModelName,
    "preprocess": Preprocess,
    "pooling": Pooling,
    "patch_size": PatchSize,
    "preserve_colors": PreserveColors,
}


@dataclass(frozen=True)
class PaintSettings:
    """How to paint. Every field has a default that works; see ``doodle paint --help``.

    ``output_size`` is (width, height), as PIL's ``Image.size``; ``None`` means the target map's or
    content's size (or the style's in texture synthesis). ``style_loss`` ``None`` means ``"mrf"``,
    or ``"both"`` in texture synthesis (patches alone collapse onto a few regions of the painting;
    the Gram term keeps its mix). Layers accept ``relu4_1``, ``conv4_1`` or the short ``4_1``.
    ``precision`` ``auto`` runs the network in float16 on CUDA (with loss scaling), in bfloat16 on
    a CPU with native bfloat16 arithmetic (AVX512-BF16 or AMX) and in float32 elsewhere. ``model``
    and ``preprocess`` ``None`` are implied by ``weights``. ``iterations``: see
    :meth:`phase_iterations`; ``phases`` and ``iterations`` ``None`` follow the start (see
    :meth:`for_mode`). ``seed`` ``auto`` starts from the content photo if there is one, else from a
    collage of the painting (a doodle or a texture from one painting), else from the label colours
    with some noise (a doodle of several paintings), else from noise. ``noise_ratio`` ``None`` keeps
    the seed's own start; a number blends ``noise_ratio * noise + (1 - noise_ratio) * start``.
    ``style_blend``: one weight per painting when ``style`` is several (None: equal weights).
    ``preserve_colors`` (style transfer): ``luminance`` paints the luminance alone and keeps the
    content's chroma; ``histogram`` first gives the painting the content's colour mean and covariance.
    """

    output_size: tuple[int, int] | None = None
    phases: int | None = None
    iterations: int | tuple[int, ...] | None = None
    style_loss: StyleLoss | None = None
    style_layers: tuple[str, ...] | None = None
    content_layers: tuple[str, ...] = DEFAULT_CONTENT_LAYERS
    style_weight: float = 1.0
    content_weight: float = 0.5
    semantic_weight: float = 2.0
    smoothness: float = 2.0
    style_scale: float = 1.0
    style_blend: tuple[float, ...] | None = None
    allow_missing_labels: bool = False
    patch_size: PatchSize = 3
    match_every: int = 10
    matcher: MatcherName = "fast"
    optimizer: Optimizer = "lbfgs"
    seed: str | Path = "auto"
    noise_ratio: float | None = None
    random_seed: int = 0
    preserve_colors: PreserveColors | None = None
    model: ModelName | None = None
    weights: str | Path | None = None
    preprocess: Preprocess | None = None
    pooling: Pooling = "avg"
    device: str = "auto"
    precision: Precision = "auto"

    def __post_init__(self) -> None:
        checks = [
            (self.phases is None or self.phases >= 1, f"`phases` must be at least 1, got {self.phases}"),
            (
                self.iterations is None
                or isinstance(self.iterations, int | tuple | list)
                and len(counts := _as_tuple(self.iterations)) > 0
                and all(isinstance(n, int) and n >= 1 for n in counts),
                f"`iterations` must be a whole number of at least 1, or one per phase, got {self.iterations!r}",
            ),
            (self.match_every >= 1, f"`match_every` must be at least 1, got {self.match_every}"),
            (self.style_scale > 0, f"`style_scale` must be positive, got {self.style_scale}"),
            (
                self.style_blend is None
                or (all(math.isfinite(w) and w >= 0 for w in self.style_blend) and sum(self.style_blend) > 0),
                f"`style_blend` must be weights of 0 or more, not all 0, got {self.style_blend}",
            ),
            (
                self.noise_ratio is None or 0 <= self.noise_ratio <= 1,
                f"`noise_ratio` must be between 0 and 1, got {self.noise_ratio}",
            ),
            (
                self.style_layers is None or len(self.style_layers) > 0,
                "`style_layers` is empty; name at least one layer, e.g. 3_1,4_1, or leave it out for the default",
            ),
            (len(self.content_layers) > 0, "`content_layers` is empty; name at least one layer, e.g. 4_2"),
            (
                self.device in ("auto", "cpu", "cuda", "mps") or self.device.startswith("cuda:"),
                f"`device` {self.device!r} is not auto, cpu, cuda or mps",
            ),
        ]
        for name, choices in _CHOICES.items():
            value, allowed = getattr(self, name), get_args(choices)
            if not (value in allowed or (value is None and getattr(PaintSettings, name) is None)):
                checks.append((False, f"`{name}` {value!r} is not one of {', '.join(map(str, allowed))}"))
        for name in ("style_weight", "content_weight", "semantic_weight", "smoothness", "style_scale"):
            value = getattr(self, name)
            checks.append((math.isfinite(value), f"`{name}` must be a finite number, got {value}"))
            checks.append((value >= 0, f"`{name}` must be 0 or more, got {value}"))
        for ok, message in checks:
            if not ok:
                raise DoodleError(message)

    def replace(self, **changes) -> PaintSettings:
        """A copy with some fields changed (validated again); an unknown field is an error."""
        unknown = set(changes) - {field.name for field in dataclasses.fields(self)}
        if unknown:
            raise DoodleError(f"unknown option(s) {', '.join(sorted(unknown))}; see doodle.PaintSettings")
        return dataclasses.replace(self, **changes)

    def phase_iterations(self, phases: int) -> tuple[int, ...]:
        """Iterations of each of ``phases`` phases, coarse to fine.

        ``iterations`` lists them ending with the full-size phase: ``(100, 100, 50)`` over 2 phases
        is ``(100, 50)``, over 4 phases ``(100, 100, 100, 50)`` (the first count repeats); one number
        is every phase's.
        """
        counts = _as_tuple(self.iterations)
        return (counts[0],) * max(0, phases - len(counts)) + counts[max(0, len(counts) - phases) :]

    def for_mode(self, mode: str, *, start: str = "auto") -> PaintSettings:
        """These settings with the mode's defaults filled in: the style loss (``mrf``; ``both`` in
        texture synthesis), the schedule (``phases``, ``iterations``) by the ``start`` the paint
        resolved its seed to (:data:`COLLAGE_SCHEDULE` from a ``collage``, :data:`PHOTO_SCHEDULE` from
        the ``content`` painted with patches, else :data:`DEFAULT_SCHEDULE`; ``iterations`` given as
        one per phase set the number of phases) and, in texture synthesis with patches, the style
        layers :data:`TEXTURE_LAYERS`. There ``relu1_1`` is among the patch layers because it is the one that
        sees colour pixel by pixel: without it the Gram term's ``relu1_1`` matched only the painting's
        colour statistics, and made up for inks the patches left out by tinting flat paper."""
        texture = mode == "texture synthesis"
        settings = self if self.style_loss is not None else self.replace(style_loss="both" if texture else "mrf")
        if settings.phases is None or settings.iterations is None:
            phases, iterations = (
                COLLAGE_SCHEDULE
                if start == "collage"
                else PHOTO_SCHEDULE
                if start == "content" and settings.style_loss == "mrf"
                else DEFAULT_SCHEDULE
            )
            if settings.iterations is not None:
                iterations = settings.iterations
                phases = len(iterations) if isinstance(iterations, tuple | list) and len(iterations) > 1 else phases
            settings = settings.replace(phases=settings.phases or phases, iterations=iterations)
        if texture and settings.style_layers is None and settings.style_loss != "gram":
            settings = settings.replace(style_layers=TEXTURE_LAYERS)
        return settings

    def mrf_layers(self, *, laid_out: bool = False) -> tuple[str, ...]:
        """The MRF layers. ``laid_out``: for a phase whose layout is already set (by a coarser phase
        before it, a collage start or an animation's frame before; with a content photo, only the
        full-size phase, see :meth:`content_layers_at`): then the default
        layers are :data:`LAID_OUT_MRF_LAYERS`, without ``relu4_1``, whose three convolutions are 45 %
        of the network's cost (benchmarks/README.md, issue 11). Texture synthesis's layers
        (``style_loss='both'`` at :data:`TEXTURE_LAYERS`, also when given so) become the same there, its
        ``relu1_1`` patches left out too (the first phase has set the paper's colour), and its Gram
        layers :data:`LAID_OUT_TEXTURE_GRAM_LAYERS`."""
        if self.style_loss == "gram":
            return ()
        if laid_out and self._texture_defaults():
            return LAID_OUT_MRF_LAYERS
        return self.style_layers or (LAID_OUT_MRF_LAYERS if laid_out else DEFAULT_MRF_LAYERS)

    def gram_layers(self, *, laid_out: bool = False) -> tuple[str, ...]:
        """The Gram layers; ``laid_out``: see :meth:`mrf_layers`."""
        if self.style_loss in (None, "mrf"):
            return ()
        if laid_out and self._texture_defaults():
            return LAID_OUT_TEXTURE_GRAM_LAYERS
        return self.style_layers or DEFAULT_GRAM_LAYERS

    def content_layers_at(self, *, laid_out: bool = False) -> tuple[str, ...]:
        """The content layers. ``laid_out``: for the full-size phase of a photo painted with the
        default patches (its layout set by the coarser phases), the default ``relu4_2`` becomes
        :data:`LAID_OUT_CONTENT_LAYERS` ``relu3_1``: with ``relu4_1`` left out of the patches too, the
        network stops at ``relu3_1``, half of its cost at full size (benchmarks/README.md, issue 11)."""
        if laid_out and self.content_layers == DEFAULT_CONTENT_LAYERS and self._patch_defaults():
            return LAID_OUT_CONTENT_LAYERS
        return self.content_layers

    def _patch_defaults(self) -> bool:
        return self.style_loss == "mrf" and self.style_layers is None

    def _texture_defaults(self) -> bool:
        return self.style_loss == "both" and self.style_layers == TEXTURE_LAYERS

    @staticmethod
    def choices(name: str) -> tuple:
        """The allowed values of a field with a fixed set of them (``'matcher'`` -> ``('exact', 'fast')``)."""
        return get_args(_CHOICES[name])
