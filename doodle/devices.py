"""Where the painting runs: choosing the device and its arithmetic, and timing work queued on it."""

from __future__ import annotations

import time

import torch

from .errors import DoodleError

__all__ = ["resolve_device", "use_half", "device_clock"]


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA if present, else Apple MPS, else CPU; an unavailable choice is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DoodleError(f"`device={name!r}`: no CUDA device is available here; use `device='cpu'` or 'auto'")
    if name == "mps" and not _mps_available():
        raise DoodleError("`device='mps'`: Apple MPS is not available here; use `device='cpu'` or 'auto'")
    return torch.device(name)


def use_half(precision: str, device: torch.device) -> bool:
    """Whether the network runs in float16: ``auto`` means on CUDA only."""
    if precision == "float16" and device.type != "cuda":
        raise DoodleError("`precision='float16'` needs a CUDA device; use `precision='float32'` or 'auto'")
    return precision == "float16" or (precision == "auto" and device.type == "cuda")


def device_clock(device: torch.device) -> float:
    """Seconds, after the device's queued work is done (so GPU timings mean something)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()
