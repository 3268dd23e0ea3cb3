"""``doodle batch``: many jobs from a file, on a local Ray cluster or a running one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import DoodleError
from .common import bars, fail

__all__ = ["batch_command"]


def batch_command(
    jobs_file: Annotated[
        Path, typer.Argument(metavar="JOBS", help="A JSONL file: one job a line, keys as doodle paint's options.")
    ],
    workers: Annotated[
        int, typer.Option(min=1, help="Workers of a local cluster; this machine's CPU threads are split between them.")
    ] = 1,
    address: Annotated[
        str | None, typer.Option(help="Join a running Ray cluster (e.g. head:6379) instead of starting one.")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Skip the jobs whose output holds the record they would write.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or messages.")] = False,
) -> None:
    """Paint many jobs from a file, on a local Ray cluster or a running one.

    One job a line, a JSON object: doodle paint's options with underscores, and output ("command":
    "render" for doodle render). Each worker keeps a painting's features for all its jobs.

    \b
    {"style": "Monet.jpg", "map": "doodle1.png", "output": "out/1.png", "output_size": "512x384"}
    {"style": "Monet.jpg", "map": "doodle2.png", "output": "out/2.png", "random_seed": 3}
    """
    from ..batch import run_jobs
    from ..jobs import job_spelling, read_jobs

    try:
        jobs = read_jobs(jobs_file)
    except DoodleError as error:
        fail(error)
    progress = bars(quiet)
    task = None if progress is None else progress.add_task("jobs", total=len(jobs))
    lines = []

    ended = set()  # the jobs' lines

    def on_done(job, outcome) -> None:
        ended.add(job.line)
        name = job.name(jobs_file)
        if outcome.status == "failed":
            lines.append(f"error: {name}: {outcome.error.render(job_spelling)}")
        elif outcome.retries and not quiet:
            lines.append(f"note: {name}: its worker died; a new one painted it again")
        for note in [] if quiet else outcome.notes:
            lines.append(f"note: {name}: {DoodleError(note).render(job_spelling)}")
        if progress is not None:
            progress.update(task, advance=1)
            for line in lines:
                progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
            lines.clear()

    try:
        start = None if progress is None else progress.start
        outcomes = run_jobs(jobs, workers=workers, address=address, resume=resume, on_start=start, on_done=on_done)
    except DoodleError as error:
        if progress is not None:
            progress.stop()
        fail(error)
    except KeyboardInterrupt:
        if progress is not None:
            progress.stop()
        for job in jobs:
            if job.line not in ended:
                typer.echo(f"error: {job.name(jobs_file)}: not painted (interrupted)", err=True)
        fail("interrupted; the outputs written so far are whole: continue with --resume")
    if progress is not None:
        progress.stop()
    for line in lines:
        typer.echo(line, err=True)
    failed = sum(outcome.status == "failed" for outcome in outcomes.values())
    kept = sum(outcome.status == "kept" for outcome in outcomes.values())
    if not quiet:
        typer.echo(f"{len(jobs) - failed - kept} painted, {kept} kept, {failed} failed", err=True)
    if failed:
        raise typer.Exit(1)
