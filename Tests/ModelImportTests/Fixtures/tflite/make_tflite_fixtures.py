#!/usr/bin/env python3
"""Writes the TFLite test fixtures of this folder with TensorFlow's own converter.

Run by hand (CI has no TensorFlow), from any directory:

    /path/to/venv/bin/python make_tflite_fixtures.py [--only NAME[,NAME...]]

For every model it writes, beside this script:
  <name>.tflite        the converted model (TF2 converter, or the TF1 converter for the uint8 model)
  <name>.inputs.npy    >= 16 seeded inputs in the model's input dtype and shape, N first
  <name>.outputs.npy   LiteRT's reference-kernel outputs (OpResolverType.BUILTIN_REF), N first
and one manifest.json describing all of them. Nothing is downloaded: every network starts from
seeded random weights and is fitted for a few steps on seeded synthetic data shaped like the real
inputs, so that its batch-norm statistics and activation ranges are those of a used network.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # oneDNN reorders float sums between runs
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PYTHONHASHSEED", "0")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
N_INPUTS = 16

tf.config.threading.set_inter_op_parallelism_threads(1)
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.experimental.enable_op_determinism()


# --------------------------------------------------------------------------------------------
# Synthetic data shaped like each benchmark's inputs
# --------------------------------------------------------------------------------------------

def smooth_patterns(rng, count, shape, grid=4):
    """`count` smooth random fields of `shape` (H, W, C) in [0, 1]: a coarse random grid
    upsampled bilinearly, so neighbouring pixels correlate as in real images and spectrograms."""
    h, w, c = shape
    coarse = rng.random((count, grid, grid, c)).astype(np.float32)
    return tf.image.resize(coarse, (h, w), method="bilinear").numpy()


def class_data(rng, n, shape, classes, noise=0.25):
    """Images of `classes` classes: one smooth prototype per class plus smooth and white noise,
    clipped to [0, 1] so that both ends of the range occur (the int8 inputs then span -128..127)."""
    protos = smooth_patterns(rng, classes, shape)
    labels = rng.integers(0, classes, n)
    x = protos[labels] + noise * (smooth_patterns(rng, n, shape, grid=8) - 0.5) * 2
    x += 0.08 * rng.standard_normal(x.shape).astype(np.float32)
    return np.clip(x, 0.0, 1.0).astype(np.float32), labels


def image_data(rng, n, shape, classes):
    return class_data(rng, n, shape, classes)


def mfcc_data(rng, n, classes):
    """49 frames x 10 MFCC coefficients, scaled to the range of MLPerf Tiny's KWS features
    (roughly -50..30 here)."""
    x, y = class_data(rng, n, (49, 10, 1), classes)
    return (x * 80.0 - 50.0).astype(np.float32), y


def spectrogram_frames(rng, n):
    """Five stacked 128-bin log-mel frames (640 values) as MLPerf Tiny's anomaly detection uses,
    in a range like its features (about -10..10)."""
    x = smooth_patterns(rng, n, (5, 128, 1), grid=8).reshape(n, 640)
    x = x * 20.0 - 10.0 + 0.5 * rng.standard_normal(x.shape).astype(np.float32)
    return x.astype(np.float32)


# --------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------

def mobilenet_v1_025_96():
    return keras.applications.MobileNet(input_shape=(96, 96, 3), alpha=0.25, weights=None,
                                        classes=2, include_top=True, dropout=1e-3)


def resnet8():
    """MLPerf Tiny image classification's ResNet-8: three stacks of 16/32/64 filters, the second
    and third entered by a 3x3 stride-2 convolution with a 1x1 stride-2 projection shortcut."""
    L = keras.layers
    reg = keras.regularizers.l2(1e-4)
    inp = keras.Input((32, 32, 3))
    x = L.Conv2D(16, 3, padding="same", kernel_regularizer=reg)(inp)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    # stack 1: identity shortcut
    y = L.Conv2D(16, 3, padding="same", kernel_regularizer=reg)(x)
    y = L.BatchNormalization()(y)
    y = L.Activation("relu")(y)
    y = L.Conv2D(16, 3, padding="same", kernel_regularizer=reg)(y)
    y = L.BatchNormalization()(y)
    x = L.Activation("relu")(L.Add()([x, y]))
    for filters in (32, 64):
        y = L.Conv2D(filters, 3, strides=2, padding="same", kernel_regularizer=reg)(x)
        y = L.BatchNormalization()(y)
        y = L.Activation("relu")(y)
        y = L.Conv2D(filters, 3, padding="same", kernel_regularizer=reg)(y)
        y = L.BatchNormalization()(y)
        shortcut = L.Conv2D(filters, 1, strides=2, padding="same", kernel_regularizer=reg)(x)
        x = L.Activation("relu")(L.Add()([shortcut, y]))
    x = L.AveragePooling2D(pool_size=x.shape[1:3])(x)
    x = L.Flatten()(x)
    out = L.Dense(10, activation="softmax")(x)
    return keras.Model(inp, out, name="resnet8")


def ds_cnn():
    """MLPerf Tiny keyword spotting's DS-CNN (small): a 10x4 stride-2 convolution of 64 filters,
    four depthwise-separable blocks, average pooling over the whole map, FC to 12, softmax."""
    L = keras.layers
    inp = keras.Input((49, 10, 1))
    x = L.Conv2D(64, (10, 4), strides=(2, 2), padding="same")(inp)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.Dropout(0.2)(x)
    for _ in range(4):
        x = L.DepthwiseConv2D(3, padding="same")(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
        x = L.Conv2D(64, 1, padding="same")(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
    x = L.Dropout(0.4)(x)
    x = L.AveragePooling2D(pool_size=x.shape[1:3])(x)
    x = L.Flatten()(x)
    out = L.Dense(12, activation="softmax")(x)
    return keras.Model(inp, out, name="ds_cnn")


def fc_autoencoder():
    """MLPerf Tiny anomaly detection's autoencoder: 640 -> 128 x4 -> 8 -> 128 x4 -> 640. The
    reference has batch normalization after each hidden Dense; it is folded into the Dense weights
    by `fold_dense_batchnorm` before conversion, so that the file is a plain chain of
    FULLY_CONNECTED."""
    L = keras.layers
    inp = keras.Input((640,))
    x = inp
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = L.Dense(units)(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
    out = L.Dense(640)(x)
    return keras.Model(inp, out, name="fc_autoencoder")


def fold_dense_batchnorm(model):
    """The same network with every Dense -> BatchNormalization pair replaced by one Dense whose
    weights and bias carry the (inference-mode) normalization."""
    L = keras.layers
    layers = model.layers
    inp = keras.Input(model.input_shape[1:])
    x = inp
    i = 1
    while i < len(layers):
        layer = layers[i]
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, L.Dense) and isinstance(nxt, L.BatchNormalization):
            w, b = layer.get_weights()
            gamma, beta, mean, var = nxt.get_weights()
            k = gamma / np.sqrt(var + nxt.epsilon)
            dense = L.Dense(layer.units)
            x = dense(x)
            dense.set_weights([w * k[None, :], (b - mean) * k + beta])
            i += 2
            continue
        clone = layer.__class__.from_config(layer.get_config())
        x = clone(x)
        if layer.get_weights():
            clone.set_weights(layer.get_weights())
        i += 1
    return keras.Model(inp, x, name=model.name)


# ---- single-purpose models ----------------------------------------------------------------

def single(name, input_shape, body):
    inp = keras.Input(input_shape)
    return keras.Model(inp, body(inp), name=name)


def conv_10x4_s2(padding):
    return lambda: single(f"conv_10x4_s2_{padding}", (49, 10, 1),
                          lambda x: keras.layers.Conv2D(8, (10, 4), strides=2, padding=padding)(x))


def dwconv_m8():
    return single("dwconv_mult8", (24, 20, 1),
                  lambda x: keras.layers.DepthwiseConv2D(3, depth_multiplier=8, padding="same")(x))


def dwconv_m1_s2():
    return single("dwconv_mult1_s2", (16, 16, 8),
                  lambda x: keras.layers.DepthwiseConv2D(3, strides=2, padding="same")(x))


def fc_chain():
    def body(x):
        x = keras.layers.Dense(48)(x)
        x = keras.layers.Dense(32)(x)
        return keras.layers.Dense(10)(x)
    return single("fc_chain", (64,), body)


def pool(kind, size, padding):
    layer = {"avg": keras.layers.AveragePooling2D, "max": keras.layers.MaxPooling2D}[kind]
    return lambda: single(f"{kind}pool_{size}x{size}_s2_{padding}", (13, 11, 8),
                          lambda x: layer(pool_size=size, strides=2, padding=padding)(x))


def add_two_scales():
    """Two 1x1 convolution branches of the same input, the second with weights 6x larger, so the
    ADD's inputs carry different scales (and zero points) and the output a third."""
    def body(x):
        a = keras.layers.Conv2D(8, 1, name="branch_small")(x)
        b = keras.layers.Conv2D(8, 1, name="branch_large")(x)
        return keras.layers.Add()([a, b])
    return single("add_two_scales", (8, 8, 4), body)


def scale_branch(model):
    layer = model.get_layer("branch_large")
    w, b = layer.get_weights()
    layer.set_weights([w * 6.0, b * 6.0 + 0.5])


def reshape_squeeze():
    """Conv -> RESHAPE [1, 8, 8, 8] to [1, 4, 16, 8] -> 4x16 average pool to 1x1 -> squeeze of
    the two unit axes. tf.reshape takes a constant shape with -1 for the batch, so that no SHAPE
    op is needed; the squeeze is last because the converter folds a squeeze or reshape that feeds a
    FULLY_CONNECTED or another reshape (see reshape_to_squeeze for how it becomes SQUEEZE)."""
    def body(x):
        x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
        x = keras.layers.Lambda(lambda t: tf.reshape(t, (-1, 4, 16, 8)),
                                output_shape=(4, 16, 8))(x)
        x = keras.layers.AveragePooling2D(pool_size=(4, 16))(x)
        return keras.layers.Lambda(lambda t: tf.squeeze(t, axis=[1, 2]), output_shape=(8,))(x)
    return single("reshape_squeeze", (8, 8, 4), body)


def pad_valid_conv():
    """Keras ZeroPadding2D (asymmetric, as Keras MobileNet puts before its stride-2 depthwise
    convolutions) followed by a VALID stride-2 convolution: a PAD op before CONV_2D."""
    def body(x):
        x = keras.layers.ZeroPadding2D(((0, 1), (0, 1)))(x)
        return keras.layers.Conv2D(8, 3, strides=2, padding="valid")(x)
    return single("pad_valid_conv", (15, 15, 4), body)


def fused(activation):
    return lambda: single(f"fused_{activation}", (12, 12, 4),
                          lambda x: keras.layers.Conv2D(8, 3, padding="same",
                                                        activation=activation)(x))


def softmax_end():
    def body(x):
        x = keras.layers.Dense(10)(x)
        return keras.layers.Softmax()(x)
    return single("softmax_end", (32,), body)


# --------------------------------------------------------------------------------------------
# Conversion, reference outputs, manifest
# --------------------------------------------------------------------------------------------

def convert_int8(model, representative, io_dtype, dynamic_batch=False):
    """TF2 full-integer conversion. The model is traced with batch 1 (as microcontroller models
    are converted) so that Keras 3's Flatten/Reshape, which read the batch size at run time, leave
    no SHAPE/STRIDED_SLICE/PACK ops; `dynamic_batch` keeps Keras' own [None, ...] signature."""
    if not dynamic_batch:
        batch1 = keras.models.clone_model(
            model, input_tensors=keras.Input(model.input_shape[1:], batch_size=1))
        batch1.set_weights(model.get_weights())
        model = batch1
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def gen():
        for x in representative:
            yield [x[None].astype(np.float32)]
    converter.representative_dataset = gen
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if io_dtype is not None:
        converter.inference_input_type = io_dtype
        converter.inference_output_type = io_dtype
    return converter.convert()


def quantize_inputs(x, detail):
    """Float inputs as the model's input tensor takes them: quantized with its scale and zero
    point and saturated to its integer type."""
    dtype = detail["dtype"]
    if dtype == np.float32:
        return x.astype(np.float32)
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    q = np.round(x / scale) + zero
    return np.clip(q, info.min, info.max).astype(dtype)


def make_inputs(rng, float_inputs, detail, full_range_count=4):
    """`float_inputs` drawn from the model's data, quantized; then `full_range_count` integer
    inputs drawn uniformly over the whole input type (for float inputs: over the calibrated range
    widened by a quarter on each side, so the input QUANTIZE saturates)."""
    x = quantize_inputs(float_inputs, detail)
    shape = (full_range_count,) + x.shape[1:]
    dtype = detail["dtype"]
    if dtype == np.float32:
        lo, hi = float(float_inputs.min()), float(float_inputs.max())
        pad = 0.25 * (hi - lo)
        extra = rng.uniform(lo - pad, hi + pad, shape).astype(np.float32)
    else:
        info = np.iinfo(dtype)
        extra = rng.integers(info.min, info.max + 1, shape, endpoint=False).astype(dtype)
    return np.ascontiguousarray(np.concatenate([x, extra]))


def run_interpreter(path, inputs, resolver):
    interp = Interpreter(model_path=path, experimental_op_resolver_type=resolver, num_threads=1)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    results = []
    for x in inputs:
        interp.set_tensor(inp["index"], x[None])
        interp.invoke()
        results.append(interp.get_tensor(out["index"])[0].copy())
    return np.ascontiguousarray(np.stack(results))


def time_interpreter(path, inputs, resolver):
    start = time.perf_counter()
    run_interpreter(path, inputs, resolver)
    return time.perf_counter() - start


def describe_tensor(detail):
    scale, zero = detail["quantization"]
    return {
        "name": detail["name"],
        "dtype": np.dtype(detail["dtype"]).name,
        "shape": [int(d) for d in detail["shape"]],
        "scale": float(scale),
        "zero_point": int(zero),
    }


WEIGHTED_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}


def operator_options(path):
    """Per operator, in execution order, the builtin options MixQ must honour (fused activation,
    padding, strides, kernel size, depth multiplier, squeeze dims), read from the flatbuffer with
    TensorFlow's own schema bindings."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    def names(enum):
        return {v: k for k, v in vars(enum).items() if not k.startswith("_")}
    activations = names(schema.ActivationFunctionType)
    paddings = names(schema.Padding)
    model = flatbuffer_utils.read_model(path)
    result = []
    for op in model.subgraphs[0].operators:
        options, entry = op.builtinOptions, {}
        if options is not None:
            if getattr(options, "fusedActivationFunction", None) is not None:
                entry["fused_activation"] = activations[options.fusedActivationFunction]
            if hasattr(options, "padding") and hasattr(options, "strideH"):
                entry["padding"] = paddings[options.padding]
                entry["stride"] = [int(options.strideH), int(options.strideW)]
            if hasattr(options, "filterHeight"):
                entry["window"] = [int(options.filterHeight), int(options.filterWidth)]
            if hasattr(options, "depthMultiplier"):
                entry["depth_multiplier"] = int(options.depthMultiplier)
            if hasattr(options, "dilationHFactor"):
                entry["dilation"] = [int(options.dilationHFactor), int(options.dilationWFactor)]
            if getattr(options, "squeezeDims", None) is not None:
                entry["squeeze_dims"] = [int(d) for d in options.squeezeDims]
        result.append(entry)
    return result


def graph_summary(path):
    """Ops in execution order, weight counts and multiply-accumulates, read back from the file by
    LiteRT's interpreter (so the manifest describes the file, not the Keras model)."""
    interp = Interpreter(model_path=path,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    ops = interp._get_ops_details()
    options = operator_options(path)
    assert len(options) == len(ops), path
    names, per_op = [], []
    params = macs = 0
    for op, op_options in zip(ops, options):
        name = op["op_name"]
        names.append(name)
        entry = {"op": name, "output_shape": [int(d) for d in tensors[op["outputs"][0]]["shape"]],
                 **op_options}
        if name in WEIGHTED_OPS:
            weight = tensors[op["inputs"][1]]
            wshape = [int(d) for d in weight["shape"]]
            wq = weight["quantization_parameters"]
            entry["weight_shape"] = wshape
            entry["weight_dtype"] = np.dtype(weight["dtype"]).name
            entry["weight_scales"] = int(len(wq["scales"]))
            params += int(np.prod(wshape))
            if len(op["inputs"]) > 2 and op["inputs"][2] >= 0:
                bias = tensors[op["inputs"][2]]
                entry["bias_dtype"] = np.dtype(bias["dtype"]).name
                params += int(np.prod(bias["shape"]))
            out_elems = int(np.prod(entry["output_shape"]))
            if name == "CONV_2D":
                macs += out_elems * wshape[1] * wshape[2] * wshape[3]
            elif name == "DEPTHWISE_CONV_2D":
                macs += out_elems * wshape[1] * wshape[2]
            else:
                macs += out_elems * wshape[1]
        per_op.append(entry)
    unique = []
    for n in names:
        if n not in unique:
            unique.append(n)
    return {"ops": unique, "graph": per_op, "parameters": params, "macs": macs}


def save_npy(path, array):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, np.ascontiguousarray(array), version=(1, 0),
                                  allow_pickle=False)


def fit(model, x, y, loss, epochs, seed):
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    model.fit(x, y, batch_size=32, epochs=epochs, shuffle=True, verbose=0)
    reestimate_batchnorm(model, x[:256])


def reestimate_batchnorm(model, x):
    """Sets every BatchNormalization's moving mean and variance to the statistics of `x` seen
    in one training-mode pass. A few epochs are far too few for Keras' moving averages (momentum
    0.99) to leave their initial 0 and 1, and a network normalized with those saturates every
    ReLU6 at inference and gives one constant output for every input."""
    layers = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    if not layers:
        return
    saved = [l.momentum for l in layers]
    for layer in layers:
        layer.momentum = 0.0
    model(x, training=True)
    for layer, momentum in zip(layers, saved):
        layer.momentum = momentum


def finish(name, tflite_bytes, float_test, covers, record, rng, extra=None):
    """Writes the model, its inputs and its reference outputs, and its manifest entry."""
    path = os.path.join(HERE, f"{name}.tflite")
    with open(path, "wb") as f:
        f.write(tflite_bytes)
    probe = Interpreter(model_path=path)
    in_detail = probe.get_input_details()[0]
    out_detail = probe.get_output_details()[0]
    inputs = make_inputs(rng, float_test, in_detail)
    assert inputs.shape[0] >= N_INPUTS, name
    reference = run_interpreter(path, inputs, OpResolverType.BUILTIN_REF)
    save_npy(os.path.join(HERE, f"{name}.inputs.npy"), inputs)
    save_npy(os.path.join(HERE, f"{name}.outputs.npy"), reference)

    comparison = {}
    for label, resolver in (("BUILTIN", OpResolverType.BUILTIN),
                            ("BUILTIN_WITHOUT_DEFAULT_DELEGATES",
                             OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)):
        other = run_interpreter(path, inputs, resolver)
        diff = np.abs(other.astype(np.int64) - reference.astype(np.int64)) \
            if reference.dtype != np.float32 else np.abs(other - reference)
        comparison[label] = {
            "differing_elements": int(np.count_nonzero(diff)),
            "max_abs_difference": float(diff.max()),
        }
    entry = {
        "file": f"{name}.tflite",
        "inputs": f"{name}.inputs.npy",
        "outputs": f"{name}.outputs.npy",
        "covers": covers,
        "count": int(inputs.shape[0]),
        "input": describe_tensor(in_detail),
        "output": describe_tensor(out_detail),
        **graph_summary(path),
        "input_range_used": [float(inputs.min()), float(inputs.max())],
        "reference": "OpResolverType.BUILTIN_REF",
        "other_resolvers_vs_reference": comparison,
        "distinct_output_argmax": int(len(np.unique(reference.reshape(len(reference), -1)
                                                    .argmax(axis=1)))),
    }
    if extra:
        entry.update(extra)
    record[name] = entry
    print(f"{name}: {len(tflite_bytes)} bytes, ops {entry['ops']}, "
          f"vs BUILTIN {comparison['BUILTIN']}", flush=True)


def reshape_to_squeeze(tflite_bytes):
    """TensorFlow 2.21's converter never writes SQUEEZE: tf.squeeze becomes RESHAPE whatever the
    shapes (static or dynamic, TF2 or TF1 converter, float or int8). Older converters (TOCO) did
    write it, and files made by them are still in use, so this rewrites the converter's RESHAPE
    [1, 1, 1, C] -> [1, C] into the equivalent SQUEEZE (squeeze_dims [1, 2]) with TensorFlow's own
    flatbuffer_utils and schema; tensors, buffers and quantization are left as converted."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite_bytes))
    graph = model.subgraphs[0]
    reshape_codes = [i for i, c in enumerate(model.operatorCodes)
                     if max(c.builtinCode, c.deprecatedBuiltinCode) == schema.BuiltinOperator.RESHAPE]
    code = schema.OperatorCodeT()
    code.builtinCode = schema.BuiltinOperator.SQUEEZE
    code.deprecatedBuiltinCode = schema.BuiltinOperator.SQUEEZE
    code.version = 1
    model.operatorCodes.append(code)
    squeeze_index = len(model.operatorCodes) - 1
    rewritten = 0
    for op in graph.operators:
        if op.opcodeIndex not in reshape_codes:
            continue
        src = list(graph.tensors[op.inputs[0]].shape)
        dst = list(graph.tensors[op.outputs[0]].shape)
        if src[1:3] != [1, 1] or dst != [src[0], src[3]]:
            continue
        op.opcodeIndex = squeeze_index
        op.inputs = [op.inputs[0]]
        options = schema.SqueezeOptionsT()
        options.squeezeDims = [1, 2]
        op.builtinOptionsType = schema.BuiltinOptions.SqueezeOptions
        op.builtinOptions = options
        rewritten += 1
    assert rewritten == 1, rewritten
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


# --------------------------------------------------------------------------------------------
# The uint8 per-tensor model: a TF1 graph with fake-quant nodes, as quantization-aware training
# (tf.contrib.quantize) left them, converted by the TF1 converter with inference_type uint8.
# --------------------------------------------------------------------------------------------

def uint8_qat_model(rng, calib):
    """A small MobilenetV1-like network (conv 3x3/2, dw 3x3 + pw 1x1, dw 3x3/2 + pw 1x1,
    average pool, 1x1 conv logits, reshape, softmax) built in a tf.compat.v1 graph. Weights are
    seeded random with batch norm already folded; every weight goes through
    fake_quant_with_min_max_vars over its own min/max (per tensor, asymmetric), every ReLU6 through
    a [0, 6] fake quant, the logits through a fake quant over their calibrated range, and the
    input through a [-1, 1] fake quant (TF-slim's mobilenet_v1_*_quant preprocessing)."""
    v1 = tf.compat.v1
    shapes = {
        "conv0": (3, 3, 3, 8), "dw1": (3, 3, 8, 1), "pw1": (1, 1, 8, 16),
        "dw2": (3, 3, 16, 1), "pw2": (1, 1, 16, 32), "logits": (1, 1, 32, 5),
    }
    weights, biases = {}, {}
    for key, shape in shapes.items():
        fan_in = shape[0] * shape[1] * (shape[2] if not key.startswith("dw") else 1)
        weights[key] = (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        out_ch = shape[2] * shape[3] if key.startswith("dw") else shape[3]
        biases[key] = (0.1 * rng.standard_normal(out_ch)).astype(np.float32)
    # Make the asymmetric per-tensor weight ranges obviously asymmetric (zero point far from 128).
    weights["pw1"] += 0.15
    weights["dw2"] -= 0.1
    weights["logits"] *= 6.0  # logits spread over a few units, so the softmax is not flat

    def build(graph, logits_range):
        with graph.as_default():
            x = v1.placeholder(tf.float32, (1, 32, 32, 3), name="input")
            h = tf.quantization.fake_quant_with_min_max_args(x, -1.0, 1.0, name="input_fq")

            def fq_weight(key):
                w = tf.constant(weights[key], name=key + "_w")
                return tf.quantization.fake_quant_with_min_max_vars(
                    w, float(weights[key].min()), float(weights[key].max()), name=key + "_wfq")

            def act(t, key):
                t = tf.nn.relu6(t, name=key + "_relu6")
                return tf.quantization.fake_quant_with_min_max_vars(t, 0.0, 6.0,
                                                                    name=key + "_afq")

            def conv(t, key, stride):
                t = tf.nn.conv2d(t, fq_weight(key), strides=stride, padding="SAME")
                return tf.nn.bias_add(t, tf.constant(biases[key]))

            def dw(t, key, stride):
                t = tf.nn.depthwise_conv2d(t, fq_weight(key), strides=(1, stride, stride, 1),
                                           padding="SAME")
                return tf.nn.bias_add(t, tf.constant(biases[key]))

            h = act(conv(h, "conv0", 2), "conv0")
            h = act(dw(h, "dw1", 1), "dw1")
            h = act(conv(h, "pw1", 1), "pw1")
            h = act(dw(h, "dw2", 2), "dw2")
            h = act(conv(h, "pw2", 1), "pw2")
            h = tf.nn.avg_pool2d(h, ksize=8, strides=1, padding="VALID")
            h = tf.quantization.fake_quant_with_min_max_vars(h, 0.0, 6.0, name="pool_fq")
            logits = conv(h, "logits", 1)
            if logits_range is None:
                return x, logits
            logits = tf.quantization.fake_quant_with_min_max_vars(
                logits, logits_range[0], logits_range[1], name="logits_fq")
            logits = tf.reshape(logits, (1, 5))
            # No fake quant after the softmax: TFLite's quantized softmax has its fixed output
            # scale 1/256, zero point 0 (as in TF-slim's mobilenet_v1_*_quant files).
            return x, tf.nn.softmax(logits, name="output")

    # Calibrate the logits' range as QAT's moving min/max would have.
    g = tf.Graph()
    x, logits = build(g, None)
    with v1.Session(graph=g) as sess:
        lo, hi = 0.0, 0.0
        for img in calib:
            v = sess.run(logits, {x: img[None] * 2.0 - 1.0})
            lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
    g = tf.Graph()
    x, out = build(g, (lo, hi))
    with v1.Session(graph=g) as sess:
        converter = v1.lite.TFLiteConverter.from_session(sess, [x], [out])
        converter.inference_type = tf.uint8
        converter.inference_input_type = tf.uint8
        # (mean, std) of the float input: real = (q - 128) / 127.5 maps uint8 to [-1, 1].
        converter.quantized_input_stats = {"input": (128.0, 127.5)}
        return converter.convert()


# --------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated model names to regenerate")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))

    manifest_path = os.path.join(HERE, "manifest.json")
    record = {}
    if only and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            record = json.load(f)["models"]

    def wanted(name):
        return not only or name in only

    def seeded(seed):
        # A fresh Keras session per model: layer names (which become tensor names in the file)
        # then do not depend on which models were built before, so --only writes the same bytes.
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        return np.random.default_rng(seed)

    # ---- whole networks --------------------------------------------------------------------
    if wanted("mobilenet_v1_025_96_int8"):
        rng = seeded(1)
        x, y = image_data(rng, 320, (96, 96, 3), 2)
        model = mobilenet_v1_025_96()
        fit(model, x[:256], y[:256], "sparse_categorical_crossentropy", 2, 1)
        tfl = convert_int8(model, x[:100], tf.int8)
        finish("mobilenet_v1_025_96_int8", tfl, x[256:268],
               "Keras MobileNet (v1) alpha 0.25, 96x96x3, 2 classes (MLPerf Tiny visual wake words "
               "shape), weights=None fitted 2 epochs on synthetic images; TF2 int8 converter, int8 "
               "input/output, per-channel int8 weights; the converter folds each ZeroPadding2D + "
               "VALID stride-2 depthwise into a SAME DEPTHWISE_CONV_2D (no PAD left); Keras' head "
               "is MEAN (GlobalAveragePooling2D keepdims), 1x1 CONV_2D, RESHAPE, SOFTMAX",
               record, rng, {"params_keras": int(model.count_params())})

    if wanted("resnet8_int8"):
        rng = seeded(2)
        x, y = image_data(rng, 600, (32, 32, 3), 10)
        model = resnet8()
        fit(model, x[:512], y[:512], "sparse_categorical_crossentropy", 3, 2)
        tfl = convert_int8(model, x[:100], tf.int8)
        finish("resnet8_int8", tfl, x[512:524],
               "ResNet-8 (MLPerf Tiny image classification): 32x32x3, 16/32/64 filters, residual "
               "ADDs (identity and 1x1 stride-2 projection shortcuts), 8x8 AVERAGE_POOL_2D, FC 10, "
               "SOFTMAX; int8 input/output", record, rng,
               {"params_keras": int(model.count_params())})

    if wanted("ds_cnn_int8") or wanted("ds_cnn_f32io"):
        rng = seeded(3)
        x, y = mfcc_data(rng, 600, 12)
        model = ds_cnn()
        fit(model, x[:512], y[:512], "sparse_categorical_crossentropy", 3, 3)
        if wanted("ds_cnn_int8"):
            finish("ds_cnn_int8", convert_int8(model, x[:100], tf.int8), x[512:524],
                   "DS-CNN (MLPerf Tiny keyword spotting): 49x10x1 MFCC input, 10x4 stride-2 SAME "
                   "CONV_2D, 4 depthwise-separable blocks, 25x5 AVERAGE_POOL_2D, FC 12, SOFTMAX; "
                   "int8 input/output", record, rng, {"params_keras": int(model.count_params())})
        if wanted("ds_cnn_f32io"):
            finish("ds_cnn_f32io", convert_int8(model, x[:100], None), x[524:536],
                   "the same DS-CNN weights converted with float32 input and output: QUANTIZE at "
                   "the input, DEQUANTIZE at the output, int8 inside", record, rng,
                   {"params_keras": int(model.count_params())})

    if wanted("fc_autoencoder_int8"):
        rng = seeded(4)
        x = spectrogram_frames(rng, 600)
        model = fc_autoencoder()
        fit(model, x[:512], x[:512], "mse", 3, 4)
        folded = fold_dense_batchnorm(model)
        tfl = convert_int8(folded, x[:100], tf.int8)
        finish("fc_autoencoder_int8", tfl, x[512:524],
               "MLPerf Tiny anomaly detection autoencoder 640-128x4-8-128x4-640 (batch norm folded "
               "into the Dense layers): a chain of 10 FULLY_CONNECTED, fused RELU, int8 "
               "input/output", record, rng, {"params_keras": int(folded.count_params())})

    if wanted("mobilenet_like_uint8_qat"):
        rng = seeded(5)
        x, _ = image_data(rng, 80, (32, 32, 3), 5)
        tfl = uint8_qat_model(rng, x[:64])
        finish("mobilenet_like_uint8_qat", tfl, x[64:76] * 2.0 - 1.0,
               "uint8 asymmetric per-tensor (TF1 quantization-aware training style): a "
               "MobilenetV1-like conv net built in a tf.compat.v1 graph with fake-quant nodes, "
               "converted by tf.compat.v1.lite.TFLiteConverter.from_session with inference_type "
               "uint8 and quantized_input_stats (128, 127.5); ends RESHAPE -> SOFTMAX like TF-slim's "
               "mobilenet_v1_*_quant", record, rng)

    # ---- single-purpose models -------------------------------------------------------------
    small = [
        (conv_10x4_s2("same"), "CONV_2D 10x4 kernel, stride 2, SAME padding, no activation",
         lambda r, n: mfcc_data(r, n, 4)[0]),
        (conv_10x4_s2("valid"), "CONV_2D 10x4 kernel, stride 2, VALID padding, no activation",
         lambda r, n: mfcc_data(r, n, 4)[0]),
        (dwconv_m8, "DEPTHWISE_CONV_2D 3x3, depth multiplier 8 on 1 input channel, SAME",
         lambda r, n: image_data(r, n, (24, 20, 1), 4)[0]),
        (dwconv_m1_s2, "DEPTHWISE_CONV_2D 3x3, depth multiplier 1, stride 2, SAME, 8 channels",
         lambda r, n: image_data(r, n, (16, 16, 8), 4)[0]),
        (fc_chain, "FULLY_CONNECTED chain 64 -> 48 -> 32 -> 10, no activation",
         lambda r, n: image_data(r, n, (8, 8, 1), 4)[0].reshape(n, 64) * 4 - 2),
        (pool("avg", 3, "same"), "AVERAGE_POOL_2D 3x3 stride 2 SAME on 13x11x8 (edge windows "
         "partly outside the input)", lambda r, n: image_data(r, n, (13, 11, 8), 4)[0] * 2 - 1),
        (pool("avg", 2, "valid"), "AVERAGE_POOL_2D 2x2 stride 2 VALID on 13x11x8 (last row and "
         "column dropped)", lambda r, n: image_data(r, n, (13, 11, 8), 4)[0] * 2 - 1),
        (pool("max", 3, "same"), "MAX_POOL_2D 3x3 stride 2 SAME on 13x11x8",
         lambda r, n: image_data(r, n, (13, 11, 8), 4)[0] * 2 - 1),
        (pool("max", 2, "valid"), "MAX_POOL_2D 2x2 stride 2 VALID on 13x11x8",
         lambda r, n: image_data(r, n, (13, 11, 8), 4)[0] * 2 - 1),
        (add_two_scales, "ADD of two 1x1 CONV_2D branches whose outputs have different scales "
         "and zero points (the output a third)", lambda r, n: image_data(r, n, (8, 8, 4), 4)[0]),
        (reshape_squeeze, "CONV_2D (fused RELU) -> RESHAPE [1,8,8,8] to [1,4,16,8] -> "
         "AVERAGE_POOL_2D 4x16 -> SQUEEZE dims [1, 2] (the converter's RESHAPE rewritten as "
         "SQUEEZE, see README)", lambda r, n: image_data(r, n, (8, 8, 4), 4)[0]),
        (pad_valid_conv, "PAD (Keras ZeroPadding2D, bottom/right by 1) followed by a VALID "
         "stride-2 3x3 CONV_2D", lambda r, n: image_data(r, n, (15, 15, 4), 4)[0]),
        (fused("relu"), "CONV_2D 3x3 SAME with fused RELU",
         lambda r, n: image_data(r, n, (12, 12, 4), 4)[0] * 2 - 1),
        (fused("relu6"), "CONV_2D 3x3 SAME with fused RELU6 (inputs scaled so outputs pass 6)",
         lambda r, n: image_data(r, n, (12, 12, 4), 4)[0] * 8 - 2),
        (softmax_end, "FULLY_CONNECTED 32 -> 10 then SOFTMAX (int8 output scale 1/256, zero "
         "point -128)", lambda r, n: image_data(r, n, (8, 4, 1), 4)[0].reshape(n, 32) * 6 - 3),
    ]
    for seed, (factory, covers, data) in enumerate(small, start=100):
        rng = seeded(seed)
        model = factory()
        name = model.name + "_int8"
        if not wanted(name):
            continue
        if model.name == "add_two_scales":
            scale_branch(model)
        calib = data(rng, 64)
        test = data(rng, 12)
        # The batch dimension stays dynamic for reshape_squeeze: with every shape static the
        # converter rewrites SQUEEZE as RESHAPE.
        dynamic = model.name == "reshape_squeeze"
        tfl = convert_int8(model, calib, tf.int8, dynamic)
        if model.name == "reshape_squeeze":
            tfl = reshape_to_squeeze(tfl)
        finish(name, tfl, test, covers, record, rng,
               {"params_keras": int(model.count_params())})

    manifest = {
        "generator": "make_tflite_fixtures.py",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "ai_edge_litert": __import__("ai_edge_litert").__version__
        if hasattr(__import__("ai_edge_litert"), "__version__") else "see README",
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "inputs_per_model": N_INPUTS,
        "models": dict(sorted(record.items())),
    }
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=False)
        f.write("\n")


if __name__ == "__main__":
    main()
