import pytest
import torch

from doodle import DoodleError, VGGFeatures, load_vgg
from doodle import vgg as vgg_module
from doodle.vgg import layer_names, layer_stride, parse_layer

from .conftest import HED_WEIGHTS, needs_shared


def test_layer_names_follow_the_papers():
    names = layer_names("vgg19")
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert "relu5_4" in names and names[-1] == "pool5"
    assert sum(n.startswith("conv") for n in layer_names("vgg16")) == 13


def test_parse_layer_short_and_long_forms():
    assert parse_layer("4_2", "vgg19") == "relu4_2"
    assert parse_layer("conv3_1", "vgg16") == "conv3_1"
    with pytest.raises(DoodleError, match="not in vgg16"):
        parse_layer("5_4", "vgg16")


def test_forward_returns_requested_layers_with_strides():
    net = VGGFeatures("vgg16", width=1 / 16)
    out = net(torch.rand(1, 3, 32, 48), ["relu1_1", "relu3_1", "conv4_2", "pool2"])
    assert set(out) == {"relu1_1", "relu3_1", "conv4_2", "pool2"}
    for name, tensor in out.items():
        assert tensor.shape[-1] == 48 // layer_stride(name), name
    assert out["relu3_1"].shape[-2:] == (8, 12) and out["conv4_2"].shape[-2:] == (4, 6)
    assert (out["relu3_1"] >= 0).all() and (out["conv4_2"] < 0).any()  # relu after conv, not in place


def test_caffe_preprocessing_is_bgr_0_255_minus_mean():
    net = VGGFeatures("vgg16", preprocess="caffe", width=1 / 16)
    image = torch.zeros(1, 3, 2, 2)
    image[:, 0] = 1.0  # pure red
    out = net.normalize(image)
    assert out[0, :, 0, 0].tolist() == pytest.approx([-103.939, -116.779, 255 - 123.68])


def _save_vgg16(path, *, dtype=torch.float16, prefix="features.", extra=None):
    state = {prefix + k: v.to(dtype) for k, v in VGGFeatures("vgg16").features.state_dict().items()}
    state.update(extra or {})
    torch.save(state, path)
    return path


def test_weights_file_implies_the_model_and_ignores_classifier(tmp_path):
    path = _save_vgg16(tmp_path / "w.pth", extra={"classifier.0.weight": torch.zeros(2, 2)})
    net = load_vgg(weights=path)
    assert net.model == "vgg16" and net.preprocess == "torchvision"
    assert next(net.parameters()).dtype == torch.float32 and not next(net.parameters()).requires_grad
    with pytest.raises(DoodleError, match="holds vgg16 weights but `model='vgg19'`"):
        load_vgg("vgg19", weights=path)


def test_bad_weights_files_are_one_line_errors(tmp_path):
    with pytest.raises(DoodleError, match="weights file not found"):
        load_vgg(weights=tmp_path / "missing.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(DoodleError, match="cannot load as PyTorch weights"):
        load_vgg(weights=tmp_path / "junk.pth")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(DoodleError, match="no 'features.N.weight' keys"):
        load_vgg(weights=tmp_path / "other.pth")


def test_no_weights_reachable_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))

    def offline(url, timeout=5.0):
        raise OSError("network is unreachable")

    monkeypatch.setattr(vgg_module, "_check_reachable", offline)
    with pytest.raises(
        DoodleError, match=r"cannot get the ImageNet VGG19 weights.*vgg19-dcbb9e9d\.pth.*pass `weights`"
    ):
        load_vgg()


@needs_shared
def test_known_caffe_weights_imply_caffe_preprocessing():
    net = load_vgg(weights=HED_WEIGHTS)
    assert (net.model, net.preprocess) == ("vgg16", "caffe")
    with pytest.raises(DoodleError, match="expect `preprocess='caffe'`"):
        load_vgg(weights=HED_WEIGHTS, preprocess="torchvision")


@pytest.mark.parametrize("shape", [(16, 16), (33, 47), (96, 130)])
def test_feature_shape_is_the_shape_the_network_gives(tiny_net, shape):
    layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
    features = tiny_net(torch.rand((1, 3) + shape), layers)
    for name in layers:
        assert tiny_net.feature_shape(name, shape) == tuple(features[name].shape[-2:]), name
