#!/usr/bin/env python3
"""Writes the Brevitas QONNX fixtures of this folder. Run by hand (CI has no PyTorch) in a venv
with torch, brevitas, qonnx and onnxruntime (a separate one from TensorFlow's):

    /path/to/venv-torch/bin/python make_brevitas_exports.py

Writes, and adds to manifest.json:
  brevitas_mobilenet_v1_w025_4b.onnx  brevitas_examples' quantized MobileNet (4-bit weights and
      activations, 8-bit first layer, 4-bit per-tensor last layer with an Int32Bias, TruncAvgPool)
      at width 0.25, through brevitas.export.export_qonnx
  brevitas_weight_only_4b.onnx        a small CNN with 4-bit Quant on weights only (float
      activations), through export_qonnx
with 16 inputs each and the QONNX reference execution's outputs (qonnx.core.onnx_exec), plus the
PyTorch/Brevitas model's own outputs for comparison. Nothing is downloaded (no pretrained
weights): the networks are trained for a few steps on seeded synthetic data.
"""

import configparser
import json
import os

import numpy as np
import torch
from torch import nn

import brevitas
import brevitas.nn as qnn
from brevitas.export import export_qonnx
from brevitas_examples.imagenet_classification.models import mobilenetv1
import onnx
import qonnx
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model

HERE = os.path.dirname(os.path.abspath(__file__))
N_INPUTS = 16

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)


def save_npy(path, array):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, np.ascontiguousarray(array), version=(1, 0),
                                  allow_pickle=False)


def synthetic_images(rng, n, classes, size=32):
    """Smooth class prototypes plus noise, normalised like ImageNet inputs (the example's
    preprocessing: mean about 0.45, std 0.226), NCHW float32."""
    coarse = rng.random((classes, 3, 4, 4)).astype(np.float32)
    protos = torch.nn.functional.interpolate(torch.from_numpy(coarse), size=(size, size),
                                             mode="bilinear", align_corners=False).numpy()
    labels = rng.integers(0, classes, n)
    x = protos[labels] + 0.15 * rng.standard_normal((n, 3, size, size)).astype(np.float32)
    x = np.clip(x, 0.0, 1.0)
    return ((x - 0.45) / 0.226).astype(np.float32), labels


# The test inputs are 8-bit images (HWC bytes, NAME.pixels.npy) preprocessed as
# (pixel - PIXEL_MEAN) * PIXEL_SCALE in double, then float32: an integer mean, so an integer-only
# network reads the bytes themselves as its input codes (MixQ: --input-mean 115 --input-scale
# PIXEL_SCALE) and sees exactly the float input the QONNX executor sees.
PIXEL_MEAN = 115.0                 # 0.45 * 255, rounded
PIXEL_SCALE = 1.0 / (0.226 * 255.0)


def as_pixels(x):
    """Float inputs normalised like the training data -> (8-bit HWC images, their float input)."""
    pixels = np.rint(np.clip(x.astype(np.float64) * 0.226 + 0.45, 0.0, 1.0) * 255.0).astype(np.uint8)
    real = ((pixels.astype(np.float64) - PIXEL_MEAN) * PIXEL_SCALE).astype(np.float32)
    return np.ascontiguousarray(pixels.transpose(0, 2, 3, 1)), np.ascontiguousarray(real)


def train(model, x, y, steps, seed):
    torch.manual_seed(seed)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).long()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(xt), (32,), generator=gen)
        opt.zero_grad()
        loss = loss_fn(model(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
    model.eval()


def brevitas_mobilenet():
    """The example's own constructor path (quant_mobilenet_v1 with the quant_mobilenet_v1_4b
    config) at WIDTH_SCALE 0.25. quant_mobilenet_v1 fixes the final TruncAvgPool at 7x7 (224x224
    ImageNet input); to keep the fixture small this calls the same MobileNet class with the same
    arguments except a stride-1 first layer and a 2x2 final pool, for 32x32 inputs and 10 classes."""
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(os.path.dirname(mobilenetv1.__file__), "cfg",
                          "quant_mobilenet_v1_4b.ini"))
    width = 0.25
    bit_width = cfg.getint("QUANT", "BIT_WIDTH")
    channels = [[32], [64], [128, 128], [256, 256], [512] * 6, [1024, 1024]]
    channels = [[int(c * width) for c in stage] for stage in channels]
    return mobilenetv1.MobileNet(
        channels=channels, first_stage_stride=False,
        round_average_pool=cfg.getboolean("QUANT", "ROUND_AVG_POOL"),
        act_bit_width=bit_width, weight_bit_width=bit_width, last_layer_bit_width=bit_width,
        avg_pool_kernel_size=2, first_layer_stride=1, num_classes=10)


class WeightOnly(nn.Module):
    """4-bit per-channel weights (Brevitas' default Int8WeightPerTensorFloat family at 4 bits),
    float activations: no activation or input quantizers."""

    def __init__(self):
        super().__init__()
        self.conv1 = qnn.QuantConv2d(3, 16, 3, padding=1, bias=True, weight_bit_width=4)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = qnn.QuantConv2d(16, 32, 3, stride=2, padding=1, bias=True,
                                     weight_bit_width=4)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool = nn.AvgPool2d(16)
        self.fc = qnn.QuantLinear(32, 10, bias=True, weight_bit_width=4)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = self.pool(x).flatten(1)
        return self.fc(x)


def qonnx_outputs(path, inputs):
    """The QONNX reference execution (qonnx.core.onnx_exec.execute_onnx) after qonnx's cleanup
    (shape inference and constant folding on a copy; the committed file is the export as is)."""
    model = cleanup_model(ModelWrapper(path))
    iname = model.graph.input[0].name
    oname = model.graph.output[0].name
    outs = [execute_onnx(model, {iname: x[None]})[oname][0] for x in inputs]
    return np.ascontiguousarray(np.stack(outs).astype(np.float32))


def export(name, model, pixels, inputs, covers, record):
    path = os.path.join(HERE, f"{name}.onnx")
    # TorchScript exporter (dynamo=False): one self-contained file, as FINN's and qonnx's
    # documentation export them. Brevitas 0.13 defaults to the dynamo exporter with torch >= 2.9,
    # which writes the weights to a separate NAME.onnx.data file (see README).
    export_qonnx(model, torch.from_numpy(inputs[:1]), export_path=path, dynamo=False)
    ref = qonnx_outputs(path, inputs)
    with torch.no_grad():
        torch_out = model(torch.from_numpy(inputs))
        torch_out = getattr(torch_out, "value", torch_out).numpy().astype(np.float32)
    save_npy(os.path.join(HERE, f"{name}.inputs.npy"), inputs)
    save_npy(os.path.join(HERE, f"{name}.pixels.npy"), pixels)
    save_npy(os.path.join(HERE, f"{name}.outputs.npy"), ref)
    save_npy(os.path.join(HERE, f"{name}.outputs_brevitas.npy"), torch_out)
    graph = onnx.load(path).graph
    ops, quant_bits = {}, []
    inits = {t.name: t for t in graph.initializer}
    for node in graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
        if node.op_type == "Quant" and node.input[3] in inits:
            quant_bits.append(float(onnx.numpy_helper.to_array(inits[node.input[3]])))
    record[name] = {
        "file": f"{name}.onnx",
        "inputs": f"{name}.inputs.npy",
        "outputs": f"{name}.outputs.npy",
        "outputs_brevitas": f"{name}.outputs_brevitas.npy",
        "covers": covers,
        "count": int(len(inputs)),
        "input": {"name": graph.input[0].name, "shape": list(inputs.shape[1:]), "dtype": "float32"},
        "pixels": {"file": f"{name}.pixels.npy", "layout": "NHWC uint8",
                   "preprocessing": "float32((pixel - mean) * scale), computed in double",
                   "mean": PIXEL_MEAN, "scale": PIXEL_SCALE},
        "ops": ops,
        "quant_bit_widths": sorted(set(quant_bits)),
        "reference": "qonnx.core.onnx_exec.execute_onnx after qonnx.util.cleanup.cleanup_model",
        "max_abs_difference_qonnx_vs_brevitas": float(np.abs(ref - torch_out).max()),
        "argmax_agreement_qonnx_vs_brevitas": float(np.mean(ref.argmax(1) == torch_out.argmax(1))),
        "distinct_output_argmax": int(len(np.unique(ref.argmax(1)))),
    }
    print(name, os.path.getsize(path), "bytes", ops, record[name]["quant_bit_widths"],
          "max |qonnx - brevitas|", record[name]["max_abs_difference_qonnx_vs_brevitas"],
          flush=True)


def main():
    record = {}
    rng = np.random.default_rng(30)
    torch.manual_seed(30)
    x, y = synthetic_images(rng, 600, 10)
    model = brevitas_mobilenet()
    train(model, x[:512], y[:512], 150, 30)
    pixels, inputs = as_pixels(np.concatenate([
        x[512:512 + N_INPUTS - 4],
        ((rng.random((4, 3, 32, 32)) - 0.45) / 0.226).astype(np.float32)]))
    export("brevitas_mobilenet_v1_w025_4b", model, pixels, inputs,
           "brevitas_examples.imagenet_classification MobileNet (quant_mobilenet_v1_4b config: "
           "4-bit weights and activations, per-channel activation scales in the first layer and "
           "inner pointwise layers, 8-bit first-layer weights, 4-bit per-tensor last layer with "
           "Int32Bias, TruncAvgPool2d FLOOR) at width 0.25, 32x32 input (stride-1 first layer, "
           "2x2 final pool), 10 classes, trained 150 steps on synthetic data; export_qonnx",
           record)

    rng = np.random.default_rng(31)
    torch.manual_seed(31)
    x, y = synthetic_images(rng, 600, 10)
    model = WeightOnly()
    train(model, x[:512], y[:512], 150, 31)
    pixels, inputs = as_pixels(np.concatenate([
        x[512:512 + N_INPUTS - 4],
        ((rng.random((4, 3, 32, 32)) - 0.45) / 0.226).astype(np.float32)]))
    export("brevitas_weight_only_4b", model, pixels, inputs,
           "weight-only QONNX: QuantConv2d/QuantLinear with 4-bit weights (Brevitas' default "
           "per-tensor weight quantizer at 4 bits), float activations and float BatchNorm (not "
           "folded: the exporter leaves it), export_qonnx", record)

    manifest_path = os.path.join(HERE, "manifest.json")
    manifest = {"models": {}}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    manifest["models"].update(record)
    manifest["models"] = dict(sorted(manifest["models"].items()))
    manifest["brevitas_generator"] = {
        "torch": torch.__version__, "brevitas": brevitas.__version__,
        "qonnx": getattr(qonnx, "__version__", "1.0.0"), "onnx": onnx.__version__,
        "numpy": np.__version__}
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
