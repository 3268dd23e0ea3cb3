"""Shared fixtures: tiny random networks for unit tests, the real HED VGG16 from ../shared when present."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from doodle import VGGFeatures, load_vgg

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
HED_WEIGHTS = SHARED / "weights" / "vgg16_hed_caffe_fp16.pth"
DATA = SHARED / "data"

needs_shared = pytest.mark.skipif(not HED_WEIGHTS.is_file(),
                                  reason=f"real weights and paintings not found at {SHARED} (../shared)")


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def tiny_net() -> VGGFeatures:
    """VGG16 layout at 1/16 width with random weights: fast, for code paths, not quality."""
    torch.manual_seed(0)
    return VGGFeatures("vgg16", width=1 / 16)


@pytest.fixture(scope="session")
def real_net() -> VGGFeatures:
    if not HED_WEIGHTS.is_file():
        pytest.skip(f"real weights not found at {HED_WEIGHTS} (../shared)")
    return load_vgg(weights=HED_WEIGHTS)
