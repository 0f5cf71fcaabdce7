#!/usr/bin/python3
"""Builds the vision test fixtures in tests/fixtures/data/vision/ from Debian's dataset-fashion-mnist.

Independent of the C++ reader (Python's gzip + struct + numpy), so the C++ tests check against it:
  t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte   the first 200 official test images / labels
                                                       (one compressed, one plain: both paths tested)
  first8-images-idx3-ubyte                             the first 8 test images, plain IDX
  first8_front_end.npy                                 numpy's front end of those 8: float32 [8,1,28,28],
                                                       (pixel / 255 - 0.2860) / 0.3530
  first8_labels.npy                                    their labels, float32 [8]
Deterministic (gzip mtime 0). Run from the repo root:  /usr/bin/python3 scripts/make_vision_fixtures.py
"""
import gzip
import os
import struct

import numpy as np

SRC = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "data", "vision")
MEAN, STD = np.float32(0.2860), np.float32(0.3530)  # the constants fixed in include/imprecise/data/vision.hpp
SUBSET = 200


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, path
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    values = np.frombuffer(data, np.uint8, offset=4 + 4 * rank)
    assert values.size == int(np.prod(dims)), path
    return values.reshape(dims)


def encode_idx(array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape) + array.tobytes()


def main():
    os.makedirs(OUT, exist_ok=True)
    images = read_idx(os.path.join(SRC, "t10k-images-idx3-ubyte.gz"))[:SUBSET]
    labels = read_idx(os.path.join(SRC, "t10k-labels-idx1-ubyte.gz"))[:SUBSET]
    with open(os.path.join(OUT, "t10k-images-idx3-ubyte.gz"), "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as f:
            f.write(encode_idx(images))
    with open(os.path.join(OUT, "t10k-labels-idx1-ubyte"), "wb") as f:
        f.write(encode_idx(labels))
    with open(os.path.join(OUT, "first8-images-idx3-ubyte"), "wb") as f:
        f.write(encode_idx(images[:8]))
    front = (images[:8].astype(np.float32) / np.float32(255.0) - MEAN) / STD
    np.save(os.path.join(OUT, "first8_front_end.npy"), front.reshape(8, 1, 28, 28).astype(np.float32))
    np.save(os.path.join(OUT, "first8_labels.npy"), labels[:8].astype(np.float32))
    print(f"{OUT}: {SUBSET} test images, labels {labels[:10].tolist()}..., class counts {np.bincount(labels).tolist()}")


if __name__ == "__main__":
    main()
