"""Semantic label maps: reading, palettes, encoding into channels, validation (and, in
:mod:`semantic_maps.segment`, making a map from a painting).

Plain functions, NumPy in and out::

    >>> from semantic_maps import read_map, find_palette, encode_labels
    >>> rgb = read_map("samples/doodle_sem.png")           # (H, W, 3) uint8
    >>> palette = find_palette(rgb)                        # (K, 3) uint8
    >>> weights = encode_labels(rgb, palette)              # (K, H, W) float32, soft at edges
"""

from .edit import grow_upward
from .encode import encode_labels, label_table, snap_palette
from .io import MapError, map_path_for, read_map, to_rgb
from .palette import find_palette, shaded_share, to_hex
from .validate import missing_labels, shared_palette, stray_regions

__all__ = [
    "MapError",
    "encode_labels",
    "label_table",
    "find_palette",
    "grow_upward",
    "map_path_for",
    "missing_labels",
    "read_map",
    "shaded_share",
    "shared_palette",
    "snap_palette",
    "stray_regions",
    "to_hex",
    "to_rgb",
]
