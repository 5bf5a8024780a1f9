"""Network spec and bit-width plan (the JSON ``mixq plan --json`` prints).

The spec is MixQ's built-in ``mnist_mobilenet_v1_<alpha>_<resolution>``: the
TF-slim MobilenetV1 (Howard et al., "MobileNets", arXiv:1704.04861, Table 1)
with width multiplier ``alpha`` on a ``resolution`` x ``resolution`` x 1 input
and 10 classes.  Layer names follow TF-slim's ``mobilenet_v1.py``:
``Conv2d_0``, ``Conv2d_<k>_depthwise``, ``Conv2d_<k>_pointwise`` (k = 1..13)
and the classifier ``Conv2d_1c_1x1``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

#: Pointwise output channels of the 13 separable blocks at alpha = 1.0.
BLOCK_CHANNELS = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024]
#: Depthwise stride of each block (stride 2 at blocks 2, 4, 6 and 12).
BLOCK_STRIDES = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
FIRST_CHANNELS = 32
NUM_CLASSES = 10
SCHEMES = ("int8", "mixpl", "mixpc")


@dataclass(frozen=True)
class LayerSpec:
    name: str
    kind: str  # conv | depthwise | pointwise | fc
    in_channels: int
    out_channels: int
    stride: int


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    alpha: float
    resolution: int
    layers: tuple[LayerSpec, ...]


def _depth(channels: int, alpha: float, min_depth: int = 8) -> int:
    # TF-slim's depth(): max(int(d * depth_multiplier), min_depth).
    return max(int(channels * alpha), min_depth)


def network_spec(name: str) -> NetworkSpec:
    m = re.fullmatch(r"mnist_mobilenet_v1_(0\.25|0\.5|0\.75|1\.0)_(\d+)", name)
    if not m:
        raise ValueError(f"unknown network spec {name!r}; expected mnist_mobilenet_v1_<alpha>_<resolution>, "
                         "e.g. mnist_mobilenet_v1_0.25_32")
    alpha, resolution = float(m.group(1)), int(m.group(2))
    layers = []
    c = _depth(FIRST_CHANNELS, alpha)
    layers.append(LayerSpec("Conv2d_0", "conv", 1, c, 2))
    for k, (ch, s) in enumerate(zip(BLOCK_CHANNELS, BLOCK_STRIDES), start=1):
        out = _depth(ch, alpha)
        layers.append(LayerSpec(f"Conv2d_{k}_depthwise", "depthwise", c, c, s))
        layers.append(LayerSpec(f"Conv2d_{k}_pointwise", "pointwise", c, out, 1))
        c = out
    layers.append(LayerSpec("Conv2d_1c_1x1", "fc", c, NUM_CLASSES, 1))
    return NetworkSpec(name, alpha, resolution, tuple(layers))


@dataclass(frozen=True)
class LayerBits:
    name: str
    kind: str
    input_bits: int
    weight_bits: int
    output_bits: int


@dataclass(frozen=True)
class Plan:
    model: str
    scheme: str
    flash_budget: int
    ram_budget: int
    fits: bool
    layers: tuple[LayerBits, ...]
    raw: dict

    @property
    def per_channel(self) -> bool:
        return self.scheme == "mixpc"


def load_plan(path: str) -> Plan:
    with open(path) as f:
        raw = json.load(f)
    return parse_plan(raw)


def parse_plan(raw: dict) -> Plan:
    scheme = raw.get("scheme")
    if scheme not in SCHEMES:
        raise ValueError(f"plan scheme {scheme!r} is not one of {SCHEMES}")
    layers = []
    for entry in raw["layers"]:
        bits = LayerBits(entry["name"], entry["kind"], int(entry["input_bits"]),
                         int(entry["weight_bits"]), int(entry["output_bits"]))
        for b in (bits.input_bits, bits.weight_bits, bits.output_bits):
            if b not in (2, 4, 8):
                raise ValueError(f"{bits.name}: bit width {b} is not 8, 4 or 2")
        layers.append(bits)
    return Plan(raw["model"], scheme, int(raw["flash_budget"]), int(raw["ram_budget"]),
                bool(raw.get("fits", True)), tuple(layers), raw)


def check_plan_matches(spec: NetworkSpec, plan: Plan) -> None:
    """The plan must list the spec's layers in order, with matching kinds, and each
    layer's input bits must equal the previous layer's output bits (8 for the
    network input)."""
    if plan.model != spec.name:
        raise ValueError(f"plan is for {plan.model!r}, network spec is {spec.name!r}")
    if len(plan.layers) != len(spec.layers):
        raise ValueError(f"plan has {len(plan.layers)} layers, spec has {len(spec.layers)}")
    prev_out = 8
    for ls, lb in zip(spec.layers, plan.layers):
        if (ls.name, ls.kind) != (lb.name, lb.kind):
            raise ValueError(f"plan layer {lb.name}/{lb.kind} where the spec has {ls.name}/{ls.kind}")
        if lb.input_bits != prev_out:
            raise ValueError(f"{lb.name}: input_bits {lb.input_bits} != previous output_bits {prev_out}")
        prev_out = lb.output_bits


def uniform_plan(spec: NetworkSpec, bits: int = 8, scheme: str = "int8") -> Plan:
    """An all-``bits`` plan (used by tests and for the int8 reference)."""
    raw = {"model": spec.name, "scheme": scheme, "flash_budget": 0, "ram_budget": 0, "fits": True,
           "layers": [{"name": l.name, "kind": l.kind, "input_bits": bits, "weight_bits": bits,
                       "output_bits": bits} for l in spec.layers]}
    return parse_plan(raw)


def budget_label(nbytes: int) -> str:
    """120000 -> '120k' (the suffix ``mixq plan`` accepts: k = 1000)."""
    if nbytes % 1000 == 0:
        return f"{nbytes // 1000}k"
    return str(nbytes)


def model_stem(plan: Plan) -> str:
    return f"{plan.model}__{plan.scheme}__{budget_label(plan.flash_budget)}_{budget_label(plan.ram_budget)}"
