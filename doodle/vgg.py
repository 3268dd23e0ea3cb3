"""A frozen VGG16/VGG19 feature extractor with the papers' layer names (``conv4_2``, ``relu4_2``, ...).

The network is data: one config list per depth and a small builder, laid out exactly like
``torchvision.models.vgg`` so torchvision state dicts load as they are (``features.N.weight``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from .errors import DoodleError

__all__ = [
    "VGGFeatures",
    "load_vgg",
    "layer_names",
    "layer_stride",
    "parse_layer",
    "Preprocess",
    "Pooling",
    "ModelName",
]

ModelName = Literal["vgg16", "vgg19"]
Preprocess = Literal["torchvision", "caffe"]
Pooling = Literal["avg", "max"]

_CONFIGS: dict[str, list[int | str]] = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
_IMAGENET_URLS = {
    "vgg16": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "vgg19": "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
}
_TORCHVISION_MEAN, _TORCHVISION_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def layer_names(model: ModelName) -> list[str]:
    """Names of the modules of ``features``, in order: ``conv1_1, relu1_1, ..., pool5``."""
    names, block, index = [], 1, 1
    for item in _CONFIGS[model]:
        if item == "M":
            names.append(f"pool{block}")
            block, index = block + 1, 1
        else:
            names += [f"conv{block}_{index}", f"relu{block}_{index}"]
            index += 1
    return names


def layer_stride(name: str) -> int:
    """Downsampling of a layer's output: ``conv1_1`` -> 1, ``relu3_1`` -> 4, ``pool3`` -> 8."""
    block = int(name.removeprefix("conv").removeprefix("relu").removeprefix("pool").split("_")[0])
    return 2 ** (block - 1) if not name.startswith("pool") else 2**block


def parse_layer(name: str, model: ModelName) -> str:
    """Accept ``relu4_2``, ``conv4_2``, ``pool3`` or the short ``4_2`` (meaning ``relu4_2``)."""
    full = f"relu{name}" if name[:1].isdigit() else name
    if full not in layer_names(model):
        known = ", ".join(n for n in layer_names(model) if n.startswith("relu"))
        raise DoodleError(f"layer {name!r} is not in {model}; use one of {known} (or conv.../pool...)")
    return full


class VGGFeatures(nn.Module):
    """VGG convolutional trunk that returns named activations.

    Built with random weights: use :func:`load_vgg` for a trained network. ``width`` scales the
    channel counts (tiny networks for unit tests only).

    Shape: image ``(B, 3, H, W)`` RGB in ``[0, 1]`` -> ``{layer: (B, C_l, H / s_l, W / s_l)}``.
    """

    def __init__(
        self,
        model: ModelName = "vgg19",
        *,
        preprocess: Preprocess = "torchvision",
        pooling: Pooling = "avg",
        width: float = 1.0,
    ) -> None:
        super().__init__()
        if model not in _CONFIGS:
            raise DoodleError(f"unknown model {model!r}; use vgg16 or vgg19")
        if preprocess not in ("torchvision", "caffe"):
            raise DoodleError(f"unknown preprocessing {preprocess!r}; use torchvision or caffe")
        if pooling not in ("avg", "max"):
            raise DoodleError(f"unknown pooling {pooling!r}; use avg or max")
        self.model, self.preprocess, self.pooling = model, preprocess, pooling
        layers: list[nn.Module] = []
        channels = 3
        for item in _CONFIGS[model]:
            if item == "M":
                layers.append(nn.AvgPool2d(2, 2) if pooling == "avg" else nn.MaxPool2d(2, 2))
            else:
                out = max(1, round(int(item) * width))
                layers += [nn.Conv2d(channels, out, 3, padding=1), nn.ReLU(inplace=False)]
                channels = out
        self.features = nn.Sequential(*layers)
        self.names = layer_names(model)
        if preprocess == "caffe":
            self.register_buffer("mean", torch.tensor(_CAFFE_MEAN_BGR).view(1, 3, 1, 1))
            self.register_buffer("std", torch.ones(1, 3, 1, 1))
        else:
            self.register_buffer("mean", torch.tensor(_TORCHVISION_MEAN).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(_TORCHVISION_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def normalize(self, image: Tensor) -> Tensor:
        """RGB ``[0, 1]`` -> the input the weights were trained on (Caffe: BGR, 0..255, mean removed)."""
        if self.preprocess == "caffe":
            image = image.flip(1) * 255.0
        return (image - self.mean) / self.std

    def feature_shape(self, layer: str, shape: tuple[int, int]) -> tuple[int, int]:
        """``(h, w)`` of ``layer``'s output for an image of ``shape = (H, W)`` (each pooling halves, rounding down)."""
        height, width = shape
        for name in self.names[: self.names.index(layer) + 1]:
            if name.startswith("pool"):
                height, width = height // 2, width // 2
        return height, width

    def forward(self, image: Tensor, layers: list[str] | tuple[str, ...]) -> dict[str, Tensor]:
        wanted = set(layers)
        unknown = wanted - set(self.names)
        if unknown:
            raise DoodleError(f"layers {sorted(unknown)} are not in {self.model}")
        out: dict[str, Tensor] = {}
        x = self.normalize(image)
        if x.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)  # oneDNN's fast layout: 5-15 % faster
        for name, module in zip(self.names, self.features, strict=True):
            x = module(x)
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return out


def _conv_state(state: dict) -> dict[str, Tensor]:
    """Keep the ``features.N.weight/bias`` entries of a state dict (checkpoint wrappers allowed)."""
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    out = {}
    for key, value in state.items():
        key = key.removeprefix("module.")
        if key.startswith("features.") and isinstance(value, Tensor):
            out[key.removeprefix("features.")] = value.float()
    return out


def _model_from_state(state: dict[str, Tensor], path: Path) -> ModelName:
    convs = sum(1 for k in state if k.endswith(".weight"))
    for model in ("vgg16", "vgg19"):
        if convs == sum(1 for n in layer_names(model) if n.startswith("conv")):
            return model  # type: ignore[return-value]
    raise DoodleError(
        f"{path}: holds {convs} VGG conv layers; expected 13 (vgg16) or 16 (vgg19) as 'features.N.weight' keys"
    )


def _read_weights_file(path: Path) -> dict[str, Tensor]:
    if not path.is_file():
        raise DoodleError(f"{path}: weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a corrupt or foreign file
        raise DoodleError(
            f"{path}: cannot load as PyTorch weights ({type(error).__name__}); "
            "expected a .pth state dict of a torchvision VGG"
        ) from None
    if not isinstance(state, dict):
        raise DoodleError(f"{path}: expected a state dict, found {type(state).__name__}")
    conv = _conv_state(state)
    if not conv:
        raise DoodleError(f"{path}: no 'features.N.weight' keys; expected a torchvision VGG state dict")
    broken = [f"features.{key}" for key, value in conv.items() if not bool(torch.isfinite(value).all())]
    if broken:
        raise DoodleError(f"{path}: {broken[0]} holds NaN or infinite values; the file is damaged, get it again")
    return conv


def _download_imagenet(model: ModelName) -> dict[str, Tensor]:
    url = _IMAGENET_URLS[model]
    cache = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[1]
    try:
        if not cache.is_file():
            _check_reachable(url)
        state = torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=True, check_hash=True)
    except Exception as error:  # no network, proxy, disk: all end in the same advice
        reason = str(getattr(error, "reason", error)).splitlines()[0][:120]
        raise DoodleError(
            f"cannot get the ImageNet {model.upper()} weights ({reason}); on a machine with internet "
            f"download {url} to {cache}, or pass `weights` (a torchvision VGG state dict file)"
        ) from None
    return _conv_state(state)


def _check_reachable(url: str, timeout: float = 5.0) -> None:
    """Fail fast (and quietly) when the download host cannot be reached at all."""
    import socket
    import urllib.parse

    host = urllib.parse.urlparse(url).hostname
    with socket.create_connection((host, 443), timeout=timeout):
        pass


def load_vgg(
    model: ModelName | None = None,
    weights: str | Path | None = None,
    *,
    preprocess: Preprocess | None = None,
    pooling: Pooling = "avg",
) -> VGGFeatures:
    """A frozen, trained VGG feature extractor.

    Parameters
    ----------
    model : "vgg16" | "vgg19" | None
        Depth. ``None``: implied by ``weights`` (13 or 16 conv layers), else VGG19.
    weights : path | None
        A torchvision-format VGG state dict (classifier keys optional). ``None``: torchvision's
        ``IMAGENET1K_V1`` weights, downloaded into torch's hub cache on first use.
    preprocess : "torchvision" | "caffe" | None
        How the weights expect their input. ``None``: torchvision, unless the file is a known
        Caffe conversion. A value that contradicts a known file is an error.
    pooling : "avg" | "max"
        Average pooling (the original neural-doodle's choice, smoother gradients) or VGG's max.
    """
    if weights is None:
        model = model or "vgg19"
        if model not in _CONFIGS:
            raise DoodleError(f"unknown model {model!r}; use vgg16 or vgg19")
        state = _download_imagenet(model)
        implied_preprocess: Preprocess | None = "torchvision"
    else:
        path = Path(weights)
        state = _read_weights_file(path)
        found = _model_from_state(state, path)
        if model is not None and model != found:
            raise DoodleError(
                f"{path}: holds {found} weights but `model='{model}'` was given; "
                f"leave `model` out or pass `model='{found}'`"
            )
        model = found
        implied_preprocess = _KNOWN_FILES.get(_sha256(path))
    if preprocess is None:
        preprocess = implied_preprocess or "torchvision"
    elif implied_preprocess is not None and preprocess != implied_preprocess:
        where = "torchvision's ImageNet weights" if weights is None else str(weights)
        raise DoodleError(f"{where}: these weights expect `preprocess='{implied_preprocess}'`, not '{preprocess}'")
    network = VGGFeatures(model, preprocess=preprocess, pooling=pooling)
    try:
        network.features.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first = str(error).splitlines()[1].strip() if "\n" in str(error) else str(error)
        raise DoodleError(f"weights do not fit {model}: {first}") from None
    return network


# Weights files whose preprocessing is known, by sha256: the implied setting is applied for the user.
_KNOWN_FILES: dict[str, Preprocess] = {
    # VGG16 trunk of HED (Xie & Tu 2015), Caffe conversion, float16 (see shared/README.md).
    "0bf402cfb359321df1c50f88e54e10633a77ca63d2df8cac5c9d3162aa689ac6": "caffe",
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
