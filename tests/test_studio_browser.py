"""The studio in a real browser: Debian's chromium, driven by selenium through chromedriver.

A person's session, end to end: open the page, start from one flat label, draw two strokes with the
mouse in two other labels, paint at a tiny size, wait for the result and download it. The result must
follow the strokes. ``.ci/run`` installs chromium and chromium-driver, so this runs in CI.
"""

from __future__ import annotations

import base64
import io
import shutil
import threading
import time
import urllib.request

import numpy as np
import pytest
import torch
import uvicorn
from PIL import Image

import semantic_maps
from doodle import PaintSettings
from doodle.generator import TrainedPainter
from doodle.studio import bind
from doodle.studio.app import create_app
from doodle.studio.session import Painting, Session

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs chromium and chromedriver (apt install chromium chromium-driver)"
)

# Three bands of texture in three labels; the map's colours differ from the painting's.
BANDS = {  # map colour -> the painting's colour there
    (255, 255, 255): (200, 200, 60),  # white -> yellow
    (255, 0, 0): (40, 160, 60),  # red -> green
    (0, 0, 255): (160, 50, 170),  # blue -> purple
}


def banded_painting(width: int = 96, height: int = 72) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    image, map_rgb = np.zeros((height, width, 3)), np.zeros((height, width, 3), np.uint8)
    for band, (label, colour) in enumerate(BANDS.items()):
        rows = slice(band * height // 3, (band + 1) * height // 3)
        map_rgb[rows], image[rows] = label, colour
    image = np.clip(image + rng.normal(0, 20, image.shape), 0, 255).astype(np.uint8)
    return image, map_rgb


def serve_in_thread(session: Session):
    """Serve ``session`` on a free port by uvicorn in a thread: yields its URL."""
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(session), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)


SETTINGS = PaintSettings(phases=1, iterations=5, style_layers=("1_1", "2_1"), seed="noise")


@pytest.fixture
def studio(tiny_net):
    image, map_rgb = banded_painting()
    yield from serve_in_thread(
        Session(SETTINGS, network=tiny_net, painting=Painting.from_arrays(image, map_rgb, "b.png"))
    )


@pytest.fixture
def empty_studio(tiny_net):
    yield from serve_in_thread(Session(SETTINGS, network=tiny_net))


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1200,1400", f"--user-data-dir={tmp_path / 'profile'}",
    ):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def set_field(browser, element_id: str, value: str) -> None:
    """Type into an input and fire its change event, as a person leaving the field does."""
    field = browser.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(value)
    browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", field)


def stroke(browser, canvas, points: list[tuple[int, int]], size: tuple[int, int]) -> None:
    """Drag the mouse through ``points`` (doodle pixels) on the canvas."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    box = canvas.rect
    scale_x, scale_y = box["width"] / size[0], box["height"] / size[1]

    def offset(point):  # selenium moves relative to the element's centre
        return int((point[0] + 0.5) * scale_x - box["width"] / 2), int((point[1] + 0.5) * scale_y - box["height"] / 2)

    actions = (
        ActionChains(browser, duration=20).move_to_element_with_offset(canvas, *offset(points[0])).click_and_hold()
    )
    for point in points[1:]:
        actions = actions.move_to_element_with_offset(canvas, *offset(point))
    actions.release().perform()


def swatch(browser, label_hex: str):
    return browser.find_element(By.CSS_SELECTOR, f".swatch[title$='{label_hex}']")


def test_a_person_draws_two_strokes_paints_and_downloads_a_result_that_follows_them(studio, browser):
    browser.get(studio)
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".swatch")) == 3)
    assert browser.find_element(By.ID, "painting-name").text.startswith("b.png, 96×72, 3 labels")

    set_field(browser, "width", "64")
    set_field(browser, "height", "48")
    swatch(browser, "#ffffff").click()
    browser.find_element(By.ID, "start-flat").click()
    canvas = browser.find_element(By.ID, "doodle")
    assert (canvas.get_attribute("width"), canvas.get_attribute("height")) == ("64", "48")
    browser.execute_script("document.getElementById('brush-size').value = 12")
    swatch(browser, "#ff0000").click()
    stroke(browser, canvas, [(10, 8), (10, 24), (10, 40)], (64, 48))  # a vertical red stroke on the left
    swatch(browser, "#0000ff").click()
    stroke(browser, canvas, [(36, 24), (46, 24), (56, 24)], (64, 48))  # a horizontal blue one on the right

    doodle = canvas_pixels(browser)
    red, blue = (doodle == (255, 0, 0)).all(axis=2), (doodle == (0, 0, 255)).all(axis=2)
    white = (doodle == (255, 255, 255)).all(axis=2)
    assert (red | blue | white).all(), "the canvas holds only label colours: no anti-aliasing"
    assert red[8:40, 8:12].all() and blue[22:26, 38:56].all() and white[:, 20:28].all()

    set_field(browser, "iterations", "5")
    browser.find_element(By.ID, "paint").click()
    link = browser.find_element(By.ID, "download-result")
    WebDriverWait(browser, 120).until(lambda b: link.is_displayed() or b.find_element(By.ID, "message").is_displayed())
    assert link.is_displayed(), browser.find_element(By.ID, "message").text
    assert browser.find_element(By.ID, "progress-text").text.startswith("Painted in")

    with urllib.request.urlopen(link.get_attribute("href")) as response:
        result = np.asarray(Image.open(io.BytesIO(response.read())).convert("RGB")).astype(float)
    assert result.shape == (48, 64, 3)
    colours = {name: np.array(BANDS[label]) for name, label in
               (("white", (255, 255, 255)), ("red", (255, 0, 0)), ("blue", (0, 0, 255)))}  # fmt: skip
    for name, mask in (("red", red), ("blue", blue), ("white", white)):
        mean = result[mask].mean(axis=0)
        nearest = min(colours, key=lambda other: np.linalg.norm(mean - colours[other]))
        assert nearest == name, f"{name} strokes painted as {nearest}: mean colour {mean.round()}"


def canvas_pixels(browser) -> np.ndarray:
    data_url = browser.execute_script("return document.getElementById('doodle').toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


def test_a_studio_started_without_a_painting_opens_one_from_files(empty_studio, browser, tmp_path):
    image, map_rgb = banded_painting()
    Image.fromarray(image).save(tmp_path / "bands.png")
    Image.fromarray(map_rgb).save(tmp_path / "bands_sem.png")
    browser.get(empty_studio)
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: b.find_element(By.ID, "message").text.startswith("Open a painting to start"))
    assert not browser.find_element(By.ID, "doodle").is_displayed()
    browser.find_element(By.ID, "painting-file").send_keys(str(tmp_path / "bands.png"))
    browser.find_element(By.ID, "painting-map-file").send_keys(str(tmp_path / "bands_sem.png"))
    browser.find_element(By.ID, "open-painting-button").click()
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".swatch")) == 3)
    assert browser.find_element(By.ID, "painting-name").text.startswith("bands.png, 96×72, 3 labels")
    assert (
        browser.find_element(By.ID, "doodle").is_displayed()
        and not browser.find_element(By.ID, "message").is_displayed()
    )
    doodle = canvas_pixels(browser)
    assert (doodle == map_rgb).all()  # the doodle starts as the painting's own map


class BandColours(torch.nn.Module):
    """A stand-in for a trained generator: paints each label flat in its band's colour of the painting."""

    def __init__(self, palette: np.ndarray) -> None:
        super().__init__()
        colours = [BANDS[tuple(int(c) for c in label)] for label in palette]
        self.colours = torch.nn.Parameter(torch.tensor(colours, dtype=torch.float32) / 255, requires_grad=False)

    def noise(self, labels, generator=None):
        return []

    def forward(self, labels, noise, collage):
        return torch.einsum("bkhw,kc->bchw", labels, self.colours)


@pytest.fixture
def previewing_studio(tiny_net):
    image, map_rgb = banded_painting()
    painting = Painting.from_arrays(image, map_rgb, "b.png")
    image_tensor = torch.from_numpy(image).permute(2, 0, 1).float() / 255
    labels = torch.from_numpy(semantic_maps.encode_labels(map_rgb, painting.palette))
    trained = TrainedPainter(BandColours(painting.palette), painting.palette, image_tensor, labels, {})
    yield from serve_in_thread(Session(SETTINGS, network=tiny_net, painting=painting, trained=trained))


def preview_pixels(browser) -> np.ndarray:
    """The live preview image as the page shows it (drawn onto a canvas and read back)."""
    data_url = browser.execute_script(
        "const img = document.getElementById('preview'), c = document.createElement('canvas');"
        "c.width = img.naturalWidth; c.height = img.naturalHeight; c.getContext('2d').drawImage(img, 0, 0);"
        "return c.toDataURL('image/png');"
    )
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


def test_with_a_trained_painter_every_stroke_updates_the_live_preview(previewing_studio, browser):
    browser.get(previewing_studio)
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".swatch")) == 3)
    assert browser.find_element(By.ID, "preview-figure").is_displayed()
    set_field(browser, "width", "64")
    set_field(browser, "height", "48")
    swatch(browser, "#ffffff").click()
    browser.find_element(By.ID, "start-flat").click()
    settled = "return !preview.busy && !preview.again && document.getElementById('preview').complete"
    wait.until(lambda b: b.execute_script(settled) and preview_pixels(b).shape == (48, 64, 3))
    yellow = np.array(BANDS[(255, 255, 255)])
    assert np.abs(preview_pixels(browser).astype(int) - yellow).mean() < 4  # the flat doodle, painted
    before = browser.find_element(By.ID, "preview").get_attribute("src")
    browser.execute_script("document.getElementById('brush-size').value = 12")
    swatch(browser, "#ff0000").click()
    stroke(browser, browser.find_element(By.ID, "doodle"), [(10, 8), (10, 24), (10, 40)], (64, 48))
    wait.until(lambda b: b.find_element(By.ID, "preview").get_attribute("src") != before and b.execute_script(settled))
    shown = preview_pixels(browser).astype(int)
    red = (canvas_pixels(browser) == (255, 0, 0)).all(axis=2)
    assert red[8:40, 8:12].all()
    assert np.abs(shown[red] - np.array(BANDS[(255, 0, 0)])).mean() < 8  # the stroke, in green
    assert np.abs(shown[~red] - yellow).mean() < 8  # (JPEG: a few levels off, more along the edge)
    assert "live preview" not in browser.find_element(By.ID, "message").text
