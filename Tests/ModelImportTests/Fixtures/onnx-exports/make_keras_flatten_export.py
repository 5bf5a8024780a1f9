#!/usr/bin/env python3
"""Writes keras_flatten_cnn.onnx: a Keras CNN whose classifier reads a Flatten of an NHWC map
(no pooling before it), through tf2onnx on defaults, with 16 seeded inputs and onnxruntime's
outputs, and adds its entry to manifest.json. Run by hand with the venv of make_onnx_exports.py
(whose helpers it uses):

    /path/to/venv/bin/python make_keras_flatten_export.py

tf2onnx writes Keras' Flatten of an NHWC map as `Transpose [0, 2, 3, 1]` and a `Reshape` whose
target is computed from the map's shape (`Shape`, `Gather`, `Cast`, `Slice`, `Concat`, `Cast`).
The weights are Keras' seeded initial ones (no fit: the file is for comparing runtimes).
"""

import json
import os

import make_onnx_exports as mx
import numpy as np

NAME = "keras_flatten_cnn"


def model():
    L = mx.keras.layers
    inp = mx.keras.Input((12, 12, 3))
    x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inp)
    x = L.Conv2D(4, 3, activation="relu")(x)
    x = L.Flatten()(x)
    out = L.Dense(10)(x)
    return mx.keras.Model(inp, out, name=NAME)


def main():
    mx.keras.backend.clear_session()
    mx.keras.utils.set_random_seed(31)
    rng = np.random.default_rng(31)
    path = os.path.join(mx.HERE, f"{NAME}.onnx")
    mx.export_keras(model(), path)
    # Pixels in steps of 1/255 (8-bit images divided by 255).
    inputs = (rng.integers(0, 256, (mx.N_INPUTS, 12, 12, 3)) / 255.0).astype(np.float32)
    mx.fx.save_npy(os.path.join(mx.HERE, f"{NAME}.inputs.npy"), inputs)
    record = {}
    mx.record_model(record, NAME, path, f"{NAME}.inputs.npy", inputs,
                    "Keras CNN (conv 3x3/2 same + ReLU, conv 3x3 valid + ReLU, Flatten of the 4x4x4 "
                    "NHWC map, Dense 10; seeded initial weights) through tf2onnx on defaults: input "
                    "Transpose, Transpose [0, 2, 3, 1] and a Reshape target computed with Shape, "
                    "Gather, Cast, Slice, Concat before the MatMul")
    manifest_path = os.path.join(mx.HERE, "manifest.json")
    with open(manifest_path) as f:
        manifest = json.load(f)
    manifest["models"].update(record)
    manifest["models"] = dict(sorted(manifest["models"].items()))
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
