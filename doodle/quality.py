"""Does a result obey its map, and keep the painting's detail? Measures for tests and benchmarks:
in the network's own eyes (:func:`label_agreement`) and in pixels (:func:`patch_agreement`,
:func:`crispness`, as the benchmark against EbSynth reports them)."""

from __future__ import annotations

import numpy as np
import torch

import semantic_maps
from semantic_maps.encode import SOLID_WEIGHT

from .images import ImageInput, load_rgb, resize, to_tensor
from .mrf import pool_labels
from .patches import extract_patches, match_keys, match_patches
from .vgg import VGGFeatures

__all__ = ["label_agreement", "looks_like", "crispness", "patch_agreement"]


def looks_like(
    network: VGGFeatures,
    output: ImageInput,
    painting: ImageInput,
    painting_map: np.ndarray,
    palette: np.ndarray,
    *,
    layer: str = "relu3_1",
) -> np.ndarray:
    """Which label of the painting each part of the output looks like, by features alone.

    Every patch of the output is matched to the painting's most similar patch (normalized
    cross-correlation, no label channels); the label at that patch's centre in the painting's map
    is the answer. The painting is scaled as the output was scaled from ``painting_map``'s size
    when both have the same aspect; pass the painting at the scale the output was painted with.

    Shape: -> ``(h, w)`` int indices into ``palette``, one per output patch at ``layer``'s
    resolution (patch centres: the border of one feature position is left out).
    """
    return _looks_like(
        network, to_tensor(load_rgb(output)), to_tensor(load_rgb(painting)), painting_map, palette, layer
    )


def _looks_like(
    network: VGGFeatures,
    out: torch.Tensor,
    source: torch.Tensor,
    painting_map: np.ndarray,
    palette: np.ndarray,
    layer: str,
) -> np.ndarray:
    with torch.no_grad():  # on the network's device: on a GPU the exhaustive search is seconds, not minutes
        device = next(network.parameters()).device
        out_features = network(out.to(device), [layer])[layer]
        source_features = network(source.to(device), [layer])[layer]
        best = match_patches(
            match_keys(extract_patches(out_features), None, 0.0),
            match_keys(extract_patches(source_features), None, 0.0),
        ).cpu()
    labels = _centre_labels(painting_map, palette, tuple(source_features.shape[-2:])).argmax(1)[best]
    return labels.view(out_features.shape[-2] - 2, out_features.shape[-1] - 2).numpy()


def label_agreement(
    network: VGGFeatures,
    output: ImageInput,
    painting: ImageInput,
    painting_map: np.ndarray,
    target_map: np.ndarray,
    *,
    layer: str = "relu3_1",
) -> np.ndarray:
    """How often each region of the output looks like its own label's region of the painting.

    See :func:`looks_like`; the painting is scaled as the output was scaled from the target map.

    Parameters
    ----------
    painting_map, target_map : (H, W, 3) uint8 ndarrays
        The painting's map and the output's map (at any size).

    Returns
    -------
    agreement : (K, K) float ndarray
        Row k: for output patches lying wholly in label k, the share whose best painting patch lies
        in each label. A diagonal near 1 means every region took its own label's look.
    """
    palette, _ = semantic_maps.shared_palette(painting_map, target_map)
    out = to_tensor(load_rgb(output))
    source = to_tensor(load_rgb(painting))
    scale = out.shape[-1] / target_map.shape[1]
    source = resize(source, (round(source.shape[-2] * scale), round(source.shape[-1] * scale)))
    seen = _looks_like(network, out, source, painting_map, palette, layer)
    wanted = _centre_labels(target_map, palette, (seen.shape[0] + 2, seen.shape[1] + 2))
    seen = torch.from_numpy(seen).flatten()
    pure = wanted.max(1).values >= SOLID_WEIGHT
    count = len(palette)
    table = np.zeros((count, count))
    np.add.at(table, (wanted.argmax(1)[pure].numpy(), seen[pure].numpy()), 1)
    return table / np.maximum(table.sum(axis=1, keepdims=True), 1)


def _centre_labels(rgb: np.ndarray, palette: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """Label weights at the centre of every 3x3 patch of the map pooled to ``size``. -> ``(N, K)``."""
    labels = pool_labels(torch.from_numpy(semantic_maps.encode_labels(rgb, palette))[None], size)
    return extract_patches(labels).view(-1, len(palette), 9)[:, :, 4]


def crispness(image: torch.Tensor, painting: torch.Tensor, border: int = 4) -> float:
    """How much of the painting's fine detail the image keeps: mean |Laplacian| (3x3, grey in
    ``[0, 1]``, ``border`` pixels left out) of ``image`` over that of ``painting``, both ``(3, H, W)``."""

    def detail(rgb: torch.Tensor) -> float:
        grey = rgb.float().mean(0)[None, None]
        kernel = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])[None, None]
        laplacian = torch.nn.functional.conv2d(grey, kernel)[0, 0].abs()
        inner = border - 1
        return laplacian[inner:-inner, inner:-inner].mean().item()

    return detail(image) / detail(painting)


def patch_agreement(
    image: torch.Tensor,
    painting: torch.Tensor,
    painting_labels: torch.Tensor,
    target_labels: torch.Tensor,
    *,
    samples: int = 3000,
    patch: int = 5,
    seed: int = 0,
) -> float:
    """Share of the image's interior pixels whose ``patch``-wide RGB patch is most like (least squared
    difference) a patch of the painting in the label the target asks for there.

    ``image (3, H, W)``, ``painting (3, Hs, Ws)``; ``painting_labels (Hs, Ws)`` and ``target_labels
    (H, W)`` int labels, -1 where a pixel is no one label (an edge). Interior: the whole
    ``2 * patch - 1`` square around the pixel has the pixel's label. ``samples`` of them, drawn
    with ``seed``, are compared with every patch of the painting.
    """
    r, reach = patch // 2, patch - 1
    labels = target_labels[None, None].float()
    same = (
        (torch.nn.functional.max_pool2d(labels, 2 * reach + 1, 1, reach) == labels)
        & (-torch.nn.functional.max_pool2d(-labels, 2 * reach + 1, 1, reach) == labels)
        & (labels >= 0)
    )[0, 0]
    same[:reach] = same[-reach:] = False
    same[:, :reach] = same[:, -reach:] = False
    inside = same.flatten().nonzero()[:, 0]
    pick = inside[torch.randperm(len(inside), generator=torch.Generator().manual_seed(seed))[:samples]]
    queries = torch.nn.functional.unfold(image[None].float(), patch, padding=r)[0].T[pick]  # (n, 3 p p)
    keys = torch.nn.functional.unfold(painting[None].float(), patch)[0].T  # (valid positions, 3 p p)
    hs, ws = painting.shape[-2] - 2 * r, painting.shape[-1] - 2 * r
    key_labels = painting_labels[r : r + hs, r : r + ws].flatten()
    key_norms = keys.square().sum(1)
    best = torch.cat([(key_norms - 2 * chunk @ keys.T).argmin(1) for chunk in queries.split(256)])
    return (key_labels[best] == target_labels.flatten()[pick]).float().mean().item()


def luminance_correlation(image: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """How well ``image`` keeps ``reference``'s shading: the correlation of their luminances (Pearson,
    in ``[-1, 1]``) over ``mask``'s pixels (all of them when None). ``(3, H, W)``, ``(3, H, W)``,
    ``(H, W)`` bool."""
    weights = torch.tensor([0.299, 0.587, 0.114])[:, None, None]
    ours, theirs = (image.float() * weights).sum(0), (reference.float() * weights).sum(0)
    if mask is not None:
        ours, theirs = ours[mask], theirs[mask]
    ours, theirs = ours.flatten() - ours.mean(), theirs.flatten() - theirs.mean()
    return float((ours * theirs).sum() / (ours.norm() * theirs.norm()).clamp_min(1e-12))
