"""``doodle palette`` and ``doodle segment``: label maps, read and made."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from PIL import Image

import semantic_maps

from ..errors import DoodleError
from ..images import check_output_path, load_rgb, refuse_to_overwrite_inputs, save_atomic
from .common import fail, note

__all__ = ["palette_command", "segment_command"]


def _print_labels(rgb: np.ndarray, name: str) -> None:
    """``name: N labels, WxH``, then one line per label: hex, RGB and the share of the image it covers
    (edges split as blends)."""
    try:
        palette = semantic_maps.find_palette(rgb, name=name)
    except semantic_maps.MapError as error:
        fail(str(error))
    from ..inputs import shaded_note

    shares = semantic_maps.encode_labels(rgb, palette).reshape(len(palette), -1).mean(axis=1)
    typer.echo(f"{name}: {len(palette)} labels, {rgb.shape[1]}x{rgb.shape[0]}")
    for colour, share in zip(palette, shares, strict=True):
        red, green, blue = (int(c) for c in colour)
        typer.echo(f"  {semantic_maps.to_hex(colour)}  rgb({red:3d},{green:3d},{blue:3d})  {100 * share:5.1f}%")
    for message in shaded_note(rgb, palette, name):
        note(message)


def palette_command(
    map_file: Annotated[Path, typer.Argument(metavar="MAP", help="A semantic map image.")],
) -> None:
    """Print the label colours of a map (hex) and the share of the image each covers."""
    try:
        rgb = semantic_maps.read_map(map_file)
    except semantic_maps.MapError as error:
        fail(str(error))
    _print_labels(rgb, str(map_file))


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
        refuse_to_overwrite_inputs(target, [painting], found_beside=[])
        if target.exists() and not overwrite:
            raise DoodleError(f"{target}: exists (a hand-painted map?); pass --overwrite or choose --output")
        result = segment(np.asarray(load_rgb(painting, what="painting")), labels)
        save_atomic(Image.fromarray(result), target)
    except DoodleError as error:
        fail(error)
    typer.echo(f"wrote {target}", err=True)
    _print_labels(result, str(target))
