"""The studio's server, through its HTTP API, on the tiny network (the browser test drives the page)."""

from __future__ import annotations

import base64
import io
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from doodle import PaintSettings
from doodle.studio.app import create_app
from doodle.studio.session import SWATCH, Painting, Session
from semantic_maps import find_palette, to_hex

# A painting of two textured halves, green on the left and purple on the right, mapped red | blue:
# the map's colours are not the painting's, so a result in the painting's colours was painted, not copied.
GREEN, PURPLE = np.array([60, 170, 70]), np.array([150, 50, 170])
RED, BLUE = np.array([255, 0, 0], np.uint8), np.array([0, 0, 255], np.uint8)
TINY = PaintSettings(phases=1, iterations=3, style_layers=("1_1", "2_1"), seed="noise")


def two_halves(size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 25, (size, size, 3))
    left = np.arange(size)[None, :, None] < size // 2
    image = np.clip(np.where(left, GREEN, PURPLE) + noise, 0, 255).astype(np.uint8)
    map_rgb = np.where(left, RED, BLUE).astype(np.uint8) * np.ones((size, 1, 1), np.uint8)
    return image, map_rgb


def png_data_url(rgb: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def read_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def labels_of(reply: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(reply["labels"]), np.uint8).reshape(reply["height"], reply["width"])


def paint_request(labels: np.ndarray, **options) -> dict:
    height, width = labels.shape
    payload = base64.b64encode(labels.astype(np.uint8).tobytes()).decode("ascii")
    return {"width": width, "height": height, "labels": payload, "options": options}


def events_of(client: TestClient, job: int) -> list[dict]:
    """Every event of a paint, read from its stream until the paint ends."""
    with client.stream("GET", f"/api/jobs/{job}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    return [json.loads(block[len("data: ") :]) for block in text.split("\n\n") if block.startswith("data: ")]


@pytest.fixture
def session(tiny_net) -> Session:
    image, map_rgb = two_halves()
    return Session(TINY, network=tiny_net, painting=Painting.from_arrays(image, map_rgb, "halves.png"))


@pytest.fixture
def client(session):
    with TestClient(create_app(session)) as client:
        yield client


def wait_until_idle(session: Session, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while session.busy and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not session.busy


def test_the_page_and_its_files_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and "doodle studio" in page.text
    for name in ("studio.js", "studio.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert "http" not in client.get("/static/studio.js").text  # no CDN, nothing from the network


def test_state_gives_the_palette_doodle_paint_finds_and_swatches_show_each_label(client, session):
    state = client.get("/api/state").json()
    painting = state["painting"]
    assert painting["palette"] == [to_hex(c) for c in find_palette(session.painting.map)]
    assert (painting["width"], painting["height"]) == (64, 64)
    assert state["defaults"]["width"] == 64 and state["defaults"]["iterations"] == "3"
    assert not state["busy"]
    for label, hex_colour in enumerate(painting["palette"]):
        swatch = read_png(client.get(f"/api/swatch/{label}.png").content)
        assert swatch.shape == (SWATCH, SWATCH, 3)
        expected = GREEN if hex_colour == to_hex(RED) else PURPLE  # red labels the green half
        assert np.abs(swatch.reshape(-1, 3).mean(axis=0) - expected).max() < 15
    assert client.get("/api/swatch/2.png").status_code == 400


def test_the_paintings_own_map_comes_as_labels_at_any_size(client, session):
    reply = client.get("/api/labels", params={"width": 32, "height": 16}).json()
    labels = labels_of(reply)
    assert labels.shape == (16, 32)
    red = [to_hex(c) for c in session.painting.palette].index(to_hex(RED))
    assert (labels[:, :16] == red).all() and (labels[:, 16:] == 1 - red).all()


def test_a_paint_streams_progress_and_previews_then_its_result_follows_the_doodle(client, session):
    red = [to_hex(c) for c in session.painting.palette].index(to_hex(RED))
    labels = np.full((48, 64), 1 - red, np.uint8)
    labels[12:36, 8:40] = red  # a "green" block inside "purple"
    reply = client.post("/api/paint", json=paint_request(labels, iterations="4", random_seed=3, position_guide=0.5))
    assert reply.status_code == 200, reply.text
    job = reply.json()["job"]
    events = events_of(client, job)
    kinds = [event["type"] for event in events]
    assert kinds[0] == "started" and kinds[-1] == "done", kinds
    progress = [event for event in events if event["type"] == "progress"]
    network = [event for event in progress if event["phase"] < event["phases"]]
    assert network[-1]["iteration"] == network[-1]["iterations"] == 4
    last = progress[-1]  # the pixel finish, its levels as iterations
    assert last["phase"] == last["phases"] == network[-1]["phase"] + 1 and last["iteration"] == last["iterations"]
    assert "preview" in kinds
    preview = next(event for event in events if event["type"] == "preview")["image"]
    assert preview.startswith("data:image/jpeg;base64,")
    result = read_png(client.get(events[-1]["url"]).content)
    assert result.shape == (48, 64, 3)
    inside, outside = result[16:32, 12:36].reshape(-1, 3).mean(0), result[:, 48:].reshape(-1, 3).mean(0)
    assert np.linalg.norm(inside - GREEN) < np.linalg.norm(inside - PURPLE)
    assert np.linalg.norm(outside - PURPLE) < np.linalg.norm(outside - GREEN)
    painted = session.painter.memory.settings  # the page's options, for this paint alone
    assert painted.random_seed == 3 and painted.iterations == 4 and painted.position_guide == 0.5
    assert session.painter.settings.random_seed == 0  # the studio's own settings are not changed


def test_a_paint_past_the_server_s_memory_bound_is_refused_with_the_size_that_fits(tiny_net):
    # The page's own maximum (2048x2048) grew a server past 12 GB: the studio bounds each paint itself.
    image, map_rgb = two_halves()
    bounded = Session(TINY, network=tiny_net, painting=Painting.from_arrays(image, map_rgb, "halves.png"),
                      memory_limit=int(2e9))  # fmt: skip
    with TestClient(create_app(bounded)) as client:
        job = client.post("/api/paint", json=paint_request(np.zeros((2048, 2048), np.uint8))).json()["job"]
        error = next(event for event in events_of(client, job) if event["type"] == "error")["message"]
    assert "GB is free to this server (its --max-memory)" in error, error
    assert "use a smaller output_size (about" in error and "a GPU" not in error


def test_a_second_paint_is_refused_while_one_runs_and_stop_ends_it(client, session):
    labels = np.zeros((64, 64), np.uint8)
    first = client.post("/api/paint", json=paint_request(labels, iterations="5000")).json()["job"]
    second = client.post("/api/paint", json=paint_request(labels))
    assert second.status_code == 409
    assert "under way" in second.json()["error"]
    assert client.post("/api/stop").json() == {"stopping": True}
    assert events_of(client, first)[-1]["type"] == "stopped"
    wait_until_idle(session)
    assert client.get(f"/api/jobs/{first}/result.png").status_code == 400
    again = client.post("/api/paint", json=paint_request(labels)).json()["job"]
    assert events_of(client, again)[-1]["type"] == "done"
    assert client.post("/api/stop").json() == {"stopping": False}


def test_the_network_and_the_paintings_features_stay_loaded_between_paints(client, session, tiny_net):
    labels = np.zeros((64, 64), np.uint8)
    labels[:, 20:] = 1
    first = client.post("/api/paint", json=paint_request(labels)).json()["job"]
    assert events_of(client, first)[-1]["type"] == "done"
    image = client.get(f"/api/jobs/{first}/result.png").content
    memory = session.painter.memory
    second = client.post("/api/paint", json=paint_request(labels)).json()["job"]
    assert events_of(client, second)[-1]["type"] == "done"
    assert session.painter.network is tiny_net and session.painter.memory is memory  # nothing recomputed
    assert client.get(f"/api/jobs/{second}/result.png").content == image


def test_an_uploaded_map_is_snapped_to_the_palette_and_scaled(client, session):
    _, map_rgb = two_halves(32)
    blurred = np.asarray(Image.fromarray(map_rgb).resize((40, 40), Image.Resampling.BILINEAR))  # soft edges
    reply = client.post(
        "/api/map", json={"name": "mine.png", "image": png_data_url(blurred), "width": 20, "height": 10}
    )
    assert reply.status_code == 200, reply.text
    labels = labels_of(reply.json())
    assert labels.shape == (10, 20) and set(np.unique(labels)) == {0, 1}
    red = [to_hex(c) for c in session.painting.palette].index(to_hex(RED))
    assert (labels[:, :10] == red).all() and (labels[:, 10:] == 1 - red).all()


def test_opening_a_painting_without_a_map_proposes_one(client):
    rng = np.random.default_rng(1)
    image = np.zeros((64, 96, 3), np.uint8)
    image[:32], image[32:] = [200, 220, 250], [40, 60, 150]  # sky over sea
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    reply = client.post("/api/painting", json={"name": "sea.png", "image": png_data_url(image), "labels": 2})
    assert reply.status_code == 200, reply.text
    painting = reply.json()["painting"]
    assert painting["name"] == "sea.png" and (painting["width"], painting["height"]) == (96, 64)
    assert len(painting["palette"]) == 2
    labels = labels_of(client.get("/api/labels", params={"width": 96, "height": 64}).json())
    assert len(np.unique(labels[4:28])) == 1 and len(np.unique(labels[36:60])) == 1 and labels[4, 0] != labels[60, 0]


def test_a_large_painting_is_scaled_to_the_working_size_with_its_map(client):
    from doodle.studio.session import WORKING_SIDE

    image, map_rgb = two_halves(64)
    big = np.asarray(Image.fromarray(image).resize((1600, 1200)))
    big_map = np.asarray(Image.fromarray(map_rgb).resize((1600, 1200), Image.Resampling.NEAREST))
    reply = client.post(
        "/api/painting", json={"name": "big.png", "image": png_data_url(big), "map": png_data_url(big_map)}
    )
    painting = reply.json()["painting"]
    assert (painting["width"], painting["height"]) == (WORKING_SIDE, 768) and painting["scaled_from"] == [1600, 1200]
    assert painting["palette"] == [to_hex(RED), to_hex(BLUE)] or painting["palette"] == [to_hex(BLUE), to_hex(RED)]
    assert client.get("/api/state").json()["defaults"]["width"] == WORKING_SIDE


@pytest.mark.parametrize(
    "path, payload, status, fragment",
    [
        ("/api/painting", {"name": "x.png", "image": "data:image/png;base64,aGVsbG8="}, 400, "x.png: not an image"),
        ("/api/painting", {"name": "x.png", "image": "%%%"}, 400, "not base64"),
        ("/api/painting", {"image": None}, 400, "missing"),
        ("/api/map", {"name": "m.png", "image": "aGVsbG8=", "width": 8, "height": 8}, 400, "m.png: not an image"),
        ("/api/map", {"name": "m.png", "image": "aGVsbG8=", "width": 0, "height": 8}, 400, "width must be from 1"),
        ("/api/paint", {"width": 16, "height": 16, "labels": "AAAA"}, 400, "3 labels for a 16x16"),
        ("/api/paint", {"width": "a", "height": 16, "labels": "AAAA"}, 400, "width must be a whole number"),
        ("/api/paint", paint_request(np.full((16, 16), 7)), 400, "label 7; this painting has 2"),
        ("/api/paint", paint_request(np.zeros((8, 8))), 400, "16 to 2048 pixels a side"),
        ("/api/paint", paint_request(np.zeros((16, 16)), smoothness=3), 400, "unknown option(s): smoothness"),
        ("/api/paint", paint_request(np.zeros((16, 16)), iterations="ten"), 400, "iterations 'ten'"),
        ("/api/paint", paint_request(np.zeros((16, 16)), style_weight=-1), 400, "style_weight` must be 0 or more"),
        ("/api/paint", paint_request(np.zeros((16, 16)), position_guide="x"), 400, "position guide must be a number"),
    ],
)
def test_bad_requests_get_a_message_not_a_traceback(client, path, payload, status, fragment):
    reply = client.post(path, json=payload)
    assert reply.status_code == status, reply.text
    assert fragment in reply.json()["error"]


def test_uploads_too_large_or_not_json_are_refused(client):
    huge = np.zeros((4100, 8, 3), np.uint8)
    reply = client.post("/api/painting", json={"name": "tall.png", "image": png_data_url(huge)})
    assert reply.status_code == 400 and "8x4100 is too large" in reply.json()["error"]
    reply = client.post("/api/painting", content=b"x" * 64, headers={"content-length": str(2**31)})
    assert reply.status_code == 413 and "MB" in reply.json()["error"]
    reply = client.post("/api/paint", content=b"{not json", headers={"content-type": "application/json"})
    assert reply.status_code == 400 and reply.json()["error"] == "the request is not JSON"


def test_json_infinities_are_refused_not_a_server_error(client):
    # JSON's 1e400 is infinity: int(inf) raised OverflowError, an HTTP 500 and a server traceback.
    labels = np.zeros((32, 32), np.uint8)

    def post(request: dict, key: str, number: str):
        text = json.dumps(request).replace(f'"{key}": 0', f'"{key}": {number}')  # JSON as a page may send it
        return client.post("/api/paint", content=text, headers={"content-type": "application/json"})

    for key, number, fragment in (
        ("random_seed", "1e400", "seed must be a whole number"),
        ("style_weight", "1e400", "style weight must be a finite number"),
        ("semantic_weight", "-1e400", "semantic weight must be a finite number"),
    ):
        reply = post(paint_request(labels, **{key: 0}), key, number)
        assert reply.status_code == 400 and fragment in reply.json()["error"], reply.text
    reply = post({**paint_request(labels), "width": 0}, "width", "1e400")
    assert reply.status_code == 400 and "width must be a whole number" in reply.json()["error"], reply.text


def test_a_map_with_a_label_the_painting_lacks_is_refused_by_name(client):
    _, map_rgb = two_halves(32)
    map_rgb[:, :16] = [0, 200, 0]
    reply = client.post("/api/map", json={"name": "green.png", "image": png_data_url(map_rgb), "width": 8, "height": 8})
    assert reply.status_code == 400
    message = reply.json()["error"]
    assert message.startswith("green.png: label colour #00c800") and message.endswith("repaint it with one of those")


def _trained(palette: np.ndarray):
    """An (untrained) feed-forward painter in ``palette``'s labels: enough to test the plumbing."""
    import torch

    from doodle.generator import Generator, TrainedPainter

    torch.manual_seed(0)
    painting = torch.linspace(0.2, 0.8, 32).expand(3, 24, 32)  # smooth: the preview is a JPEG
    labels = torch.zeros(len(palette), 24, 32)
    labels[0, :, :16], labels[-1, :, 16:] = 1, 1
    return TrainedPainter(Generator(len(palette), width=4).requires_grad_(False), palette, painting, labels, {})


def test_a_trained_painter_previews_the_doodle_at_once(client, session):
    import torch

    from doodle.images import to_pil

    assert client.get("/api/state").json()["preview"] is False
    assert "start the studio with --painter" in client.post("/api/preview", json=paint_request(np.zeros((16, 16)))).text
    session.trained = _trained(session.painting.palette)
    assert client.get("/api/state").json()["preview"] is True
    labels = np.zeros((24, 40), np.uint8)
    labels[:, 20:] = 1
    reply = client.post("/api/preview", json={**paint_request(labels), "random_seed": 3})
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/jpeg"
    shown = read_png(reply.content).astype(int)  # (Pillow reads the JPEG as well)
    one_hot = torch.nn.functional.one_hot(torch.from_numpy(labels).long(), 2).permute(2, 0, 1)[None].float()
    expected = np.asarray(to_pil(session.trained.render(one_hot, seed=3))).astype(int)
    assert shown.shape == (24, 40, 3) and np.abs(shown - expected).mean() < 3  # (JPEG)
    reply = client.post("/api/preview", json=paint_request(labels + 1))
    assert reply.status_code == 400 and "label 2 is not one of the 2 labels" in reply.json()["error"]
    session.trained = _trained(np.array([[1, 2, 3], [4, 5, 6]], np.uint8))  # another painting's painter
    assert client.get("/api/state").json()["preview"] is False


def test_a_failing_preview_is_a_clear_error_not_a_bare_500(client, session, monkeypatch):
    session.trained = _trained(session.painting.palette)

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB\nmore details")

    monkeypatch.setattr(session.trained, "render", out_of_memory)
    reply = client.post("/api/preview", json=paint_request(np.zeros((24, 40), np.uint8)))
    assert reply.status_code == 400
    assert reply.json()["error"] == "the live preview failed: CUDA out of memory. Tried to allocate 2.00 GiB"


# ---- the command ----------------------------------------------------------------------------------------


def test_doodle_studio_takes_every_paint_setting(monkeypatch, tmp_path, tiny_net):
    from typer.testing import CliRunner

    import doodle.cli.studio
    import doodle.studio
    from doodle import cli

    from .test_cli import EVERY_SETTING

    image, map_rgb = two_halves(32)
    Image.fromarray(image).save(tmp_path / "p.png")
    Image.fromarray(map_rgb).save(tmp_path / "p_sem.png")
    seen = {}
    monkeypatch.setattr(doodle.cli.studio, "load_network", lambda settings: tiny_net)
    monkeypatch.setattr(doodle.studio, "serve", lambda session, sock: seen.update(session=session, sock=sock))
    # (the studio paints one painting's doodles: no photo, no guide files)
    not_here = ("device", "preserve_colors", "style_blend", "guide_weights", "luminance_guide")
    arguments = [argument for name, (flags, _) in EVERY_SETTING.items() if name not in not_here for argument in flags]
    result = CliRunner().invoke(cli.app, ["studio", "--style", str(tmp_path / "p.png"), "--port", "0", *arguments])
    assert result.exit_code == 0, result.output
    assert "doodle studio: http://127.0.0.1:" in result.output
    settings, sock = seen["session"].settings, seen["sock"]
    sock.close()
    for name, (_, value) in EVERY_SETTING.items():
        if name not in not_here:
            assert getattr(settings, name) == value, name
    assert seen["session"].painting.name == "p.png" and len(seen["session"].painting.palette) == 2


def test_doodle_studio_bad_inputs_are_one_line(tmp_path, random_weights):
    import socket

    from typer.testing import CliRunner

    from doodle.cli import app

    from .conftest import one_line_error

    runner = CliRunner()
    one_line_error(runner.invoke(app, ["studio", "--style", str(tmp_path / "none.png")]), "none.png", "not found")
    image, map_rgb = two_halves(32)
    Image.fromarray(image).save(tmp_path / "p.png")
    Image.fromarray(map_rgb[:16]).save(tmp_path / "p_sem.png")
    result = runner.invoke(app, ["studio", "--style", str(tmp_path / "p.png"), "--weights", str(random_weights)])
    one_line_error(result, "p.png: the painting is 32x32 but its map is 32x16")
    Image.fromarray(map_rgb).save(tmp_path / "p_sem.png")
    _trained(np.array([[1, 2, 3], [4, 5, 6]], np.uint8)).save(tmp_path / "other.pt")
    result = runner.invoke(app, ["studio", "--style", str(tmp_path / "p.png"), "--painter", str(tmp_path / "other.pt")])
    one_line_error(result, "other.pt: that painter's labels (#010203 #040506) are not p.png's map's (")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["studio", "--weights", str(random_weights), "--port", str(port)])
    one_line_error(result, f"127.0.0.1:{port} is in use; choose another with --port")


def test_doodle_studio_serves_until_ctrl_c(tmp_path, random_weights):
    """The real command in its own process: a URL, a page, the painting, and a clean stop."""
    import urllib.request

    image, map_rgb = two_halves(32)
    Image.fromarray(image).save(tmp_path / "p.png")  # no map beside it: segment proposes one
    command = [sys.executable, "-m", "doodle", "studio", "--style", str(tmp_path / "p.png"),
               "--weights", str(random_weights), "--port", "0"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stderr.readline()]
        while not lines[-1].startswith("doodle studio: ") and lines[-1] and len(lines) < 20:
            lines.append(process.stderr.readline())  # (anything a library might print first)
        assert any(line.startswith("note: no p_sem.png beside") for line in lines), lines
        url = lines[-1].split()[2]
        with urllib.request.urlopen(url + "api/state", timeout=10) as response:
            state = json.loads(response.read())
        assert state["painting"]["name"] == "p.png" and len(state["painting"]["palette"]) >= 2
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in errors, errors


def _studio_process(tmp_path, weights) -> tuple[subprocess.Popen, str]:
    """`doodle studio` on two textured halves and their map, in its own process on a free port.
    -> the process and its URL."""
    image, map_rgb = two_halves(32)
    Image.fromarray(image).save(tmp_path / "p.png")
    Image.fromarray(map_rgb).save(tmp_path / "p_sem.png")
    command = [sys.executable, "-m", "doodle", "studio", "--style", str(tmp_path / "p.png"),
               "--weights", str(weights), "--port", "0", "--style-layers", "1_1"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    while line and not line.startswith("doodle studio: "):
        line = process.stderr.readline()
    return process, line.split()[2]


def test_ctrl_c_during_a_paint_ends_the_studio_cleanly(tmp_path, random_weights):
    """The paint's thread is stopped and waited for: it used to be inside torch as the interpreter
    exited, and the process aborted (SIGABRT, "terminate called without an active exception")."""
    import urllib.request

    process, url = _studio_process(tmp_path, random_weights)
    try:
        body = json.dumps(paint_request(np.zeros((32, 32), np.uint8), iterations="100000")).encode()
        request = urllib.request.Request(url + "api/paint", data=body, headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["job"] == 1
        time.sleep(1.5)  # painting
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 0 and "terminate called" not in errors, (process.returncode, errors)


def test_ctrl_c_with_a_page_reading_a_paints_events_ends_the_studio_at_once(tmp_path, random_weights):
    """The page's event stream used to keep the server in its graceful shutdown for 3 s, then be
    cancelled with a traceback (and a paint of a large doodle kept it for minutes more)."""
    import http.client

    process, url = _studio_process(tmp_path, random_weights)
    try:
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        body = paint_request(np.zeros((32, 32), np.uint8), iterations="100000")
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


def test_the_page_may_leave_the_iterations_to_the_start():
    from doodle.studio.app import _options

    # `doodle studio` without --iterations shows "auto": the start's schedule (a collage's 20,40).
    assert _options({"iterations": "auto"}) == {"iterations": None} == _options({"iterations": ""})
    assert _options({"iterations": "10,20"}) == {"iterations": (10, 20)}
