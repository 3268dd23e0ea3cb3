"""All the knobs of one painting, in one frozen dataclass; validated once, here.

The choices of every option are the ``Literal`` types below; the command line reads its choices
and defaults from here.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Literal, Union, get_args, get_origin, get_type_hints

from .errors import DoodleError
from .matching import MatcherName
from .vgg import ModelName, Pooling, Preprocess

__all__ = [
    "PaintSettings",
    "StyleLoss",
    "Optimizer",
    "Precision",
    "PreserveColors",
    "Finish",
    "parse_size",
    "parse_iterations",
    "parse_layers",
    "parse_weights",
    "parse_guide_weights",
    "TEXT_PARSERS",
    "format_iterations",
    "MIN_SIZE",
    "MAX_GUIDE_WEIGHT",
]

StyleLoss = Literal["mrf", "gram", "both"]
Optimizer = Literal["lbfgs", "adam"]
Precision = Literal["auto", "float32", "float16", "bfloat16"]
PatchSize = Literal[1, 3, 5]
PreserveColors = Literal["luminance", "histogram"]
Finish = Literal["pixels", "neural"]
LastVote = Literal[3, 5]
MIN_SIZE = 16  # smallest output side, in pixels: below it VGG's deeper layers have no positions left
# The largest guide weight: an 8-bit guide's smallest step (1/255, squared 1.5e-5) weighs 15 there, already far
# past a patch's colour distance; larger weights mean nothing more and overflow float32 (1e308: inf, then NaN).
MAX_GUIDE_WEIGHT = 1e6


def _guide_weight(weight: float) -> bool:
    """Whether a guide's ``weight`` (a number: its kind is checked first) is from 0 to :data:`MAX_GUIDE_WEIGHT`
    (NaN is not)."""
    return 0 <= weight <= MAX_GUIDE_WEIGHT


def _of_type(value, hint) -> bool:
    """Whether ``value`` is of the type ``hint`` (a field's annotation: a class, a ``Literal``, a union,
    ``tuple[int, int]`` or ``tuple[float, ...]``); an int is a float, a bool is neither."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return value in args
    if origin in (Union, UnionType):
        return any(_of_type(value, arg) for arg in args)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_of_type(item, args[0]) for item in value)
        return len(value) == len(args) and all(_of_type(item, arg) for item, arg in zip(value, args, strict=True))
    if hint is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    return value is None if hint is type(None) else isinstance(value, hint)


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


def parse_layers(text: str) -> tuple[str, ...]:
    """``'3_1, 4_1'`` -> ``('3_1', '4_1')`` (checked against the network when a paint is planned)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_weights(text: str) -> tuple[float, ...]:
    """``'0.7,0.3'`` -> ``(0.7, 0.3)``: the weights of several paintings (`style_blend`)."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise DoodleError(f"`style_blend` {text!r} is not a list of weights like 0.7,0.3") from None


def parse_guide_weights(text: str | tuple[float, ...]) -> tuple[float, ...]:
    """``'0.5,1.5'`` (or the weights already as numbers) -> ``(0.5, 1.5)``: one weight per guide, in
    order (`guide_weights`)."""
    try:
        return tuple(float(part) for part in (text.split(",") if isinstance(text, str) else text))
    except ValueError:
        raise DoodleError(
            f"`guide_weights` {text!r} is not a list of weights like 0.5,1.5", parameter="guide_weights"
        ) from None


def parse_size(text: str) -> tuple[int, int]:
    """``'512x384'`` -> ``(512, 384)`` as (width, height)."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise DoodleError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 512x384") from None
    if width < MIN_SIZE or height < MIN_SIZE:
        raise DoodleError(f"size {text!r} is too small; use at least {MIN_SIZE}x{MIN_SIZE}")
    return width, height


# The settings typed as text (on the command line, in a jobs file) and how each is read.
TEXT_PARSERS = {
    "output_size": parse_size,
    "iterations": parse_iterations,
    "style_layers": parse_layers,
    "content_layers": parse_layers,
    "style_blend": parse_weights,
    "guide_weights": parse_guide_weights,
}


# The fields with a fixed set of choices (each a Literal; their values are checked with every field's type).
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
    "finish": Finish,
    "last_vote": LastVote,
}


def _hints() -> dict:
    """Each field's type, as :func:`typing.get_type_hints` reads the annotations (once)."""
    if not _HINTS:
        _HINTS.update(get_type_hints(PaintSettings))
    return _HINTS


_HINTS: dict = {}
_KINDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text", Path: "a file name"}


def _kind(hint) -> str:
    """A field's type in words: ``int | None`` -> ``'a whole number or none'``."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return "one of " + ", ".join(map(str, args))
    if origin in (Union, UnionType):
        return " or ".join(dict.fromkeys(_kind(arg) for arg in args))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_kind(args[0]).removeprefix('a ')}s"
        return "a size like 512x384" if args == (int, int) else f"a list of {len(args)} values"
    return "none" if hint is type(None) else _KINDS.get(hint, getattr(hint, "__name__", str(hint)))


@dataclass(frozen=True)
class PaintSettings:
    """How to paint. Every field has a default that works; see ``doodle paint --help``. ``None``
    means "not given": the paint's plan decides by its inputs (:func:`doodle.plan.make_plan`).

    ``output_size`` is (width, height), as PIL's ``Image.size``; ``None`` means the target map's or
    content's size (or the style's in texture synthesis). ``style_loss`` ``None`` means ``"mrf"``,
    or ``"both"`` in texture synthesis (patches alone collapse onto a few regions of the painting;
    the Gram term keeps its mix). Layers accept ``relu4_1``, ``conv4_1`` or the short ``4_1``.
    ``content_layers`` ``None`` is ``relu4_2`` (``relu3_1`` in the full-size phase of a photo
    painted with the default patches). ``precision`` ``auto`` runs the network in float16 on CUDA
    (with loss scaling), in bfloat16 on a CPU with native bfloat16 arithmetic (AVX512-BF16 or AMX)
    and in float32 elsewhere. ``model`` and ``preprocess`` ``None`` are implied by ``weights``. ``iterations``: see
    :func:`~doodle.plan.iterations_per_phase`; ``phases`` and ``iterations`` ``None`` follow the
    start. ``seed`` ``auto`` starts from the content photo if there is one, else from a
    collage of the painting (a doodle or a texture from one painting), else from the label colours
    with some noise (a doodle of several paintings), else from noise. ``noise_ratio`` ``None`` keeps
    the seed's own start; a number blends ``noise_ratio * noise + (1 - noise_ratio) * start``.
    ``style_blend``: one weight per painting when ``style`` is several (None: equal weights).
    ``preserve_colors`` (style transfer): ``luminance`` paints the luminance alone and keeps the
    content's chroma; ``histogram`` first gives the painting the content's colour mean and covariance.
    ``finish``: ``pixels`` paints the network's result at ``working_size`` (its long side, in pixels)
    and makes the output, at its full size, of the painting's own pixels (:mod:`doodle.pixels`);
    ``neural`` paints the output with the network alone, at its full size; ``None``: the plan
    decides (:func:`doodle.plan.make_plan`), as it decides ``working_size``.
    ``last_vote``: the pixel finish's last vote takes each output pixel from the central
    ``last_vote`` x ``last_vote`` of the patches covering it (5: all of each patch, doodle 0.4's).
    ``guide_weights``: one per guide pair (``guides`` of :func:`doodle.paint`), in order; None: 1 each.
    ``position_guide``: the weight of a guide the tool makes, each image's x/y position (0: none);
    ``luminance_guide``: of the painting's and the content photo's luminance (None: 0.5 in the pixel
    stage alone with a photo, none without; see :mod:`doodle.guides`).
    """

    output_size: tuple[int, int] | None = None
    phases: int | None = None
    iterations: int | tuple[int, ...] | None = None
    style_loss: StyleLoss | None = None
    style_layers: tuple[str, ...] | None = None
    content_layers: tuple[str, ...] | None = None
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
    guide_weights: tuple[float, ...] | None = None
    position_guide: float = 0.0
    luminance_guide: float | None = None
    finish: Finish | None = None
    working_size: int | None = None
    last_vote: LastVote = 3
    model: ModelName | None = None
    weights: str | Path | None = None
    preprocess: Preprocess | None = None
    pooling: Pooling = "avg"
    device: str = "auto"
    precision: Precision = "auto"

    def __post_init__(self) -> None:
        for name, hint in _hints().items():  # first the kinds (a jobs file's JSON or a record can hold anything)
            value = getattr(self, name)
            if isinstance(value, list):  # (JSON's and Python's lists, as tuples)
                object.__setattr__(self, name, value := tuple(value))
            if not _of_type(value, hint):
                raise DoodleError(f"`{name}` {value!r} is not {_kind(hint)}", parameter=name)
        checks = [
            (self.phases is None or self.phases >= 1, f"`phases` must be at least 1, got {self.phases}"),
            (
                self.iterations is None
                or len(counts := _as_tuple(self.iterations)) > 0
                and all(n >= 1 for n in counts),
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
                self.guide_weights is None or all(_guide_weight(w) for w in self.guide_weights),
                f"`guide_weights` must be numbers from 0 to {MAX_GUIDE_WEIGHT:g}, one per guide, "
                f"got {self.guide_weights!r}",
            ),
            (
                self.luminance_guide is None or _guide_weight(self.luminance_guide),
                f"`luminance_guide` must be a number from 0 to {MAX_GUIDE_WEIGHT:g}, got {self.luminance_guide!r}",
            ),
            (
                _guide_weight(self.position_guide),
                f"`position_guide` must be a number from 0 to {MAX_GUIDE_WEIGHT:g}, got {self.position_guide!r}",
            ),
            (
                self.noise_ratio is None or 0 <= self.noise_ratio <= 1,
                f"`noise_ratio` must be between 0 and 1, got {self.noise_ratio}",
            ),
            (
                self.style_layers is None or len(self.style_layers) > 0,
                "`style_layers` is empty; name at least one layer, e.g. 3_1,4_1, or leave it out for the default",
            ),
            (
                self.content_layers is None or len(self.content_layers) > 0,
                "`content_layers` is empty; name at least one layer, e.g. 4_2, or leave it out for the default",
            ),
            (
                self.working_size is None or isinstance(self.working_size, int) and self.working_size >= MIN_SIZE,
                f"`working_size` must be a whole number of at least {MIN_SIZE} pixels, got {self.working_size!r}",
            ),
            (
                self.device in ("auto", "cpu", "cuda", "mps") or self.device.startswith("cuda:"),
                f"`device` {self.device!r} is not auto, cpu, cuda or mps",
            ),
        ]
        for name in (
            "style_weight",
            "content_weight",
            "semantic_weight",
            "smoothness",
            "style_scale",
        ):
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

    @staticmethod
    def choices(name: str) -> tuple:
        """The allowed values of a field with a fixed set of them (``'matcher'`` -> ``('exact', 'fast')``)."""
        return get_args(_CHOICES[name])
