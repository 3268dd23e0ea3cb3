"""``doodle`` command line: thin commands that collect options and call the library.

Option defaults and choices come from :class:`~doodle.settings.PaintSettings`; the library's
messages name its parameters (`` `device='cpu'` ``) and are shown here as flags (``--device cpu``).
"""

import contextlib
import dataclasses
import inspect
import os
import re
import warnings
from enum import Enum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from PIL import Image
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.exceptions import TyperException

import semantic_maps

from . import provenance
from .devices import resolve_device
from .errors import DoodleError, PaintingStopped, map_errors
from .images import check_output_path, load_rgb, save_atomic, to_pil
from .painter import Painter, Step
from .settings import PaintSettings, format_iterations, parse_iterations, parse_size
from .vgg import load_vgg
from .watch import watch

app = typer.Typer(
    help="Semantic, patch-based neural style transfer: paint a doodle, a photo or a texture in a painter's style.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_D = PaintSettings()  # the defaults of every option below


def _choices(field: str) -> type[Enum]:
    """A typer choice list made from the ``Literal`` of a setting."""
    values = [str(value) for value in PaintSettings.choices(field)]
    return Enum(f"{field.title().replace('_', '')}Choice", {value: value for value in values}, type=str)


StyleLossChoice, MatcherChoice, OptimizerChoice = _choices("style_loss"), _choices("matcher"), _choices("optimizer")
ModelChoice, PreprocessChoice, PoolingChoice = _choices("model"), _choices("preprocess"), _choices("pooling")
PrecisionChoice, PreserveColorsChoice = _choices("precision"), _choices("preserve_colors")

_PARAMETER = re.compile(r"`(\w+)(?:=([^`]*))?`")  # `name` or `name=value` in a library message
_QUOTES = "'\""


def _flags() -> dict[str, str]:
    """Each parameter of ``doodle paint`` and ``doodle studio`` and its long flag: ``{'target_map': '--map'}``."""
    commands = typer.main.get_command(app).commands
    flags = {}
    for command in (commands["studio"], commands["paint"]):  # paint's spelling wins
        flags.update(
            {param.name: next(o for o in param.opts if o.startswith("--")) for param in command.params if param.opts}
        )
    return flags


def cli_words(message: str) -> str:
    """A library message with its parameter names as flags: `` `device='cpu'` `` -> ``--device cpu``."""
    flags = _flags()

    def flag(match: re.Match) -> str:
        name, value = match.group(1), match.group(2)
        if name not in flags:
            return name if value is None else f"{name}={value}"
        if value is None or value == "True":
            return flags[name]
        return f"{flags[name]} {value.strip(_QUOTES)}"

    return _PARAMETER.sub(flag, message)


def _fail(message: str) -> None:
    typer.echo(f"error: {cli_words(message)}", err=True)
    raise typer.Exit(1)


def _layers(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(part.strip() for part in text.split(",") if part.strip())


_SETTING_NAMES = {field.name for field in dataclasses.fields(PaintSettings)}
_PARSERS = {
    "output_size": lambda text: None if text is None else parse_size(text),
    "iterations": parse_iterations,
    "style_layers": _layers,
    "content_layers": _layers,
    "style_blend": lambda text: None if text is None else _weights(text),
}


def _weights(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise DoodleError(f"`style_blend` {text!r} is not a list of weights like 0.7,0.3") from None


def _setting_values(options: dict) -> dict:
    """Each option named as a :class:`PaintSettings` field, parsed (typer passes text and enums);
    the others (``output``, ...) are left out."""
    values = {}
    for name in _SETTING_NAMES & set(options):
        value = options[name]
        value = value.value if isinstance(value, Enum) else value
        values[name] = _PARSERS[name](value) if name in _PARSERS else value
    return values


def _settings(options: dict) -> PaintSettings:
    """The settings from a command's options."""
    return PaintSettings(**_setting_values(options))


def _given(ctx: typer.Context, options: dict) -> set[str]:
    """The options typed on the command line (not left at their defaults)."""
    sources = {name: ctx.get_parameter_source(name) for name in options}
    return {name for name, source in sources.items() if source is not None and source.name == "COMMANDLINE"}


def _job_from(source: Path, ctx: typer.Context, options: dict) -> tuple[PaintSettings, dict]:
    """The settings and inputs of the job that made ``source``, with the options given now instead."""
    record = provenance.read_record(source)
    if record["command"] != "paint":
        raise DoodleError(f"{source}: made by doodle {record['command']}, and `from_` repaints what doodle paint made")
    given = _given(ctx, options)
    settings = provenance.settings_from_record(record, source)
    settings = settings.replace(**{k: v for k, v in _setting_values(options).items() if k in given})
    inputs = dict(style=None, style_map=None, target_map=None, content=None)
    inputs.update(provenance.input_paths(record, source))
    inputs.update(
        {
            name: _one_or_many(options[name]) if name.startswith("style") else options[name]
            for name in inputs
            if name in given
        }
    )
    for name, entry in provenance.entries(record):
        state = provenance.input_state(entry)
        if state in ("changed", "gone") and name.split()[0] not in given:
            what = "has changed" if state == "changed" else "is gone"
            typer.echo(f"warning: {entry['path']} ({name}) {what} since {source} was painted", err=True)
    return settings, inputs


def _bars(quiet: bool, *fields: TextColumn) -> Progress | None:
    """Progress bars on stderr (None when ``quiet``): each task's description, its bar, done/total,
    ``fields``, the time elapsed."""
    if quiet:
        return None
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), *fields, TimeElapsedColumn())
    return Progress(*columns, console=Console(stderr=True))


class _Reporter:
    """Progress bar per phase with the current loss; intermediate frames with --save-every."""

    def __init__(self, output: Path, quiet: bool, save_every: int) -> None:
        self.output, self.save_every = output, save_every
        self.progress = _bars(quiet, TextColumn("loss {task.fields[loss]:.4f}"))
        self.task = None
        self.phase = 0

    def __enter__(self) -> "_Reporter":
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.stop()

    def __call__(self, step: Step) -> None:
        if self.progress is not None:
            if step.phase != self.phase:
                if self.task is None:
                    self.progress.start()  # only once painting starts: input errors stay one line
                self.phase = step.phase
                width, height = step.size
                self.task = self.progress.add_task(
                    f"phase {step.phase}/{step.phases} {width}x{height}", total=step.iterations, loss=step.loss
                )
            self.progress.update(self.task, completed=step.iteration, loss=step.loss)
        if self.save_every and step.iteration % self.save_every == 0:
            frame = self.output.with_name(f"{self.output.stem}_p{step.phase}_{step.iteration:04d}{self.output.suffix}")
            save_atomic(to_pil(step.image), frame)


def _paint(painter: Painter, inputs: dict, output: Path, quiet: bool, save_every: int) -> Image.Image:
    """Paint with progress bars, then print the library's warnings as notes."""
    with warnings.catch_warnings(record=True) as caught, _Reporter(output, quiet, save_every) as reporter:
        warnings.simplefilter("always", UserWarning)
        image = painter.paint(**inputs, callback=reporter)
    for warning in [] if quiet else caught:
        typer.echo(f"note: {cli_words(str(warning.message))}", err=True)
    return image


_DEFAULT_MATCHER, _DEFAULT_POOLING = MatcherChoice(_D.matcher), PoolingChoice(_D.pooling)
_DEFAULT_OPTIMIZER, _DEFAULT_PRECISION = OptimizerChoice(_D.optimizer), PrecisionChoice(_D.precision)


def paint_command(
    ctx: typer.Context,
    style: Annotated[
        list[Path] | None,
        typer.Option(
            "--style",
            "-s",
            help="The painting whose style to use; give it again to paint from several (--style-blend).",
        ),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the result (.png, .jpg).")] = Path(
        "output.png"
    ),
    target_map: Annotated[
        Path | None,
        typer.Option(
            "--map",
            "--content-map",
            "-m",
            help="Label map of the output: your doodle, or the content's map. Found as CONTENT_sem.png when not given.",
        ),
    ] = None,
    style_map: Annotated[
        list[Path] | None,
        typer.Option(
            "--style-map",
            help="Label map of the style painting, in the same colours (once per --style). "
            "Found as STYLE_sem.png when not given.",
        ),
    ] = None,
    content: Annotated[Path | None, typer.Option("--content", "-c", help="A photo whose layout to keep.")] = None,
    allow_missing_labels: Annotated[
        bool, typer.Option(help="Paint map colours the style's map lacks without semantics, instead of stopping.")
    ] = _D.allow_missing_labels,
    output_size: Annotated[
        str | None,
        typer.Option(
            help="WIDTHxHEIGHT of the result. Default: the map's or content's size (the style's for a texture). "
            "The style is scaled with it."
        ),
    ] = None,
    iterations: Annotated[
        str,
        typer.Option(
            help="Optimiser steps per phase: one number for every phase, or one per phase, coarse to fine "
            "(the first repeats when there are more phases; a list sets --phases). auto: 20,40 from a "
            "collage (a doodle or texture from one painting), 100,60,40 from a photo painted with patches, "
            "else 100,100,70."
        ),
    ] = format_iterations(_D.iterations),
    phases: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Resolutions, coarse to fine: 3 paints at 1/4, 1/2, then full size. "
            "Default: 2 from a collage, else 3 (or as many as --iterations lists).",
        ),
    ] = _D.phases,
    style_weight: Annotated[float, typer.Option(min=0, help="How strongly to copy the style.")] = _D.style_weight,
    content_weight: Annotated[
        float, typer.Option(min=0, help="How strongly to keep the content photo.")
    ] = _D.content_weight,
    semantic_weight: Annotated[
        float,
        typer.Option(
            min=0,
            help="How strictly patches keep to their own label: match score = ncc(features) + this * ncc(labels).",
        ),
    ] = _D.semantic_weight,
    smoothness: Annotated[
        float, typer.Option(min=0, help="Total-variation weight: higher is smoother, less noisy.")
    ] = _D.smoothness,
    style_loss: Annotated[
        StyleLossChoice | None,
        typer.Option(
            help="mrf: patches (Li & Wand, follows maps); gram: Gatys et al., position-free; both: their sum. "
            "Default: mrf, or both for texture synthesis."
        ),
    ] = None,
    style_layers: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated layers for the style loss, e.g. 3_1,4_1 "
            "(default 2_1,3_1,4_1 for mrf; 1_1..5_1 for gram; 1_1..4_1 for both in texture synthesis)."
        ),
    ] = None,
    content_layers: Annotated[
        str,
        typer.Option(
            help="Comma-separated layers for the content loss. By default the full-size phase, painted with "
            "patches, holds the content at 3_1 instead (its layout set; the network then stops at relu3_1)."
        ),
    ] = ",".join(_D.content_layers),
    style_scale: Annotated[
        float, typer.Option(min=0.05, help="Scale of the style painting, relative to the output's scale.")
    ] = _D.style_scale,
    style_blend: Annotated[
        str | None,
        typer.Option(
            help="Weights of several --style paintings, e.g. 0.7,0.3: the Gram term mixes by weight, and patches "
            "are matched among all paintings, favouring the heavier. Default: equal."
        ),
    ] = None,
    patch_size: Annotated[
        int, typer.Option(help="Side of the feature patches matched to the painting's: 1, 3 or 5.")
    ] = _D.patch_size,
    match_every: Annotated[
        int, typer.Option(min=1, help="Search for new patch matches every N steps (1: every step).")
    ] = _D.match_every,
    matcher: Annotated[
        MatcherChoice,
        typer.Option(
            help="fast: one exact search, then PatchMatch improves the previous matches (a fraction of the cost; "
            "no visible difference); exact: brute force every time (the reference)."
        ),
    ] = _DEFAULT_MATCHER,
    seed: Annotated[
        str,
        typer.Option(
            help="Start image: auto (the content photo; else a collage, for a doodle or texture from one "
            "painting; else label colours + noise, for several paintings; else noise), noise, content, "
            "labels (the doodle in its labels' colours, plus noise), collage (the doodle filled with pieces "
            "of the painting cut where it has the same labels, or for a texture the painting quilted anew: "
            "the layout is set, so --iterations auto is 20,40 in 2 phases), an image path, or a painter "
            "file from `doodle train` (.pt): its rendering of the doodle."
        ),
    ] = str(_D.seed),
    noise_ratio: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=1,
            help="Blend the start with noise: 0.9 starts from 90 % noise and 10 % of --seed's image "
            "(e.g. --seed content --noise-ratio 0.9). Default: the seed as it is.",
        ),
    ] = _D.noise_ratio,
    random_seed: Annotated[
        int, typer.Option(help="Seed of the random noise: the same seed gives the same image.")
    ] = _D.random_seed,
    preserve_colors: Annotated[
        PreserveColorsChoice | None,
        typer.Option(
            help="Style transfer keeping the content's colours: luminance (paint the luminance, keep the "
            "photo's chroma) or histogram (give the painting the photo's colours first)."
        ),
    ] = None,
    model: Annotated[
        ModelChoice | None, typer.Option(help="VGG depth. Default: implied by --weights, else vgg19.")
    ] = None,
    weights: Annotated[
        Path | None,
        typer.Option(
            help="A torchvision-format VGG state dict. Default: torchvision's ImageNet weights (downloaded once)."
        ),
    ] = None,
    preprocess: Annotated[
        PreprocessChoice | None,
        typer.Option(
            help="Input the weights expect: torchvision (RGB, normalised) or caffe (BGR, 0..255, mean removed). "
            "Default: implied by known weights, else torchvision."
        ),
    ] = None,
    pooling: Annotated[
        PoolingChoice, typer.Option(help="avg (smoother, the original doodle's) or max pooling.")
    ] = _DEFAULT_POOLING,
    optimizer: Annotated[OptimizerChoice, typer.Option(help="lbfgs (fast convergence) or adam.")] = _DEFAULT_OPTIMIZER,
    device: Annotated[str, typer.Option(help="auto (CUDA, else MPS, else CPU), cpu, cuda or mps.")] = _D.device,
    precision: Annotated[
        PrecisionChoice,
        typer.Option(
            help="Network arithmetic: auto (float16 with loss scaling on CUDA, bfloat16 on a CPU with native "
            "bfloat16, float32 elsewhere), float32, float16 or bfloat16."
        ),
    ] = _DEFAULT_PRECISION,
    save_every: Annotated[
        int, typer.Option(min=0, help="Also write OUTPUT_p<phase>_<step>.png every N steps (0: never).")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or messages.")] = False,
    from_: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Paint again the job that made this PNG (see `doodle info`): its inputs and settings, "
            "with any option given here instead.",
        ),
    ] = None,
) -> None:
    """Paint an image in the style of a painting.

    \b
    doodle:             --style Monet.jpg --style-map Monet_sem.png --map my_doodle.png
    semantic transfer:  --content photo.jpg --content-map photo_sem.png --style ... --style-map ...
    style transfer:     --content photo.jpg --style painting.jpg
    texture synthesis:  --style painting.jpg --output-size 512x512
    """
    options = dict(locals())  # every option, before anything else is defined here: see _settings
    inputs = dict(style=_one_or_many(style), style_map=_one_or_many(style_map), target_map=target_map, content=content)
    watching = ctx.info_name == "watch"
    try:
        check_output_path(output)
        if from_ is None:
            settings = _settings(options)
        else:
            settings, inputs = _job_from(from_, ctx, options)
        if inputs["style"] is None:
            raise DoodleError("give `style`: the painting whose style to use (or `from_`, an image doodle painted)")
        listed = [path for value in inputs.values() for path in (value if isinstance(value, list) else [value])]
        styles = inputs["style"] if isinstance(inputs["style"], list) else [inputs["style"]]
        _refuse_to_overwrite_inputs(
            output, [*listed, settings.weights, Path(settings.seed), from_], found_beside=[*styles, inputs["content"]]
        )
        if watching:
            if inputs["target_map"] is None:
                raise DoodleError("doodle watch needs `target_map`: the doodle file to watch")
            _watch_loop(settings, inputs, output, quiet, save_every)
            return
        image = _paint(Painter(settings), inputs, output, quiet, save_every)
        save_atomic(image, output)
    except PaintingStopped as error:
        _fail(_keep_last_good(error, output))
    except DoodleError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        _fail("interrupted; no output written")
    if not quiet:
        typer.echo(f"wrote {output} ({image.width}x{image.height})", err=True)


def _one_or_many(paths: list[Path] | None) -> Path | list[Path] | None:
    """A repeatable option's paths: None, the one path, or the list."""
    return paths[0] if paths and len(paths) == 1 else paths or None


def _refuse_to_overwrite_inputs(
    output: Path, inputs: list[str | Path | None], *, found_beside: list[Path | None]
) -> None:
    """Stop if the output would replace one of the inputs, or a map found beside one (``X_sem.png``)."""
    candidates = [Path(path) for path in inputs if path is not None]
    candidates += [semantic_maps.map_path_for(path) for path in found_beside if path is not None]
    for candidate in candidates:
        same = candidate.exists() and output.exists() and os.path.samefile(candidate, output)
        if same or os.path.realpath(candidate) == os.path.realpath(output):
            raise DoodleError(f"{output}: is also an input ({candidate}); choose another `output`")


def _keep_last_good(error: PaintingStopped, output: Path) -> str:
    """Save the last good image of a stopped painting; the message to show."""
    try:
        save_atomic(error.image, output)
    except DoodleError as failed:
        return f"{error}; and the last good image could not be kept: {failed}"
    return f"{error}; the last good image was written to {output}"


app.command("paint")(paint_command)
# One function, two commands: `doodle watch` takes every option of `doodle paint`.
app.command(
    "watch",
    help=(
        "Repaint whenever the doodle (--map) changes: save it from any paint program and look.\n\n"
        "Takes every option of `doodle paint`. Each result is written atomically to --output; a half-written or "
        "broken map is reported and retried, never a crash. Stop with Ctrl-C."
    ),
)(paint_command)


def _studio(**options) -> None:
    """Paint doodles in the browser: a local web page with the painting, its labels and a canvas.

    Takes every option of `doodle paint` but the outputs and maps (the page paints the doodle). The
    network and the painting's features stay loaded between paints. Needs the studio extra (see the
    README). Stop with Ctrl-C.
    """
    style, style_map, quiet = options["style"], options["style_map"], options["quiet"]
    host, port = options["host"], options["port"]
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        _fail('doodle studio needs its web server: pip install -e ".[studio]" (in a checkout) or "doodle[studio]"')
    from .studio import bind, serve
    from .studio.session import Session

    try:
        settings = _settings(options)
        painting = None if style is None else _open_painting(style, style_map, quiet)
        trained = None if options["painter"] is None else _trained_painter(options["painter"], painting)
        network = _network(settings)
        sock = bind(host, port)
    except DoodleError as error:
        _fail(str(error))
    address = sock.getsockname()
    shown = f"[{address[0]}]" if ":" in address[0] else address[0]
    if host not in ("127.0.0.1", "localhost", "::1") and not quiet:
        typer.echo(f"note: listening on {host}: anyone who can reach this computer can use the studio", err=True)
    typer.echo(f"doodle studio: http://{shown}:{address[1]}/  (Ctrl-C to stop)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve(Session(settings, network=network, painting=painting, trained=trained), sock)


def _trained_painter(path: Path, painting):
    """The studio's live-preview painter, checked against the painting's labels."""
    from .generator import TrainedPainter

    trained = TrainedPainter.load(path)
    if painting is not None:
        trained.check_palette(painting.palette, name=str(path), whose=f"{painting.name}'s map's")
    return trained


def _open_painting(style: Path, style_map: Path | None, quiet: bool):
    """The studio's first painting, with its map: given, found beside it, or proposed by segment."""
    from .studio.session import Painting

    image = np.asarray(load_rgb(style, what="painting"))
    found = style_map or semantic_maps.map_path_for(style)
    if style_map is None and not found.exists():
        if not quiet:
            typer.echo(f"note: no {found.name} beside {style}; segment proposed a map (see it in the page)", err=True)
        return Painting.open(image, None, style.name)
    with map_errors():
        map_rgb = semantic_maps.read_map(found)
    return Painting.open(image, map_rgb, style.name)


_ONE_STYLE_MAP = Annotated[
    Path | None,
    typer.Option(
        "--style-map",
        help="Label map of the style painting, in the same colours. Found as STYLE_sem.png when not given.",
    ),
]


def _paint_options(dropped: set[str], replaced: dict, added: dict) -> inspect.Signature:
    """`doodle paint`'s signature for another command: some options ``dropped``, some given another
    ``(annotation, default)`` (``replaced``), new ones ``added`` after them; all keyword-only."""
    paint = inspect.signature(paint_command, eval_str=True)
    parameters = [p for name, p in paint.parameters.items() if name not in dropped | {"ctx"}]
    parameters = [
        p.replace(annotation=replaced[p.name][0], default=replaced[p.name][1]) if p.name in replaced else p
        for p in parameters
    ]
    parameters += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
        for name, (annotation, default) in added.items()
    ]
    return paint.replace(parameters=[p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters])


def _command_with(function, signature: inspect.Signature, name: str) -> None:
    """Register ``function(**options)`` as command ``name`` with ``signature``'s options."""
    function.__signature__ = signature
    function.__annotations__ = {n: p.annotation for n, p in signature.parameters.items()}
    app.command(name)(function)


def _studio_signature() -> inspect.Signature:
    """`doodle paint`'s options without its inputs and outputs, with --style optional and --host, --port."""
    optional_style = Annotated[
        Path | None,
        typer.Option("--style", "-s", help="The painting to start with (its map beside it, or --style-map)."),
    ]
    host = Annotated[str, typer.Option(help="Address to listen on; 127.0.0.1 is this computer only.")]
    port = Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free one).")]
    painter = Annotated[
        Path | None,
        typer.Option(help="A painter file from `doodle train` for this painting: a live preview of every stroke."),
    ]
    return _paint_options(
        {"output", "target_map", "content", "save_every", "preserve_colors", "from_", "style_blend"},
        {"style": (optional_style, None), "style_map": (_ONE_STYLE_MAP, None)},
        {"host": (host, "127.0.0.1"), "port": (port, 8000), "painter": (painter, None)},
    )


_command_with(_studio, _studio_signature(), "studio")


def _train(**options) -> None:
    """Train a feed-forward painter of one painting: it then paints any doodle in that painting's labels
    in a fraction of a second (`doodle render`).

    The painter learns from doodles made of the painting's own map (cropped, scaled, mirrored,
    warped) and from random-blob maps, with the loss `doodle paint` optimises; the loss options
    below are those of `doodle paint`. Ctrl-C saves the latest weights; --resume continues them.
    """
    from .generator import TrainedPainter
    from .training import train_painter

    output, quiet, resume = options["output"], options["quiet"], options["resume"]
    progress = None
    try:
        if output.suffix != ".pt":
            raise DoodleError(f"{output}: a painter file ends in .pt")
        check_output_path(output, image=False)
        settings = _settings(options)
        _refuse_to_overwrite_inputs(
            output, [options["style"], options["style_map"], options["weights"]], found_beside=[options["style"]]
        )
        previous = None
        if resume:
            if not output.exists():
                raise DoodleError(f"{output}: nothing to resume; leave out --resume to start training")
            previous = TrainedPainter.load(output)
        progress = _TrainingProgress(quiet)
        painter = train_painter(
            options["style"],
            style_map=options["style_map"],
            settings=settings,
            size=options["size"],
            steps=options["steps"],
            batch=options["batch"],
            learning_rate=options["learning_rate"],
            collage_weight=options["collage_weight"],
            resume=previous,
            save=lambda painter: painter.save(output),
            callback=progress,
        )
    except DoodleError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        if progress is not None:
            progress.close()
        done = progress.step if progress is not None else 0
        _fail(f"interrupted at step {done}; the latest weights are in {output}: continue with --resume")
    progress.close()
    if not quiet:
        typer.echo(f"wrote {output} ({painter.steps} steps, {progress.seconds:.0f} s)", err=True)


class _TrainingProgress:
    """One progress bar over the training steps, with the loss (a running mean: one doodle's loss is noisy)."""

    def __init__(self, quiet: bool) -> None:
        self.step, self.seconds, self.mean = 0, 0.0, None
        self.progress = _bars(quiet, TextColumn("loss {task.fields[loss]:.4f}"))
        self.task = None

    def __call__(self, step) -> None:
        self.step, self.seconds = step.step, step.seconds
        self.mean = step.loss if self.mean is None else 0.95 * self.mean + 0.05 * step.loss
        if self.progress is None:
            return
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("training", total=step.steps, completed=step.step - 1, loss=self.mean)
        self.progress.update(self.task, completed=step.step, loss=self.mean)

    def close(self) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.stop()


def _train_signature() -> inspect.Signature:
    from .training import DEFAULT_COLLAGE_WEIGHT, DEFAULT_LEARNING_RATE, DEFAULT_SIZE, DEFAULT_STEPS

    output = Annotated[Path, typer.Option("--output", "-o", help="The painter file to write (.pt).")]
    style = Annotated[Path, typer.Option("--style", "-s", help="The painting whose style to use.")]
    return _paint_options(
        # What only the optimisation of one image uses; the loss and network options stay.
        {
            "target_map",
            "content",
            "save_every",
            "allow_missing_labels",
            "output_size",
            "iterations",
            "phases",
            "content_weight",
            "content_layers",
            "match_every",
            "seed",
            "noise_ratio",
            "preserve_colors",
            "optimizer",
            "from_",
            "style_blend",
        },
        {
            "output": (output, Path("painter.pt")),
            "style": (style, inspect.Parameter.empty),
            "style_map": (_ONE_STYLE_MAP, None),
        },
        {
            "size": (
                Annotated[int, typer.Option(min=32, help="Side of the square doodles trained on, in pixels.")],
                DEFAULT_SIZE,
            ),
            "steps": (Annotated[int, typer.Option(min=1, help="Training steps (Adam), in all.")], DEFAULT_STEPS),
            "batch": (Annotated[int, typer.Option(min=1, help="Doodles per step.")], 1),
            "learning_rate": (
                Annotated[float, typer.Option(min=0, help="Adam's first step size; it falls linearly to a tenth.")],
                DEFAULT_LEARNING_RATE,
            ),
            "collage_weight": (
                Annotated[
                    float,
                    typer.Option(
                        min=0,
                        help="How strongly the painter keeps to its collage of the painting (a squared "
                        "difference per pixel); 0 lets the style loss alone decide.",
                    ),
                ],
                DEFAULT_COLLAGE_WEIGHT,
            ),
            "resume": (Annotated[bool, typer.Option(help="Continue training the painter in --output.")], False),
        },
    )


_command_with(_train, _train_signature(), "train")


def _animate(**options) -> None:
    """Paint a sequence of doodles, or a clip, as one steady animation: PNG frames, a GIF, WebP or MP4.

    FRAMES are map images, folders of them or patterns (in natural order: frame2 before frame10).
    The first frame is painted as `doodle paint` paints; each later one starts from the frame before
    it, moved as the maps (or the clip) move, and is pulled toward it (--temporal-weight), so what
    does not move stays put, at a fraction of the cost. --between N morphs N in-between maps from
    each doodle to the next. --content paints a clip (photo frames or a video) with FRAMES as its
    maps, or without maps. Ctrl-C keeps the frames painted; --resume goes on after them.
    """
    from .animation import animate

    output, quiet = options["output"], options["quiet"]
    progress = _FramesProgress(quiet)
    try:
        if output.suffix:
            check_output_path(output)
        elif output.exists() and not output.is_dir():
            raise DoodleError(f"{output}: is a file; give a folder for the frames, or a .gif, .webp or .mp4")
        settings = _settings(options)
        style = _one_or_many(options["style"])
        if style is None:
            raise DoodleError("give `style`: the painting whose style to use")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            files = animate(
                style,
                options["frames"] or [],
                output,
                style_map=_one_or_many(options["style_map"]),
                content=options["content"],
                between=options["between"],
                fps=options["fps"],
                temporal_weight=options["temporal_weight"],
                resume=options["resume"],
                settings=settings,
                on_frame=progress.frame,
                callback=progress,
            )
    except DoodleError as error:
        progress.close()
        _fail(str(error))
    except KeyboardInterrupt:
        progress.close()
        _fail("interrupted; the frames painted so far are kept: continue with --resume")
    progress.close()
    for warning in [] if quiet else {str(w.message) for w in caught}:
        typer.echo(f"note: {cli_words(warning)}", err=True)
    if not quiet:
        typer.echo(f"wrote {output} ({len(files)} frames)", err=True)


class _FramesProgress:
    """One bar over the frames and one over the current frame's iterations."""

    def __init__(self, quiet: bool) -> None:
        self.progress = _bars(quiet)
        self.frames = self.steps = None
        self.phase = None

    def frame(self, index: int, count: int) -> None:
        if self.progress is None:
            return
        if self.frames is None:
            self.progress.start()
            self.frames = self.progress.add_task("frames", total=count, completed=index)
        self.progress.update(self.frames, completed=index)
        self.phase = None

    def __call__(self, step: Step) -> None:
        if self.progress is None:
            return
        if self.phase != step.phase:
            if self.steps is not None:
                self.progress.remove_task(self.steps)
            width, height = step.size
            self.steps = self.progress.add_task(
                f"phase {step.phase}/{step.phases} {width}x{height}", total=step.iterations
            )
            self.phase = step.phase
        self.progress.update(self.steps, completed=step.iteration)

    def close(self) -> None:
        if self.progress is not None and self.frames is not None:
            self.progress.update(self.frames, completed=self.progress.tasks[0].total)
            self.progress.stop()


def _animate_signature() -> inspect.Signature:
    from .temporal import TEMPORAL_WEIGHT

    frames = Annotated[
        list[Path] | None,
        typer.Argument(metavar="FRAMES", help="Frame maps: files, folders or patterns, in order."),
    ]
    content = Annotated[
        list[Path] | None,
        typer.Option(
            "--content", "-c", help="A clip to paint: photo frames (files, a folder, a pattern) or a video file."
        ),
    ]
    temporal = Annotated[
        float,
        typer.Option(min=0, help="Pull of each later frame toward the frame before, where that is known (0: none)."),
    ]
    output = Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="A folder for PNG frames, or a .gif, .webp or .mp4 (frames kept beside it)."
        ),
    ]
    between = Annotated[int, typer.Option(min=0, help="In-between maps morphed from each doodle to the next.")]
    fps = Annotated[float, typer.Option(min=0.1, help="Frames per second of the animation.")]
    resume = Annotated[bool, typer.Option(help="Keep the frames already painted and go on after the last.")]
    return _paint_options(
        {"target_map", "content", "save_every", "from_", "output"},
        {},
        {
            "frames": (frames, None),
            "output": (output, Path("animation.gif")),
            "content": (content, None),
            "between": (between, 0),
            "fps": (fps, 8.0),
            "temporal_weight": (temporal, TEMPORAL_WEIGHT),
            "resume": (resume, False),
        },
    )


_command_with(_animate, _animate_signature(), "animate")


@app.command("render")
def render_command(
    painter_file: Annotated[Path, typer.Argument(metavar="PAINTER", help="A painter file from `doodle train`.")],
    target_map: Annotated[Path, typer.Option("--map", "-m", help="The doodle to paint, in the painter's labels.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the result (.png, .jpg).")] = Path(
        "output.png"
    ),
    output_size: Annotated[
        str | None, typer.Option(help="WIDTHxHEIGHT of the result. Default: the map's size.")
    ] = None,
    random_seed: Annotated[
        int, typer.Option(help="Seed of the painter's collage and noise: another seed, another cut of the painting.")
    ] = _D.random_seed,
    device: Annotated[str, typer.Option(help="auto (CUDA, else MPS, else CPU), cpu, cuda or mps.")] = _D.device,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No messages.")] = False,
) -> None:
    """Paint a doodle with a trained painter: one pass of its network, any size."""
    from .generator import TrainedPainter

    try:
        check_output_path(output)
        _refuse_to_overwrite_inputs(output, [painter_file, target_map], found_beside=[])
        size = None if output_size is None else parse_size(output_size)
        painter = TrainedPainter.load(painter_file)
        painter.generator.to(resolve_device(device))
        image = painter.paint(target_map, size=size, seed=random_seed)
        settings = PaintSettings(output_size=size, random_seed=random_seed, device=device)
        record = provenance.job_record("render", settings, dict(painter=painter_file, target_map=target_map))
        save_atomic(provenance.with_record(image, record), output)
    except DoodleError as error:
        _fail(str(error))
    if not quiet:
        typer.echo(f"wrote {output} ({image.width}x{image.height})", err=True)


@app.command("info")
def info_command(
    image: Annotated[Path, typer.Argument(metavar="IMAGE", help="A PNG written by doodle.")],
) -> None:
    """Show what made an image: doodle's version, its inputs (and whether they changed since), every setting."""
    try:
        record = provenance.read_record(image)
        settings = provenance.settings_from_record(record, image)
    except DoodleError as error:
        _fail(str(error))
    typer.echo(f"{image}: made by doodle {record['doodle']} (doodle {record['command']})")
    frame = record.get("frame")
    if frame is not None:
        tied = frame["tied"]
        typer.echo(
            f"frame {frame['index']} of {frame['count']}"
            + ("" if tied is None else f", tied to {tied['after']} (temporal weight {tied['temporal_weight']})")
        )
    typer.echo("inputs:")
    for name, entry in provenance.entries(record):
        state = provenance.input_state(entry)
        found = ", found beside its image" if entry.get("found") else ""
        typer.echo(f"  {name:12} {entry['path'] or '-'}  sha256 {entry['sha256'][:12]}  ({state}{found})")
    typer.echo("settings:")
    flags = _flags()
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        flag = flags.get(field.name, field.name)
        typer.echo(f"  {flag:22} {_flag_value(field.name, value)}")
    if record["command"] == "paint":
        typer.echo(f"paint it again: doodle paint --from {image} -o OUT.png")


def _flag_value(name: str, value) -> str:
    """A setting as it is typed after its flag."""
    if value is None:
        return "(default)"
    if name == "output_size":
        return f"{value[0]}x{value[1]}"
    if name == "iterations":
        return format_iterations(value)
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def _network(settings: PaintSettings):
    """The settings' network, loaded once, on the painting device: for commands that paint again and again."""
    network = load_vgg(settings.model, settings.weights, preprocess=settings.preprocess, pooling=settings.pooling)
    return network.to(resolve_device(settings.device))


def _watch_loop(settings: PaintSettings, inputs: dict, output: Path, quiet: bool, save_every: int) -> None:
    # The painter keeps the network (on the painting device) and the painting's keys between paintings.
    painter = Painter(settings, network=_network(settings))

    def render() -> Image.Image:
        return _paint(painter, inputs, output, quiet, save_every)

    report = (lambda line: None) if quiet else (lambda line: typer.echo(cli_words(line), err=True))
    try:
        watch(inputs["target_map"], render, output, report=report)
    except KeyboardInterrupt:
        report("stopped")


def _print_labels(rgb: np.ndarray, name: str) -> None:
    """``name: N labels, WxH``, then one line per label: hex, RGB and the share of the image it covers
    (edges split as blends)."""
    try:
        palette = semantic_maps.find_palette(rgb, name=name)
    except semantic_maps.MapError as error:
        _fail(str(error))
    shares = semantic_maps.encode_labels(rgb, palette).reshape(len(palette), -1).mean(axis=1)
    typer.echo(f"{name}: {len(palette)} labels, {rgb.shape[1]}x{rgb.shape[0]}")
    for colour, share in zip(palette, shares, strict=True):
        red, green, blue = (int(c) for c in colour)
        typer.echo(f"  {semantic_maps.to_hex(colour)}  rgb({red:3d},{green:3d},{blue:3d})  {100 * share:5.1f}%")


@app.command("palette")
def palette_command(
    map_file: Annotated[Path, typer.Argument(metavar="MAP", help="A semantic map image.")],
) -> None:
    """Print the label colours of a map (hex) and the share of the image each covers."""
    try:
        rgb = semantic_maps.read_map(map_file)
    except semantic_maps.MapError as error:
        _fail(str(error))
    _print_labels(rgb, str(map_file))


@app.command("segment")
def segment_command(
    painting: Annotated[Path, typer.Argument(help="The painting to make a map of.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write the map. Default: PAINTING_sem.png.")
    ] = None,
    labels: Annotated[int, typer.Option("--labels", "-k", min=2, max=12, help="Number of regions.")] = 5,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing map file.")] = False,
) -> None:
    """Make a label map of a painting (flat regions, paint-friendly colours), to edit and repaint.

    Regions are superpixels merged by colour and brush-stroke texture; edit the map in any paint
    program, then `doodle paint --style PAINTING --style-map MAP --map EDITED.png`.
    """
    from semantic_maps.segment import segment

    target = output or semantic_maps.map_path_for(painting)
    try:
        check_output_path(target)
        _refuse_to_overwrite_inputs(target, [painting], found_beside=[])
        if target.exists() and not overwrite:
            raise DoodleError(f"{target}: exists (a hand-painted map?); pass --overwrite or choose --output")
        result = segment(np.asarray(load_rgb(painting, what="painting")), labels)
        save_atomic(Image.fromarray(result), target)
    except DoodleError as error:
        _fail(str(error))
    typer.echo(f"wrote {target}", err=True)
    _print_labels(result, str(target))


def main() -> None:
    """The ``doodle`` program: as ``app``, with a mistyped command line reported in one line too."""
    try:
        code = app(prog_name="doodle", standalone_mode=False)
    except TyperException as error:  # usage errors: unknown option, bad value, missing argument
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        if message:  # (no message: the help was shown, as for a bare `doodle`)
            typer.echo(f"error: {message} (see doodle --help)", err=True)
        code = getattr(error, "exit_code", 2)
    raise SystemExit(code or 0)
