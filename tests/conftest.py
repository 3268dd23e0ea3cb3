"""Shared fixtures and helpers: tiny random networks for unit tests, synthetic maps and inputs, the real
HED VGG16 from ../shared when present."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from doodle import VGGFeatures, load_vgg

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
HED_WEIGHTS = SHARED / "weights" / "vgg16_hed_caffe_fp16.pth"
DATA = SHARED / "data"

needs_shared = pytest.mark.skipif(
    not HED_WEIGHTS.is_file(), reason=f"real weights and paintings not found at {SHARED} (../shared)"
)


# Commands stopped with Ctrl-C in tests (watch, studio) must see it: a shell that starts pytest in the
# background (`nohup ... &`) hands it SIGINT ignored, and an ignored signal stays ignored across exec.
signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def tiny_net() -> VGGFeatures:
    """VGG16 layout at 1/16 width with random weights: fast, for code paths, not quality."""
    torch.manual_seed(0)
    return VGGFeatures("vgg16", width=1 / 16)


@pytest.fixture(scope="session")
def real_net() -> VGGFeatures:
    if not HED_WEIGHTS.is_file():
        pytest.skip(f"real weights not found at {HED_WEIGHTS} (../shared)")
    return load_vgg(weights=HED_WEIGHTS)


COLOURS = np.array([[255, 255, 255], [255, 51, 31], [0, 0, 255], [192, 0, 0]], dtype=np.uint8)


def quadrants(size=64, colours=COLOURS, antialias=True) -> np.ndarray:
    """Four coloured quadrants; with ``antialias`` the edges are blurred like a painted map's."""
    half = size // 2
    rgb = np.zeros((size, size, 3), np.uint8)
    rgb[:half, :half], rgb[:half, half:], rgb[half:, :half], rgb[half:, half:] = colours
    if antialias:
        rgb = np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(1.2)))
    return rgb


def small_edit() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A two-label painting map (40x64: black left, white right), a 96x256 doodle (black above, white
    below) and the doodle with a small white square near its right edge (rows 10-19, columns 230-239)."""
    style_map = np.zeros((40, 64, 3), np.uint8)
    style_map[:, 32:] = 255
    doodle = np.zeros((96, 256, 3), np.uint8)
    doodle[48:] = 255
    edited = doodle.copy()
    edited[10:20, 230:240] = 255
    return style_map, doodle, edited


def tiny_run(command: str, inputs: Path, weights: Path, *extra: str, doodle: str = "doodle.png") -> list[str]:
    """A ``doodle paint``/``watch`` command line on ``inputs`` (see the fixture) that paints in a moment:
    one phase, two iterations, shallow layers. Options in ``extra`` come last and so win."""
    return [command, "--style", str(inputs / "style.png"), "--map", str(inputs / doodle), "--weights", str(weights),
            "--phases", "1", "--iterations", "2", "--style-layers", "1_1,2_1", *extra]  # fmt: skip


def one_line_error(result, *fragments):
    """A CLI result that failed with exit code 1 and exactly one ``error:`` line holding ``fragments``."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory):
    """A full-size VGG16 state dict with random weights (float16: 29 MB), for CLI plumbing only."""
    path = tmp_path_factory.mktemp("w") / "vgg16_random.pth"
    torch.manual_seed(0)
    torch.save({f"features.{k}": v.half() for k, v in VGGFeatures("vgg16").features.state_dict().items()}, path)
    return path


@pytest.fixture
def inputs(tmp_path):
    """A 48x48 noise painting with its quadrant map (style.png, style_sem.png) and a mirrored doodle."""
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(tmp_path / "style.png")
    Image.fromarray(quadrants(48)).save(tmp_path / "style_sem.png")
    Image.fromarray(quadrants(48)[:, ::-1].copy()).save(tmp_path / "doodle.png")
    return tmp_path


def plan_of(scene, settings=None, *, model: str = "vgg16", follows_frame: bool = False):
    """The plan of painting ``scene`` with ``settings`` (on a VGG16 by default, as the tiny network)."""
    from doodle import PaintSettings
    from doodle.plan import make_plan

    paintings = 1 if scene.paintings is None else scene.paintings.shape[1]
    return make_plan(
        settings or PaintSettings(),
        mode=scene.mode,
        shape=scene.shape,
        content=scene.content is not None,
        paintings=paintings,
        model=model,
        follows_frame=follows_frame,
    )


def first_image(scene, settings, shape):
    """The image a paint of ``scene`` with ``settings`` starts from, at ``shape``."""
    from doodle.starts import plan_start

    return plan_start(scene, plan_of(scene, settings), shape)
