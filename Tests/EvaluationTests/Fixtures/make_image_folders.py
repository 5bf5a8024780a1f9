"""Image-folder fixtures for Tests/EvaluationTests/ImageFolderTests.swift, made with Pillow
(which decodes JPEG with libjpeg-turbo, as MixQ does).

Run by hand from the repository root (any Python with numpy and Pillow, e.g. /work/venv-torch):
    python Tests/EvaluationTests/Fixtures/make_image_folders.py

Writes, under Tests/EvaluationTests/Fixtures:
  image-folder/<digit>/*.{png,jpg}  the first 6 test images of each digit of data/mnist/test
      (60 images, 32x32), each stored in one of the encodings in ENCODINGS: grey, RGB, 16-bit,
      palette, RGBA, grey+alpha and interlaced-free PNG; grey, RGB and progressive JPEG. Plus
      files an image folder must skip: .DS_Store, README.txt.
  image-folder-arrays/images.npy, labels.npy  the same 60 images as Pillow decodes them and
      converts them to grey (convert("L")), so the folder and the arrays must score the same;
      for the 16-bit PNG, the high byte (Pillow's convert("L") clips 16-bit grey instead).
  resize-folder/0/*.png and resize-expected.npy  three RGB images of other sizes, and each
      resized with Pillow's BILINEAR so its shorter side is 36 (torchvision's Resize(36)
      rule: the longer side int(36 * long / short)) then centre-cropped to 32x32 (torchvision's
      CenterCrop origin round((size - 32) / 2)); MixQ's resampler keeps floating point between
      its passes where Pillow rounds to 8 bits, so the test allows one step of difference.
  bad/cmyk.jpg  a CMYK JPEG (refused by MixQ with one error line).
"""
import os
import shutil

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
ENCODINGS = ["png-grey", "jpg-grey", "png-rgb", "jpg-rgb", "png-16bit", "png-palette", "png-rgba", "png-grey-alpha",
             "jpg-progressive", "png-grey"]


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


def save(pixels, encoding, path, seed):
    """Writes the 32x32 grey `pixels` as `encoding`; returns the file's name."""
    rng = np.random.default_rng(seed)
    grey = Image.fromarray(pixels, "L")
    rgb = np.repeat(pixels[:, :, None], 3, axis=2)
    if encoding == "png-grey":
        grey.save(path + ".png")
        return path + ".png"
    if encoding == "jpg-grey":
        grey.save(path + ".jpg", quality=90)
        return path + ".jpg"
    if encoding == "png-rgb":
        Image.fromarray(rgb, "RGB").save(path + ".png")
        return path + ".png"
    if encoding == "jpg-rgb":
        Image.fromarray(rgb, "RGB").save(path + ".JPEG", quality=85)
        return path + ".JPEG"
    if encoding == "jpg-progressive":
        Image.fromarray(rgb, "RGB").save(path + ".jpeg", quality=80, progressive=True)
        return path + ".jpeg"
    if encoding == "png-16bit":
        Image.fromarray(pixels.astype(np.uint16) * 257 + rng.integers(0, 200, pixels.shape, dtype=np.uint16)).save(path + ".png")
        return path + ".png"
    if encoding == "png-palette":
        grey.convert("P", palette=Image.Palette.ADAPTIVE, colors=256).save(path + ".png")
        return path + ".png"
    if encoding == "png-rgba":
        alpha = rng.integers(0, 256, pixels.shape, dtype=np.uint8)
        Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(path + ".png")
        return path + ".png"
    if encoding == "png-grey-alpha":
        alpha = rng.integers(0, 256, pixels.shape, dtype=np.uint8)
        Image.fromarray(np.dstack([pixels, alpha]), "LA").save(path + ".png")
        return path + ".png"
    raise ValueError(encoding)


def expected_grey(path, encoding):
    image = Image.open(path)
    if encoding == "png-16bit":
        return (np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8)
    return np.asarray(image.convert("L"))


def main():
    images = np.load(os.path.join(ROOT, "data/mnist/test/images.npy"))[:, :, :, 0]
    labels = np.load(os.path.join(ROOT, "data/mnist/test/labels.npy"))
    folder = os.path.join(HERE, "image-folder")
    fresh(folder)
    decoded, classes = [], []
    for digit in range(10):
        os.makedirs(os.path.join(folder, str(digit)))
        picked = np.flatnonzero(labels == digit)[:6]
        files = []
        for rank, index in enumerate(picked):
            encoding = ENCODINGS[(digit + rank) % len(ENCODINGS)]
            name = save(images[index], encoding, os.path.join(folder, str(digit), "test_%04d" % index), seed=int(index))
            files.append((os.path.basename(name), name, encoding))
        # The folder's order: each class's files sorted by name.
        for _, name, encoding in sorted(files):
            decoded.append(expected_grey(name, encoding))
            classes.append(digit)
    with open(os.path.join(folder, "3", "README.txt"), "w") as readme:
        readme.write("not an image: an image folder skips it\n")
    with open(os.path.join(folder, "3", ".DS_Store"), "wb") as hidden:
        hidden.write(b"\x00\x00\x00\x01Bud1")
    arrays = os.path.join(HERE, "image-folder-arrays")
    fresh(arrays)
    np.save(os.path.join(arrays, "images.npy"), np.stack(decoded)[:, :, :, None].astype(np.uint8))
    np.save(os.path.join(arrays, "labels.npy"), np.array(classes, dtype=np.int64))

    resize = os.path.join(HERE, "resize-folder")
    fresh(resize)
    os.makedirs(os.path.join(resize, "0"))
    expected = []
    y, x = np.mgrid[0:80, 0:80]
    for number, (width, height) in enumerate([(48, 40), (45, 61), (20, 24)]):
        rng = np.random.default_rng(number)
        smooth = np.stack([(x * 3 + y * 2) % 256, (x * y) % 256, (128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0))], axis=2)
        pixels = (smooth[:height, :width] + rng.integers(0, 40, (height, width, 3))).clip(0, 255).astype(np.uint8)
        path = os.path.join(resize, "0", "image_%d.png" % number)
        Image.fromarray(pixels, "RGB").save(path)
        short, long = min(width, height), max(width, height)
        size = (36, 36 * long // short) if width <= height else (36 * long // short, 36)
        resized = Image.open(path).convert("RGB").resize(size, Image.Resampling.BILINEAR)
        top, left = int(round((size[1] - 32) / 2.0)), int(round((size[0] - 32) / 2.0))
        expected.append(np.asarray(resized)[top:top + 32, left:left + 32])
    np.save(os.path.join(HERE, "resize-expected.npy"), np.stack(expected).astype(np.uint8))

    bad = os.path.join(HERE, "bad")
    fresh(bad)
    Image.fromarray(np.full((8, 8, 4), 60, dtype=np.uint8), "CMYK").save(os.path.join(bad, "cmyk.jpg"))


if __name__ == "__main__":
    main()
