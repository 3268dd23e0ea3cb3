"""Guided patch synthesis: pixels copied from the painting, kept to their label, spread evenly, at any size."""

import torch

from doodle.quality import crispness
from doodle.synthesis import Guide, Synthesis, pyramid_shapes, synthesize

SMALL = Synthesis(smallest=12)


def _stripes(height: int = 48, width: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """A painting of two textures, random dots on the left half and stripes on the right, and its
    two-label map ``(2, H, W)``."""
    g = torch.Generator().manual_seed(0)
    painting = torch.zeros(3, height, width)
    painting[:, :, : width // 2] = torch.rand(1, height, width // 2, generator=g).repeat(3, 1, 1)
    painting[0, :, width // 2 :] = (torch.arange(width // 2) % 4 < 2).float()
    labels = torch.zeros(2, height, width)
    labels[0, :, : width // 2] = 1
    labels[1, :, width // 2 :] = 1
    return painting, labels


def test_the_output_is_made_of_the_paintings_pixels_and_follows_the_map():
    painting, labels = _stripes()
    target = torch.zeros(2, 40, 80)
    target[1, :20] = 1  # stripes above, dots below: the painting's halves turned on their side
    target[0, 20:] = 1
    out = synthesize(
        painting, [Guide(labels, target, 2.0, labels=True)], (40, 80), SMALL, generator=torch.Generator().manual_seed(1)
    )[0]
    assert out.shape == (3, 40, 80)
    top, bottom = out[:, 2:16, 2:-2], out[:, 24:-2, 2:-2]
    assert (top[1] < 0.05).float().mean() > 0.95  # the stripes' rows: red only, as the right half
    assert (bottom[0] - bottom[1]).abs().max() < 0.05  # the dots: grey, as the left half
    # Copied, not blurred: the stripes keep most of their contrast
    assert top[0].std() > 0.8 * painting[0, :, 32:].std()


def test_uniformity_spreads_the_use_of_the_painting():
    painting, _ = _stripes()
    painting = painting[:, :, :32]  # the dots alone: every patch as good as another
    used = []
    for uniformity in (0.0, 0.2):
        settings = Synthesis(smallest=12, uniformity=uniformity)
        out = synthesize(painting, [], (48, 32), settings, generator=torch.Generator().manual_seed(2))[0]
        # Distinct grey levels of the painting that appear in the output: more with uniformity
        used.append(len(torch.unique((out[0] * 255).round())))
    assert used[1] > used[0]


def test_it_paints_any_size_and_the_same_with_the_same_seed():
    painting, labels = _stripes()
    big = (120, 150)
    target = torch.nn.functional.interpolate(labels[None], size=big)[0]
    guide = [Guide(labels, target, 2.0, labels=True)]
    first = synthesize(painting, guide, big, SMALL, generator=torch.Generator().manual_seed(3))[0]
    again = synthesize(painting, guide, big, SMALL, generator=torch.Generator().manual_seed(3))[0]
    assert first.shape == (3, *big) and torch.equal(first, again)
    assert crispness(first, painting) > 0.7


def test_the_pyramid_halves_both_until_the_smallest_side():
    levels = pyramid_shapes((400, 600), (300, 200), 48)
    assert levels[-1] == ((400, 600), (300, 200))
    assert min(levels[0][0] + levels[0][1]) >= 48 and min(levels[0][1]) < 96
    assert pyramid_shapes((20, 20), (20, 20), 48) == [((20, 20), (20, 20))]


def test_the_measures_tell_a_copy_from_a_blur_and_a_swap():
    """crispness: the painting itself 1, blurred less; patch_agreement: the painting against its own
    labels 1, against its labels swapped near 0."""
    from doodle.quality import patch_agreement

    painting, labels = _stripes()
    blurred = torch.nn.functional.avg_pool2d(painting[None], 3, 1, 1)[0]
    assert crispness(painting, painting) == 1.0 and crispness(blurred, painting) < 0.6
    own = labels.argmax(0)
    assert patch_agreement(painting, painting, own, own, samples=200) == 1.0
    assert patch_agreement(painting, painting, own, 1 - own, samples=200) < 0.1


def test_the_last_vote_takes_the_central_pixels_of_each_patch():
    """With ``last_vote`` 3 the output is crisper than with every patch's whole 5x5 (0.4's vote), from the
    very same matches: only the last vote differs."""
    painting, labels = _stripes()
    target = torch.zeros(2, 40, 80)
    target[1, :20] = 1
    target[0, 20:] = 1
    guides = [Guide(labels, target, 2.0, labels=True)]
    whole, matches = synthesize(
        painting,
        guides,
        (40, 80),
        SMALL.__class__(smallest=12, last_vote=5),
        generator=torch.Generator().manual_seed(1),
    )
    central, same = synthesize(painting, guides, (40, 80), SMALL, generator=torch.Generator().manual_seed(1))
    assert torch.equal(matches, same) and not torch.equal(whole, central)
    assert crispness(central, painting) > crispness(whole, painting)
