"""Real features (HED VGG16 from ../shared): does the output obey the map, in the painter's look?"""

import pytest
from PIL import Image

import semantic_maps
from doodle import paint
from doodle.quality import label_agreement

from .conftest import DATA, needs_shared

pytestmark = needs_shared


@pytest.fixture(scope="module")
def monet():
    return (
        Image.open(DATA / "paintings" / "Monet.jpg"),
        semantic_maps.read_map(DATA / "maps" / "Monet_sem.png"),
        semantic_maps.read_map(DATA / "maps" / "Coastline_sem.png"),
    )


def test_monet_on_coastline_every_region_takes_its_own_labels_look(real_net, monet):
    """Sky, cliffs, sea, grass and rocks of the doodle each look like that label of the painting.

    Seeded with noise so the map, not the start image, must put every look in its place; the same
    run without label channels must fail the measure, or the measure would prove nothing. (The
    network's stage alone: the pixel finish's label guide would mend the blind run.)
    """
    painting, painting_map, coastline = monet
    options = dict(network=real_net, output_size=(128, 96), seed="noise", iterations=60, finish="neural")
    output = paint(painting, style_map=painting_map, target_map=coastline, **options).image
    agreement = label_agreement(real_net, output, painting, painting_map, coastline)
    assert agreement.diagonal().min() >= 0.5, agreement.round(2)

    blind = paint(painting, style_map=painting_map, target_map=coastline, semantic_weight=0.0, **options).image
    blind_agreement = label_agreement(real_net, blind, painting, painting_map, coastline)
    assert blind_agreement.diagonal().min() < 0.3, blind_agreement.round(2)


def test_the_pixel_finish_paints_each_region_with_its_own_labels_patches_of_the_painting(real_net, monet):
    """The default: the network lays the doodle out at a working size, the painting's pixels make the
    output. Nearly every interior pixel's 5x5 patch is most like a patch of the painting in the label
    the doodle asks for: 0.97 here, against 0.83 when the network paints every pixel."""
    import numpy as np
    import torch

    from doodle.images import to_tensor
    from doodle.quality import patch_agreement

    painting, painting_map, coastline = monet
    size = (128, 96)
    palette, _ = semantic_maps.shared_palette(painting_map, coastline)

    def labels(rgb: np.ndarray) -> torch.Tensor:
        weights = torch.from_numpy(semantic_maps.encode_labels(np.asarray(Image.fromarray(rgb).resize(size)), palette))
        found = weights.argmax(0)
        found[weights.max(0).values < 0.99] = -1  # edges: no one label
        return found

    small = to_tensor(painting.resize(size, Image.BOX))[0]
    shares = {}
    for finish in ("pixels", "neural"):
        result = paint(painting, style_map=painting_map, target_map=coastline, network=real_net, output_size=size,
                       working_size=64, finish=finish)  # fmt: skip
        assert result.image.size == size
        shares[finish] = patch_agreement(to_tensor(result.image)[0], small, labels(painting_map), labels(coastline))
    assert shares["pixels"] >= 0.92 and shares["pixels"] > shares["neural"] + 0.05, shares
