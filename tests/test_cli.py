import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from doodle.cli import app

from .conftest import one_line_error as _one_line_error
from .conftest import quadrants, tiny_run

runner = CliRunner()


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
    Image.fromarray(
        quadrants(48, colours=np.array([[0, 255, 0], [1, 2, 3], [0, 0, 255], [255, 255, 255]], dtype=np.uint8))
    ).save(inputs / "bad.png")
    result = runner.invoke(
        app, tiny_run("paint", inputs, random_weights, "-o", str(inputs / "o.png"), doodle="bad.png")
    )
    _one_line_error(result, "bad.png", "#010203", "is not in the", "style_sem.png")


def test_paint_end_to_end_writes_the_image_and_frames(inputs, random_weights):
    output = inputs / "out.png"
    result = runner.invoke(
        app,
        tiny_run(
            "paint",
            inputs,
            random_weights,
            "--output-size",
            "40x32",
            "--iterations",
            "4",
            "--save-every",
            "2",
            "-q",
            "-o",
            str(output),
        ),
    )
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
    process = subprocess.run(
        [sys.executable, "-m", "doodle", "paint", "--style", str(tmp_path / "x.jpg")], capture_output=True, text=True
    )
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
    result = runner.invoke(
        app, tiny_run("paint", inputs, random_weights, "--device", "cuda", "-o", str(inputs / "o.png"))
    )
    _one_line_error(result, "--device cuda: no CUDA device")
    assert not (inputs / "o.png").exists()


EVERY_SETTING = {  # each PaintSettings field: its flag and a value other than the default
    "output_size": (["--output-size", "40x32"], (40, 32)),
    "phases": (["--phases", "2"], 2),
    "iterations": (["--iterations", "9,7"], (9, 7)),
    "style_loss": (["--style-loss", "gram"], "gram"),
    "style_layers": (["--style-layers", "1_1, 2_1"], ("1_1", "2_1")),
    "content_layers": (["--content-layers", "3_1"], ("3_1",)),
    "style_weight": (["--style-weight", "2.5"], 2.5),
    "content_weight": (["--content-weight", "0.25"], 0.25),
    "semantic_weight": (["--semantic-weight", "3"], 3.0),
    "smoothness": (["--smoothness", "0.5"], 0.5),
    "style_scale": (["--style-scale", "0.75"], 0.75),
    "style_blend": (["--style-blend", "0.7,0.3"], (0.7, 0.3)),
    "allow_missing_labels": (["--allow-missing-labels"], True),
    "patch_size": (["--patch-size", "5"], 5),
    "match_every": (["--match-every", "4"], 4),
    "matcher": (["--matcher", "exact"], "exact"),
    "optimizer": (["--optimizer", "adam"], "adam"),
    "seed": (["--seed", "start.png"], "start.png"),
    "noise_ratio": (["--noise-ratio", "0.9"], 0.9),
    "random_seed": (["--random-seed", "9"], 9),
    "preserve_colors": (["--preserve-colors", "histogram"], "histogram"),
    "guide_weights": (["--guide-weight", "0.5", "--guide-weight", "10"], (0.5, 10.0)),
    "position_guide": (["--position-guide", "10"], 10.0),
    "luminance_guide": (["--luminance-guide", "0.5"], 0.5),
    "finish": (["--finish", "neural"], "neural"),
    "working_size": (["--working-size", "128"], 128),
    "last_vote": (["--last-vote", "5"], 5),
    "model": (["--model", "vgg16"], "vgg16"),
    "weights": (["--weights", "w.pth"], Path("w.pth")),
    "preprocess": (["--preprocess", "caffe"], "caffe"),
    "pooling": (["--pooling", "max"], "max"),
    "device": (["--device", "cpu"], "cpu"),
    "precision": (["--precision", "float32"], "float32"),
}


def test_every_setting_is_reachable_from_the_command_line(monkeypatch, tmp_path):
    """Each PaintSettings field, set to a non-default value by its flag, arrives in the library call."""
    import dataclasses

    import doodle.cli.paint
    from doodle import PaintSettings

    fields = {field.name: field.default for field in dataclasses.fields(PaintSettings)}
    assert set(EVERY_SETTING) == set(fields), "a setting without a flag (or a flag test)"
    assert all(value != fields[name] for name, (_, value) in EVERY_SETTING.items())  # each value tests something
    seen = {}

    class FakePainter:
        def __init__(self, settings, **kwargs):
            seen["settings"] = settings

        def paint(self, *args, **kwargs):
            return FakeResult()

    class FakeResult:
        notes, image = (), Image.new("RGB", (4, 4))

        def save(self, path):
            self.image.save(path)

    monkeypatch.setattr(doodle.cli.paint, "Painter", FakePainter)
    arguments = [argument for flags, _ in EVERY_SETTING.values() for argument in flags]
    result = runner.invoke(app, ["paint", "--style", "s.png", "-q", "-o", str(tmp_path / "o.png"), *arguments])
    assert result.exit_code == 0, result.output
    for name, (_, value) in EVERY_SETTING.items():
        assert getattr(seen["settings"], name) == value, name


def test_the_flags_of_library_parameters_are_those_the_commands_declare():
    import typer

    from doodle.cli.common import FLAGGED, flag_spelling

    commands = typer.main.get_command(app).commands
    declared = {}
    for command in (commands["train"], commands["studio"], commands["paint"]):
        declared.update({p.name: next(o for o in p.opts if o.startswith("--")) for p in command.params if p.opts})
    assert set(declared) == FLAGGED
    assert {name: flag_spelling(name, None) for name in declared} == declared


def test_library_parameter_names_become_flags():
    from doodle.cli import cli_words

    assert cli_words("use `device='cpu'` or 'auto'") == "use --device cpu or 'auto'"
    assert cli_words("pass `allow_missing_labels=True` to") == "pass --allow-missing-labels to"
    assert cli_words("a larger `output_size`, fewer `phases`") == "a larger --output-size, fewer --phases"
    assert cli_words("pass `target_map`") == "pass --map"
    assert cli_words("`network` is not a flag") == "network is not a flag"


def test_optimizer_adam_and_a_start_image_from_the_command_line(inputs, random_weights):
    start = np.zeros((32, 40, 3), np.uint8)
    start[:, 20:] = (30, 160, 220)
    Image.fromarray(start).save(inputs / "start.png")
    base = tiny_run("paint", inputs, random_weights, "--output-size", "40x32", "--iterations", "3", "-q")
    result = runner.invoke(app, [*base, "--optimizer", "adam", "-o", str(inputs / "adam.png")])
    assert result.exit_code == 0, result.output
    assert Image.open(inputs / "adam.png").size == (40, 32)
    result = runner.invoke(
        app,
        [
            *base,
            "--seed",
            str(inputs / "start.png"),
            "--style-weight",
            "0",
            "--smoothness",
            "0",
            "--finish",
            "neural",
            "-o",
            str(inputs / "started.png"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert np.abs(np.asarray(Image.open(inputs / "started.png")).astype(int) - start).max() <= 1
    missing = runner.invoke(app, [*base, "--seed", str(inputs / "nope.png"), "-o", str(inputs / "x.png")])
    _one_line_error(missing, "nope.png", "seed image file not found")
    typo = runner.invoke(app, [*base, "--seed", "colage", "-o", str(inputs / "x.png")])  # (a keyword mistyped)
    _one_line_error(typo, "colage: seed image file not found; --seed is auto, noise, content, labels, collage")


def test_watch_command_paints_repaints_on_save_and_stops_on_ctrl_c(inputs, random_weights):
    import os
    import signal
    import time

    output = inputs / "out.png"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "doodle",
            *tiny_run("watch", inputs, random_weights, "--output-size", "32x32", "-o", str(output)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def wait_for(condition, seconds=90):
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        return condition()

    try:
        assert wait_for(output.exists), process.stderr.read() if process.poll() is not None else "no output"
        first = output.stat().st_mtime_ns
        Image.fromarray(quadrants(48)[::-1].copy()).save(inputs / "doodle.png")  # the user saves an edit
        assert wait_for(lambda: output.stat().st_mtime_ns != first)
        time.sleep(0.3)
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert errors.count("wrote ") == 2 and errors.rstrip().endswith("stopped"), errors
    assert "Traceback" not in errors
    assert not [p for p in os.listdir(inputs) if p.startswith(".out.")]  # no temporary file left
