"""Half precision: the CPU-testable logic here; checks on a real CUDA device skip without one (CI has none)."""

import copy

import numpy as np
import pytest
import torch
from PIL import Image

import semantic_maps
from doodle import PaintSettings, build_scene, devices, paint
from doodle.devices import network_dtype
from doodle.errors import DoodleError
from doodle.objective import LossScale, Objective
from doodle.quality import label_agreement

from .conftest import DATA, needs_shared, plan_of

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device here (CI has none); run on a GPU machine"
)


def test_network_dtype_by_device_and_setting(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert network_dtype("auto", cuda) == torch.float16
    assert network_dtype("float32", cuda) == torch.float32
    assert network_dtype("bfloat16", cpu) == torch.bfloat16
    monkeypatch.setattr(devices, "native_bfloat16", lambda: True)
    assert network_dtype("auto", cpu) == torch.bfloat16
    monkeypatch.setattr(devices, "native_bfloat16", lambda: False)
    assert network_dtype("auto", cpu) == torch.float32  # emulated bfloat16 would be slower than float32
    with pytest.raises(DoodleError, match="float16'` needs a CUDA device"):
        network_dtype("float16", cpu)


def test_loss_scale_backs_off_on_overflow_and_grows_again():
    scale = LossScale(True, value=1024.0, interval=2)
    assert not scale.unscale(torch.tensor([1.0, float("inf")]))
    assert scale.value == 256.0
    grad = torch.tensor([512.0, -256.0])
    assert scale.unscale(grad)
    assert grad.tolist() == [2.0, -1.0]  # divided by the scale in place
    assert scale.unscale(torch.ones(2)) and scale.value == 512.0  # doubled after `interval` good steps
    off = LossScale(False)
    grad = torch.tensor([3.0])
    assert off.value == 1.0 and off.unscale(grad) and grad.item() == 3.0


@pytest.fixture(scope="module")
def monet_scene():
    if not (DATA / "paintings" / "Monet.jpg").is_file():
        pytest.skip("paintings not found in ../shared")
    return build_scene(
        Image.open(DATA / "paintings" / "Monet.jpg"),
        style_map=semantic_maps.read_map(DATA / "maps" / "Monet_sem.png"),
        target_map=semantic_maps.read_map(DATA / "maps" / "Coastline_sem.png"),
        output_size=(256, 192),
    )


@needs_cuda
@needs_shared
def test_float16_features_are_finite_and_close(real_net, monet_scene):
    net = copy.deepcopy(real_net).cuda()  # .cuda() moves a module in place: the fixture is shared
    image = monet_scene.style.cuda()
    layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
    exact = net(image, layers)
    with torch.autocast("cuda", dtype=torch.float16):
        half = net(image, layers)
    for name in layers:
        assert torch.isfinite(half[name]).all(), name
        error = (half[name].float() - exact[name]).norm() / exact[name].norm()
        assert error < 1e-2, (name, error.item())


@needs_cuda
@needs_shared
def test_loss_scaling_keeps_the_float16_gradient(real_net, monet_scene):
    """The gradient of the whole objective in float16 points where the float32 one does."""
    device = torch.device("cuda")
    net = copy.deepcopy(real_net).to(device)
    gradients = {}
    for precision in ("float32", "float16"):
        plan = plan_of(monet_scene, PaintSettings(precision=precision, phases=1))
        objective = Objective(net, monet_scene, plan.settings, plan.phases[-1], device)
        image = (monet_scene.style.to(device) * 0.8 + 0.1).requires_grad_(True)
        objective.evaluate(image)
        gradients[precision] = image.grad.flatten().double()
    exact, half = gradients["float32"], gradients["float16"]
    cosine = torch.nn.functional.cosine_similarity(exact, half, dim=0)
    assert cosine > 0.99, cosine.item()
    assert abs(half.norm() / exact.norm() - 1) < 0.05


@needs_cuda
@needs_shared
def test_monet_on_coastline_on_cuda_in_float16(real_net):
    painting = Image.open(DATA / "paintings" / "Monet.jpg")
    painting_map = semantic_maps.read_map(DATA / "maps" / "Monet_sem.png")
    coastline = semantic_maps.read_map(DATA / "maps" / "Coastline_sem.png")
    output = paint(
        painting,
        style_map=painting_map,
        target_map=coastline,
        network=real_net,
        device="cuda",
        output_size=(128, 96),
        seed="noise",
        iterations=60,
    ).image
    agreement = label_agreement(real_net, output, painting, painting_map, coastline)
    assert agreement.diagonal().min() >= 0.5, agreement.round(2)


@needs_shared
def test_bfloat16_features_and_gradient_follow_float32_on_the_cpu(real_net, monet_scene):
    """The CPU's bfloat16 network (the default where the CPU has it) sees what the float32 one does."""
    image = torch.nn.functional.interpolate(monet_scene.style, size=(96, 128), mode="area")
    layers = ["relu2_1", "relu3_1", "relu4_1"]
    exact = real_net(image, layers)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = real_net(image, layers)
    for name in layers:
        error = (low[name].float() - exact[name]).norm() / exact[name].norm()
        assert error < 2e-2, (name, error)
    gradients = []
    for dtype in (torch.float32, torch.bfloat16):
        pixels = image.clone().requires_grad_(True)
        with torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32):
            features = real_net(pixels, layers)
        sum(value.float().pow(2).mean() for value in features.values()).backward()
        gradients.append(pixels.grad.flatten())
    assert torch.nn.functional.cosine_similarity(*gradients, dim=0) > 0.99


def test_a_bfloat16_paint_is_finite_and_close_to_float32(tiny_net):
    style = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    options = dict(network=tiny_net, output_size=(32, 32), phases=1, iterations=5, style_layers=("1_1", "2_1"))
    exact = np.asarray(paint(style, precision="float32", **options).image).astype(int)
    low = np.asarray(paint(style, precision="bfloat16", **options).image).astype(int)
    assert np.abs(low - exact).mean() < 8  # of 255
