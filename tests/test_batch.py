"""`doodle batch` on a local Ray cluster of two workers, with random weights at tiny sizes: the same
images as `doodle paint`, bad jobs among good ones, a worker killed mid-job, --resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from doodle import VGGFeatures
from doodle.cli import app
from doodle.jobs import read_jobs

from .conftest import one_line_error

pytest.importorskip("ray", reason="doodle batch needs Ray: pip install -e '.[batch]'")
runner = CliRunner()
TINY = {"phases": 1, "iterations": 2, "style_layers": "1_1,2_1"}


def _jobs(folder: Path, weights: Path, *lines: dict) -> Path:
    path = folder / "jobs.jsonl"
    base = {"style": "style.png", "map": "doodle.png", "weights": str(weights), **TINY}
    path.write_text("\n".join(json.dumps({**base, **line}) for line in lines) + "\n")
    return path


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path)).astype(int)


def test_a_batch_paints_what_doodle_paint_paints(inputs, random_weights):
    from doodle.training import train_painter

    painter = train_painter(inputs / "style.png", size=32, steps=1, network=VGGFeatures("vgg16", width=1 / 16))
    painter.save(inputs / "p.pt")
    render = {"command": "render", "painter": "p.pt", "map": "doodle.png", "output": "out/r.png", "random_seed": 2}
    jobs = _jobs(inputs, random_weights, {"output": "out/a.png"}, {"output": "out/b.png", "random_seed": 5},
                 {"output": "out/c.png", "output_size": [64, 48], "style_weight": 2})  # fmt: skip
    jobs.write_text(jobs.read_text() + json.dumps(render) + "\n")
    result = runner.invoke(app, ["batch", str(jobs), "--workers", "2", "-q"])
    assert result.exit_code == 0, result.output
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))  # each of the two workers' share
    try:
        for name, extra in (
            ("a", []),
            ("b", ["--random-seed", "5"]),
            ("c", ["--output-size", "64x48", "--style-weight", "2"]),
        ):
            command = ["paint", "--style", str(inputs / "style.png"), "--map", str(inputs / "doodle.png"),
                       "--weights", str(random_weights), "--phases", "1", "--iterations", "2",
                       "--style-layers", "1_1,2_1", "-q", "-o", str(inputs / f"{name}.png"), *extra]  # fmt: skip
            assert runner.invoke(app, command).exit_code == 0
            assert np.array_equal(_pixels(inputs / "out" / f"{name}.png"), _pixels(inputs / f"{name}.png")), name
        command = ["render", str(inputs / "p.pt"), "--map", str(inputs / "doodle.png"), "--random-seed", "2",
                   "-q", "-o", str(inputs / "r.png")]  # fmt: skip
        assert runner.invoke(app, command).exit_code == 0
        assert np.array_equal(_pixels(inputs / "out" / "r.png"), _pixels(inputs / "r.png"))
    finally:
        torch.set_num_threads(threads)


def test_bad_jobs_fail_one_line_each_and_the_others_are_painted(inputs, random_weights):
    jobs = _jobs(inputs, random_weights, {"output": "good.png"}, {"output": "nomap.png", "map": "gone.png"},
                 {"output": "weight.png", "style_weight": -1}, {"output": "good2.png", "random_seed": 1},
                 {"output": "bogus.png", "bogus": 1}, {"output": "good.png", "random_seed": 2})  # fmt: skip
    more = [{"output": "size.png", "output_size": True}, {"output": "seed.png", "random_seed": "x"},
            {"output": "doodle.png"}, {"output": "mid.png"}, {"output": "last.png", "map": "mid.png"}]  # fmt: skip
    base = json.loads(jobs.read_text().splitlines()[0])
    jobs.write_text(jobs.read_text() + "{not json\n" + "".join(json.dumps({**base, **line}) + "\n" for line in more))
    doodle = (inputs / "doodle.png").read_bytes()
    result = runner.invoke(app, ["batch", str(jobs), "--workers", "2"])
    assert result.exit_code == 1, result.output
    errors = sorted(line for line in result.output.splitlines() if line.startswith("error: "))
    assert errors == sorted([
        f"error: {jobs}:2 ({inputs / 'nomap.png'}): {inputs / 'gone.png'}: target map file not found",
        f"error: {jobs}:3 ({inputs / 'weight.png'}): style_weight must be 0 or more, got -1",
        f"error: {jobs}:5 ({inputs / 'bogus.png'}): unknown key(s) bogus for a paint job",
        f"error: {jobs}:6 ({inputs / 'good.png'}): the same output as line 1",
        f"error: {jobs}:7: not JSON (Expecting property name enclosed in double quotes, column 2)",
        # (a TypeError ended the whole batch with a Ray traceback; Python's words, "manual_seed expected a long")
        f"error: {jobs}:8 ({inputs / 'size.png'}): output_size True is not a size like 512x384 or none",
        f"error: {jobs}:9 ({inputs / 'seed.png'}): random_seed 'x' is not a whole number",
        # (painted over its own doodle; and over another job's)
        f"error: {jobs}:10 ({inputs / 'doodle.png'}): is also an input ({inputs / 'doodle.png'}); choose another "
        "output",
        f"error: {jobs}:11 ({inputs / 'mid.png'}): its output is an input of line 12; choose another",
        f"error: {jobs}:12 ({inputs / 'last.png'}): {inputs / 'mid.png'}: target map file not found",
    ]), result.output  # fmt: skip
    assert (inputs / "doodle.png").read_bytes() == doodle
    assert "2 painted, 0 kept, 10 failed" in result.output
    assert (inputs / "good.png").is_file() and (inputs / "good2.png").is_file()
    assert not any((inputs / name).exists() for name in ("nomap.png", "weight.png", "bogus.png"))


def _busy_worker(mark: str) -> int | None:
    """The process id of a Ray worker painting a job (its title says so) of the batch whose environment
    holds ``mark`` (not another test run's, on the same machine), if any."""
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and (entry / "cmdline").read_bytes().startswith(b"ray::Worker.run")
                and f"DOODLE_TEST_BATCH={mark}".encode() in (entry / "environ").read_bytes()
            ):
                return int(entry.name)
        except OSError:
            continue
    return None


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the worker process in /proc (Linux)")
def test_a_worker_killed_mid_job_is_replaced_and_its_job_painted_again(inputs, random_weights):
    slow = {"iterations": 200, "output_size": [64, 64]}
    jobs = _jobs(inputs, random_weights, {"output": "out/one.png", **slow}, {"output": "out/two.png"})
    command = [sys.executable, "-m", "doodle", "batch", str(jobs), "--workers", "1"]
    environment = dict(os.environ, DOODLE_TEST_BATCH=str(inputs))  # (inherited by its Ray workers)
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environment)
    killed, deadline = False, time.monotonic() + 90
    while not killed and time.monotonic() < deadline and process.poll() is None:
        pid = _busy_worker(str(inputs))
        if pid is not None:
            time.sleep(1.0)  # well inside the job's painting
            os.kill(pid, signal.SIGKILL)
            killed = True
        time.sleep(0.1)
    _, errors = process.communicate(timeout=180)
    assert killed, errors
    assert process.returncode == 0, errors
    assert f"{jobs}:1 ({inputs / 'out' / 'one.png'}): its worker died; a new one painted it again" in errors
    assert "2 painted, 0 kept, 0 failed" in errors
    assert "Set ray log level" not in errors  # (Ray's C++ core printed it on every run)
    assert sorted(path.name for path in (inputs / "out").iterdir()) == ["one.png", "two.png"]  # nothing partial
    assert Image.open(inputs / "out" / "one.png").size == (64, 64)


def test_resume_keeps_the_outputs_that_hold_their_job_s_record(inputs, random_weights):
    jobs = _jobs(inputs, random_weights, {"output": "a.png"}, {"output": "b.png", "random_seed": 1})
    assert runner.invoke(app, ["batch", str(jobs), "-q"]).exit_code == 0
    stamp = (inputs / "a.png").stat().st_mtime_ns
    again = runner.invoke(app, ["batch", str(jobs), "--resume"])
    assert again.exit_code == 0 and "0 painted, 2 kept, 0 failed" in again.output, again.output
    changed = _jobs(inputs, random_weights, {"output": "a.png"}, {"output": "b.png", "random_seed": 2})
    third = runner.invoke(app, ["batch", str(changed), "--resume"])
    assert "1 painted, 1 kept, 0 failed" in third.output, third.output
    assert (inputs / "a.png").stat().st_mtime_ns == stamp


def test_jobs_read_paths_beside_the_file_and_values_as_typed_or_as_json(tmp_path):
    path = tmp_path / "jobs.jsonl"
    lines = [
        {"style": "s.png", "map": "d.png", "output": "o.png", "output_size": "64x48", "iterations": "10,20"},
        {"style": ["s.png", "t.png"], "output": "p.png", "output_size": [64, 48], "iterations": [10, 20],
         "style_blend": "0.7,0.3", "seed": "collage", "weights": "w.pth"},
        {"command": "render", "painter": "p.pt", "map": "d.png", "output": "r.png", "random_seed": 3},
        {"style": "s.png", "guides": [["a.png", "b.png"]], "guide_weights": [2], "output": "g.png"},
        {"style": "s.png", "guides": ["a.png"], "output": "h.png"},
    ]  # fmt: skip
    path.write_text("# a comment\n\n" + "\n".join(json.dumps(line) for line in lines))
    first, second, render, guided, bad = read_jobs(path)
    assert guided.inputs["guides"] == [(tmp_path / "a.png", tmp_path / "b.png")] and guided.settings.guide_weights == (
        2,
    )
    assert "[source, target] pairs" in str(bad.problem)
    assert first.line == 3 and first.inputs == {"style": tmp_path / "s.png", "target_map": tmp_path / "d.png"}
    assert first.settings.output_size == (64, 48) == second.settings.output_size
    assert first.settings.iterations == (10, 20) == second.settings.iterations
    assert second.inputs["style"] == [tmp_path / "s.png", tmp_path / "t.png"]
    assert second.settings.seed == "collage" and second.settings.weights == tmp_path / "w.pth"
    assert second.settings.style_blend == (0.7, 0.3) and second.output == tmp_path / "p.png"
    assert render.command == "render" and render.inputs == {
        "painter": tmp_path / "p.pt",
        "target_map": tmp_path / "d.png",
    }
    assert first.painting != second.painting and first.problem is None


def test_without_ray_doodle_batch_says_how_to_get_it(inputs, random_weights, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as where it is not installed
    jobs = _jobs(inputs, random_weights, {"output": "a.png"})
    one_line_error(runner.invoke(app, ["batch", str(jobs), "-q"]), 'pip install -e ".[batch]"')
    assert not (inputs / "a.png").exists()


def test_a_free_worker_gets_the_next_job_of_the_painting_it_holds():
    from collections import deque

    from doodle.batch import _next
    from doodle.jobs import Job

    def job(line: int, style: str) -> Job:
        return Job(line, inputs={"style": Path(style)})

    one, two = object(), object()
    held = {one: job(0, "a.png").painting, two: job(0, "b.png").painting}
    pending = deque([job(3, "c.png"), job(4, "a.png"), job(5, "b.png")])
    assert _next(pending, held, one).line == 4  # its own painting's
    assert _next(pending, held, two).line == 5
    pending.append(job(6, "b.png"))
    assert _next(pending, held, one).line == 3  # a painting no other worker holds, before b's
    assert _next(pending, held, one).line == 6  # rather than idle: another worker's painting


def test_a_cluster_that_does_not_answer_is_one_line(inputs, random_weights):
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # (closed again: nothing listens there)
    jobs = _jobs(inputs, random_weights, {"output": "a.png"})
    result = runner.invoke(app, ["batch", str(jobs), "--address", f"127.0.0.1:{port}", "-q"])
    one_line_error(result, f"cannot join the Ray cluster at 127.0.0.1:{port}: nothing answers there")


def test_a_job_s_error_crosses_to_the_command_line_with_its_fields(tmp_path):
    # The worker turned errors into text and the command line parsed the text again.
    import pickle

    from doodle.batch import Outcome, Worker

    (tmp_path / "jobs.jsonl").write_text(json.dumps({"style": "gone.png", "map": "m.png", "output": "o.png"}) + "\n")
    (job,) = read_jobs(tmp_path / "jobs.jsonl")
    outcome = pickle.loads(pickle.dumps(Worker().run(job, resume=False)))  # (as Ray sends it)
    assert isinstance(outcome, Outcome) and outcome.status == "failed"
    assert outcome.error.path == str(tmp_path / "gone.png") and "style image file not found" in outcome.error.message
    (tmp_path / "jobs.jsonl").write_text(json.dumps({"style": "s.png", "output": "o.png", "style_weight": -1}) + "\n")
    (bad,) = read_jobs(tmp_path / "jobs.jsonl")
    assert pickle.loads(pickle.dumps(bad.problem)).parameter == "style_weight"
