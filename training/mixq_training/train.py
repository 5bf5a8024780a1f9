"""Float pre-training and quantization-aware fine-tuning on the MNIST subset."""

from __future__ import annotations

import math
import random
import time

import numpy as np
import torch
from torch import nn

from .data import Split, to_nchw_float
from .model import MobileNetV1, QuantMobileNetV1, load_float_weights, predict
from .plan import NetworkSpec, Plan

#: Float pre-training recipe.
FLOAT_EPOCHS = 60
FLOAT_LR = 2e-3
#: QAT fine-tuning recipe (from the float weights).
QAT_EPOCHS = 12
QAT_LR = 5e-4
BATCH_SIZE = 64
WEIGHT_DECAY = 1e-5
#: Random shift of each training image by up to this many pixels in x and y.
MAX_SHIFT = 2


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def shift_batch(x: torch.Tensor, gen: torch.Generator, max_shift: int = MAX_SHIFT) -> torch.Tensor:
    """Shifts each image by (dy, dx) in [-max_shift, max_shift], filling with zeros.
    The 32x32 inputs carry at least 2 zero pixels on each side (MNIST digits sit in a
    20x20 box inside 28x28, and the 28x28 image is padded by 2), so nothing is lost."""
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=gen)
    padded = nn.functional.pad(x, (max_shift,) * 4)
    out = torch.empty_like(x)
    for i in range(n):
        dy, dx = int(shifts[i, 0]), int(shifts[i, 1])
        out[i] = padded[i, :, max_shift - dy:max_shift - dy + h, max_shift - dx:max_shift - dx + w]
    return out


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    top = logits.topk(k, dim=1).indices
    return int((top == labels[:, None]).any(dim=1).sum().item()) / len(labels)


def evaluate(model: nn.Module, split: Split) -> dict:
    x = torch.from_numpy(to_nchw_float(split.images))
    y = torch.from_numpy(split.labels)
    logits = predict(model, x)
    return {"top1": topk_accuracy(logits, y, 1), "top5": topk_accuracy(logits, y, 5)}


def _fit(model: nn.Module, train: Split, epochs: int, lr: float, seed: int, log, tag: str,
         test: Split | None = None) -> None:
    gen = torch.Generator().manual_seed(seed)
    x_all = torch.from_numpy(to_nchw_float(train.images))
    y_all = torch.from_numpy(train.labels)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, weight_decay=WEIGHT_DECAY)
    steps_per_epoch = math.ceil(len(x_all) / BATCH_SIZE)
    total = max(1, epochs * steps_per_epoch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(x_all), generator=gen)
        running, seen = 0.0, 0
        for i in range(0, len(perm), BATCH_SIZE):
            idx = perm[i:i + BATCH_SIZE]
            xb = shift_batch(x_all[idx], gen)
            loss = loss_fn(model(xb), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            running += loss.item() * len(idx)
            seen += len(idx)
        msg = f"[{tag}] epoch {epoch + 1}/{epochs} loss {running / seen:.4f} ({time.time() - t0:.1f}s)"
        if test is not None and (epoch + 1 == epochs or (epoch + 1) % 5 == 0):
            msg += f" test top1 {evaluate(model, test)['top1']:.4f}"
        log(msg)


def train_float(spec: NetworkSpec, train: Split, test: Split | None, epochs: int = FLOAT_EPOCHS,
                seed: int = 0, log=print) -> MobileNetV1:
    seed_everything(seed)
    model = MobileNetV1(spec)
    _fit(model, train, epochs, FLOAT_LR, seed, log, "float", test)
    model.eval()
    return model


def train_qat(spec: NetworkSpec, plan: Plan, float_state: dict, train: Split, test: Split | None,
              epochs: int = QAT_EPOCHS, seed: int = 0, log=print) -> QuantMobileNetV1:
    seed_everything(seed)
    model = QuantMobileNetV1(spec, plan)
    load_float_weights(model, float_state)
    _fit(model, train, epochs, QAT_LR, seed, log, f"qat {plan.scheme}", test)
    model.eval()
    return model
