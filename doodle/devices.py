"""Where the painting runs: choosing the device and its arithmetic, and timing work queued on it."""

from __future__ import annotations

import time

import torch

from .errors import DoodleError

__all__ = ["resolve_device", "network_dtype", "native_bfloat16", "device_clock"]


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


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX): then it is about twice as fast."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def network_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The arithmetic of the network's forward and backward passes (the losses stay in float32).

    ``auto``: float16 on CUDA (with loss scaling), bfloat16 on a CPU that has it natively, else
    float32. ``float16`` needs CUDA (on the CPU it is slow and its range too narrow).
    """
    if precision == "float16" and device.type != "cuda":
        raise DoodleError("`precision='float16'` needs a CUDA device; use `precision='bfloat16'`, 'float32' or 'auto'")
    if precision == "auto":
        if device.type == "cuda":
            return torch.float16
        return torch.bfloat16 if device.type == "cpu" and native_bfloat16() else torch.float32
    return getattr(torch, precision)


def device_clock(device: torch.device) -> float:
    """Seconds, after the device's queued work is done (so GPU timings mean something)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()
