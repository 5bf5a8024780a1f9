"""Export the float network (build/float.pt, trained by `python -m mixq_training float`) as plain
ONNX, the way PyTorch exports any model: MixQ then quantizes it after training with its own
ranges (post-training quantization), beside the quantization-aware-trained QONNX files.

    python -m mixq_training.float_export --out ../data/models/mnist_mobilenet_v1_0.25_32__float.onnx
"""
import argparse

import torch

from .model import MobileNetV1
from .plan import network_spec


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="mnist_mobilenet_v1_0.25_32")
    parser.add_argument("--float", default="build/float.pt", help="float weights (state dict)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    model = MobileNetV1(network_spec(args.spec))
    model.load_state_dict(torch.load(args.float, weights_only=True))
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 32, 32), args.out, input_names=["input"], output_names=["logits"],
                      opset_version=13, dynamo=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
