"""The committed example models (data/models/) match their plans and records."""

import json
import os

import numpy as np
import onnx
import pytest

from mixq_training import data as D
from mixq_training.export import describe
from mixq_training.plan import load_plan, model_stem
from mixq_training.qonnx_numpy import QonnxNumpy

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORDS = os.path.join(REPO, "data", "models", "records.json")


def _records():
    if not os.path.exists(RECORDS):
        return []
    with open(RECORDS) as f:
        return json.load(f)["models"]


@pytest.fixture(scope="module")
def test_split():
    return D.load_test_split(os.path.join(REPO, "data", "mnist", "test"))


def test_family_is_complete():
    schemes = sorted((m["scheme"], m["flash_budget"], m["ram_budget"]) for m in _records())
    assert schemes == [("int8", 240000, 8000), ("mixpc", 96000, 3000), ("mixpc", 120000, 4000),
                       ("mixpl", 96000, 3000), ("mixpl", 120000, 4000)]


@pytest.mark.parametrize("rec", _records(), ids=lambda r: os.path.basename(r["file"]))
def test_committed_model(rec, test_split):
    plan = load_plan(os.path.join(REPO, rec["plan"]))
    assert os.path.basename(rec["file"]) == model_stem(plan) + ".onnx"
    assert [l["weight_bits"] for l in rec["layers"]] == [l.weight_bits for l in plan.layers]
    model = onnx.load(os.path.join(REPO, rec["file"]))
    quants = [d for d in describe(model) if d["op"] == "Quant"]
    weights = [d for d in quants if d["on_initializer"]]
    acts = [d for d in quants[1:] if not d["on_initializer"]]
    assert [d["bit_width"] for d in weights] == [float(l.weight_bits) for l in plan.layers]
    assert [d["bit_width"] for d in acts] == [float(l.output_bits) for l in plan.layers[:-1]]
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Quant" and node.input[0] in inits:  # weights stored on their grid
            v = inits[node.input[0]].astype(np.float64) / inits[node.input[1]].astype(np.float64)
            assert np.abs(v - np.round(v)).max() < 1e-3, node.name
    per_channel = plan.scheme == "mixpc"
    assert all((len(d["scale_shape"]) > 0) == per_channel for d in weights)
    logits = QonnxNumpy(model).predict(D.to_nchw_float(test_split.images))
    top1 = float(np.mean(logits.argmax(1) == test_split.labels))
    assert top1 == pytest.approx(rec["numpy_qonnx_top1"], abs=1e-9)
    assert abs(rec["fake_quant_top1"] - top1) <= 0.002
