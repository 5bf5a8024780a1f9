#!/usr/bin/env python3
"""Writes tflite_op_vectors.json: single-op TFLite models and LiteRT's reference-kernel outputs.

Run by hand (not in CI) with a Python that has TensorFlow and ai-edge-litert:

    /work/venv-tf/bin/python Tests/QuantizationTests/Fixtures/make_tflite_op_vectors.py

For every op and quantization MixQ reproduces (docs/design.md#tflite-arithmetic) it builds a
one-op model, converts it with TensorFlow's converter (int8: TF2 full-integer post-training
quantization, int8 activations with zero points, int8 symmetric per-channel weights, int32 bias;
uint8: the TF1 converter on a graph with fake-quantization nodes, uint8 asymmetric per-tensor),
checks that the file holds exactly the one op (so a fused activation really was fused), runs it
on seeded random integer inputs (plus the extremes -128/127 or 0/255) with
`OpResolverType.BUILTIN_REF`, and records the integer weights, biases, scales, zero points, op
options, inputs and outputs as the file stores them (signed for int8). The Swift tests
(Tests/QuantizationTests/TFLiteVectorTests.swift) check MixQ's reference against them element
for element.
"""
import json
import os
import sys

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter, OpResolverType

INPUTS_PER_CASE = 16
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tflite_op_vectors.json")


def representative(shapes, seed, spread):
    rng = np.random.default_rng(seed)

    def gen():
        for _ in range(64):
            yield [(rng.standard_normal(s) * spread).astype(np.float32) for s in shapes]
    return gen


def convert_int8(fn, shapes, seed, spread=1.0, per_tensor=False):
    concrete = fn.get_concrete_function(*[tf.TensorSpec(s, tf.float32) for s in shapes])
    conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete], fn)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if per_tensor:   # one weight scale per tensor, as older converters wrote
        conv._experimental_disable_per_channel = True
        conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    conv.representative_dataset = representative(shapes, seed, spread)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def convert_uint8(build, shapes, ranges):
    """TF1 quantization-aware graph: `build(inputs)` returns the output tensor; every input gets a
    fake-quant node over its (min, max) so the file is uint8 per-tensor throughout."""
    graph = tf.Graph()
    with graph.as_default():
        placeholders = [tf.compat.v1.placeholder(tf.float32, s, name=f"x{i}") for i, s in enumerate(shapes)]
        quantized = [tf.quantization.fake_quant_with_min_max_args(p, min=lo, max=hi)
                     for p, (lo, hi) in zip(placeholders, ranges)]
        out = build(quantized)
        with tf.compat.v1.Session(graph=graph) as sess:
            conv = tf.compat.v1.lite.TFLiteConverter.from_session(sess, placeholders, [out])
            conv.inference_type = tf.uint8
            conv.quantized_input_stats = {f"x{i}": (-lo * 255.0 / (hi - lo), 255.0 / (hi - lo))
                                          for i, (lo, hi) in enumerate(ranges)}
            return conv.convert()


def closure(body, inputs=1):
    """A tf.function of `inputs` tensors only (the body's keyword defaults stay Python constants)."""
    if inputs == 1:
        return tf.function(lambda x: body(x))
    return tf.function(lambda x, y: body(x, y))


def fq(x, lo, hi):
    return tf.quantization.fake_quant_with_min_max_args(x, min=lo, max=hi)


def fq_weights(w):
    return tf.quantization.fake_quant_with_min_max_args(tf.constant(w), min=float(min(w.min(), 0)),
                                                        max=float(max(w.max(), 0)))


def quant(detail):
    q = detail["quantization_parameters"]
    return [float(s) for s in q["scales"]], [int(z) for z in q["zero_points"]]


def run_case(name, model, options, rng, extremes=True):
    interp = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    ops = interp._get_ops_details()
    if len(ops) != 1:
        raise SystemExit(f"{name}: expected one op, the converter made {[o['op_name'] for o in ops]}")
    op = ops[0]
    details = {d["index"]: d for d in interp.get_tensor_details()}
    in_details = interp.get_input_details()
    out_detail = interp.get_output_details()[0]
    case = {"name": name, "op": op["op_name"], "options": options,
            "type": np.dtype(in_details[0]["dtype"]).name}
    tensors = []
    for index in op["inputs"]:
        if index < 0:
            continue
        d = details[index]
        scales, zeros = quant(d)
        entry = {"shape": [int(v) for v in d["shape"]], "scales": scales, "zero_points": zeros,
                 "dtype": np.dtype(d["dtype"]).name,
                 "quantized_dimension": int(d["quantization_parameters"]["quantized_dimension"])}
        if index not in [i["index"] for i in in_details]:
            entry["values"] = [int(v) for v in interp.get_tensor(index).flatten()]
        tensors.append(entry)
    case["tensors"] = tensors
    o_scales, o_zeros = quant(details[out_detail["index"]])
    case["output"] = {"shape": [int(v) for v in out_detail["shape"]], "scales": o_scales, "zero_points": o_zeros}
    info = np.iinfo(in_details[0]["dtype"])
    runs = []
    for k in range(INPUTS_PER_CASE):
        feeds = []
        for d in in_details:
            shape = d["shape"]
            if extremes and k == 0:
                x = np.full(shape, info.min)
            elif extremes and k == 1:
                x = np.full(shape, info.max)
            elif extremes and k == 2:
                x = np.where(np.arange(np.prod(shape)).reshape(shape) % 2 == 0, info.min, info.max)
            else:
                x = rng.integers(info.min, info.max + 1, size=shape)
            x = x.astype(d["dtype"])
            interp.set_tensor(d["index"], x)
            feeds.append([int(v) for v in x.flatten()])
        interp.invoke()
        y = interp.get_tensor(out_detail["index"])
        runs.append({"inputs": feeds, "output": [int(v) for v in y.flatten()]})
    case["runs"] = runs
    return case


def main():
    rng = np.random.default_rng(20261206)
    cases = []

    def weights(shape, scale=0.3):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    # ---- int8 (TF2 converter) -----------------------------------------------------------
    conv_specs = [
        # name, input HWC, kernel h, w, out channels, strides, padding, activation
        ("conv3x3_same_relu", (6, 5, 3), 3, 3, 8, (1, 1), "SAME", "RELU"),
        ("conv10x4_s2_same", (13, 10, 1), 10, 4, 6, (2, 2), "SAME", "NONE"),
        ("conv1x1_s2_valid", (7, 7, 5), 1, 1, 7, (2, 2), "VALID", "NONE"),
        ("conv3x3_s2_valid_relu6", (10, 9, 4), 3, 3, 5, (2, 2), "VALID", "RELU6"),
        ("conv5x3_s12_same_relu", (6, 7, 6), 5, 3, 4, (1, 2), "SAME", "RELU"),
    ]
    act = {"NONE": lambda x: x, "RELU": tf.nn.relu, "RELU6": tf.nn.relu6}
    for name, hwc, kh, kw, oc, strides, pad, a in conv_specs:
        w = weights((kh, kw, hwc[2], oc))
        b = weights((oc,), 0.5)

        f = closure(lambda x, w=w, b=b, strides=strides, pad=pad, a=a: act[a](
            tf.nn.bias_add(tf.nn.conv2d(x, w, strides=(1, *strides, 1), padding=pad), b)))
        model = convert_int8(f, [(1, *hwc)], seed=len(cases))
        cases.append(run_case("int8_" + name, model, {"stride_h": strides[0], "stride_w": strides[1],
                                                      "padding": pad, "activation": a}, rng))

    dw_specs = [
        ("dw3x3_same_relu6", (6, 6, 6), 3, 3, 1, (1, 1), "SAME", "RELU6"),
        ("dw3x3_s2_same_m2", (8, 7, 3), 3, 3, 2, (2, 2), "SAME", "NONE"),
        ("dw3x3_valid_c1_m8", (7, 6, 1), 3, 3, 8, (1, 1), "VALID", "RELU"),
        ("dw5x2_s21_valid_m3", (9, 6, 2), 5, 2, 3, (2, 1), "VALID", "NONE"),
    ]
    for name, hwc, kh, kw, m, strides, pad, a in dw_specs:
        w = weights((kh, kw, hwc[2], m))
        b = weights((hwc[2] * m,), 0.5)

        f = closure(lambda x, w=w, b=b, strides=strides, pad=pad, a=a: act[a](
            tf.nn.bias_add(tf.nn.depthwise_conv2d(x, w, strides=(1, *strides, 1), padding=pad), b)))
        model = convert_int8(f, [(1, *hwc)], seed=len(cases))
        cases.append(run_case("int8_" + name, model, {"stride_h": strides[0], "stride_w": strides[1],
                                                      "padding": pad, "activation": a,
                                                      "depth_multiplier": m}, rng))

    fc_specs = [("fc37x10_relu", 37, 10, "RELU", 1.0), ("fc640x16", 640, 16, "NONE", 1.0),
                ("fc5x3_relu6", 5, 3, "RELU6", 3.0)]
    for name, n_in, n_out, a, spread in fc_specs:
        w = weights((n_in, n_out))
        b = weights((n_out,), 0.5)

        f = closure(lambda x, w=w, b=b, a=a: act[a](tf.matmul(x, w) + b))
        model = convert_int8(f, [(1, n_in)], seed=len(cases), spread=spread)
        cases.append(run_case("int8_" + name, model, {"activation": a}, rng))

    pool_specs = [
        ("avgpool2x2_s2_valid", "AVG", (8, 8, 3), (2, 2), (2, 2), "VALID"),
        ("avgpool3x3_s2_same", "AVG", (7, 8, 5), (3, 3), (2, 2), "SAME"),
        ("avgpool5x5_global", "AVG", (5, 5, 7), (5, 5), (5, 5), "VALID"),
        ("avgpool3x2_s1_same", "AVG", (4, 5, 2), (3, 2), (1, 1), "SAME"),
        ("maxpool3x3_s2_same", "MAX", (7, 8, 5), (3, 3), (2, 2), "SAME"),
        ("maxpool2x2_s2_valid", "MAX", (6, 6, 4), (2, 2), (2, 2), "VALID"),
    ]
    for name, kind, hwc, win, strides, pad in pool_specs:
        pool = tf.nn.avg_pool2d if kind == "AVG" else tf.nn.max_pool2d
        f = closure(lambda x, pool=pool, win=win, strides=strides, pad=pad: pool(
            x, ksize=(1, *win, 1), strides=(1, *strides, 1), padding=pad))
        model = convert_int8(f, [(1, *hwc)], seed=len(cases))
        cases.append(run_case("int8_" + name, model, {"filter_h": win[0], "filter_w": win[1],
                                                      "stride_h": strides[0], "stride_w": strides[1],
                                                      "padding": pad, "activation": "NONE"}, rng))

    add_specs = [("add_none", "NONE", (1.0, 4.0)), ("add_relu", "RELU", (2.0, 0.3)), ("add_relu6", "RELU6", (3.0, 9.0))]
    for name, a, spreads in add_specs:
        shape = (1, 5, 6, 3)

        f = closure(lambda x, y, a=a: act[a](x + y), inputs=2)
        concrete = f.get_concrete_function(tf.TensorSpec(shape, tf.float32), tf.TensorSpec(shape, tf.float32))
        conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete], f)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        local = np.random.default_rng(len(cases))

        def gen(local=local, spreads=spreads):
            for _ in range(64):
                yield [(local.standard_normal(shape) * spreads[0]).astype(np.float32),
                       (local.standard_normal(shape) * spreads[1] + 0.5).astype(np.float32)]
        conv.representative_dataset = gen
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
        cases.append(run_case("int8_" + name, conv.convert(), {"activation": a}, rng))

    # The converter writes beta = 1 (a beta in the graph is a separate MUL).
    for name, n, spread in [("softmax10", 10, 3.0), ("softmax12_wide", 12, 40.0), ("softmax4_narrow", 4, 0.05)]:
        @tf.function
        def f(x):
            return tf.nn.softmax(x)
        model = convert_int8(f, [(1, n)], seed=len(cases), spread=spread)
        cases.append(run_case("int8_" + name, model, {"beta": 1.0}, rng))

    # ---- uint8 (TF1 quantization-aware graph, per-tensor) ---------------------------------
    def uint8_conv(name, hwc, kh, kw, oc, strides, pad, a, out_range):
        w = weights((kh, kw, hwc[2], oc))
        b = weights((oc,), 0.5)

        def build(xs):
            y = tf.nn.conv2d(xs[0], fq_weights(w), strides=(1, *strides, 1), padding=pad)
            return fq(act[a](tf.nn.bias_add(y, b)), *out_range)
        model = convert_uint8(build, [(1, *hwc)], [(-2.0, 3.0)])
        cases.append(run_case("uint8_" + name, model, {"stride_h": strides[0], "stride_w": strides[1],
                                                       "padding": pad, "activation": a}, rng))

    uint8_conv("conv3x3_same_relu6", (8, 7, 3), 3, 3, 6, (1, 1), "SAME", "RELU6", (0.0, 6.0))
    uint8_conv("conv1x1_s2_valid", (6, 6, 5), 1, 1, 4, (2, 2), "VALID", "NONE", (-4.0, 5.0))

    def uint8_dw(name, hwc, kh, kw, m, strides, pad, a, out_range):
        w = weights((kh, kw, hwc[2], m))
        b = weights((hwc[2] * m,), 0.5)

        def build(xs):
            y = tf.nn.depthwise_conv2d(xs[0], fq_weights(w), strides=(1, *strides, 1), padding=pad)
            return fq(act[a](tf.nn.bias_add(y, b)), *out_range)
        model = convert_uint8(build, [(1, *hwc)], [(0.0, 6.0)])
        cases.append(run_case("uint8_" + name, model, {"stride_h": strides[0], "stride_w": strides[1],
                                                       "padding": pad, "activation": a,
                                                       "depth_multiplier": m}, rng))

    uint8_dw("dw3x3_s2_same_relu6", (7, 8, 4), 3, 3, 1, (2, 2), "SAME", "RELU6", (0.0, 6.0))
    uint8_dw("dw3x3_valid_m2", (6, 5, 3), 3, 3, 2, (1, 1), "VALID", "NONE", (-3.0, 4.0))

    w_fc = weights((24, 10))
    b_fc = weights((10,), 0.5)
    model = convert_uint8(lambda xs: fq(tf.matmul(xs[0], fq_weights(w_fc)) + b_fc, -6.0, 6.0), [(1, 24)], [(-1.0, 2.0)])
    cases.append(run_case("uint8_fc24x10", model, {"activation": "NONE"}, rng))

    model = convert_uint8(lambda xs: tf.nn.avg_pool2d(xs[0], ksize=(1, 3, 3, 1), strides=(1, 2, 2, 1), padding="SAME"),
                          [(1, 7, 7, 4)], [(0.0, 6.0)])
    cases.append(run_case("uint8_avgpool3x3_s2_same", model, {"filter_h": 3, "filter_w": 3, "stride_h": 2,
                                                              "stride_w": 2, "padding": "SAME",
                                                              "activation": "NONE"}, rng))
    model = convert_uint8(lambda xs: fq(xs[0] + xs[1], -5.0, 7.0), [(1, 4, 4, 3), (1, 4, 4, 3)],
                          [(-1.0, 2.0), (-4.0, 4.0)])
    cases.append(run_case("uint8_add", model, {"activation": "NONE"}, rng))
    model = convert_uint8(lambda xs: tf.nn.softmax(xs[0]), [(1, 10)], [(-8.0, 8.0)])
    cases.append(run_case("uint8_softmax10", model, {"beta": 1.0}, rng))

    # ---- int8 with per-tensor weights (appended last so the cases above keep their data) ----
    w = weights((48, 6))
    b = weights((6,), 0.5)
    f = closure(lambda x, w=w, b=b: tf.matmul(x, w) + b)
    cases.append(run_case("int8_fc48x6_per_tensor", convert_int8(f, [(1, 48)], seed=len(cases), per_tensor=True),
                          {"activation": "NONE"}, rng))
    w = weights((3, 3, 4, 5))
    b = weights((5,), 0.5)
    f = closure(lambda x, w=w, b=b: tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w, strides=1, padding="SAME"), b)))
    cases.append(run_case("int8_conv3x3_per_tensor_relu", convert_int8(f, [(1, 6, 6, 4)], seed=len(cases), per_tensor=True),
                          {"stride_h": 1, "stride_w": 1, "padding": "SAME", "activation": "RELU"}, rng))

    with open(OUT, "w") as f:
        json.dump({"generator": "Tests/QuantizationTests/Fixtures/make_tflite_op_vectors.py",
                   "tensorflow": tf.__version__, "resolver": "BUILTIN_REF", "cases": cases}, f,
                  separators=(",", ":"))
    print(f"{len(cases)} cases -> {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
