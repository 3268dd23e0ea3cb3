import numpy as np
import pytest
from PIL import Image

from semantic_maps import (
    MapError,
    encode_labels,
    find_palette,
    map_path_for,
    read_map,
    shared_palette,
    snap_palette,
    to_hex,
)

from .conftest import COLOURS, DATA, needs_shared, quadrants


def test_palette_of_anti_aliased_quadrants_is_exactly_the_four_colours():
    rgb = quadrants()
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20  # many in-between colours
    palette = find_palette(rgb)
    assert sorted(map(to_hex, palette)) == sorted(map(to_hex, COLOURS))


def test_close_colours_stay_separate_labels_and_black_is_a_label():
    colours = np.array([[192, 0, 0], [255, 51, 31], [0, 0, 0], [0, 255, 0]], dtype=np.uint8)  # cosine 0.97
    palette = find_palette(quadrants(colours=colours))
    assert sorted(map(to_hex, palette)) == sorted(map(to_hex, colours))


def test_encoding_is_one_hot_inside_and_a_two_label_blend_on_edges():
    rgb = quadrants()
    weights = encode_labels(rgb, COLOURS)
    assert weights.shape == (4, 64, 64)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0, atol=1e-6)
    assert weights[:, 5, 5].tolist() == [1, 0, 0, 0] and weights[:, 60, 60].tolist() == [0, 0, 0, 1]
    edge = weights[:, 5, 31]  # between white (top left) and #ff331f (top right)
    assert edge[0] > 0.1 and edge[1] > 0.1 and edge[2] + edge[3] < 1e-6


def test_snapping_restores_flat_regions():
    snapped = snap_palette(quadrants(), COLOURS)
    assert len(np.unique(snapped.reshape(-1, 3), axis=0)) == 4
    assert (snapped == quadrants(antialias=False)).all(axis=2).mean() > 0.97


def test_rgba_l_and_p_maps_read_as_rgb(tmp_path):
    rgb = quadrants(antialias=False)
    Image.fromarray(rgb).convert("RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=8).save(tmp_path / "p.png")
    assert (read_map(tmp_path / "rgba.png") == rgb).all()
    assert (read_map(tmp_path / "p.png") == rgb).all()
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    Image.fromarray(grey).save(tmp_path / "l.png")
    assert (read_map(tmp_path / "l.png") == grey[..., None]).all()


def test_transparent_pixels_composite_to_black(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:4, ..., 3] = 255  # top half opaque red, bottom half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "m.png")
    rgb = read_map(tmp_path / "m.png")
    assert rgb[0, 0].tolist() == [255, 0, 0] and rgb[7, 0].tolist() == [0, 0, 0]


def test_unreadable_map_names_the_file(tmp_path):
    (tmp_path / "bad.png").write_text("nope")
    with pytest.raises(MapError, match="bad.png: cannot read map"):
        read_map(tmp_path / "bad.png")
    with pytest.raises(MapError, match="missing.png: map file not found"):
        read_map(tmp_path / "missing.png")


def test_target_label_missing_from_style_names_colour_and_place():
    style = quadrants(antialias=False)
    target = style.copy()
    target[40:60, 40:60] = [0, 255, 0]
    with pytest.raises(
        MapError, match=r"#00ff00 \(around x=\d+, y=\d+\) is not in the style map.*`allow_missing_labels=True`"
    ):
        shared_palette(style, target)
    palette, missing = shared_palette(style, target, allow_missing=True)
    assert len(palette) == 4 and [to_hex(c) for c in missing] == ["#00ff00"]


def test_map_path_convention():
    assert map_path_for("a/Monet.jpg").as_posix() == "a/Monet_sem.png"


@needs_shared
def test_real_maps_have_their_documented_labels():
    monet = find_palette(read_map(DATA / "maps" / "Monet_sem.png"))
    assert sorted(map(to_hex, monet)) == sorted(["#ffffff", "#ff331f", "#0000ff", "#00ff00", "#c00000"])
    coastline = find_palette(read_map(DATA / "maps" / "Coastline_sem.png"))
    assert set(map(to_hex, coastline)) <= set(map(to_hex, monet))
    renoir = find_palette(read_map(DATA / "maps" / "Renoir_sem.png"))
    assert sorted(map(to_hex, renoir)) == sorted(["#00ff00", "#ffffff", "#0000ff", "#ff331f"])
    assert len(find_palette(read_map(DATA / "maps" / "Gogh_sem.png"))) == 6  # eyes and detail are small


def test_segment_recovers_the_sample_paintings_regions():
    import itertools
    from pathlib import Path

    from semantic_maps.segment import segment

    samples = Path(__file__).resolve().parents[1] / "samples"
    painting = np.asarray(Image.open(samples / "seaside.png").convert("RGB"))
    truth = read_map(samples / "seaside_sem.png")
    truth_labels = encode_labels(truth, find_palette(truth)).argmax(0)
    result = segment(painting, 4)
    palette = find_palette(result)
    assert len(palette) == 4 and len(np.unique(result.reshape(-1, 3), axis=0)) == 4  # flat: no edge colours
    labels = encode_labels(result, palette).argmax(0)
    assert np.bincount(labels.ravel()).min() >= 0.01 * labels.size
    agreement = max(np.mean(np.array(p)[labels] == truth_labels) for p in itertools.permutations(range(4)))
    assert agreement > 0.95


@needs_shared
@pytest.mark.parametrize("name", ["Monet", "Coastline", "Renoir", "Gogh"])
def test_jpeg_copy_of_a_real_map_has_the_same_labels(name):
    import io

    rgb = read_map(DATA / "maps" / f"{name}_sem.png")
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=90)
    jpeg = np.asarray(Image.open(buffer).convert("RGB"))
    palette, jpeg_palette = find_palette(rgb), find_palette(jpeg)
    assert len(jpeg_palette) == len(palette)
    distance = np.linalg.norm(jpeg_palette[:, None].astype(float) - palette[None].astype(float), axis=2)
    assert distance.min(axis=1).max() < 6  # every JPEG label is one of the true colours


@needs_shared
def test_rgba_and_grey_copies_of_a_real_map_encode_like_the_rgb_one(tmp_path):
    import itertools

    rgb = read_map(DATA / "maps" / "Monet_sem.png")
    labels = encode_labels(rgb, find_palette(rgb))
    Image.fromarray(rgb).convert("RGBA").save(tmp_path / "rgba.png")
    rgba = read_map(tmp_path / "rgba.png")
    np.testing.assert_array_equal(encode_labels(rgba, find_palette(rgba)), labels)
    Image.fromarray(rgb).convert("L").save(tmp_path / "grey.png")  # Monet's five labels have five greys
    grey = read_map(tmp_path / "grey.png")
    grey_labels = encode_labels(grey, find_palette(grey)).argmax(0)
    assert len(find_palette(grey)) == 5
    agreement = max(np.mean(np.array(p)[grey_labels] == labels.argmax(0)) for p in itertools.permutations(range(5)))
    assert agreement > 0.98  # the rest: anti-aliased edge pixels


@needs_shared
def test_snapping_a_real_map_changes_only_edges():
    rgb = read_map(DATA / "maps" / "Coastline_sem.png")
    snapped = snap_palette(rgb, find_palette(rgb))
    changed = (snapped != rgb).any(axis=2)
    padded = np.pad(rgb.astype(int), ((1, 1), (1, 1), (0, 0)), mode="edge")
    interior = np.ones(changed.shape, bool)
    for dy in range(3):
        for dx in range(3):
            interior &= (padded[dy : dy + rgb.shape[0], dx : dx + rgb.shape[1]] == rgb).all(axis=2)
    assert changed[interior].mean() <= 0.01
    assert len(np.unique(snapped.reshape(-1, 3), axis=0)) == 5


def test_grow_upward_raises_a_labels_top_edge_column_by_column():
    from semantic_maps import grow_upward

    sky, sea = np.array([255, 255, 255], np.uint8), np.array([0, 0, 255], np.uint8)
    rgb = np.tile(sky, (10, 4, 1))
    rgb[6:, :3] = sea  # the last column has no sea
    rgb[8:, 1] = sky  # a sky hole below the sea's top edge stays
    edited = grow_upward(rgb, sea, 2)
    assert (edited[4:6, :3] == sea).all() and (edited[:4] == sky).all()
    assert (edited[:, 3] == sky).all() and (edited[8:, 1] == sky).all()
    assert (rgb[4:6] == sky).all()  # the input is not modified


def test_noise_or_a_gradient_with_a_flat_sliver_is_no_map():
    # Labels come from flat pixels: noise with one flat 10x10 square was "1 label, 100 %", and painted.
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (100, 100, 3), dtype=np.uint8)
    noise[40:50, 40:50] = (200, 30, 30)
    rows, columns = np.mgrid[0:80, 0:120]
    gradient = np.stack([(columns * 23) % 256, (rows * 29) % 256, (rows + columns) * 7 % 256], -1).astype(np.uint8)
    gradient[10:12, 10:12] = gradient[10, 10]  # (busy: every pixel far from its neighbours, but a few)
    with pytest.raises(MapError, match=r"noise.png: only 1 % of it is regions of flat colour") as caught:
        find_palette(noise, name="noise.png")
    assert caught.value.path == "noise.png"
    with pytest.raises(MapError, match=r"gradient.png: .* rather than a map of flat colours"):
        find_palette(gradient, name="gradient.png")
    assert len(find_palette(quadrants(100))) == 4  # a map, anti-aliased: about 95 % flat
