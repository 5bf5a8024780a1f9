import numpy as np
import onnx
import pytest
import torch

from mixq_training.export import QONNX_DOMAIN, describe, export_qonnx_file
from mixq_training.model import QuantMobileNetV1, predict
from mixq_training.plan import uniform_plan
from mixq_training.qonnx_numpy import QonnxNumpy, conv2d, quant


@pytest.fixture(scope="module")
def exported(tmp_path_factory, spec, mixed_plan):
    torch.manual_seed(0)
    q = QuantMobileNetV1(spec, mixed_plan)
    q.train()
    with torch.no_grad():
        q(torch.rand(8, 1, 32, 32))  # activation statistics, BatchNorm running stats
    path = str(tmp_path_factory.mktemp("onnx") / "m.onnx")
    model = export_qonnx_file(q, path)
    return q, path, model


def test_node_sequence(exported):
    _, _, model = exported
    ops = [n.op_type for n in model.graph.node]
    expected = ["Quant"] + ["Quant", "Conv", "BatchNormalization", "Relu", "Quant"] * 27 + \
               ["GlobalAveragePool", "Flatten", "Quant", "Gemm"]
    assert ops == expected
    assert [i.name for i in model.graph.input] == ["input"]
    assert [o.name for o in model.graph.output] == ["logits"]


def test_quant_nodes_carry_the_plan(exported, mixed_plan):
    _, _, model = exported
    quants = [d for d in describe(model) if d["op"] == "Quant"]
    assert all(d["domain"] == QONNX_DOMAIN and d["zero_point"] == [0.0] and d["rounding_mode"] == "ROUND"
               for d in quants)
    inp, rest = quants[0], quants[1:]
    assert (inp["signed"], inp["narrow"], inp["bit_width"], inp["scale_shape"]) == (0, 0, 8.0, [])
    weights = [d for d in rest if d["on_initializer"]]
    acts = [d for d in rest if not d["on_initializer"]]
    assert len(weights) == 28 and len(acts) == 27
    for d, l in zip(weights, mixed_plan.layers):
        assert (d["signed"], d["narrow"], d["bit_width"]) == (1, 1, float(l.weight_bits)), l.name
    # per-channel scales (mixpc)
    assert weights[0]["scale_shape"] == [8, 1, 1, 1] and weights[-1]["scale_shape"] == [10, 1]
    for d, l in zip(acts, mixed_plan.layers):
        assert (d["signed"], d["narrow"], d["bit_width"], d["scale_shape"]) == (0, 0, float(l.output_bits), []), l.name


def test_input_scale_is_one_over_255(exported):
    _, _, model = exported
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    scale = inits[model.graph.node[0].input[1]]
    assert scale.dtype == np.float32 and scale == np.float32(1.0) / np.float32(255.0)


def test_per_tensor_scheme_has_scalar_weight_scales(tmp_path, spec):
    q = QuantMobileNetV1(spec, uniform_plan(spec, 8, "mixpl"))
    model = export_qonnx_file(q, str(tmp_path / "pl.onnx"))
    weights = [d for d in describe(model) if d["op"] == "Quant" and d["on_initializer"]]
    assert all(d["scale_shape"] == [] for d in weights)


def test_numpy_executor_agrees_with_torch(exported):
    q, path, _ = exported
    rng = np.random.default_rng(1)
    x = (rng.integers(0, 256, size=(6, 1, 32, 32)) / 255.0).astype(np.float32)
    ref = predict(q, torch.from_numpy(x)).numpy()
    got = QonnxNumpy(path).run(x)
    assert np.allclose(got, ref, atol=1e-5, rtol=1e-4)


def test_quant_reference_values():
    x = np.array([-1.0, -0.26, 0.25, 0.75, 2.0], dtype=np.float32)
    # signed narrow 2-bit: codes -1..1; 0.25/0.5 = 0.5 rounds to even 0, 0.75/0.5 = 1.5 to 2 -> clipped 1
    assert np.allclose(quant(x, 0.5, 0.0, 2, True, True), [-0.5, -0.5, 0.0, 0.5, 0.5])
    # unsigned 4-bit: codes 0..15
    assert np.allclose(quant(x, 0.1, 0.0, 4, False, False), [0, 0, 0.2, 0.8, 1.5])


def test_conv2d_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 9, 9)).astype(np.float32)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=1, groups=4)
    assert np.allclose(conv2d(x, w, (2, 2), (1, 1, 1, 1), 4), ref.numpy(), atol=1e-5)


def test_qonnx_reference_executor_agrees(exported):
    from mixq_training import qonnx_ref
    if not qonnx_ref.available():
        pytest.skip("qonnx not installed")
    _, path, _ = exported
    rng = np.random.default_rng(2)
    x = (rng.integers(0, 256, size=(3, 1, 32, 32)) / 255.0).astype(np.float32)
    assert np.allclose(qonnx_ref.qonnx_predict(path, x), QonnxNumpy(path).run(x), atol=1e-5, rtol=1e-4)


def test_weight_initializers_sit_on_their_grid(exported):
    _, _, model = exported
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Quant" and node.input[0] in inits:
            w = inits[node.input[0]].astype(np.float64)
            scale = inits[node.input[1]].astype(np.float64)
            v = w / scale
            assert np.abs(v - np.round(v)).max() < 1e-3, node.name
            bits = int(inits[node.input[3]])
            assert np.abs(np.round(v)).max() <= 2 ** (bits - 1) - 1, node.name
