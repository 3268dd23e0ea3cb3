"""The "edit an existing painting" workflow on a real painting: segment, move the sea line, repaint."""

import numpy as np
import pytest
from PIL import Image

from doodle import paint
from doodle.quality import looks_like
from semantic_maps import encode_labels, find_palette, grow_upward
from semantic_maps.segment import segment

from .conftest import DATA, needs_shared

pytestmark = needs_shared

SIZE = (128, 96)


@pytest.fixture(scope="module")
def monet_segmented():
    painting = Image.open(DATA / "paintings" / "Monet.jpg").convert("RGB")
    return painting, segment(np.asarray(painting), 5)


def test_segment_monet_gives_five_solid_regions(monet_segmented):
    from scipy import ndimage

    _, generated = monet_segmented
    palette = find_palette(generated)
    assert len(palette) == 5 and len(np.unique(generated.reshape(-1, 3), axis=0)) == 5
    labels = encode_labels(generated, palette).argmax(0)
    for k in range(5):
        region = labels == k
        assert region.mean() >= 0.01
        components, count = ndimage.label(region)
        assert np.bincount(components.ravel())[1:].max() >= 0.8 * region.sum()  # connected-ish


def test_moving_the_sea_line_up_moves_the_painted_sea(real_net, monet_segmented):
    """The band that the edit turned into sea is painted as sea; without the edit it is not."""
    painting, generated = monet_segmented
    small_painting = painting.resize(SIZE, Image.LANCZOS)
    small_map = np.asarray(Image.fromarray(generated).resize(SIZE, Image.NEAREST))
    height, width = small_map.shape[:2]
    sea = small_map[int(height * 0.7), width // 2].copy()
    edited = grow_upward(small_map, sea, pixels=16)  # move the sea line up
    band = (edited == sea).all(axis=2) & ~(small_map == sea).all(axis=2)
    assert band.mean() > 0.05

    palette = find_palette(small_map)
    sea_index = int(np.argmin(np.abs(palette.astype(int) - sea).sum(axis=1)))

    def band_looks_like_sea(target_map: np.ndarray) -> float:
        output = paint(
            small_painting, style_map=small_map, target_map=target_map, network=real_net, iterations=50
        ).image
        seen = looks_like(real_net, output, small_painting, small_map, palette)  # (h - 2, w - 2) at relu3_1
        h, w = seen.shape[0] + 2, seen.shape[1] + 2
        stride_y, stride_x = height // h, width // w
        pooled = band[: h * stride_y, : w * stride_x].reshape(h, stride_y, w, stride_x).mean(axis=(1, 3))
        inside = pooled[1:-1, 1:-1] > 0.99  # positions whose patch centre lies wholly in the band
        assert inside.sum() >= 10
        return float((seen[inside] == sea_index).mean())

    assert band_looks_like_sea(edited) >= 0.6
    assert band_looks_like_sea(small_map) < 0.3  # unedited: the band keeps its old look
