"""QONNX export (Brevitas) and a tidy-up pass that keeps MixQ's importer simple.

``brevitas.export.export_qonnx`` with the TorchScript exporter (``dynamo=False``)
emits, per conv layer, ``Quant(weight) -> Conv -> BatchNormalization -> Relu ->
Quant`` (domain ``qonnx.custom_op.general``).  When two parameter tensors are
bit-identical (e.g. freshly initialised BatchNorm gammas), the exporter stores
one initializer and adds ``Identity`` nodes for the others; ``tidy`` replaces
those by copies of the initializer so the graph has no ``Identity`` nodes.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

QONNX_DOMAIN = "qonnx.custom_op.general"
INPUT_NAME = "input"
OUTPUT_NAME = "logits"


def tidy(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    keep = []
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            copy = onnx.TensorProto()
            copy.CopyFrom(inits[node.input[0]])
            copy.name = node.output[0]
            graph.initializer.append(copy)
            inits[copy.name] = copy
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    # Initializers must not be listed as graph inputs (only the image is an input).
    real_inputs = [i for i in graph.input if i.name not in inits]
    del graph.input[:]
    graph.input.extend(real_inputs)
    onnx.checker.check_model(model)
    return model


def snap_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """Stores every quantized weight initializer already on its quantization grid:
    w' = Quant(w) = (clip(round(w / scale)) - 0) * scale, computed in float32 as
    Brevitas and the QONNX spec do.  The file's semantics do not change (Quant is
    idempotent, so Quant(w') == Quant(w) bit for bit), but an importer that
    recomputes round(w' / scale), in float32 or float64, gets the integer codes
    exactly: w' / scale is within a few ulp of an integer, never near a .5 tie
    (raw trained weights can sit within 1e-6 of a tie)."""
    from .qonnx_numpy import quant_codes

    inits = {i.name: i for i in model.graph.initializer}
    consumers = {}
    for node in model.graph.node:
        for name in node.input:
            consumers[name] = consumers.get(name, 0) + 1
    for node in model.graph.node:
        if node.op_type != "Quant" or node.input[0] not in inits:
            continue
        if consumers[node.input[0]] != 1:
            raise ValueError(f"weight {node.input[0]} feeds more than its Quant node")
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        w = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32)
        scale, zp, bits = (numpy_helper.to_array(inits[n]).astype(np.float32) for n in node.input[1:4])
        q = quant_codes(w, scale, zp, bits, bool(attrs.get("signed", 1)), bool(attrs.get("narrow", 0)))
        snapped = ((q - zp) * scale).astype(np.float32)
        for dtype in (np.float32, np.float64):
            v = snapped.astype(dtype) / scale.astype(dtype) + zp.astype(dtype)
            if not (np.array_equal(np.round(v), q) and np.abs(v - q).max() < 1e-3):
                raise AssertionError(f"{node.input[0]}: snapped weights are off the grid in {dtype.__name__}")
        inits[node.input[0]].CopyFrom(numpy_helper.from_array(snapped, node.input[0]))
    return model


def export_qonnx_file(qmodel: torch.nn.Module, path: str, resolution: int = 32,
                      doc: str | None = None) -> onnx.ModelProto:
    from brevitas.export import export_qonnx

    qmodel.eval()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.onnx")
        export_qonnx(qmodel, args=torch.zeros(1, 1, resolution, resolution), export_path=raw,
                     dynamo=False, keep_initializers_as_inputs=False,
                     input_names=[INPUT_NAME], output_names=[OUTPUT_NAME])
        model = onnx.load(raw)
    model = snap_weights(tidy(model))
    if doc:
        model.doc_string = doc
    onnx.save(model, path)
    return model


def describe(model: onnx.ModelProto) -> list[dict]:
    """One dict per node: op type and, for Quant, its attributes and the
    shapes/values of its scale, zero-point and bit-width inputs."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    out = []
    for node in model.graph.node:
        entry = {"op": node.op_type, "name": node.name}
        if node.op_type == "Quant":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            entry.update({
                "domain": node.domain,
                "signed": int(attrs.get("signed", 1)),
                "narrow": int(attrs.get("narrow", 0)),
                "rounding_mode": attrs.get("rounding_mode", b"ROUND").decode(),
                "on_initializer": node.input[0] in inits,
                "scale_shape": list(inits[node.input[1]].shape),
                "zero_point": inits[node.input[2]].ravel().tolist()[:1],
                "bit_width": float(inits[node.input[3]].ravel()[0]),
            })
        out.append(entry)
    return out
