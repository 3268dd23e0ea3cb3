"""``doodle animate``: a sequence of doodles, or a clip, painted as one steady animation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import DoodleError
from ..painter import Step
from ..temporal import TEMPORAL_WEIGHT
from . import options as o
from .common import bars, fail, note

__all__ = ["animate_command"]

Frames = Annotated[
    list[Path] | None, typer.Argument(metavar="FRAMES", help="Frame maps: files, folders or patterns, in order.")
]
AnimationOutput = Annotated[
    Path,
    typer.Option("--output", "-o", help="A folder for PNG frames, or a .gif, .webp or .mp4 (frames kept beside it)."),
]
Clip = Annotated[
    list[Path] | None,
    typer.Option("--content", "-c", help="A clip to paint: photo frames (files, a folder, a pattern) or a video file."),
]
Between = Annotated[int, typer.Option(min=0, help="In-between maps morphed from each doodle to the next.")]
Fps = Annotated[float, typer.Option(min=0.1, help="Frames per second of the animation.")]
TemporalWeight = Annotated[
    float, typer.Option(min=0, help="Pull of each later frame toward the frame before, where that is known (0: none).")
]
Resume = Annotated[bool, typer.Option(help="Keep the frames already painted and go on after the last.")]


def animate_command(
    ctx: typer.Context,
    style: o.Styles = None,
    style_map: o.StyleMaps = None,
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
    position_guide: o.PositionGuide = o.D.position_guide,
    luminance_guide: o.LuminanceGuide = None,
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
    quiet: o.Quiet = False,
    frames: Frames = None,
    output: AnimationOutput = Path("animation.gif"),
    content: Clip = None,
    between: Between = 0,
    fps: Fps = 8.0,
    temporal_weight: TemporalWeight = TEMPORAL_WEIGHT,
    resume: Resume = False,
) -> None:
    """Paint a sequence of doodles, or a clip, as one steady animation: PNG frames, a GIF, WebP or MP4.

    FRAMES are map images, folders of them or patterns (in natural order: frame2 before frame10).
    The first frame is painted as `doodle paint` paints; each later one starts from the frame before
    it, moved as the maps (or the clip) move, and is pulled toward it (--temporal-weight), so what
    does not move stays put, at a fraction of the cost. --between N morphs N in-between maps from
    each doodle to the next. --content paints a clip (photo frames or a video) with FRAMES as its
    maps, or without maps. Ctrl-C keeps the frames painted; --resume goes on after them.
    """
    _animate(ctx)


def _animate(ctx: typer.Context) -> None:
    options = ctx.params
    from ..animation import animate, check_animation_output

    output, quiet = Path(options["output"]), options["quiet"]
    progress = _FramesProgress(quiet)
    notes = []
    try:
        check_animation_output(output)
        settings = o.settings_of(ctx)
        style = o.one_or_many(options["style"])
        if style is None:
            raise DoodleError("give `style`: the painting whose style to use")
        files = animate(
            style,
            options["frames"] or [],
            output,
            style_map=o.one_or_many(options["style_map"]),
            content=options["content"],
            between=options["between"],
            fps=options["fps"],
            temporal_weight=options["temporal_weight"],
            resume=options["resume"],
            settings=settings,
            on_frame=progress.frame,
            on_notes=notes.extend,
            callback=progress,
        )
    except DoodleError as error:
        progress.close()
        fail(error)
    except KeyboardInterrupt:
        progress.close()
        fail("interrupted; the frames painted so far are kept: continue with --resume")
    progress.close()
    for message in [] if quiet else dict.fromkeys(notes):
        note(message)
    if not quiet:
        typer.echo(f"wrote {output} ({len(files)} frames)", err=True)


class _FramesProgress:
    """One bar over the frames and one over the current frame's iterations."""

    def __init__(self, quiet: bool) -> None:
        self.progress = bars(quiet)
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
