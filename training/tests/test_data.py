import os

import numpy as np

from mixq_training import data as D


def test_raw_csv_has_label_last_and_500_per_class():
    images, labels = D.load_raw()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    assert np.array_equal(np.bincount(labels), [500] * 10)
    assert images.max() == 255


def test_split_is_stratified_disjoint_and_deterministic():
    _, labels = D.load_raw()
    train, test = D.split_indices(labels)
    assert len(train) == 4000 and len(test) == 1000
    assert not set(train) & set(test)
    assert np.array_equal(np.bincount(labels[test]), [100] * 10)
    train2, test2 = D.split_indices(labels)
    assert np.array_equal(test, test2) and np.array_equal(train, train2)
    _, other = D.split_indices(labels, seed=D.SPLIT_SEED + 1)
    assert not np.array_equal(test, other)


def test_padding_keeps_digit_in_the_middle():
    img = np.arange(28 * 28, dtype=np.uint32).reshape(1, 28, 28).astype(np.uint8)
    out = D.pad_images(img)
    assert out.shape == (1, 32, 32, 1) and out.dtype == np.uint8
    assert np.array_equal(out[0, 2:30, 2:30, 0], img[0])
    assert out[0, :2].max() == 0 and out[0, 30:].max() == 0 and out[0, :, :2].max() == 0 and out[0, :, 30:].max() == 0


def test_to_nchw_float_is_pixel_over_255():
    img = np.array([[[[0]], [[255]]], [[[51]], [[1]]]], dtype=np.uint8)  # [1? no: 2, 2, 1, 1]
    x = D.to_nchw_float(img.reshape(1, 2, 2, 1))
    assert x.shape == (1, 1, 2, 2) and x.dtype == np.float32
    assert np.allclose(x.ravel(), [0, 1, 51 / 255, 1 / 255])


def test_committed_test_split_matches_the_wheel(repo, splits):
    _, test = splits
    committed = D.load_test_split(os.path.join(repo, "data", "mnist", "test"))
    assert committed.images.dtype == np.uint8 and committed.images.shape == (1000, 32, 32, 1)
    assert committed.labels.dtype == np.int64 and committed.labels.shape == (1000,)
    assert np.array_equal(committed.images, test.images)
    assert np.array_equal(committed.labels, test.labels)
