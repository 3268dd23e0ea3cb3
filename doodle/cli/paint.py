"""``doodle paint`` (one image) and ``doodle watch`` (again whenever the doodle is saved): one command,
two names, the same options."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import TextColumn

from .. import provenance
from ..errors import DoodleError, PaintingStopped
from ..images import check_output_path, refuse_to_overwrite_inputs, save_atomic, to_pil
from ..painter import Painter, Result, Step, load_network
from ..settings import PaintSettings
from ..watch import watch
from . import options as o
from .common import bars, cli_words, fail, note

__all__ = ["paint_command", "WATCH_HELP"]

WATCH_HELP = (
    "Repaint whenever the doodle (--map) changes: save it from any paint program and look.\n\n"
    "Takes every option of `doodle paint`. Each result is written atomically to --output; a half-written or "
    "broken map is reported and retried, never a crash. Stop with Ctrl-C."
)
_INPUTS = ("style", "style_map", "target_map", "content", "guides")


def paint_command(
    ctx: typer.Context,
    style: o.Styles = None,
    output: o.Output = Path("output.png"),
    target_map: o.TargetMap = None,
    style_map: o.StyleMaps = None,
    content: o.Content = None,
    guides: o.Guides = None,
    guide_weights: o.GuideWeights = None,
    position_guide: o.PositionGuide = o.D.position_guide,
    luminance_guide: o.LuminanceGuide = None,
    allow_missing_labels: o.AllowMissingLabels = o.D.allow_missing_labels,
    output_size: o.OutputSize = None,
    iterations: o.Iterations = o.DEFAULT_ITERATIONS,
    phases: o.Phases = o.D.phases,
    style_weight: o.StyleWeight = o.D.style_weight,
    content_weight: o.ContentWeight = o.D.content_weight,
    semantic_weight: o.SemanticWeight = o.D.semantic_weight,
    smoothness: o.Smoothness = o.D.smoothness,
    style_loss: o.StyleLoss = None,
    style_layers: o.StyleLayers = None,
    content_layers: o.ContentLayers = o.DEFAULT_CONTENT,
    style_scale: o.StyleScale = o.D.style_scale,
    style_blend: o.StyleBlend = None,
    patch_size: o.PatchSize = o.D.patch_size,
    match_every: o.MatchEvery = o.D.match_every,
    matcher: o.Matcher = o.DEFAULT_MATCHER,
    seed: o.Seed = str(o.D.seed),
    noise_ratio: o.NoiseRatio = o.D.noise_ratio,
    random_seed: o.RandomSeed = o.D.random_seed,
    preserve_colors: o.PreserveColors = None,
    finish: o.Finish = None,
    working_size: o.WorkingSize = None,
    last_vote: o.LastVote = o.D.last_vote,
    model: o.Model = None,
    weights: o.Weights = None,
    preprocess: o.PreprocessOption = None,
    pooling: o.PoolingOption = o.DEFAULT_POOLING,
    optimizer: o.OptimizerOption = o.DEFAULT_OPTIMIZER,
    device: o.Device = o.D.device,
    precision: o.PrecisionOption = o.DEFAULT_PRECISION,
    save_every: o.SaveEvery = 0,
    quiet: o.Quiet = False,
    from_: o.From = None,
) -> None:
    """Paint an image in the style of a painting.

    \b
    doodle:             --style Monet.jpg --style-map Monet_sem.png --map my_doodle.png
    semantic transfer:  --content photo.jpg --content-map photo_sem.png --style ... --style-map ...
    style transfer:     --content photo.jpg --style painting.jpg
    texture synthesis:  --style painting.jpg --output-size 512x512
    guided synthesis:   --style painting.jpg --guide painting_seg.png face_seg.png --guide-weight 1.5
    """
    _run(ctx, dict(ctx.params))


def _run(ctx: typer.Context, options: dict) -> None:
    output, quiet, save_every = Path(options["output"]), options["quiet"], options["save_every"]
    try:
        check_output_path(output)
        settings, inputs = _job(ctx, options)
        if ctx.info_name == "watch":
            if inputs["target_map"] is None:
                raise DoodleError("doodle watch needs `target_map`: the doodle file to watch")
            _watch_loop(settings, inputs, output, quiet, save_every)
            return
        result = _paint(Painter(settings), inputs, output, quiet, save_every)
        result.save(output)
    except PaintingStopped as error:
        fail(_keep_last_good(error, output))
    except DoodleError as error:
        fail(error)
    except KeyboardInterrupt:
        fail("interrupted; no output written")
    if not quiet:
        typer.echo(f"wrote {output} ({result.image.width}x{result.image.height})", err=True)


def _job(ctx: typer.Context, options: dict) -> tuple[PaintSettings, dict]:
    """The settings and inputs to paint: the options', or with ``--from`` the recorded job's with the
    options given now instead; checked not to overwrite any input."""
    inputs = dict(
        style=o.one_or_many(options["style"]),
        style_map=o.one_or_many(options["style_map"]),
        target_map=options["target_map"],
        content=options["content"],
        guides=[tuple(map(Path, pair)) for pair in options["guides"]] if options["guides"] else None,
    )
    source = options["from_"]
    if source is None:
        settings = o.settings_of(ctx)
    else:
        settings, inputs = _job_from(Path(source), ctx, options, inputs)
    if inputs["style"] is None:
        raise DoodleError("give `style`: the painting whose style to use (or `from_`, an image doodle painted)")
    listed = [path for value in inputs.values() for path in (value if isinstance(value, list) else [value])]
    listed = [part for path in listed for part in (path if isinstance(path, tuple) else [path])]
    styles = inputs["style"] if isinstance(inputs["style"], list) else [inputs["style"]]
    refuse_to_overwrite_inputs(
        Path(options["output"]),
        [*listed, settings.weights, Path(settings.seed), source],
        found_beside=[*styles, inputs["content"]],
    )
    return settings, inputs


def _job_from(source: Path, ctx: typer.Context, options: dict, named: dict) -> tuple[PaintSettings, dict]:
    """The settings and inputs of the job that made ``source``, with the options given now instead."""
    record = provenance.read_record(source)
    if record["command"] != "paint":
        raise DoodleError(f"{source}: made by doodle {record['command']}, and `from_` repaints what doodle paint made")
    given = o.typed(ctx)
    settings = provenance.settings_from_record(record, source)
    settings = settings.replace(**{k: v for k, v in o.setting_values(options).items() if k in given})
    inputs = dict.fromkeys(_INPUTS)
    inputs.update(provenance.input_paths(record, source))
    inputs.update({name: named[name] for name in _INPUTS if name in given})
    for name, entry in provenance.entries(record):
        state = provenance.input_state(entry)
        if state in ("changed", "gone") and name.split()[0] not in given:
            what = "has changed" if state == "changed" else "is gone"
            typer.echo(f"warning: {entry['path']} ({name}) {what} since {source} was painted", err=True)
    return settings, inputs


class _Reporter:
    """Progress bar per phase with the current loss; intermediate frames with --save-every."""

    def __init__(self, output: Path, quiet: bool, save_every: int) -> None:
        self.output, self.save_every = output, save_every
        self.progress = bars(quiet, TextColumn("loss {task.fields[loss]:.4f}"))
        self.task = None
        self.phase = 0

    def __enter__(self) -> _Reporter:
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


def _paint(painter: Painter, inputs: dict, output: Path, quiet: bool, save_every: int) -> Result:
    """Paint with progress bars, then print the notes on the inputs."""
    with _Reporter(output, quiet, save_every) as reporter:
        result = painter.paint(**inputs, callback=reporter)
    for message in [] if quiet else result.notes:
        note(message)
    return result


def _keep_last_good(error: PaintingStopped, output: Path) -> str:
    """Save the last good image of a stopped painting, beside ``output`` when that exists (a failed run
    replaces no file); the message to show."""
    if error.image is None:
        return f"{error}; no step finished, so no image was written"
    kept = output if not output.exists() else output.with_name(f"{output.stem}_stopped{output.suffix}")
    try:
        save_atomic(error.image, kept)
    except DoodleError as failed:
        return f"{error}; and the last good image could not be kept: {failed}"
    if kept != output:
        return f"{error}; the last good image was written to {kept} ({output} is as it was)"
    return f"{error}; the last good image was written to {output}"


def _watch_loop(settings: PaintSettings, inputs: dict, output: Path, quiet: bool, save_every: int) -> None:
    # The painter keeps the network (on the painting device) and the painting's keys between paintings.
    painter = Painter(settings, network=load_network(settings))

    def render():
        return _paint(painter, inputs, output, quiet, save_every).recorded()

    report = (lambda line: None) if quiet else (lambda line: typer.echo(cli_words(line), err=True))
    try:
        watch(inputs["target_map"], render, output, report=report)
    except KeyboardInterrupt:
        report("stopped")
