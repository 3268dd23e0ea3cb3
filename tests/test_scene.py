import numpy as np
import pytest
from PIL import Image

from doodle import DoodleError, PaintSettings, build_scene

from .conftest import COLOURS, plan_of, quadrants


def _save(path, array):
    Image.fromarray(array).save(path)
    return path


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    style = _save(tmp_path / "painting.png", rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    _save(tmp_path / "painting_sem.png", np.asarray(Image.fromarray(quadrants(64)).resize((64, 48))))
    doodle_map = _save(tmp_path / "doodle.png", quadrants(32)[::-1].copy())
    photo = _save(tmp_path / "photo.png", rng.integers(0, 255, (40, 40, 3), dtype=np.uint8))
    return {"style": style, "map": doodle_map, "photo": photo, "dir": tmp_path}


def test_doodle_mode_finds_the_style_map_and_takes_the_map_size(files):
    scene = build_scene(files["style"], target_map=files["map"])
    assert scene.mode == "doodle" and scene.shape == (32, 32)
    assert scene.target_labels.shape == (1, 4, 32, 32) and scene.style_labels.shape[1] == 4
    assert scene.style.shape[-2:] == scene.style_labels.shape[-2:]


def test_output_size_scales_map_and_style_together(files):
    scene = build_scene(files["style"], target_map=files["map"], output_size=(64, 64))
    assert scene.shape == (64, 64) and scene.target_labels.shape[-2:] == (64, 64)
    assert scene.style.shape[-2:] == (96, 128)  # twice the painting, like the map


def test_style_transfer_and_texture_modes(files):
    transfer = build_scene(files["style"], content=files["photo"])
    assert transfer.mode == "style transfer" and transfer.shape == (40, 40) and transfer.target_labels is None
    texture = build_scene(files["style"], output_size=(80, 60))
    assert texture.mode == "texture synthesis" and texture.shape == (60, 80)
    assert texture.style.shape[-2:] == (48, 64)  # a texture keeps the painting's own scale


def test_semantic_transfer_finds_the_content_map(files):
    _save(files["dir"] / "photo_sem.png", quadrants(40))
    scene = build_scene(files["style"], content=files["photo"])
    assert scene.mode == "semantic style transfer" and scene.target_labels.shape == (1, 4, 40, 40)


def test_target_map_without_style_map_is_an_error(files, tmp_path):
    lonely = _save(tmp_path / "lonely.png", np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(DoodleError, match="the style has no label map, and a target map needs one"):
        build_scene(lonely, target_map=files["map"])


def test_unknown_doodle_colour_is_an_error(files):
    bad = quadrants(32, colours=np.array([[0, 255, 0], *COLOURS[1:]], dtype=np.uint8))
    with pytest.raises(DoodleError, match="#00ff00"):
        build_scene(files["style"], target_map=bad)


def test_mismatched_map_size_is_resized_with_a_warning(files):
    with pytest.warns(UserWarning, match="resizing the map"):
        scene = build_scene(files["style"], style_map=quadrants(64), target_map=files["map"])
    assert scene.style_labels.shape[-2:] == (48, 64)


def test_missing_labels_allowed_are_painted_without_semantics(files):
    bad = quadrants(32, colours=np.array([[0, 255, 0], *COLOURS[1:]], dtype=np.uint8))  # top left: unknown green
    with pytest.warns(UserWarning, match="#00ff00 are not in the style map"):
        scene = build_scene(files["style"], target_map=bad, allow_missing_labels=True)
    assert scene.target_labels.shape[1] == 4
    assert scene.target_labels[0, :, 4, 4].sum() == 0  # no label: features alone decide there
    assert scene.target_labels[0, :, 28, 28].sum() == pytest.approx(1.0)


def test_stray_specks_are_reported_not_fatal(files):
    speckled = quadrants(32)[::-1].copy()
    speckled[20:22, 4:6] = COLOURS[1]  # a 2x2 slip of the brush inside another label
    with pytest.warns(UserWarning, match=r"1 stray speck\(s\), painted as their label: #ff331f: 4 pixels at x=4, y=20"):
        build_scene(files["style"], target_map=speckled)


def test_style_loss_default_depends_on_the_mode(files):
    from doodle import PaintSettings

    texture = build_scene(files["style"], output_size=(40, 40))
    doodle = build_scene(files["style"], target_map=files["map"])
    assert plan_of(texture).style_loss == "both"  # patches alone collapse a texture
    assert plan_of(doodle).style_loss == "mrf"
    assert plan_of(texture, PaintSettings(style_loss="gram")).style_loss == "gram"  # the user's choice wins
    assert plan_of(doodle).gram_layers == () and plan_of(doodle).mrf_layers
    # In texture synthesis relu1_1 is a patch layer too (colour pixel by pixel); a choice of layers wins.
    assert plan_of(texture).mrf_layers[0] == "relu1_1"
    assert plan_of(doodle).mrf_layers == ("relu2_1", "relu3_1", "relu4_1")
    assert plan_of(texture, PaintSettings(style_loss="gram")).gram_layers[-1] == "relu5_1"
    assert plan_of(texture, PaintSettings(style_layers=("3_1",))).mrf_layers == ("relu3_1",)


def test_a_content_map_found_without_a_style_map_is_ignored(files, tmp_path):
    plain_style = _save(tmp_path / "plain.png", np.zeros((32, 32, 3), np.uint8))  # no plain_sem.png beside it
    _save(files["dir"] / "photo_sem.png", quadrants(40))
    with pytest.warns(UserWarning, match="the style has no map; painting without semantics"):
        scene = build_scene(plain_style, content=files["photo"])
    assert scene.mode == "style transfer"
    with pytest.raises(
        DoodleError, match="the style has no label map, and a target map needs one"
    ):  # but an explicit --map is kept
        build_scene(plain_style, content=files["photo"], target_map=files["dir"] / "photo_sem.png")


def test_a_continuous_map_cut_into_labels_gets_a_note(tmp_path):
    # A map of smooth shades was cut into ~30 labels without a word; a hand-painted map says nothing.
    from PIL import Image

    from doodle.inputs import read_inputs

    rows, columns = np.mgrid[0:96, 0:128]
    shades = np.stack([columns * 2, rows * 2, np.full_like(rows, 128)], -1).astype(np.uint8)
    Image.fromarray(shades).save(tmp_path / "shades.png")
    Image.fromarray(np.zeros((96, 128, 3), np.uint8) + 90).save(tmp_path / "painting.png")
    read = read_inputs(tmp_path / "painting.png", style_map=tmp_path / "shades.png", target_map=tmp_path / "shades.png")
    notes = [note for note in read.notes if "shades between its colours" in note]
    assert len(notes) == 2 and notes[0].startswith(f"{tmp_path / 'shades.png'}: ") and read.labels > 10, read.notes
    from typer.testing import CliRunner

    from doodle.cli import app

    listed = CliRunner().invoke(app, ["palette", str(tmp_path / "shades.png")])  # (no note there before)
    assert listed.exit_code == 0 and "shades between its colours" in listed.output, listed.output
    Image.fromarray(quadrants(96)).save(tmp_path / "map.png")
    plain = read_inputs(tmp_path / "painting.png", style_map=tmp_path / "map.png", target_map=tmp_path / "map.png")
    assert not [note for note in plain.notes if "shades" in note]


def test_a_painting_painted_far_larger_than_the_output_gets_a_note(tmp_path):
    # A large painting for a small doodle is painted at the doodle's scale, far larger than the output:
    # 6 GB for a 64x48 output without a word.
    from PIL import Image

    from doodle.inputs import read_inputs

    Image.fromarray(quadrants(1040, antialias=False)).save(tmp_path / "large_sem.png")
    Image.fromarray(np.full((1040, 1040, 3), 90, np.uint8)).save(tmp_path / "large.png")
    Image.fromarray(quadrants(64, antialias=False)).save(tmp_path / "doodle.png")
    read = read_inputs(tmp_path / "large.png", target_map=tmp_path / "doodle.png")
    assert read.style_shape == (1040, 1040) and read.shape == (64, 64)
    assert any(note.startswith(f"{tmp_path / 'large.png'}: 1040x1040 is painted at 1040x1040") for note in read.notes)
    small = read_inputs(
        tmp_path / "large.png", target_map=tmp_path / "doodle.png", settings=PaintSettings(style_scale=0.25)
    )
    assert not [note for note in small.notes if "large.png" in note], small.notes
