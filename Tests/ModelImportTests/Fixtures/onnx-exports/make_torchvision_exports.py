#!/usr/bin/env python3
"""Writes the PyTorch graph fixtures of this folder: networks with residual Adds, exported the way
a PyTorch user exports them (`torch.onnx.export` on its defaults). Run by hand (CI has no
PyTorch) in the PyTorch venv with torchvision added:

    /path/to/venv-torch/bin/python make_torchvision_exports.py

Writes, and adds to manifest.json:
  torchvision_mobilenet_v2_035_64.onnx  torchvision.models.mobilenet_v2(width_mult=0.35,
      num_classes=10) at 3x64x64: 10 residual Adds, ReLU6 as Clip, ReduceMean, Reshape, Gemm
  residual_cnn.onnx                     a tiny ResNet-style CNN: a MaxPool stem with padding, an
      identity residual block, a stride-2 block with a 1x1 stride-2 projection shortcut, ReLU
      after each Add, a 3x3 stride-1 padded AveragePool, global average pooling, Linear
with 16 seeded inputs each (NCHW float32, pixels in steps of 1/255), onnxruntime's CPU outputs
(<name>.outputs.npy) and the PyTorch module's own outputs (<name>.outputs_torch.npy).

Nothing is downloaded (no pretrained weights): the weights are PyTorch's seeded initialisation,
batch-norm's affine parameters are seeded random values and its running statistics are measured
on seeded synthetic images (so every batch-norm is a non-trivial per-channel affine and the
activations keep a sane range through the depth of the network).
"""

import json
import os

import numpy as np
import torch
from torch import nn

# torchvision's wheels on PyPI are built against CUDA PyTorch; with the CPU build of torch its
# compiled ops library (_C.so: detection ops such as nms) cannot load, and `import torchvision`
# then fails registering fake kernels for two of those ops. The models used here need none of
# them: declaring the two operators' schemas lets the pure-Python model code import. With a
# torchvision built for the installed torch the library loads and nothing is declared.
def _declare_torchvision_ops_if_missing():
    import importlib.util
    folder = os.path.dirname(importlib.util.find_spec("torchvision").origin)
    library = [f for f in os.listdir(folder) if f.startswith("_C") and f.endswith(".so")]
    try:
        torch.ops.load_library(os.path.join(folder, library[0]))
    except (OSError, IndexError):
        for op in ("nms", "qnms"):
            torch.library.define(f"torchvision::{op}",
                                 "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")


_declare_torchvision_ops_if_missing()
import torchvision  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
N_INPUTS = 16

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)


def save_npy(path, array):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, np.ascontiguousarray(array), version=(1, 0),
                                  allow_pickle=False)


def synthetic_images(rng, n, size):
    """Smooth random colour fields plus noise, as 8-bit pixels divided by 255 (NCHW float32):
    each value is k / 255, so MixQ's default input encoding (pixel / 255) reads them exactly."""
    coarse = torch.from_numpy(rng.random((n, 3, 4, 4)).astype(np.float32))
    smooth = nn.functional.interpolate(coarse, size=(size, size), mode="bilinear",
                                       align_corners=False).numpy()
    x = np.clip(smooth + 0.1 * rng.standard_normal((n, 3, size, size)), 0.0, 1.0)
    return (np.round(x * 255.0) / 255.0).astype(np.float32)


def settle_batch_norm(model, rng, size, seed):
    """Seeded batch-norm parameters: gamma in [0.5, 1.5], beta in [-0.2, 0.2], then running
    mean and variance measured on 64 seeded synthetic images (cumulative average, train mode,
    no gradient), so eval-mode batch-norm is a non-trivial affine that keeps activations in
    range. A Linear bias PyTorch initialises to zeros (torchvision's classifiers) gets seeded
    values in [-0.1, 0.1] too: the exporter drops an all-zero bias from the Gemm."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.Linear) and m.bias is not None and not m.bias.any():
            with torch.no_grad():
                m.bias.copy_(0.2 * torch.rand(m.out_features, generator=gen) - 0.1)
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.copy_(0.5 + torch.rand(m.num_features, generator=gen))
                m.bias.copy_(0.4 * torch.rand(m.num_features, generator=gen) - 0.2)
            m.reset_running_stats()
            m.momentum = None
    model.train()
    images = torch.from_numpy(synthetic_images(rng, 64, size))
    with torch.no_grad():
        for batch in images.split(16):
            model(batch)
    model.eval()


class BasicBlock(nn.Module):
    """ResNet's basic block: two 3x3 convolutions with batch-norm, the shortcut added before the
    last ReLU; a 1x1 convolution (with batch-norm) projects the shortcut when the block strides."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + self.shortcut(x))


class ResidualCNN(nn.Module):
    """A tiny ResNet-style CNN for 3x32x32 inputs and 10 classes."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.block1 = BasicBlock(8, 8, 1)
        self.block2 = BasicBlock(8, 16, 2)
        self.smooth = nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(x)))
        x = self.smooth(x)
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


def ort_outputs(path, inputs):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.ascontiguousarray(np.stack([sess.run(None, {name: x[None]})[0][0] for x in inputs]))


def export(name, model, inputs, covers, record):
    path = os.path.join(HERE, f"{name}.onnx")
    for leftover in (path, path + ".data"):
        if os.path.exists(leftover):
            os.remove(leftover)
    # torch.onnx.export on its defaults (torch 2.13: the dynamo exporter at its default opset,
    # the weights in external data NAME.onnx.data beside NAME.onnx).
    torch.onnx.export(model, (torch.from_numpy(inputs[:1]),), path)
    external = os.path.exists(path + ".data")
    ref = ort_outputs(path, inputs)
    with torch.no_grad():
        torch_out = model(torch.from_numpy(inputs)).numpy().astype(np.float32)
    save_npy(os.path.join(HERE, f"{name}.inputs.npy"), inputs)
    save_npy(os.path.join(HERE, f"{name}.outputs.npy"), ref)
    save_npy(os.path.join(HERE, f"{name}.outputs_torch.npy"), torch_out)
    proto = onnx.load(path)
    ops = {}
    for node in proto.graph.node:
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        ops[key] = ops.get(key, 0) + 1
    record[name] = {
        "file": f"{name}.onnx",
        "inputs": f"{name}.inputs.npy",
        "outputs": f"{name}.outputs.npy",
        "outputs_torch": f"{name}.outputs_torch.npy",
        "covers": covers,
        "count": int(len(inputs)),
        "opset": {op.domain or "ai.onnx": op.version for op in proto.opset_import},
        "producer": f"{proto.producer_name} {proto.producer_version}".strip(),
        "input": {"name": proto.graph.input[0].name, "shape": list(inputs.shape[1:]),
                  "dtype": "float32"},
        "output": {"name": proto.graph.output[0].name, "shape": list(ref.shape[1:])},
        "ops": ops,
        "bytes": os.path.getsize(path),
        "external_data": f"{name}.onnx.data" if external else None,
        "external_data_bytes": os.path.getsize(path + ".data") if external else 0,
        "reference": "onnxruntime CPUExecutionProvider, default session options, one thread",
        "max_abs_output": float(np.abs(ref).max()),
        "max_abs_difference_ort_vs_torch": float(np.abs(ref - torch_out).max()),
        "argmax_agreement_ort_vs_torch": float(np.mean(ref.argmax(1) == torch_out.argmax(1))),
        "distinct_output_argmax": int(len(np.unique(ref.argmax(1)))),
    }
    print(name, os.path.getsize(path), "bytes", ops, "max |ort - torch|",
          record[name]["max_abs_difference_ort_vs_torch"], flush=True)


def main():
    record = {}

    torch.manual_seed(40)
    rng = np.random.default_rng(40)
    model = torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=10)
    settle_batch_norm(model, rng, 64, 40)
    inputs = synthetic_images(rng, N_INPUTS, 64)
    export("torchvision_mobilenet_v2_035_64", model, inputs,
           "torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=10), seeded PyTorch "
           "initialisation, seeded batch-norm parameters and measured running statistics, "
           "3x64x64 input, torch.onnx.export on defaults: 10 residual Adds whose inputs are also "
           "read by the next block, ReLU6 as Clip, batch-norm folded into Conv by the exporter, "
           "ReduceMean head, Reshape, Gemm; weights in external data (NAME.onnx.data)", record)

    torch.manual_seed(41)
    rng = np.random.default_rng(41)
    model = ResidualCNN()
    settle_batch_norm(model, rng, 32, 41)
    inputs = synthetic_images(rng, N_INPUTS, 32)
    export("residual_cnn", model, inputs,
           "a tiny ResNet-style CNN (3x32x32, 10 classes): Conv-BN-ReLU stem, MaxPool 3x3/2 "
           "pad 1, an identity basic block, a stride-2 basic block with a 1x1 stride-2 "
           "projection shortcut, ReLU after each Add, AvgPool 3x3/1 pad 1 "
           "(count_include_pad=False), adaptive average pool, Flatten, Linear; "
           "torch.onnx.export on defaults", record)

    manifest_path = os.path.join(HERE, "manifest.json")
    manifest = {"models": {}}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    manifest["models"].update(record)
    manifest["models"] = dict(sorted(manifest["models"].items()))
    manifest["torchvision_generator"] = {
        "torch": torch.__version__, "torchvision": torchvision.__version__,
        "onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__}
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
