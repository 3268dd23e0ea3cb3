import pytest
import torch

from doodle.mrf import MRFLoss
from doodle.patches import extract_patches, match_keys, match_patches, normalize_rows


def test_extract_patches_shape_and_order():
    x = torch.arange(2 * 4 * 5, dtype=torch.float32).view(1, 2, 4, 5)
    patches = extract_patches(x, 3)
    assert patches.shape == (2 * 3, 2 * 9)
    # first patch: channel 0 rows 0..2, cols 0..2
    assert patches[0, :9].tolist() == [0, 1, 2, 5, 6, 7, 10, 11, 12]
    # second patch is one column to the right
    assert patches[1, 0].item() == 1


def test_ncc_finds_the_exact_patch_even_when_scaled():
    torch.manual_seed(1)
    style = torch.rand(1, 8, 12, 12)
    keys = match_keys(extract_patches(style), None, 0.0)
    positions = torch.tensor([0, 7, 33, 99])
    queries = match_keys(extract_patches(style)[positions] * 3.0, None, 0.0)  # NCC ignores brightness scale
    assert match_patches(queries, keys).tolist() == positions.tolist()


def test_chunked_matching_equals_unchunked():
    torch.manual_seed(2)
    queries = normalize_rows(torch.randn(300, 20))
    keys = normalize_rows(torch.randn(1000, 20))
    whole = match_patches(queries, keys, chunk_elements=10**9)
    chunked = match_patches(queries, keys, chunk_elements=300 * 7)  # 7 keys per chunk
    assert torch.equal(whole, (keys @ queries.t()).argmax(0))
    assert torch.equal(whole, chunked)


def test_labels_decide_between_identical_features():
    """Two style patches with the same features but different labels: the query's label wins."""
    features = torch.rand(1, 4, 3, 3).repeat(1, 1, 1, 2)  # (1, 4, 3, 6): left and right halves equal
    sky, sea = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    labels = torch.cat([sky.view(1, 2, 1, 1).expand(1, 2, 3, 3), sea.view(1, 2, 1, 1).expand(1, 2, 3, 3)], dim=3)
    keys = match_keys(extract_patches(features), extract_patches(labels), 1.0)
    query_features = extract_patches(features[..., :3])  # the left (sky) features...
    query_labels = extract_patches(sea.view(1, 2, 1, 1).expand(1, 2, 3, 3))  # ...painted as sea
    index = match_patches(match_keys(query_features, query_labels, 1.0), keys)
    assert index.item() == 3  # the right-most patch: pure sea, same features


def test_semantic_weight_zero_ignores_labels():
    features = torch.rand(6, 10)
    labels = torch.rand(6, 4)
    assert torch.equal(match_keys(features, labels, 0.0), normalize_rows(features))


def test_mrf_loss_is_zero_on_the_style_itself_and_positive_elsewhere():
    style = torch.rand(1, 8, 10, 10)
    loss = MRFLoss(style)
    assert loss(style).item() == pytest.approx(0.0, abs=1e-6)
    assert loss(torch.rand(1, 8, 10, 10)).item() > 0.01


def test_mrf_gradient_pulls_toward_matches():
    style = torch.rand(1, 4, 8, 8)
    loss = MRFLoss(style)
    x = (style + 0.3 * torch.randn_like(style)).requires_grad_(True)
    before = loss(x)
    before.backward()
    with torch.no_grad():
        after = loss(x - 0.5 * x.grad / x.grad.norm())
    assert after < before


def test_mrf_reuses_matches_until_refreshed():
    style = torch.rand(1, 4, 8, 8)
    loss = MRFLoss(style)
    loss(torch.rand(1, 4, 8, 8))
    first = loss.matches.clone()
    loss(torch.rand(1, 4, 8, 8))
    assert torch.equal(loss.matches, first)  # reused: a line search sees one objective
    loss.refresh()
    loss(torch.rand(1, 4, 8, 8))
    assert not torch.equal(loss.matches, first)


def test_mrf_needs_labels_on_both_sides():
    with pytest.raises(ValueError, match="both"):
        MRFLoss(torch.rand(1, 4, 8, 8), torch.rand(1, 2, 8, 8), None, semantic_weight=1.0)
