#!/usr/bin/python3
"""Builds the lidar pipeline's committed test fixtures in tests/fixtures/data/lidar/ from the generated
held-out split (run scripts/make_lidar_data.py first). Run from the repository root:
    /usr/bin/python3 scripts/make_lidar_fixtures.py

  test.ipcl           the first 120 clouds of data/lidar/test.ipcl (10 per class, classes cycle),
                      so `--data-dir tests/fixtures/data` loads it as the lidar test split
  sample.ipcl         one of them (cloud 4, a pedestrian): the example program's default input
  frontend_expected.npy  [8, 3, 256] float32: the front end of the first 8 clouds, computed here with
                      numpy, independently of the C++ code it checks (centroid in float64, rotation
                      onto +x, z + 1.8 m, point i = floor(i * P / 256))
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_lidar_data import CLASSES, SENSOR_HEIGHT, read_ipcl, write_ipcl  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "data", "lidar")
COUNT = 120
SAMPLE = CLASSES.index("pedestrian")  # scene i has class i mod len(CLASSES)
N = 256


def front_end(points):
    p = points[:, :3].astype(np.float64)
    cx, cy = p[:, 0].mean(), p[:, 1].mean()
    phi = np.arctan2(cy, cx)
    idx = (np.arange(N, dtype=np.int64) * len(p)) // N
    q = p[idx]
    dx, dy = q[:, 0] - cx, q[:, 1] - cy
    x = np.cos(phi) * dx + np.sin(phi) * dy
    y = -np.sin(phi) * dx + np.cos(phi) * dy
    z = q[:, 2] + np.float32(SENSOR_HEIGHT)
    return np.stack([x, y, z]).astype(np.float32)


def main():
    clouds, labels, names = read_ipcl(os.path.join(ROOT, "data", "lidar", "test.ipcl"))
    assert names == CLASSES, names
    os.makedirs(OUT, exist_ok=True)
    write_ipcl(os.path.join(OUT, "test.ipcl"), clouds[:COUNT], labels[:COUNT], CLASSES)
    write_ipcl(os.path.join(OUT, "sample.ipcl"), [clouds[SAMPLE]], [labels[SAMPLE]], CLASSES)
    np.save(os.path.join(OUT, "frontend_expected.npy"), np.stack([front_end(c) for c in clouds[:8]]))
    sizes = [len(c) for c in clouds[:COUNT]]
    print(f"{OUT}: {COUNT} clouds ({sum(sizes)} points), sample = {CLASSES[labels[SAMPLE]]} ({len(clouds[SAMPLE])} points)")


if __name__ == "__main__":
    main()
