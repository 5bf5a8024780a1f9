"""MobilenetV1 for MixQ: a float twin for pre-training and a Brevitas QAT model.

Both share module names (``Conv2d_0.conv``, ``Conv2d_0.bn``, ...,
``Conv2d_1c_1x1``), so the float state dict loads into the QAT model.

Quantization, following Rusci, Capotondi, Benini, "Memory-Driven Mixed Low
Precision Quantization for Enabling Deep Network Inference on
Microcontrollers" (MLSys 2020), and PACT (Choi et al., arXiv:1805.06085) for
the learned activation clip:

* network input: unsigned 8-bit, zero-point 0, constant scale 1/255, so the
  integer codes are the raw pixels;
* conv / linear weights: signed, narrow range ([-(2^(b-1)-1), 2^(b-1)-1]),
  zero-point 0, scale per tensor (``int8``, ``mixpl``) or per output channel
  (``mixpc``), learned and initialised by Brevitas' MSE search;
* after every conv: BatchNorm (kept as its own op, not folded) -> ReLU ->
  unsigned ``output_bits`` quantizer with zero-point 0 and a learned scale
  (the clip value is scale * (2^b - 1)), initialised by an MSE search over
  the first training batches;
* global average pool, flatten, linear classifier with a float bias and float
  logits.
"""

from __future__ import annotations

import torch
from torch import nn

from .plan import NetworkSpec, Plan, check_plan_matches

#: Training batches over which Brevitas collects activation statistics before
#: the activation scale becomes a learned parameter.
ACT_COLLECT_STATS_STEPS = 30


class ConvBNReLU(nn.Module):
    def __init__(self, conv: nn.Module, bn: nn.BatchNorm2d, act: nn.Module):
        super().__init__()
        self.conv = conv
        self.bn = bn
        self.act = act

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


def _conv_geometry(layer):
    if layer.kind == "pointwise":
        return dict(kernel_size=1, stride=1, padding=0, groups=1)
    if layer.kind == "depthwise":
        return dict(kernel_size=3, stride=layer.stride, padding=1, groups=layer.in_channels)
    return dict(kernel_size=3, stride=layer.stride, padding=1, groups=1)


class MobileNetV1(nn.Module):
    """Float MobilenetV1 (TF-slim layout) on a 1-channel input."""

    def __init__(self, spec: NetworkSpec):
        super().__init__()
        self.spec = spec
        self.input_quant = nn.Identity()
        for layer in spec.layers[:-1]:
            conv = nn.Conv2d(layer.in_channels, layer.out_channels, bias=False, **_conv_geometry(layer))
            self.add_module(layer.name, ConvBNReLU(conv, nn.BatchNorm2d(layer.out_channels), nn.ReLU()))
        fc = spec.layers[-1]
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.add_module(fc.name, nn.Linear(fc.in_channels, fc.out_channels, bias=True))

    def conv_blocks(self):
        return [getattr(self, l.name) for l in self.spec.layers[:-1]]

    def classifier(self):
        return getattr(self, self.spec.layers[-1].name)

    def forward(self, x):
        x = self.input_quant(x)
        for block in self.conv_blocks():
            x = block(x)
        return self.classifier()(self.flatten(self.pool(x)))


def _brevitas_quantizers():
    """Quantizer classes, built lazily so the float path does not import Brevitas."""
    from brevitas.core.scaling import ScalingImplType
    from brevitas.quant.scaled_int import (Int8WeightPerChannelFloatMSE, Int8WeightPerTensorFloatMSE,
                                           Uint8ActPerTensorFloatMSE)
    from brevitas.quant.base import UintQuant, PerTensorFloatScaling8bit
    from brevitas.quant.solver.act import ActQuantSolver

    class InputQuant(UintQuant, PerTensorFloatScaling8bit, ActQuantSolver):
        """Unsigned 8-bit, zero-point 0, constant (not learned) scale
        max_val / (2^8 - 1) = 1/255."""
        scaling_impl_type = ScalingImplType.CONST
        min_val = 0.0
        max_val = 1.0

    class ActQuant(Uint8ActPerTensorFloatMSE):
        collect_stats_steps = ACT_COLLECT_STATS_STEPS

    return InputQuant, ActQuant, Int8WeightPerTensorFloatMSE, Int8WeightPerChannelFloatMSE


class QuantMobileNetV1(MobileNetV1):
    """The QAT twin: same names, Brevitas layers with the plan's bit widths."""

    def __init__(self, spec: NetworkSpec, plan: Plan):
        nn.Module.__init__(self)
        import brevitas.nn as qnn

        check_plan_matches(spec, plan)
        self.spec = spec
        self.plan = plan
        InputQuant, ActQuant, WPerTensor, WPerChannel = _brevitas_quantizers()
        wquant = WPerChannel if plan.per_channel else WPerTensor
        self.input_quant = qnn.QuantIdentity(act_quant=InputQuant, return_quant_tensor=False)
        for layer, bits in zip(spec.layers[:-1], plan.layers[:-1]):
            conv = qnn.QuantConv2d(layer.in_channels, layer.out_channels, bias=False,
                                   weight_quant=wquant, weight_bit_width=bits.weight_bits,
                                   return_quant_tensor=False, **_conv_geometry(layer))
            act = qnn.QuantReLU(act_quant=ActQuant, bit_width=bits.output_bits, return_quant_tensor=False)
            self.add_module(layer.name, ConvBNReLU(conv, nn.BatchNorm2d(layer.out_channels), act))
        fc, fc_bits = spec.layers[-1], plan.layers[-1]
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.add_module(fc.name, qnn.QuantLinear(fc.in_channels, fc.out_channels, bias=True,
                                                 weight_quant=wquant, weight_bit_width=fc_bits.weight_bits,
                                                 bias_quant=None, return_quant_tensor=False))


def load_float_weights(qmodel: QuantMobileNetV1, float_state: dict) -> None:
    """Copies conv/linear weights, biases and BatchNorm state; only quantizer
    state may be missing."""
    missing, unexpected = qmodel.load_state_dict(float_state, strict=False)
    if unexpected:
        raise ValueError(f"unexpected keys in float state: {unexpected}")
    bad = [k for k in missing if "quant" not in k]
    if bad:
        raise ValueError(f"float state lacks {bad}")


def quant_layers(qmodel: QuantMobileNetV1):
    """(name, weight layer, activation quantizer or None) in plan order."""
    out = []
    for layer in qmodel.spec.layers[:-1]:
        block = getattr(qmodel, layer.name)
        out.append((layer.name, block.conv, block.act))
    out.append((qmodel.spec.layers[-1].name, qmodel.classifier(), None))
    return out


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
