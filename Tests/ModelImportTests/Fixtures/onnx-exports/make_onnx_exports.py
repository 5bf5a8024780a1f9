#!/usr/bin/env python3
"""Writes the ONNX export fixtures of this folder with the real exporters (tf2onnx, onnxruntime's
quantizer). Run by hand (CI has no TensorFlow), with the same venv as ../tflite:

    /path/to/venv/bin/python make_onnx_exports.py

Needs ../tflite/mobilenet_v1_025_96_int8.tflite (made by ../tflite/make_tflite_fixtures.py).
Writes <name>.onnx, its inputs (<name>.inputs.npy, or a shared file named in manifest.json) and
onnxruntime's outputs <name>.outputs.npy (default session options, what a user gets) plus
<name>.outputs_noopt.npy (graph optimizations off: QDQ run as dequantize, float op, quantize).
The Brevitas exports are made by make_brevitas_exports.py (it needs PyTorch).
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TFLITE_DIR = os.path.join(HERE, "..", "tflite")
sys.path.insert(0, TFLITE_DIR)

import make_tflite_fixtures as fx  # noqa: E402  (seeds, thread settings, synthetic data)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
import onnx  # noqa: E402
import onnx.version_converter  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tf2onnx  # noqa: E402
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,  # noqa: E402
                                      QuantFormat, QuantType, quantize_static)

N_INPUTS = 16


def small_cnn():
    """A small Keras CNN with what exporters leave behind: batch norm after a depthwise
    convolution, a stride-2 depthwise, average pooling, Flatten, Dense."""
    L = keras.layers
    inp = keras.Input((32, 32, 3))
    x = L.Conv2D(16, 3, padding="same")(inp)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="same")(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.Conv2D(32, 1)(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = L.AveragePooling2D(8)(x)
    x = L.Flatten()(x)
    out = L.Dense(10)(x)
    return keras.Model(inp, out, name="small_cnn")


def export_keras(model, path, opset=None):
    """tf2onnx on defaults (the layout stays NHWC at the input, as Keras users get it)."""
    spec = (tf.TensorSpec((None,) + tuple(model.input_shape[1:]), tf.float32, name="input"),)
    kwargs = {} if opset is None else {"opset": opset}
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, output_path=path, **kwargs)
    return proto


class Reader(CalibrationDataReader):
    def __init__(self, name, data):
        self.items = iter([{name: x[None].astype(np.float32)} for x in data])

    def get_next(self):
        return next(self.items, None)


def session(path, optimize=True):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def run(path, inputs, optimize=True):
    sess = session(path, optimize)
    name = sess.get_inputs()[0].name
    outs = [sess.run(None, {name: x[None]})[0][0] for x in inputs]
    return np.ascontiguousarray(np.stack(outs))


def op_counts(path):
    counts = {}
    model = onnx.load(path)
    for node in model.graph.node:
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def weight_types(path):
    """Element types of the quantized initializers (what a QDQ weight is stored as)."""
    names = {1: "float", 2: "uint8", 3: "int8", 6: "int32", 7: "int64", 21: "uint4", 22: "int4"}
    model = onnx.load(path)
    kinds = {}
    for t in model.graph.initializer:
        k = names.get(t.data_type, str(t.data_type))
        kinds[k] = kinds.get(k, 0) + 1
    return kinds


def record_model(record, name, path, inputs_file, inputs, covers, extra=None):
    outputs = run(path, inputs)
    noopt = run(path, inputs, optimize=False)
    fx.save_npy(os.path.join(HERE, f"{name}.outputs.npy"), outputs)
    fx.save_npy(os.path.join(HERE, f"{name}.outputs_noopt.npy"), noopt)
    model = onnx.load(path)
    sess = session(path)
    i, o = sess.get_inputs()[0], sess.get_outputs()[0]
    entry = {
        "file": os.path.basename(path),
        "inputs": inputs_file,
        "outputs": f"{name}.outputs.npy",
        "outputs_noopt": f"{name}.outputs_noopt.npy",
        "covers": covers,
        "count": int(len(inputs)),
        "opset": {op.domain or "ai.onnx": op.version for op in model.opset_import},
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "input": {"name": i.name, "type": i.type, "shape": i.shape},
        "output": {"name": o.name, "type": o.type, "shape": o.shape},
        "ops": op_counts(path),
        "initializer_types": weight_types(path),
        "argmax_agreement_default_vs_noopt": float(
            np.mean(outputs.reshape(len(outputs), -1).argmax(1)
                    == noopt.reshape(len(noopt), -1).argmax(1))),
        "max_abs_difference_default_vs_noopt": float(
            np.abs(outputs.astype(np.float64) - noopt.astype(np.float64)).max()),
    }
    if extra:
        entry.update(extra)
    record[name] = entry
    print(name, os.path.getsize(path), "bytes", entry["ops"], flush=True)


def compare_with_litert(path, inputs, litert_outputs):
    """How onnxruntime's run of a tf2onnx --tflite file differs from LiteRT's reference kernels on
    the TFLite file (output steps; both int8)."""
    result = {}
    for label, optimize in (("default", True), ("noopt", False)):
        out = run(path, inputs, optimize).astype(np.int64)
        diff = np.abs(out - litert_outputs.astype(np.int64))
        result[f"vs_litert_ref_{label}"] = {
            "differing_elements": int(np.count_nonzero(diff)),
            "max_steps": int(diff.max()),
            "argmax_agreement": float(np.mean(out.argmax(1) == litert_outputs.argmax(1))),
        }
    return result


def main():
    record = {}

    # ---- a small float CNN through tf2onnx, then onnxruntime's static quantization ----------
    keras.backend.clear_session()  # layer names (tensor names in the file) start afresh
    rng = np.random.default_rng(20)
    keras.utils.set_random_seed(20)
    x, y = fx.image_data(rng, 600, (32, 32, 3), 10)
    # A colour per class on top of the spatial prototype: after the global average pool a
    # network this small sees little of the layout, and without the colour it learns no class.
    colours = rng.random((10, 1, 1, 3)).astype(np.float32)
    x = np.clip(0.6 * x + 0.4 * colours[y], 0.0, 1.0).astype(np.float32)
    model = small_cnn()
    fx.fit(model, x[:512], y[:512], "sparse_categorical_crossentropy", 15, 20)
    float_path = os.path.join(HERE, "small_cnn_float.onnx")
    export_keras(model, float_path)
    cnn_inputs = np.ascontiguousarray(np.concatenate([
        x[512:512 + N_INPUTS - 4],
        rng.uniform(-0.25, 1.25, (4, 32, 32, 3)).astype(np.float32)]))
    fx.save_npy(os.path.join(HERE, "small_cnn.inputs.npy"), cnn_inputs)
    record_model(record, "small_cnn_float", float_path, "small_cnn.inputs.npy", cnn_inputs,
                 "float Keras CNN (conv, BN, depthwise stride 2, avg pool, Flatten, Dense) through "
                 "tf2onnx on defaults: NHWC input with a layout Transpose; the source of the QDQ "
                 "files below")
    input_name = onnx.load(float_path).graph.input[0].name
    calib = x[:128]

    variants = [
        ("small_cnn_qdq_u8s8_per_tensor", dict(per_channel=False, activation_type=QuantType.QUInt8,
                                               weight_type=QuantType.QInt8),
         "quantize_static QDQ, uint8 activations, int8 per-tensor weights, MinMax calibration"),
        ("small_cnn_qdq_s8s8_per_channel", dict(per_channel=True, activation_type=QuantType.QInt8,
                                                weight_type=QuantType.QInt8),
         "quantize_static QDQ, int8 activations, int8 per-channel (per-axis) weights"),
    ]
    variants.append(
        ("small_cnn_qoperator_u8s8_per_channel",
         dict(per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
              quant_format=QuantFormat.QOperator),
         "quantize_static in onnxruntime's QOperator form: QLinearConv, QLinearMatMul and friends "
         "with uint8 activations and int8 per-channel weights (QuantizeLinear/DequantizeLinear "
         "only at the graph's edges)"))
    for name, options, covers in variants:
        path = os.path.join(HERE, f"{name}.onnx")
        options.setdefault("quant_format", QuantFormat.QDQ)
        quantize_static(float_path, path, Reader(input_name, calib),
                        calibrate_method=CalibrationMethod.MinMax, **options)
        record_model(record, name, path, "small_cnn.inputs.npy", cnn_inputs, covers)

    # int4 weights (opset 21 INT4), int8 for the first convolution and the final MatMul, as
    # mixed-precision files keep the layers most sensitive to quantization at 8 bits.
    # ONNX has INT4 from opset 21; on an older model onnxruntime's quantizer writes its
    # com.microsoft QuantizeLinear/DequantizeLinear instead, so the float model is first raised to
    # opset 21 with onnx's version converter (a temporary file, not committed).
    path = os.path.join(HERE, "small_cnn_qdq_int4w_per_channel.onnx")
    float_model = onnx.version_converter.convert_version(onnx.load(float_path), 21)
    float21_path = os.path.join(tempfile.mkdtemp(), "small_cnn_float_opset21.onnx")
    onnx.save(float_model, float21_path)
    weighted = [n for n in float_model.graph.node if n.op_type in ("Conv", "MatMul", "Gemm")]
    overrides = {}
    for node in (weighted[0], weighted[-1]):
        overrides[node.input[1]] = [{"quant_type": QuantType.QInt8}]
    quantize_static(float21_path, path, Reader(input_name, calib), quant_format=QuantFormat.QDQ,
                    calibrate_method=CalibrationMethod.MinMax, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt4,
                    extra_options={"TensorQuantOverrides": overrides})
    record_model(record, "small_cnn_qdq_int4w_per_channel", path, "small_cnn.inputs.npy",
                 cnn_inputs, "quantize_static QDQ with weight_type QInt4 on the float model raised "
                 "to opset 21 (ONNX INT4 initializers, per channel), int8 activations; the first "
                 "Conv and the final MatMul kept at int8 weights through TensorQuantOverrides "
                 f"({sorted(overrides)})")

    # ---- Keras MobileNet 0.25 96x96 float through tf2onnx on defaults -----------------------
    # The same seeds, data and fit as ../tflite's mobilenet_v1_025_96_int8, so this is the float
    # network that file was converted from (if TensorFlow's training run is deterministic).
    keras.backend.clear_session()
    rng = np.random.default_rng(1)
    keras.utils.set_random_seed(1)
    x, y = fx.image_data(rng, 320, (96, 96, 3), 2)
    model = fx.mobilenet_v1_025_96()
    fx.fit(model, x[:256], y[:256], "sparse_categorical_crossentropy", 2, 1)
    path = os.path.join(HERE, "mobilenet_v1_025_96_float.onnx")
    export_keras(model, path)
    # Pixels in steps of 1/255, as 8-bit images divided by 255 are. The first 12 are the TFLite
    # file's int8 inputs dequantized, (q + 128) / 255: the images x[256:268] it was given.
    tfl_inputs = np.load(os.path.join(TFLITE_DIR, "mobilenet_v1_025_96_int8.inputs.npy"))
    same = (tfl_inputs[:N_INPUTS - 4].astype(np.float32) + 128.0) / np.float32(255.0)
    extra = np.round(rng.uniform(0.0, 1.0, (4, 96, 96, 3)) * 255.0) / 255.0
    mb_inputs = np.ascontiguousarray(np.concatenate([same, extra]).astype(np.float32))
    fx.save_npy(os.path.join(HERE, "mobilenet_v1_025_96_float.inputs.npy"), mb_inputs)
    tfl_outputs = np.load(os.path.join(TFLITE_DIR, "mobilenet_v1_025_96_int8.outputs.npy"))
    float_outputs = run(path, mb_inputs)
    # The first 12 inputs are the same images as the TFLite file's first 12.
    agreement = float(np.mean(float_outputs[:12].argmax(1) == tfl_outputs[:12].argmax(1)))
    record_model(record, "mobilenet_v1_025_96_float", path,
                 "mobilenet_v1_025_96_float.inputs.npy", mb_inputs,
                 "Keras MobileNet (v1) alpha 0.25 96x96x3, 2 classes, float, through tf2onnx on "
                 "defaults: what tf2onnx leaves (input Transpose, Pad, unfused batch-norm, Keras' "
                 "head) is in `ops`",
                 {"argmax_agreement_with_tflite_int8_first_12": agreement})

    # ---- the int8 TFLite MobileNet through tf2onnx --tflite ---------------------------------
    src = os.path.join(TFLITE_DIR, "mobilenet_v1_025_96_int8.tflite")
    path = os.path.join(HERE, "mobilenet_v1_025_96_int8_from_tflite.onnx")
    subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--tflite", src, "--output", path],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    want = session(path).get_inputs()[0].type
    if want != "tensor(int8)":
        raise SystemExit(f"tf2onnx --tflite made input type {want}; expected int8")
    record_model(record, "mobilenet_v1_025_96_int8_from_tflite", path,
                 "../tflite/mobilenet_v1_025_96_int8.inputs.npy", tfl_inputs,
                 "../tflite/mobilenet_v1_025_96_int8.tflite through `python -m tf2onnx.convert "
                 "--tflite` on defaults: QDQ around float ops, int8 input and output",
                 {"tflite_reference_outputs": "../tflite/mobilenet_v1_025_96_int8.outputs.npy",
                  **compare_with_litert(path, tfl_inputs, tfl_outputs)})

    manifest_path = os.path.join(HERE, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path):  # keeps make_brevitas_exports.py's entries and versions
        with open(manifest_path) as f:
            manifest = json.load(f)
    models = manifest.get("models", {})
    models.update(record)
    manifest.update({
        "generator": "make_onnx_exports.py (and make_brevitas_exports.py for brevitas_*)",
        "tensorflow": tf.__version__, "keras": keras.__version__, "tf2onnx": tf2onnx.__version__,
        "onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__,
        "models": dict(sorted(models.items())),
    })
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
