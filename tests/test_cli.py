import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from doodle import VGGFeatures
from doodle.cli import app

from .test_semantic_maps import quadrants

runner = CliRunner()


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    """A full-size VGG16 state dict with random weights (float16: 29 MB), for CLI plumbing only."""
    path = tmp_path_factory.mktemp("w") / "vgg16_random.pth"
    torch.manual_seed(0)
    torch.save({f"features.{k}": v.half() for k, v in VGGFeatures("vgg16").features.state_dict().items()}, path)
    return path


@pytest.fixture
def inputs(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(tmp_path / "style.png")
    Image.fromarray(quadrants(48)).save(tmp_path / "style_sem.png")
    Image.fromarray(quadrants(48)[:, ::-1].copy()).save(tmp_path / "doodle.png")
    return tmp_path


def _one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_style_file_is_one_line_and_keeps_existing_output(tmp_path):
    output = tmp_path / "out.png"
    output.write_bytes(b"precious")
    result = runner.invoke(app, ["paint", "--style", str(tmp_path / "nope.jpg"), "-o", str(output)])
    _one_line_error(result, "nope.jpg", "not found")
    assert output.read_bytes() == b"precious"


def test_bad_output_folder_fails_before_any_work(tmp_path):
    result = runner.invoke(app, ["paint", "--style", str(tmp_path / "nope.jpg"), "-o", str(tmp_path / "no" / "x.png")])
    _one_line_error(result, "output folder")


def test_unknown_map_colour_is_one_line(inputs, random_weights):
    Image.fromarray(quadrants(48, colours=np.array([[0, 255, 0], [1, 2, 3], [0, 0, 255], [255, 255, 255]],
                                                   dtype=np.uint8))).save(inputs / "bad.png")
    result = runner.invoke(app, ["paint", "--style", str(inputs / "style.png"), "--map", str(inputs / "bad.png"),
                                 "--weights", str(random_weights), "-o", str(inputs / "o.png")])
    _one_line_error(result, "bad.png", "#010203", "is not in the", "style_sem.png")


def test_paint_end_to_end_writes_the_image_and_frames(inputs, random_weights):
    output = inputs / "out.png"
    result = runner.invoke(app, [
        "paint", "--style", str(inputs / "style.png"), "--map", str(inputs / "doodle.png"),
        "--weights", str(random_weights), "--output-size", "40x32", "--phases", "1", "--iterations", "4",
        "--style-layers", "1_1,2_1", "--save-every", "2", "-q", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert Image.open(output).size == (40, 32)
    assert sorted(p.name for p in inputs.glob("out_p1_*.png")) == ["out_p1_0002.png", "out_p1_0004.png"]
    assert result.output == ""  # --quiet


def test_palette_command_lists_labels_and_shares(tmp_path):
    Image.fromarray(quadrants(40)).save(tmp_path / "m.png")
    result = runner.invoke(app, ["palette", str(tmp_path / "m.png")])
    assert result.exit_code == 0
    assert "4 labels" in result.output and "#ff331f" in result.output and "25.0%" in result.output


def test_no_traceback_from_the_real_command(tmp_path):
    process = subprocess.run([sys.executable, "-m", "doodle", "paint", "--style", str(tmp_path / "x.jpg")],
                             capture_output=True, text=True)
    assert process.returncode == 1
    assert process.stderr.strip().splitlines() == [f"error: {tmp_path / 'x.jpg'}: style image file not found"]


def test_segment_command_writes_a_flat_map_and_a_legend(tmp_path):
    rgb = quadrants(64, antialias=False)
    noisy = (rgb.astype(int) + np.random.default_rng(0).integers(-20, 20, rgb.shape)).clip(0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "painting.png")
    result = runner.invoke(app, ["segment", str(tmp_path / "painting.png"), "-k", "4"])
    assert result.exit_code == 0, result.output
    written = np.asarray(Image.open(tmp_path / "painting_sem.png"))  # the X_sem.png convention
    assert len(np.unique(written.reshape(-1, 3), axis=0)) == 4
    assert "4 labels" in result.output and result.output.count("%") == 4
    again = runner.invoke(app, ["segment", str(tmp_path / "painting.png"), "-k", "4"])
    _one_line_error(again, "painting_sem.png: exists", "--overwrite")  # a hand-made map is never lost
    assert runner.invoke(app, ["segment", str(tmp_path / "painting.png"), "--overwrite"]).exit_code == 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA; the error path needs one without")
def test_asking_for_a_missing_gpu_is_one_line(inputs, random_weights):
    result = runner.invoke(app, ["paint", "--style", str(inputs / "style.png"), "--map", str(inputs / "doodle.png"),
                                 "--weights", str(random_weights), "--device", "cuda", "-o", str(inputs / "o.png")])
    _one_line_error(result, "--device cuda: no CUDA device")
    assert not (inputs / "o.png").exists()
