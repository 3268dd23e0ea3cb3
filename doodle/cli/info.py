"""``doodle info``: what made an image."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from .. import provenance
from ..errors import DoodleError
from ..settings import format_iterations
from .common import fail, flag_spelling

__all__ = ["info_command"]


def info_command(
    image: Annotated[Path, typer.Argument(metavar="IMAGE", help="A PNG written by doodle.")],
) -> None:
    """Show what made an image: doodle's version, its inputs (and whether they changed since), every setting."""
    try:
        record = provenance.read_record(image)
        settings = provenance.settings_from_record(record, image)
    except DoodleError as error:
        fail(error)
    typer.echo(f"{image}: made by doodle {record['doodle']} (doodle {record['command']})")
    frame = record.get("frame")
    if frame is not None:
        tied = frame["tied"]
        typer.echo(
            f"frame {frame['index']} of {frame['count']}"
            + ("" if tied is None else f", tied to {tied['after']} (temporal weight {tied['temporal_weight']})")
        )
    typer.echo("inputs:")
    entries = provenance.entries(record)
    width = max([12] + [len(name) for name, _ in entries])
    for name, entry in entries:
        state = provenance.input_state(entry)
        found = ", found beside its image" if entry.get("found") else ""
        typer.echo(f"  {name:{width}} {entry['path'] or '-'}  sha256 {entry['sha256'][:12]}  ({state}{found})")
    typer.echo("settings:")
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        typer.echo(f"  {flag_spelling(field.name, None):22} {_flag_value(field.name, value)}")
    plan = record.get("plan")
    if plan is not None:
        _print_plan(plan)
    if record["command"] == "paint":
        typer.echo(f"paint it again: doodle paint --from {image} -o OUT.png")


def _print_plan(plan: dict) -> None:
    """The plan a paint followed: its mode, start, each phase's size, iterations and layers, and its
    pixel finish."""
    typer.echo(f"plan: {plan['mode']}, from {plan['start']}")
    for number, phase in enumerate(plan["phases"], start=1):
        width, height = phase["size"]
        terms = [
            f"{term} {','.join(layer.removeprefix('relu') for layer in phase[key])}"
            for term, key in (("patches", "mrf_layers"), ("gram", "gram_layers"), ("content", "content_layers"))
            if phase[key]
        ]
        typer.echo(f"  phase {number}  {width}x{height}  {phase['iterations']} iterations  {'; '.join(terms)}")
    finish = plan.get("finish")
    if finish is not None:
        width, height = finish["size"]
        typer.echo(f"  finish   {width}x{height}  the painting's own pixels (guided patch synthesis)")
        if "iterations" in finish:  # (recorded from 0.6 on)
            typer.echo(
                f"           levels {','.join(map(str, finish['iterations']))} iterations; patches "
                f"{finish['patch_size']}x{finish['patch_size']}; uniformity {finish['uniformity']:g}; "
                f"last vote {finish['last_vote']}x{finish['last_vote']}"
            )
            weights = ", ".join(f"{name} {weight:g}" for name, weight in finish["guides"].items())
            typer.echo(f"           guides: {weights or 'none'}")


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
