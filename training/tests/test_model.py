import numpy as np
import pytest
import torch

from mixq_training.model import MobileNetV1, QuantMobileNetV1, load_float_weights, quant_layers
from mixq_training.plan import check_plan_matches, network_spec, parse_plan, uniform_plan
from mixq_training.train import _fit, shift_batch
from mixq_training.data import Split


def test_spec_is_tf_slim_mobilenet_at_quarter_width(spec):
    assert len(spec.layers) == 28
    assert spec.layers[0].name == "Conv2d_0" and spec.layers[0].out_channels == 8
    pw = [l.out_channels for l in spec.layers if l.kind == "pointwise"]
    assert pw == [16, 32, 32, 64, 64] + [128] * 6 + [256, 256]
    strides = [l.stride for l in spec.layers if l.kind == "depthwise"]
    assert [i + 1 for i, s in enumerate(strides) if s == 2] == [2, 4, 6, 12]
    assert spec.layers[-1].kind == "fc" and spec.layers[-1].in_channels == 256


def test_float_model_shapes(spec):
    m = MobileNetV1(spec)
    assert m(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    convs = [mod for mod in m.modules() if isinstance(mod, torch.nn.Conv2d)]
    assert len(convs) == 27 and all(c.bias is None for c in convs)
    assert [c.padding for c in convs if c.kernel_size == (3, 3)] == [(1, 1)] * 14


def test_quant_model_follows_the_plan(spec, mixed_plan):
    check_plan_matches(spec, mixed_plan)
    q = QuantMobileNetV1(spec, mixed_plan)
    layers = quant_layers(q)
    assert [n for n, _, _ in layers] == [l.name for l in mixed_plan.layers]
    for (name, wl, act), bits in zip(layers, mixed_plan.layers):
        assert int(wl.weight_quant.bit_width()) == bits.weight_bits, name
        if act is not None:
            assert int(act.act_quant.bit_width()) == bits.output_bits, name
    # the committed plan really mixes precisions
    assert {l.weight_bits for l in mixed_plan.layers} == {8, 4, 2}
    assert {l.output_bits for l in mixed_plan.layers} == {8, 4, 2}


def test_plan_mismatch_is_rejected(spec):
    raw = uniform_plan(spec).raw
    raw["layers"] = raw["layers"][:-1]
    with pytest.raises(ValueError):
        check_plan_matches(spec, parse_plan(raw))
    with pytest.raises(ValueError):
        check_plan_matches(network_spec("mnist_mobilenet_v1_0.5_32"), uniform_plan(spec))


def test_float_weights_load_into_quant_model(spec, mixed_plan):
    f = MobileNetV1(spec)
    q = QuantMobileNetV1(spec, mixed_plan)
    load_float_weights(q, f.state_dict())
    assert torch.equal(q.Conv2d_5_pointwise.conv.weight, f.Conv2d_5_pointwise.conv.weight)


def test_shift_keeps_pixels():
    x = torch.zeros(3, 1, 32, 32)
    x[:, :, 10:20, 12:18] = 1.0
    y = shift_batch(x, torch.Generator().manual_seed(0))
    assert torch.equal(y.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))


def test_one_qat_step_runs_and_changes_weights(spec, mixed_plan, splits):
    train, _ = splits
    tiny = Split(train.images[:16], train.labels[:16])
    q = QuantMobileNetV1(spec, mixed_plan)
    before = q.Conv2d_13_pointwise.conv.weight.detach().clone()
    _fit(q, tiny, epochs=1, lr=1e-3, seed=0, log=lambda m: None, tag="test")
    assert not torch.equal(before, q.Conv2d_13_pointwise.conv.weight)
    q.eval()
    out = q(torch.zeros(1, 1, 32, 32))
    assert torch.isfinite(out).all()
