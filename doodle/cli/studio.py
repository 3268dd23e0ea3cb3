"""``doodle studio``: the web studio around one painter."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

import semantic_maps

from ..errors import DoodleError, map_errors
from ..images import load_rgb
from ..painter import load_network
from . import options as o
from .common import fail

__all__ = ["studio_command"]

Host = Annotated[str, typer.Option(help="Address to listen on; 127.0.0.1 is this computer only.")]
Port = Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free one).")]
MaxMemory = Annotated[
    float | None,
    typer.Option(
        min=0.1,
        help="The most memory one paint may take, in GB; a page asking for more is refused. Default: half of it.",
    ),
]
PainterFile = Annotated[
    Path | None,
    typer.Option(help="A painter file from `doodle train` for this painting: a live preview of every stroke."),
]


def studio_command(
    ctx: typer.Context,
    style: o.StudioStyle = None,
    style_map: o.OneStyleMap = None,
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
    patch_size: o.PatchSize = o.D.patch_size,
    match_every: o.MatchEvery = o.D.match_every,
    matcher: o.Matcher = o.DEFAULT_MATCHER,
    seed: o.Seed = str(o.D.seed),
    noise_ratio: o.NoiseRatio = o.D.noise_ratio,
    random_seed: o.RandomSeed = o.D.random_seed,
    position_guide: o.PositionGuide = o.D.position_guide,
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
    host: Host = "127.0.0.1",
    port: Port = 8000,
    painter: PainterFile = None,
    max_memory: MaxMemory = None,
) -> None:
    """Paint doodles in the browser: a local web page with the painting, its labels and a canvas.

    Takes every option of `doodle paint` but the outputs and maps (the page paints the doodle). The
    network and the painting's features stay loaded between paints. Needs the studio extra (see the
    README). Stop with Ctrl-C.
    """
    _serve(ctx)


def _serve(ctx: typer.Context) -> None:
    options = ctx.params
    style, style_map, quiet = options["style"], options["style_map"], options["quiet"]
    host, port = options["host"], options["port"]
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        fail('doodle studio needs its web server: pip install -e ".[studio]" (in a checkout) or "doodle[studio]"')
    from ..studio import bind, serve
    from ..studio.session import Session, default_memory_limit

    try:
        settings = o.settings_of(ctx)
        painting = None if style is None else _open_painting(Path(style), style_map, quiet)
        trained = None if options["painter"] is None else _trained_painter(Path(options["painter"]), painting)
        network = load_network(settings)
        sock = bind(host, port)
    except DoodleError as error:
        fail(error)
    address = sock.getsockname()
    shown = f"[{address[0]}]" if ":" in address[0] else address[0]
    if host not in ("127.0.0.1", "localhost", "::1") and not quiet:
        typer.echo(f"note: listening on {host}: anyone who can reach this computer can use the studio", err=True)
    typer.echo(f"doodle studio: http://{shown}:{address[1]}/  (Ctrl-C to stop)", err=True)
    try:
        limit = default_memory_limit() if options["max_memory"] is None else int(options["max_memory"] * 1e9)
        serve(Session(settings, network=network, painting=painting, trained=trained, memory_limit=limit), sock)
    except KeyboardInterrupt:  # Ctrl-C: the way to end the studio, as `doodle watch` (a paint under way stops)
        if not quiet:
            typer.echo("stopped", err=True)


def _trained_painter(path: Path, painting):
    """The studio's live-preview painter, checked against the painting's labels."""
    from ..generator import TrainedPainter

    trained = TrainedPainter.load(path)
    if painting is not None:
        trained.check_palette(painting.palette, name=str(path), whose=f"{painting.name}'s map's")
    return trained


def _open_painting(style: Path, style_map: Path | None, quiet: bool):
    """The studio's first painting, with its map: given, found beside it, or proposed by segment."""
    from ..studio.session import Painting

    image = np.asarray(load_rgb(style, what="painting"))
    found = style_map or semantic_maps.map_path_for(style)
    if style_map is None and not found.exists():
        if not quiet:
            typer.echo(f"note: no {found.name} beside {style}; segment proposed a map (see it in the page)", err=True)
        return Painting.open(image, None, style.name)
    with map_errors():
        map_rgb = semantic_maps.read_map(found)
    return Painting.open(image, map_rgb, style.name)
