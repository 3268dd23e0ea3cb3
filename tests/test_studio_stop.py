"""The studio's two ways to stop: Stop reaches inside the pixel finish's levels (one level of a
2048x1536 paint took minutes, and Stop waited for it), and Ctrl-C ends the server at once, even
with a page reading a paint's event stream (it waited for the stream, then cut it off with a traceback)."""

from __future__ import annotations

import base64
import http.client
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

from doodle.errors import Cancelled
from doodle.pixels import finish_pixels, pixel_steps
from doodle.scene import build_scene

from .conftest import plan_of, quadrants


@pytest.fixture
def pixel_finish(tmp_path):
    """A 96x96 noise painting with its quadrant map and a doodle as large: a pixel finish of two levels.
    -> a function ``(callback, stop)`` that runs it (as the painter does) and returns its image."""
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)).save(tmp_path / "style.png")
    Image.fromarray(quadrants(96)).save(tmp_path / "style_sem.png")
    Image.fromarray(quadrants(96)[:, ::-1].copy()).save(tmp_path / "doodle.png")
    scene = build_scene(tmp_path / "style.png", target_map=tmp_path / "doodle.png")
    plan = plan_of(scene)
    neural = torch.rand((1, 3, 48, 48), generator=torch.Generator().manual_seed(0))  # (the network's result)

    def run(callback, stop):
        progress = pixel_steps(plan, callback)
        return finish_pixels(scene, neural, plan, torch.device("cpu"), progress=progress, stop=stop)[0]

    return run


def test_stop_is_asked_all_through_each_level_of_the_pixel_finish_and_changes_nothing(pixel_finish):
    steps, asked = [], []

    def stop():
        asked.append(len(steps))  # the levels done when asked
        return False

    image = pixel_finish(steps.append, stop)
    levels = steps[-1].iterations
    assert levels == 2 and [step.iteration for step in steps] == [1, 2]
    per_level = [asked.count(done) for done in range(levels)]
    # (6 iterations a level, each an E-step in chunks and an M-step over 25 patch offsets: it used to be
    # asked once, after the level)
    assert min(per_level) > 6 * 25, per_level
    assert torch.equal(image, pixel_finish(None, None))  # asking changes nothing


def test_stop_in_the_middle_of_a_level_of_the_pixel_finish_ends_it_there(pixel_finish):
    steps, asked = [], []

    def stop():  # True at its 10th asking in the last level: well inside it
        asked.append(len(steps))
        return asked.count(1) >= 10

    with pytest.raises(Cancelled):
        pixel_finish(steps.append, stop)
    assert len(steps) == 1  # the first level's report, not the last's
    assert asked.count(1) == 10  # (it stopped when first told: no asking after)


# ---- Ctrl-C ----------------------------------------------------------------------------------------------


def test_ctrl_c_with_a_page_reading_a_paints_events_ends_the_studio_at_once(tmp_path, random_weights):
    """The page's event stream used to keep the server in its graceful shutdown for 3 s, then be
    cancelled with a traceback (and a paint of a large doodle kept it for minutes more)."""
    painting = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(painting).save(tmp_path / "p.png")
    Image.fromarray(quadrants(32)).save(tmp_path / "p_sem.png")
    command = [sys.executable, "-m", "doodle", "studio", "--style", str(tmp_path / "p.png"),
               "--weights", str(random_weights), "--port", "0", "--style-layers", "1_1"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        while line and not line.startswith("doodle studio: "):
            line = process.stderr.readline()
        port = int(line.split()[2].rstrip("/").rsplit(":", 1)[1])
        labels = base64.b64encode(np.zeros((32, 32), np.uint8).tobytes()).decode("ascii")
        body = {"width": 32, "height": 32, "labels": labels, "options": {"iterations": "100000"}}
        api = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        api.request("POST", "/api/paint", json.dumps(body), {"content-type": "application/json"})
        job = json.loads(api.getresponse().read())["job"]
        events = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        events.request("GET", f"/api/jobs/{job}/events")
        stream = events.getresponse()
        assert stream.status == 200
        line = stream.readline()
        while not line.startswith(b'data: {"type": "progress"'):  # (the page sees the paint under way)
            assert line, "the event stream ended before the paint's progress"
            line = stream.readline()
    finally:
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        try:
            _, errors = process.communicate(timeout=30)
        finally:
            process.kill()
    seconds = time.monotonic() - sent
    assert seconds < 2.5 and "Traceback" not in errors and "ERROR" not in errors, (seconds, errors)
    assert process.returncode == 0 and errors.splitlines()[-1] == "stopped", errors  # (as `doodle watch` stops)
    stream.read()  # (the stream was ended, to its last chunk: not cut off, an IncompleteRead)
