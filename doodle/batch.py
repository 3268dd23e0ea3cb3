"""Many jobs on a cluster (`doodle batch`), with Ray: the ``batch`` extra.

One Ray actor per worker holds a :class:`~doodle.Painter` (per network), so a painting's features are
computed once for all the jobs of that painting it is given; the driver gives each free worker the
next job of the painting it holds, else one of a painting no other worker holds, else the next. A
local cluster splits this machine's CPU threads between the workers; ``address`` joins a running
cluster (one GPU a worker where the cluster has GPUs). A worker that dies is replaced and its job
painted again; each output is written atomically, so a job is either painted whole or not written.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import DoodleError
from .images import check_output_path
from .jobs import Job
from .settings import PaintSettings

__all__ = ["Outcome", "run_jobs", "ATTEMPTS"]

ATTEMPTS = 3  # a job whose worker dies this often is given up
_NETWORK = ("model", "weights", "preprocess", "pooling", "device", "precision")
_INSTALL = 'doodle batch needs Ray: pip install -e ".[batch]" (in a checkout) or "doodle[batch]"'


@dataclass(frozen=True)
class Outcome:
    """What became of a job: ``painted``, ``kept`` (``resume``: its output holds this job's record
    already) or ``failed`` (``error`` says why, its fields kept across Ray: the command line spells its
    parameters); ``notes`` on its inputs; ``retries``: how often a worker died painting it."""

    status: str
    error: DoodleError | None = None
    notes: tuple[str, ...] = ()
    retries: int = 0


class Worker:
    """What runs in each worker process: painters by network, kept between jobs."""

    def __init__(self, threads: int | None = None) -> None:
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        self.painters = {}

    def _painter(self, settings: PaintSettings):
        from .painter import Painter

        key = tuple(getattr(settings, name) for name in _NETWORK)
        if key not in self.painters:
            self.painters = {key: Painter(settings, incremental=False)}  # (one network at a time)
        return self.painters[key]

    def run(self, job: Job, resume: bool) -> Outcome:
        """Paint (or render) ``job`` and write its output, making its folder if need be; never raises
        for the job's own problems (a folder made for a job that failed is removed again)."""
        folder = job.output.parent
        made = not folder.exists()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            check_output_path(job.output)
            return self._render(job) if job.command == "render" else self._paint(job, resume)
        except DoodleError as error:  # (PaintingStopped too: a batch keeps no image a step did not finish)
            outcome = Outcome("failed", error)
        except Exception as error:  # noqa: BLE001 - torch's failures, out of memory, a bug: this job alone fails
            outcome = Outcome("failed", DoodleError(f"painting failed: {_first_line(error)}"))
        if made and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        return outcome

    def _paint(self, job: Job, resume: bool) -> Outcome:
        painter = self._painter(job.settings)
        if resume and job.output.is_file() and _same_record(painter, job):
            return Outcome("kept")
        result = painter.paint(**job.inputs, settings=job.settings)
        result.save(job.output)
        return Outcome("painted", notes=result.notes)

    def _render(self, job: Job) -> Outcome:
        from .generator import render_to_file

        render_to_file(job.inputs["painter"], job.inputs["target_map"], job.output, job.settings)
        return Outcome("painted")


def _first_line(error: BaseException) -> str:
    """``TypeError: the first line of its message`` (at most 200 characters of it)."""
    text = str(error).strip()
    return type(error).__name__ + (f": {text.splitlines()[0][:200]}" if text else "")


def _same_record(painter, job: Job) -> bool:
    """Whether ``job.output`` holds the record this job would write (same inputs, settings and plan)."""
    from .painter import record_of
    from .provenance import read_record

    try:
        existing = read_record(job.output)
    except DoodleError:
        return False
    inputs, plan = painter.plan(**job.inputs, settings=job.settings)
    return json.loads(json.dumps(record_of(inputs, plan))) == existing


def _ray():
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")  # (Ray's own retries, in C++, print warnings)
    try:
        import ray
    except ImportError:
        raise DoodleError(_INSTALL) from None
    return ray


@contextmanager
def _without_level_line() -> Iterator[None]:
    """Leave out the line Ray's C++ core prints to standard error as it starts ("Set ray log level from
    environment variable ..."), which the level set in :func:`_ray` makes it print; other lines pass."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if "Set ray log level from environment variable" not in line:
                    sys.stderr.write(line)


def _start(ray, workers: int, address: str | None) -> tuple[list, int | None]:
    """Ray started or joined; -> the actor class with its resources, and each worker's CPU threads."""
    quiet = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    if address is None:
        cpus = os.cpu_count() or 1
        with _without_level_line():
            ray.init(num_cpus=max(cpus, workers), object_store_memory=256 * 2**20, **quiet)
        threads = max(1, cpus // workers)
        return ray.remote(num_cpus=min(threads, cpus))(Worker), threads
    _check_reachable(address)
    try:
        with _without_level_line():
            ray.init(address=address, **quiet)
    except Exception as error:  # noqa: BLE001 - Ray raises many kinds (connection, authentication, runtime)
        reason = str(error).strip().splitlines()[-1][:300] if str(error).strip() else type(error).__name__
        raise DoodleError(
            f"cannot join the Ray cluster at {address} ({reason})",
            hint="a cluster started by `ray start` wants RAY_AUTH_MODE=token and its token (~/.ray/auth_token)",
        ) from None
    gpus = ray.cluster_resources().get("GPU", 0)
    return ray.remote(num_gpus=1 if gpus else 0, num_cpus=1)(Worker), None


def _check_reachable(address: str, seconds: float = 5.0) -> None:
    """Fail in a few seconds, not Ray's minutes of retries, when nothing listens at ``host:port``."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # ("auto", or a form Ray resolves itself)
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as error:
        raise DoodleError(f"cannot join the Ray cluster at {address}: nothing answers there ({error})") from None


def _next(pending: deque, held: dict, worker) -> Job:
    """The job for a free ``worker``: the next of the painting it holds, else of a painting no other
    worker holds, else the next."""
    mine = held.get(worker)
    others = {key for other, key in held.items() if other is not worker}
    for wanted in (lambda job: job.painting == mine, lambda job: job.painting not in others):
        for job in pending:
            if wanted(job):
                pending.remove(job)
                return job
    return pending.popleft()


def run_jobs(
    jobs: list[Job],
    *,
    workers: int = 1,
    address: str | None = None,
    resume: bool = False,
    on_start: Callable[[], None] | None = None,
    on_done: Callable[[Job, Outcome], None] | None = None,
) -> dict[int, Outcome]:
    """Run ``jobs`` (those with a ``problem`` fail at once) on ``workers`` Ray workers. -> each job's
    outcome by line number; ``on_start()`` once the cluster is up, ``on_done(job, outcome)`` as each
    job ends."""
    outcomes = {}

    def finish(job: Job, outcome: Outcome) -> None:
        outcomes[job.line] = outcome
        if on_done is not None:
            on_done(job, outcome)

    for job in jobs:
        if job.problem is not None:
            finish(job, Outcome("failed", job.problem))
    pending = deque(job for job in jobs if job.problem is None)
    if not pending:
        return outcomes
    ray = _ray()
    actor, threads = _start(ray, min(workers, len(pending)), address)
    if on_start is not None:
        on_start()
    try:
        _drive(ray, actor, threads, min(workers, len(pending)), pending, resume, finish)
    finally:
        ray.shutdown()
    return outcomes


def _drive(ray, actor, threads, workers: int, pending: deque, resume: bool, finish) -> None:
    """Give jobs to free workers until every job has ended; replace a worker that dies, and retry its job."""
    free = [actor.remote(threads) for _ in range(workers)]
    held, busy, attempts = {}, {}, {}
    while pending or busy:
        while free and pending:
            worker = free.pop()
            job = _next(pending, held, worker)
            held[worker] = job.painting
            busy[worker.run.remote(job, resume)] = (worker, job)
        (done,), _ = ray.wait(list(busy), num_returns=1)
        worker, job = busy.pop(done)
        try:
            outcome = ray.get(done)
        except ray.exceptions.RayTaskError as error:  # (raised outside the job's own try: its arguments, say)
            free.append(worker)
            outcome = Outcome("failed", DoodleError(f"painting failed: {_first_line(error.cause or error)}"))
        except ray.exceptions.RayActorError:
            held.pop(worker, None)
            ray.kill(worker, no_restart=True)
            free.append(actor.remote(threads))  # a new worker in its place
            attempts[job.line] = attempts.get(job.line, 0) + 1
            if attempts[job.line] < ATTEMPTS:
                pending.appendleft(job)
                continue
            outcome = Outcome("failed", DoodleError(f"its worker died {ATTEMPTS} times painting it"))
        else:
            free.append(worker)
        if attempts.get(job.line):
            outcome = Outcome(outcome.status, outcome.error, outcome.notes, attempts[job.line])
        finish(job, outcome)
