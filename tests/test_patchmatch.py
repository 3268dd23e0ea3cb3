"""PatchMatch: finds unique matches from random starts, never loses ground, carries matches across phases."""

import torch

from doodle.mrf import MRFLoss
from doodle.patches import extract_patches, match_keys, match_patches, projection_basis
from doodle.patchmatch import PatchMatch, rescale_matches


def _shifted_crop(channels: int, seed: int = 0):
    """Style features and a crop of them shifted by (3, 5): each output patch has one exact match."""
    g = torch.Generator().manual_seed(seed)
    style = torch.rand(1, channels, 26, 30, generator=g)
    crop = style[:, :, 3:19, 5:25]  # output 16 x 20 -> patch grid 14 x 18
    keys = match_keys(extract_patches(style), None, 0.0)
    queries = match_keys(extract_patches(crop), None, 0.0)
    ys, xs = torch.meshgrid(torch.arange(14), torch.arange(18), indexing="ij")
    truth = ((ys + 3) * 28 + xs + 5).flatten()  # style patch grid is 24 x 28
    return keys, queries, truth


def test_patchmatch_finds_the_unique_matches_from_random_seeds():
    keys, queries, truth = _shifted_crop(channels=16)
    assert torch.equal(match_patches(queries, keys), truth)  # the exact search agrees: matches are unique
    search = PatchMatch(keys, (24, 28), keys.shape[1], generator=torch.Generator().manual_seed(1))
    seed = torch.randint(0, keys.shape[0], truth.shape, generator=torch.Generator().manual_seed(2))
    found = search(queries, (14, 18), seed, rounds=6)
    assert (found == truth).float().mean() == 1.0


def test_patchmatch_in_a_projection_finds_them_too_and_never_loses_ground():
    keys, queries, truth = _shifted_crop(channels=128)  # 1152-long patches: scored in 64 dimensions
    basis = projection_basis(keys, keys.shape[1])
    search = PatchMatch(keys, (24, 28), keys.shape[1], basis=basis, generator=torch.Generator().manual_seed(1))
    seed = torch.randint(0, keys.shape[0], truth.shape, generator=torch.Generator().manual_seed(2))
    found = search(queries, (14, 18), seed, rounds=6)
    assert (found == truth).float().mean() >= 0.98
    score = lambda m: (queries * keys[m]).sum(1)  # noqa: E731
    assert (score(found) >= score(seed) - 1e-6).all()  # the exact score decides against the seed
    assert torch.equal(search(queries, (14, 18), truth, rounds=2), truth)  # the best stays the best


def test_rescaled_matches_keep_a_coherent_shift():
    coarse = torch.arange(6 * 8).view(6, 8)[1:5, 2:7].flatten()  # a 4 x 5 grid matched with shift (1, 2)
    fine = rescale_matches(coarse, (4, 5), (6, 8), (8, 10), (12, 16))
    ys, xs = torch.meshgrid(torch.arange(8), torch.arange(10), indexing="ij")
    assert torch.equal(fine, ((ys + 2) * 16 + xs + 4).flatten())  # shift doubled, offsets kept


def test_fast_mrf_keeps_single_label_patches_in_their_label():
    g = torch.Generator().manual_seed(4)
    style, target = torch.rand(1, 8, 20, 24, generator=g), torch.rand(1, 8, 16, 16, generator=g)
    style_labels = torch.zeros(1, 2, 20, 24)
    style_labels[:, 0, :, :12], style_labels[:, 1, :, 12:] = 1, 1
    target_labels = torch.zeros(1, 2, 16, 16)
    target_labels[:, 0, :8], target_labels[:, 1, 8:] = 1, 1
    loss = MRFLoss(
        style,
        style_labels,
        target_labels,
        semantic_weight=2.0,
        matcher="fast",
        generator=torch.Generator().manual_seed(0),
    )
    loss(target)
    loss.refresh()
    loss(target + 0.05 * torch.rand(1, 8, 16, 16, generator=g))  # now improved by PatchMatch
    query_rows = torch.arange(14)[:, None].expand(14, 14).flatten()
    key_columns = loss.matches.indices % 22
    top, bottom = query_rows <= 4, query_rows >= 8  # patches wholly in label 0 / label 1
    assert (key_columns[top] <= 9).all() and (key_columns[bottom] >= 12).all()


def test_patchmatch_memory_is_bounded_by_the_chunk(monkeypatch):
    """The gathered candidate keys of a chunk stay under the chunk size, whatever the number of queries."""
    largest = {"elements": 0}
    original = torch.linalg.vecdot

    def recording(gathered, queries, **kwargs):
        largest["elements"] = max(largest["elements"], gathered.numel())
        return original(gathered, queries, **kwargs)

    monkeypatch.setattr(torch.linalg, "vecdot", recording)
    g = torch.Generator().manual_seed(0)
    keys = match_keys(extract_patches(torch.rand(1, 32, 30, 30, generator=g)), None, 0.0)  # 288-long patches
    search = PatchMatch(
        keys, (28, 28), keys.shape[1], basis=projection_basis(keys, keys.shape[1]), chunk_elements=20_000, generator=g
    )
    for side in (10, 40):
        patches = extract_patches(torch.rand(1, 32, side + 2, side + 2, generator=g))
        seed = torch.randint(0, keys.shape[0], (side * side,), generator=g)
        largest["elements"] = 0
        search(patches, (side, side), seed)
        assert 0 < largest["elements"] <= 20_000


def test_labels_missing_from_the_style_get_random_candidates_anywhere():
    """A label the style lacks (as with --allow-missing-labels) draws its random candidates from every patch."""
    g = torch.Generator().manual_seed(0)
    keys = match_keys(extract_patches(torch.rand(1, 8, 12, 12, generator=g)), None, 0.0)
    key_labels = torch.zeros(keys.shape[0], dtype=torch.long)  # the style has label 0 only
    search = PatchMatch(keys, (10, 10), keys.shape[1], key_labels, label_count=3, generator=g)
    query_labels = torch.full((64,), 2)  # the output asks for label 2
    candidates = search._candidates(torch.zeros(64, dtype=torch.long), (8, 8), query_labels, jump=8)
    drawn = candidates[:, -search.label_samples :]  # the label samples come last
    assert drawn.min() >= 0 and drawn.max() < keys.shape[0]
    assert drawn.unique().numel() > 30  # spread over the style, not one clamped index
    found = search(
        extract_patches(torch.rand(1, 8, 10, 10, generator=g)), (8, 8), torch.zeros(64, dtype=torch.long), query_labels
    )
    assert found.min() >= 0 and found.max() < keys.shape[0]


def test_the_fast_matcher_searches_small_labels_exactly(monkeypatch):
    """A small region (a portrait's eyes) is searched exactly at every refresh, whatever PatchMatch found;
    the other regions keep PatchMatch's matches (here a PatchMatch that finds nothing keeps the seed)."""
    from doodle.matching import Matches, build_matcher

    g = torch.Generator().manual_seed(3)
    style, target = torch.rand(1, 8, 40, 48, generator=g), torch.rand(1, 8, 16, 16, generator=g)

    def labels(height: int, width: int, box: slice) -> torch.Tensor:  # label 1 in a small square
        out = torch.zeros(1, 2, height, width)
        out[:, 0] = 1
        out[:, 0, box, box], out[:, 1, box, box] = 0, 1
        return out

    style_labels, target_labels = labels(40, 48, slice(2, 8)), labels(16, 16, slice(4, 10))
    matchers = {
        name: build_matcher(
            name,
            extract_patches(style),
            extract_patches(style_labels),
            extract_patches(target_labels),
            label_count=2,
            semantic_weight=2.0,
            key_grid=(38, 46),
            generator=torch.Generator().manual_seed(0),
        )
        for name in ("exact", "fast")
    }
    monkeypatch.setattr(PatchMatch, "__call__", lambda self, patches, grid, seed, *args, **kwargs: seed)
    queries, grid = extract_patches(target), (14, 14)
    found = matchers["fast"](queries, grid, Matches(torch.zeros(14 * 14, dtype=torch.long), grid, (38, 46)))
    small = matchers["fast"].query_labels == 1
    assert 10 < int(small.sum()) < 50
    assert torch.equal(found[small], matchers["exact"](queries, grid)[small])
    assert (found[small] != 0).all() and (found[~small] == 0).all()
