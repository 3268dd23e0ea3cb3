"""The command line's options, declared once: each command lists those it takes by these names.

Defaults and choices come from :class:`~doodle.settings.PaintSettings`; help that names the
defaults a paint's plan decides is written from :mod:`doodle.plan`'s constants.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand

from ..plan import DEFAULT_CONTENT_LAYERS, ITERATIONS_HELP, PHASES_HELP, WORKING_SIZES, Mode
from ..settings import MIN_SIZE, TEXT_PARSERS, PaintSettings, format_iterations

D = PaintSettings()  # the defaults of every option below


def _choices(field: str) -> type[Enum]:
    """A typer choice list made from the ``Literal`` of a setting."""
    values = [str(value) for value in PaintSettings.choices(field)]
    return Enum(f"{field.title().replace('_', '')}Choice", {value: value for value in values}, type=str)


StyleLossChoice, MatcherChoice, OptimizerChoice = _choices("style_loss"), _choices("matcher"), _choices("optimizer")
ModelChoice, PreprocessChoice, PoolingChoice = _choices("model"), _choices("preprocess"), _choices("pooling")
PrecisionChoice, PreserveColorsChoice = _choices("precision"), _choices("preserve_colors")
FinishChoice = _choices("finish")
DEFAULT_MATCHER, DEFAULT_POOLING = MatcherChoice(D.matcher), PoolingChoice(D.pooling)
DEFAULT_OPTIMIZER, DEFAULT_PRECISION = OptimizerChoice(D.optimizer), PrecisionChoice(D.precision)
DEFAULT_ITERATIONS = format_iterations(D.iterations)
DEFAULT_CONTENT = ",".join(DEFAULT_CONTENT_LAYERS)  # shown as the default; left untyped, the plan decides

# Inputs and outputs.
Styles = Annotated[
    list[Path] | None,
    typer.Option(
        "--style", "-s", help="The painting whose style to use; give it again to paint from several (--style-blend)."
    ),
]
OneStyle = Annotated[Path, typer.Option("--style", "-s", help="The painting whose style to use.")]
StudioStyle = Annotated[
    Path | None, typer.Option("--style", "-s", help="The painting to start with (its map beside it, or --style-map).")
]
Output = Annotated[Path, typer.Option("--output", "-o", help="Where to write the result (.png, .jpg).")]
TargetMap = Annotated[
    Path | None,
    typer.Option(
        "--map",
        "--content-map",
        "-m",
        help="Label map of the output: your doodle, or the content's map. Found as CONTENT_sem.png when not given.",
    ),
]
StyleMaps = Annotated[
    list[Path] | None,
    typer.Option(
        "--style-map",
        help="Label map of the style painting, in the same colours (once per --style). "
        "Found as STYLE_sem.png when not given.",
    ),
]
OneStyleMap = Annotated[
    Path | None,
    typer.Option(
        "--style-map",
        help="Label map of the style painting, in the same colours. Found as STYLE_sem.png when not given.",
    ),
]
Content = Annotated[Path | None, typer.Option("--content", "-c", help="A photo whose layout to keep.")]
Guides = Annotated[  # two values each: see PairedGuides
    list[str] | None,
    typer.Option(
        "--guide",
        metavar="SOURCE TARGET",
        help="A guide pair: an image beside the painting and one beside the output, any mode and any number of "
        "shades (a soft segmentation, a render pass, a gradient). Repeatable. Without --map or --content the "
        "output takes the first TARGET's size.",
    ),
]


class PairedGuides(TyperCommand):
    """A command whose ``--guide`` takes two values, SOURCE and TARGET, each time it is given (typer
    declares no repeatable option of several values)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.name == "guides":
                param.nargs = 2
                param.process_value = _guide_pairs  # (typer's own would read each pair as one string)


def _guide_pairs(ctx: typer.Context, value) -> list[tuple[Path, Path]] | None:
    """``--guide`` given twice: ``(('a', 'b'), ('c', 'd'))`` -> ``[(Path('a'), Path('b')), (Path('c'), Path('d'))]``."""
    for source, target in value or ():
        if target.startswith("-") and not Path(target).exists():  # (`--guide a.png -o out.png`: -o is no image)
            raise typer.BadParameter(f"takes two images, SOURCE TARGET; {source} is followed by the option {target}")
    return [(Path(source), Path(target)) for source, target in value] if value else None


GuideWeights = Annotated[
    list[float] | None,
    typer.Option(
        "--guide-weight",
        metavar="W",
        help="The weight of each --guide, in order (repeatable, one per guide). Default: 1 each.",
    ),
]
PositionGuide = Annotated[
    float,
    typer.Option(
        min=0.0,
        help="Weight of a guide made of each image's x/y position: keep each part near where the painting has "
        "it, for an output laid out as the painting (0: none; EbSynth's FaceStyle weighs it 10, a face onto a "
        "face). Where a doodle's regions lie elsewhere, it copies the nearest part of each, in streaks.",
    ),
]
LuminanceGuide = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        help="Weight of a guide made of the painting's and the content photo's luminance, in both stages. "
        "Default: 0.5 in the pixel finish alone, with a photo.",
    ),
]
AllowMissingLabels = Annotated[
    bool, typer.Option(help="Paint map colours the style's map lacks without semantics, instead of stopping.")
]
OutputSize = Annotated[
    str | None,
    typer.Option(
        help="WIDTHxHEIGHT of the result. Default: the map's or content's size (the style's for a texture). "
        "The style is scaled with it."
    ),
]

# The schedule and the loss.
Iterations = Annotated[
    str,
    typer.Option(
        help="Optimiser steps per phase: one number for every phase, or one per phase, coarse to fine "
        f"(the first repeats when there are more phases; a list sets --phases). {ITERATIONS_HELP}"
    ),
]
Phases = Annotated[
    int | None,
    typer.Option(min=1, help=f"Resolutions, coarse to fine: 3 paints at 1/4, 1/2, then full size. {PHASES_HELP}"),
]
StyleWeight = Annotated[float, typer.Option(min=0, help="How strongly to copy the style.")]
ContentWeight = Annotated[float, typer.Option(min=0, help="How strongly to keep the content photo.")]
SemanticWeight = Annotated[
    float,
    typer.Option(
        min=0, help="How strictly patches keep to their own label: match score = ncc(features) + this * ncc(labels)."
    ),
]
Smoothness = Annotated[float, typer.Option(min=0, help="Total-variation weight: higher is smoother, less noisy.")]
StyleLoss = Annotated[
    StyleLossChoice | None,
    typer.Option(
        help="mrf: patches (Li & Wand, follows maps); gram: Gatys et al., position-free; both: their sum. "
        "Default: mrf, or both for texture synthesis."
    ),
]
StyleLayers = Annotated[
    str | None,
    typer.Option(
        help="Comma-separated layers for the style loss, e.g. 3_1,4_1 "
        "(default 2_1,3_1,4_1 for mrf; 1_1..5_1 for gram; 1_1..4_1 for both in texture synthesis)."
    ),
]
ContentLayers = Annotated[
    str,
    typer.Option(
        help="Comma-separated layers for the content loss. By default the full-size phase, painted with "
        "patches, holds the content at 3_1 instead (its layout set; the network then stops at relu3_1).",
    ),
]
StyleScale = Annotated[
    float, typer.Option(min=0.05, help="Scale of the style painting, relative to the output's scale.")
]
StyleBlend = Annotated[
    str | None,
    typer.Option(
        help="Weights of several --style paintings, e.g. 0.7,0.3: the Gram term mixes by weight, and patches "
        "are matched among all paintings, favouring the heavier. Default: equal."
    ),
]
PatchSize = Annotated[int, typer.Option(help="Side of the feature patches matched to the painting's: 1, 3 or 5.")]
MatchEvery = Annotated[int, typer.Option(min=1, help="Search for new patch matches every N steps (1: every step).")]
Matcher = Annotated[
    MatcherChoice,
    typer.Option(
        help="fast: one exact search, then PatchMatch improves the previous matches (a fraction of the cost; "
        "no visible difference); exact: brute force every time (the reference)."
    ),
]
Seed = Annotated[
    str,
    typer.Option(
        help="Start image: auto (the content photo; else a collage, for a doodle or texture from one "
        "painting; else label colours + noise, for several paintings; else noise), noise, content, "
        "labels (the doodle in its labels' colours, plus noise), collage (the doodle filled with pieces "
        "of the painting cut where it has the same labels, or for a texture the painting quilted anew: "
        "the layout is set, so --iterations auto is 20,40 in 2 phases), an image path, or a painter "
        "file from `doodle train` (.pt): its rendering of the doodle."
    ),
]
NoiseRatio = Annotated[
    float | None,
    typer.Option(
        min=0,
        max=1,
        help="Blend the start with noise: 0.9 starts from 90 % noise and 10 % of --seed's image "
        "(e.g. --seed content --noise-ratio 0.9). Default: the seed as it is.",
    ),
]
RandomSeed = Annotated[int, typer.Option(help="Seed of the random noise: the same seed gives the same image.")]
PreserveColors = Annotated[
    PreserveColorsChoice | None,
    typer.Option(
        help="Style transfer keeping the content's colours: luminance (paint the luminance, keep the "
        "photo's chroma) or histogram (give the painting the photo's colours first)."
    ),
]
Finish = Annotated[
    FinishChoice | None,
    typer.Option(
        help="pixels: the network lays the image out at --working-size, then the painting's own pixels make "
        "it at its full size (crisp, fast, any size); neural: the network paints every pixel at full size "
        "(doodle 0.3's way). Default: pixels, but neural for a Gram style transfer (--style-loss gram)."
    ),
]
LastVote = Annotated[
    int,
    typer.Option(
        help="The pixel finish's last vote: each output pixel from the central 3x3 of the patches covering it "
        "(3, crisper), or from all 5x5 (5, doodle 0.4's)."
    ),
]
WorkingSize = Annotated[
    int | None,
    typer.Option(
        min=MIN_SIZE,
        help=f"Long side of the network's stage under --finish pixels, in pixels. Default: "
        f"{WORKING_SIZES[Mode.DOODLE]} for doodles and textures, {WORKING_SIZES[Mode.TRANSFER]} with a photo "
        "(never more than the output).",
    ),
]

# The network and where it runs.
Model = Annotated[ModelChoice | None, typer.Option(help="VGG depth. Default: implied by --weights, else vgg19.")]
Weights = Annotated[
    Path | None,
    typer.Option(
        help="A torchvision-format VGG state dict. Default: torchvision's ImageNet weights (downloaded once)."
    ),
]
PreprocessOption = Annotated[
    PreprocessChoice | None,
    typer.Option(
        help="Input the weights expect: torchvision (RGB, normalised) or caffe (BGR, 0..255, mean removed). "
        "Default: implied by known weights, else torchvision."
    ),
]
PoolingOption = Annotated[PoolingChoice, typer.Option(help="avg (smoother, the original doodle's) or max pooling.")]
OptimizerOption = Annotated[OptimizerChoice, typer.Option(help="lbfgs (fast convergence) or adam.")]
Device = Annotated[str, typer.Option(help="auto (CUDA, else MPS, else CPU), cpu, cuda or mps.")]
PrecisionOption = Annotated[
    PrecisionChoice,
    typer.Option(
        help="Network arithmetic: auto (float16 with loss scaling on CUDA, bfloat16 on a CPU with native "
        "bfloat16, float32 elsewhere), float32, float16 or bfloat16."
    ),
]
SaveEvery = Annotated[int, typer.Option(min=0, help="Also write OUTPUT_p<phase>_<step>.png every N steps (0: never).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or messages.")]
From = Annotated[
    Path | None,
    typer.Option(
        "--from",
        help="Paint again the job that made this PNG (see `doodle info`): its inputs and settings, "
        "with any option given here instead.",
    ),
]


_SETTING_NAMES = {field.name for field in dataclasses.fields(PaintSettings)}


def setting_values(options: dict) -> dict:
    """Each option named as a :class:`PaintSettings` field, parsed (typer passes text and enums);
    the others (``output``, ...) are left out."""
    values = {}
    for name in _SETTING_NAMES & set(options):
        value = options[name]
        value = value.value if isinstance(value, Enum) else value
        value = (tuple(value) or None) if isinstance(value, list | tuple) else value  # (repeatable; none: None)
        values[name] = TEXT_PARSERS[name](value) if name in TEXT_PARSERS and value is not None else value
    return values


def typed(ctx: typer.Context) -> set[str]:
    """The options typed on the command line (not left at their defaults)."""
    sources = {name: ctx.get_parameter_source(name) for name in ctx.params}
    return {name for name, source in sources.items() if source is not None and source.name == "COMMANDLINE"}


def settings_of(ctx: typer.Context) -> PaintSettings:
    """The settings from a command's options; an option shown with a default the plan decides
    (``--content-layers``) is "not given" unless typed."""
    values = setting_values(ctx.params)
    if "content_layers" in values and "content_layers" not in typed(ctx):
        values["content_layers"] = None
    return PaintSettings(**values)


def one_or_many(paths) -> Path | list[Path] | None:
    """A repeatable option's paths: None, the one path, or the list."""
    paths = None if paths is None else [Path(path) for path in paths]
    return paths[0] if paths and len(paths) == 1 else paths or None
