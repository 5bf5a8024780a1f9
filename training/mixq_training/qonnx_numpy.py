"""A plain-numpy interpreter for the QONNX graphs this package exports.

Independent of PyTorch and Brevitas: it reads the ONNX file and evaluates
``Quant`` (QONNX spec, github.com/fastmachinelearning/qonnx, docs
"QONNX operators": q = clip(round(x / scale + zeropt), min, max), y = (q -
zeropt) * scale), ``Conv`` (groups, pads, strides), ``BatchNormalization``
(inference form), ``Relu``, ``GlobalAveragePool``, ``AveragePool`` over the
whole map, ``Flatten``, ``Gemm`` and ``Identity`` as the ONNX operator
specification (onnx.ai/onnx/operators) defines them.  Everything is computed
in float32, as the fake-quantized PyTorch model is.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper


def quant(x, scale, zero_point, bit_width, signed: bool, narrow: bool, rounding_mode: str = "ROUND"):
    """QONNX Quant: returns the dequantized float32 values (q - zeropt) * scale."""
    q = quant_codes(x, scale, zero_point, bit_width, signed, narrow, rounding_mode)
    return ((q - np.asarray(zero_point, dtype=np.float32)) * np.asarray(scale, dtype=np.float32)).astype(np.float32)


def quant_codes(x, scale, zero_point, bit_width, signed: bool, narrow: bool, rounding_mode: str = "ROUND"):
    """The integer codes q (as float32) of QONNX Quant."""
    b = int(round(float(np.asarray(bit_width).ravel()[0])))
    if signed:
        qmin = -(2 ** (b - 1)) + (1 if narrow else 0)
        qmax = 2 ** (b - 1) - 1
    else:
        qmin = 0
        qmax = 2 ** b - 1 - (1 if narrow else 0)
    scale = np.asarray(scale, dtype=np.float32)
    zero_point = np.asarray(zero_point, dtype=np.float32)
    v = x / scale + zero_point
    if rounding_mode == "ROUND":
        q = np.round(v)  # numpy rounds half to even, as torch.round does
    elif rounding_mode == "FLOOR":
        q = np.floor(v)
    elif rounding_mode == "CEIL":
        q = np.ceil(v)
    else:
        raise NotImplementedError(f"Quant rounding_mode {rounding_mode}")
    return np.clip(q, qmin, qmax).astype(np.float32)


def conv2d(x, w, strides=(1, 1), pads=(0, 0, 0, 0), group=1, dilations=(1, 1)):
    """x [N, C, H, W], w [M, C/group, kh, kw]; ONNX pads = (top, left, bottom, right)."""
    if tuple(dilations) != (1, 1):
        raise NotImplementedError("dilated Conv")
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    sh, sw = strides
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (xp.shape[2] - kh) // sh + 1
    ow = (xp.shape[3] - kw) // sw + 1
    # patches [N, C, oh, ow, kh, kw]
    s = xp.strides
    patches = np.lib.stride_tricks.as_strided(
        xp, shape=(n, c, oh, ow, kh, kw),
        strides=(s[0], s[1], s[2] * sh, s[3] * sw, s[2], s[3]), writeable=False)
    mg = m // group
    out = np.empty((n, m, oh, ow), dtype=np.float32)
    for g in range(group):
        pg = patches[:, g * cg:(g + 1) * cg]
        wg = w[g * mg:(g + 1) * mg]
        out[:, g * mg:(g + 1) * mg] = np.einsum("ncyxij,mcij->nmyx", pg, wg, optimize=True)
    return out


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class QonnxNumpy:
    """Loads a QONNX file; ``run(x)`` evaluates it on a float32 NCHW batch."""

    def __init__(self, path_or_model):
        model = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
        self.model = model
        self.consts = {i.name: numpy_helper.to_array(i).astype(np.float32)
                       if numpy_helper.to_array(i).dtype == np.float64 else numpy_helper.to_array(i)
                       for i in model.graph.initializer}
        self.input_name = [i.name for i in model.graph.input if i.name not in self.consts][0]
        self.output_name = model.graph.output[0].name
        self.ops = [n.op_type for n in model.graph.node]

    def run(self, x: np.ndarray) -> np.ndarray:
        env = dict(self.consts)
        env[self.input_name] = np.asarray(x, dtype=np.float32)
        for node in self.model.graph.node:
            a = _attrs(node)
            ins = [env[i] if i else None for i in node.input]
            op = node.op_type
            if op == "Quant":
                rm = a.get("rounding_mode", b"ROUND")
                y = quant(ins[0], ins[1], ins[2], ins[3], bool(a.get("signed", 1)), bool(a.get("narrow", 0)),
                          rm.decode() if isinstance(rm, bytes) else rm)
            elif op == "Conv":
                if len(ins) > 2 and ins[2] is not None:
                    raise NotImplementedError("Conv with bias")
                y = conv2d(ins[0], ins[1], a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]),
                           a.get("group", 1), a.get("dilations", [1, 1]))
            elif op == "BatchNormalization":
                xx, gamma, beta, mean, var = ins
                eps = np.float32(a.get("epsilon", 1e-5))
                shape = (1, -1, 1, 1)
                y = ((xx - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
                     * gamma.reshape(shape) + beta.reshape(shape)).astype(np.float32)
            elif op == "Relu":
                y = np.maximum(ins[0], np.float32(0))
            elif op == "GlobalAveragePool":
                y = ins[0].mean(axis=(2, 3), keepdims=True, dtype=np.float32)
            elif op == "AveragePool":
                if list(a.get("kernel_shape")) != list(ins[0].shape[2:]):
                    raise NotImplementedError("AveragePool smaller than the feature map")
                y = ins[0].mean(axis=(2, 3), keepdims=True, dtype=np.float32)
            elif op == "Flatten":
                axis = a.get("axis", 1)
                y = ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
            elif op == "Gemm":
                aa, bb = ins[0], ins[1]
                if a.get("transA", 0):
                    aa = aa.T
                if a.get("transB", 0):
                    bb = bb.T
                y = np.float32(a.get("alpha", 1.0)) * (aa @ bb)
                if len(ins) > 2 and ins[2] is not None:
                    y = y + np.float32(a.get("beta", 1.0)) * ins[2]
                y = y.astype(np.float32)
            elif op == "Identity":
                y = ins[0]
            else:
                raise NotImplementedError(f"op {op} ({node.name})")
            env[node.output[0]] = y
        return env[self.output_name]

    def predict(self, x: np.ndarray, batch_size: int = 100) -> np.ndarray:
        return np.concatenate([self.run(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
