"""Does a result obey its map? A measure for tests and benchmarks, in the network's own eyes."""

from __future__ import annotations

import numpy as np
import torch

import semantic_maps

from .images import ImageInput, load_rgb, resize, to_tensor
from .mrf import pool_labels
from .patches import extract_patches, match_keys, match_patches
from .vgg import VGGFeatures

__all__ = ["label_agreement"]


def label_agreement(network: VGGFeatures, output: ImageInput, painting: ImageInput, painting_map: np.ndarray,
                    target_map: np.ndarray, *, layer: str = "relu3_1") -> np.ndarray:
    """How often each region of the output looks like its own label's region of the painting.

    Every patch of the output is matched to the painting's most similar patch by features alone
    (normalized cross-correlation, no label channels); the label under that painting patch is
    the label the region "looks like". The painting is scaled as the output was scaled from the
    target map.

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
    with torch.no_grad():
        device = next(network.parameters()).device
        out_features = network(out.to(device), [layer])[layer].cpu()
        source_features = network(source.to(device), [layer])[layer].cpu()
    count = len(palette)

    def centre_labels(rgb: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
        labels = pool_labels(torch.from_numpy(semantic_maps.encode_labels(rgb, palette))[None], size)
        return extract_patches(labels).view(-1, count, 9)[:, :, 4]  # (N, K) label weights at patch centres

    best = match_patches(match_keys(extract_patches(out_features), None, 0.0),
                         match_keys(extract_patches(source_features), None, 0.0))
    looks_like = centre_labels(painting_map, tuple(source_features.shape[-2:])).argmax(1)[best]
    wanted = centre_labels(target_map, tuple(out_features.shape[-2:]))
    pure = wanted.max(1).values > 0.99
    table = np.zeros((count, count))
    np.add.at(table, (wanted.argmax(1)[pure].numpy(), looks_like[pure].numpy()), 1)
    return table / np.maximum(table.sum(axis=1, keepdims=True), 1)
