"""``doodle train``: a feed-forward painter of one painting, and ``doodle render``: a doodle painted by one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TextColumn

from ..errors import DoodleError
from ..images import check_output_path, refuse_to_overwrite_inputs
from ..settings import PaintSettings, parse_size
from ..training import DEFAULT_COLLAGE_WEIGHT, DEFAULT_LEARNING_RATE, DEFAULT_SIZE, DEFAULT_STEPS
from . import options as o
from .common import bars, fail, note

__all__ = ["train_command", "render_command"]

PainterOutput = Annotated[Path, typer.Option("--output", "-o", help="The painter file to write (.pt).")]
Size = Annotated[int, typer.Option(min=32, help="Side of the square doodles trained on, in pixels.")]
Steps = Annotated[int, typer.Option(min=1, help="Training steps (Adam), in all.")]
Batch = Annotated[int, typer.Option(min=1, help="Doodles per step.")]
LearningRate = Annotated[float, typer.Option(min=0, help="Adam's first step size; it falls linearly to a tenth.")]
CollageWeight = Annotated[
    float,
    typer.Option(
        min=0,
        help="How strongly the painter keeps to its collage of the painting (a squared "
        "difference per pixel); 0 lets the style loss alone decide.",
    ),
]
Resume = Annotated[bool, typer.Option(help="Continue training the painter in --output.")]


def train_command(
    ctx: typer.Context,
    style: o.OneStyle,
    output: PainterOutput = Path("painter.pt"),
    style_map: o.OneStyleMap = None,
    style_weight: o.StyleWeight = o.D.style_weight,
    semantic_weight: o.SemanticWeight = o.D.semantic_weight,
    smoothness: o.Smoothness = o.D.smoothness,
    style_loss: o.StyleLoss = None,
    style_layers: o.StyleLayers = None,
    style_scale: o.StyleScale = o.D.style_scale,
    patch_size: o.PatchSize = o.D.patch_size,
    matcher: o.Matcher = o.DEFAULT_MATCHER,
    random_seed: o.RandomSeed = o.D.random_seed,
    model: o.Model = None,
    weights: o.Weights = None,
    preprocess: o.PreprocessOption = None,
    pooling: o.PoolingOption = o.DEFAULT_POOLING,
    device: o.Device = o.D.device,
    precision: o.PrecisionOption = o.DEFAULT_PRECISION,
    quiet: o.Quiet = False,
    size: Size = DEFAULT_SIZE,
    steps: Steps = DEFAULT_STEPS,
    batch: Batch = 1,
    learning_rate: LearningRate = DEFAULT_LEARNING_RATE,
    collage_weight: CollageWeight = DEFAULT_COLLAGE_WEIGHT,
    resume: Resume = False,
) -> None:
    """Train a feed-forward painter of one painting: it then paints any doodle in that painting's labels
    in a fraction of a second (`doodle render`).

    The painter learns from doodles made of the painting's own map (cropped, scaled, mirrored,
    warped) and from random-blob maps, with the loss `doodle paint` optimises; the loss options
    below are those of `doodle paint`. Ctrl-C saves the latest weights; --resume continues them.
    """
    _train(ctx)


def _train(ctx: typer.Context) -> None:
    options = ctx.params
    from ..generator import TrainedPainter
    from ..training import train_painter

    output, quiet = Path(options["output"]), options["quiet"]
    progress = None
    try:
        if output.suffix != ".pt":
            raise DoodleError(f"{output}: a painter file ends in .pt", path=output)
        check_output_path(output, image=False)
        settings = o.settings_of(ctx)
        style = Path(options["style"])
        refuse_to_overwrite_inputs(output, [style, options["style_map"], options["weights"]], found_beside=[style])
        previous = None
        if options["resume"]:
            if not output.exists():
                raise DoodleError(f"{output}: nothing to resume; leave out --resume to start training", path=output)
            previous = TrainedPainter.load(output)
        progress = _TrainingProgress(quiet)
        painter = train_painter(
            style,
            style_map=options["style_map"],
            settings=settings,
            **{name: options[name] for name in ("size", "steps", "batch", "learning_rate", "collage_weight")},
            resume=previous,
            save=lambda painter: painter.save(output),
            callback=progress,
            on_notes=None if quiet else progress.notes,
        )
    except DoodleError as error:
        fail(error)
    except KeyboardInterrupt:
        if progress is not None:
            progress.close()
        if progress is None or progress.step == 0:  # still setting up: nothing was saved
            fail(f"interrupted before the first step; {output} was not written")
        fail(f"interrupted at step {progress.step}; the latest weights are in {output}: continue with --resume")
    progress.close()
    if not quiet:
        typer.echo(f"wrote {output} ({painter.steps} steps, {progress.seconds:.0f} s)", err=True)


class _TrainingProgress:
    """One progress bar over the training steps, with the loss (a running mean: one doodle's loss is noisy)."""

    def __init__(self, quiet: bool) -> None:
        self.step, self.seconds, self.mean = 0, 0.0, None
        self.progress = bars(quiet, TextColumn("loss {task.fields[loss]:.4f}"))
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

    @staticmethod
    def notes(messages: list[str]) -> None:
        """The notes on the painting and its map, before the first step (the bar starts with it)."""
        for message in messages:
            note(message)

    def close(self) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.stop()


def render_command(
    painter_file: Annotated[Path, typer.Argument(metavar="PAINTER", help="A painter file from `doodle train`.")],
    target_map: Annotated[Path, typer.Option("--map", "-m", help="The doodle to paint, in the painter's labels.")],
    output: o.Output = Path("output.png"),
    output_size: Annotated[
        str | None, typer.Option(help="WIDTHxHEIGHT of the result. Default: the map's size.")
    ] = None,
    random_seed: Annotated[
        int, typer.Option(help="Seed of the painter's collage and noise: another seed, another cut of the painting.")
    ] = o.D.random_seed,
    device: o.Device = o.D.device,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No messages.")] = False,
) -> None:
    """Paint a doodle with a trained painter: one pass of its network, any size."""
    from ..generator import render_to_file

    try:
        check_output_path(output)
        refuse_to_overwrite_inputs(output, [painter_file, target_map], found_beside=[])
        size = None if output_size is None else parse_size(output_size)
        settings = PaintSettings(output_size=size, random_seed=random_seed, device=device)
        image = render_to_file(painter_file, target_map, output, settings)
    except DoodleError as error:
        fail(error)
    if not quiet:
        typer.echo(f"wrote {output} ({image.width}x{image.height})", err=True)
