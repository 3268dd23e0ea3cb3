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
    first = loss.matches.indices.clone()
    loss(torch.rand(1, 4, 8, 8))
    assert torch.equal(loss.matches.indices, first)  # reused: a line search sees one objective
    loss.refresh()
    loss(torch.rand(1, 4, 8, 8))
    assert not torch.equal(loss.matches.indices, first)


def test_mrf_needs_labels_on_both_sides():
    with pytest.raises(ValueError, match="both"):
        MRFLoss(torch.rand(1, 4, 8, 8), torch.rand(1, 2, 8, 8), None, semantic_weight=1.0)


@pytest.mark.parametrize("semantic_weight", [1.5, 2.0, 10.0])
def test_search_split_by_label_equals_the_full_search(semantic_weight):
    """Random ReLU-like features on a map of three labels with soft edges: same matches either way."""
    torch.manual_seed(3)
    style, target = torch.rand(1, 16, 20, 24), torch.rand(1, 16, 18, 18)

    def soft_map(height, width, seed):
        g = torch.Generator().manual_seed(seed)
        coarse = torch.rand(1, 3, 4, 4, generator=g)
        one_hot = torch.nn.functional.one_hot(coarse.argmax(1), 3).permute(0, 3, 1, 2).float()
        sharp = torch.nn.functional.interpolate(one_hot, size=(height, width), mode="nearest")
        return torch.nn.functional.avg_pool2d(sharp, 3, 1, 1, count_include_pad=False)  # soft edges

    style_labels, target_labels = soft_map(20, 24, 1), soft_map(18, 18, 2)
    loss = MRFLoss(style, style_labels, target_labels, semantic_weight=semantic_weight)
    assert loss.matcher.by_label
    split = loss.match(target)
    queries = match_keys(extract_patches(target), extract_patches(target_labels), semantic_weight)
    full = match_patches(queries, loss.matcher.keys)
    assert torch.equal(split, full)
    single = loss.matcher.query_labels.sum(1) == 1
    assert single.sum() > 20 and (~single).sum() > 20  # both paths of the split were exercised


def test_search_is_not_split_when_features_can_outweigh_labels():
    signed = torch.randn(1, 4, 8, 8)  # pre-ReLU features: NCC spans [-1, 1]
    labels = torch.rand(1, 2, 8, 8)
    assert not MRFLoss(signed, labels, labels, semantic_weight=2.0).matcher.by_label
    assert MRFLoss(signed.clamp_min(0), labels, labels, semantic_weight=2.0).matcher.by_label


def test_an_unknown_matcher_is_an_error_not_a_silent_exact_search():
    with pytest.raises(ValueError, match="matcher 'fastest' is not one of exact, fast"):
        MRFLoss(torch.rand(1, 4, 8, 8), matcher="fastest")


def test_folded_loss_equals_the_patch_by_patch_definition():
    """sum_i |P_i(F) - S_m(i)|^2, computed on cut patches, against the folded elementwise form."""
    torch.manual_seed(4)
    style = torch.rand(1, 6, 12, 14) * 50  # Caffe-like magnitudes
    loss = MRFLoss(style)
    features = (torch.rand(1, 6, 10, 11) * 50).requires_grad_(True)
    folded = loss(features)
    folded.backward()
    grad_folded = features.grad.clone()

    features.grad = None
    patches = extract_patches(features)
    reference = (patches - loss.matched_patches()).pow(2).mean() / loss.scale
    reference.backward()
    assert folded.item() == pytest.approx(reference.item(), rel=1e-4)
    torch.testing.assert_close(grad_folded, features.grad, rtol=1e-4, atol=1e-6)
    # the patches gathered from the style are the style's patches
    assert torch.equal(loss.matched_patches(), extract_patches(style)[loss.matches.indices])


def test_exact_matcher_memory_is_bounded_by_the_chunk(monkeypatch):
    """The largest score block the matcher allocates stays under the chunk, whatever the style size."""
    from doodle import patches as patches_module

    largest = {"elements": 0}
    original_matmul = torch.Tensor.__matmul__

    def recording(self, other):
        out = original_matmul(self, other)
        largest["elements"] = max(largest["elements"], out.numel())
        return out

    queries = normalize_rows(torch.randn(500, 32))
    monkeypatch.setattr(torch.Tensor, "__matmul__", recording)
    for keys_count in (2_000, 20_000):
        largest["elements"] = 0
        patches_module.match_patches(queries, normalize_rows(torch.randn(keys_count, 32)), chunk_elements=50_000)
        assert 0 < largest["elements"] <= 50_000  # 0: the scores were not made by `@`, and nothing was measured
