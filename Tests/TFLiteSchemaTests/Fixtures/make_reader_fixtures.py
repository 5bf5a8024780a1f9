#!/usr/bin/env python3
"""Writes the tiny converter-made .tflite files that TFLiteSchemaTests decodes, and what
TensorFlow's own tools say is in them, as JSON.

Run by hand (CI has no TensorFlow), from the repository root:
    /work/venv-tf/bin/python Tests/TFLiteSchemaTests/Fixtures/make_reader_fixtures.py
With .tflite paths as arguments it writes only the JSON for those files, beside them (to check
the reader against other converter-made files).

Two int8 networks, converted by tf.lite.TFLiteConverter with full-integer quantization
(int8 weights per channel, int32 biases, int8 input and output):
  - reader_convnet.tflite: CONV_2D 3x3 stride 2 SAME + RELU6, DEPTHWISE_CONV_2D 3x3 x2 VALID,
    MAX_POOL_2D 2x2, AVERAGE_POOL_2D, SQUEEZE, FULLY_CONNECTED, RESHAPE, SOFTMAX;
  - reader_residual.tflite: PAD, CONV_2D 1x1, residual ADD, MUL, CONCATENATION, MEAN,
    FULLY_CONNECTED.

The expected values come from two readers that share no code with MixQ:
  - the LiteRT interpreter (ai_edge_litert): get_tensor_details() for every tensor's name,
    shape, shape_signature, type, scales, zero points and quantized dimension;
    _get_ops_details() for every operator's name, inputs and outputs; get_tensor() for the
    constant tensors' values;
  - TensorFlow's generated FlatBuffers reader for schema.fbs (tensorflow.lite.python.
    schema_py_generated) for what the interpreter does not expose: operator codes and
    versions, the builtin options of each operator, buffer sizes.
"""
import json
import os
import sys

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from tensorflow.lite.python import schema_py_generated as schema

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20260612)


def const(shape, scale=0.3):
    return tf.constant(rng.normal(0.0, scale, size=shape).astype(np.float32))


class ConvNet(tf.Module):
    def __init__(self):
        self.w1 = const([3, 3, 3, 8])
        self.b1 = const([8], 0.1)
        self.wd = const([3, 3, 8, 2])
        self.bd = const([16], 0.1)
        self.wf = const([16 * 1 * 1, 10])
        self.bf = const([10], 0.1)

    @tf.function(input_signature=[tf.TensorSpec([1, 12, 12, 3], tf.float32)])
    def __call__(self, x):
        x = tf.nn.relu6(tf.nn.conv2d(x, self.w1, strides=2, padding="SAME") + self.b1)   # 6x6x8
        x = tf.nn.relu(tf.nn.depthwise_conv2d(x, self.wd, strides=[1, 1, 1, 1], padding="VALID") + self.bd)  # 4x4x16
        x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")  # 2x2x16
        x = tf.nn.avg_pool2d(x, ksize=2, strides=2, padding="VALID")  # 1x1x16
        x = tf.squeeze(x, axis=[1, 2])  # 1x16
        x = tf.matmul(x, self.wf) + self.bf
        return tf.nn.softmax(tf.reshape(x, [1, 2, 5]))


class Residual(tf.Module):
    def __init__(self):
        self.w1 = const([1, 1, 4, 4])
        self.b1 = const([4], 0.1)
        self.w2 = const([1, 1, 4, 4])
        self.b2 = const([4], 0.1)
        self.wf = const([8, 5])
        self.bf = const([5], 0.1)

    @tf.function(input_signature=[tf.TensorSpec([1, 6, 6, 4], tf.float32)])
    def __call__(self, x):
        p = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])  # 8x8x4
        y = tf.nn.relu(tf.nn.conv2d(p, self.w1, strides=1, padding="VALID") + self.b1)
        z = tf.nn.conv2d(y, self.w2, strides=1, padding="VALID") + self.b2
        r = tf.nn.relu(z + p)           # residual ADD
        m = r * y                       # MUL
        c = tf.concat([r, m], axis=3)   # 8x8x8
        g = tf.reduce_mean(c, axis=[1, 2])  # MEAN -> 1x8
        return tf.matmul(g, self.wf) + self.bf


def convert(module, input_shape):
    concrete = module.__call__.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def representative():
        for _ in range(32):
            yield [rng.uniform(-1.0, 1.0, size=input_shape).astype(np.float32)]

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def enum_names(cls):
    return {value: name for name, value in vars(cls).items() if not name.startswith("_")}


OPTION_NAMES = enum_names(schema.BuiltinOptions)
OPTION_FIELDS = {
    "Conv2DOptions": ["Padding", "StrideW", "StrideH", "FusedActivationFunction", "DilationWFactor", "DilationHFactor"],
    "DepthwiseConv2DOptions": ["Padding", "StrideW", "StrideH", "DepthMultiplier", "FusedActivationFunction",
                               "DilationWFactor", "DilationHFactor"],
    "Pool2DOptions": ["Padding", "StrideW", "StrideH", "FilterWidth", "FilterHeight", "FusedActivationFunction"],
    "FullyConnectedOptions": ["FusedActivationFunction", "WeightsFormat", "KeepNumDims"],
    "SoftmaxOptions": ["Beta"],
    "AddOptions": ["FusedActivationFunction"],
    "MulOptions": ["FusedActivationFunction"],
    "ConcatenationOptions": ["Axis", "FusedActivationFunction"],
    "ReshapeOptions": ["NewShapeAsNumpy"],
    "ReducerOptions": ["KeepDims"],
}


def options_of(op):
    kind = op.BuiltinOptionsType()
    name = OPTION_NAMES.get(kind, "NONE")
    result = {"type": int(kind), "name": name}
    if name in OPTION_FIELDS:
        table = getattr(schema, name)()
        raw = op.BuiltinOptions()
        table.Init(raw.Bytes, raw.Pos)
        for field in OPTION_FIELDS[name]:
            value = getattr(table, field)()
            if isinstance(value, np.ndarray):
                value = [int(v) for v in value]
            elif isinstance(value, (bool, np.bool_)):
                value = bool(value)
            elif isinstance(value, (float, np.floating)):
                value = float(value)
            elif isinstance(value, (int, np.integer)):
                value = int(value)
            result[field] = value
    return result


def describe(data):
    model = schema.Model.GetRootAsModel(data, 0)
    codes = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        codes.append({"deprecated_builtin_code": int(code.DeprecatedBuiltinCode()),
                      "builtin_code": int(code.BuiltinCode()), "version": int(code.Version())})
    buffers = []
    for i in range(model.BuffersLength()):
        buffer = model.Buffers(i)
        buffers.append({"data_length": int(buffer.DataLength()), "offset": int(buffer.Offset()), "size": int(buffer.Size())})
    subgraph = model.Subgraphs(0)
    ops = []
    for i in range(subgraph.OperatorsLength()):
        op = subgraph.Operators(i)
        ops.append({"opcode_index": int(op.OpcodeIndex()), "options": options_of(op)})
    tensor_buffers = [int(subgraph.Tensors(i).Buffer()) for i in range(subgraph.TensorsLength())]
    return {"version": int(model.Version()), "subgraph_count": int(model.SubgraphsLength()),
            "description": model.Description().decode() if model.Description() else None,
            "operator_codes": codes, "buffers": buffers, "operators": ops, "tensor_buffers": tensor_buffers,
            "subgraph_inputs": [int(v) for v in subgraph.InputsAsNumpy()],
            "subgraph_outputs": [int(v) for v in subgraph.OutputsAsNumpy()]}


def interpreter_view(data, constant_indices, file_tensor_count):
    # Without default delegates, so that the operator list is the file's, not XNNPACK's.
    interpreter = Interpreter(model_content=data,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    tensors = []
    for detail in sorted(interpreter.get_tensor_details(), key=lambda d: d["index"]):
        if detail["index"] >= file_tensor_count:
            continue  # scratch tensors the interpreter's kernels added (im2col and the like)
        q = detail["quantization_parameters"]
        entry = {"index": int(detail["index"]), "name": detail["name"],
                 "shape": [int(v) for v in detail["shape"]],
                 "shape_signature": [int(v) for v in detail["shape_signature"]],
                 "type": np.dtype(detail["dtype"]).name,
                 "scales": [float(v) for v in q["scales"]],
                 "zero_points": [int(v) for v in q["zero_points"]],
                 "quantized_dimension": int(q["quantized_dimension"])}
        if detail["index"] in constant_indices:
            entry["values"] = [v.item() for v in np.asarray(interpreter.get_tensor(detail["index"])).reshape(-1)]
        tensors.append(entry)
    ops = []
    for op in interpreter._get_ops_details():
        ops.append({"index": int(op["index"]), "op_name": op["op_name"],
                    "inputs": [int(v) for v in op["inputs"]], "outputs": [int(v) for v in op["outputs"]]})
    return tensors, ops


def expected_json(name, data, folder):
    """Writes folder/name.json: what LiteRT and TensorFlow's reader say about the model `data`."""
    flat = describe(data)
    constant = {i for i, b in enumerate(flat["tensor_buffers"])
                if b < len(flat["buffers"]) and flat["buffers"][b]["data_length"] > 0}
    tensors, ops = interpreter_view(data, constant, len(flat["tensor_buffers"]))
    expected = {"file": name + ".tflite", "bytes": len(data), "tensorflow": tf.__version__,
                "tensors": tensors, "ops": ops, "flatbuffer": flat}
    with open(os.path.join(folder, name + ".json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(name, len(data), "bytes,", len(tensors), "tensors,", [op["op_name"] for op in ops])


def write(name, module, input_shape):
    data = convert(module, input_shape)
    with open(os.path.join(HERE, name + ".tflite"), "wb") as f:
        f.write(data)
    expected_json(name, data, HERE)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        # make_reader_fixtures.py FILE.tflite...: the JSON for existing files, beside each file.
        for path in sys.argv[1:]:
            with open(path, "rb") as f:
                expected_json(os.path.splitext(os.path.basename(path))[0], f.read(), os.path.dirname(os.path.abspath(path)))
    else:
        write("reader_convnet", ConvNet(), [1, 12, 12, 3])
        write("reader_residual", Residual(), [1, 6, 6, 4])
