#!/usr/bin/python3
"""Trains the vision pipeline's multi-exit CNN on Fashion-MNIST and exports models/vision.onnx.

Reads what the C++ front end produced (`imprecise features`), so training and serving never disagree:
    build/default/bin/imprecise features --pipeline vision --split train       --out data/vision/features/train
    build/default/bin/imprecise features --pipeline vision --split calibration --out data/vision/features/calibration
    /usr/bin/python3 scripts/train_vision.py --features data/vision/features --out models/vision.onnx
(scripts/make_vision.sh runs all of it, then `imprecise eval`). The committed models/vision.onnx was
made by exactly these commands with the defaults below (seed 0, 6 epochs, 2 threads).

Model: three stages, each ending in an exit (input [N, 1, 28, 28] normalised as in vision.hpp):
  stage 1  conv3x3 1->16, BN, ReLU, maxpool2            -> 16x14x14   exit 1: maxpool2, linear 784->10
  stage 2  conv3x3 16->32, BN, ReLU, maxpool2           -> 32x7x7     exit 2: linear 1568->10
  stage 3  conv3x3 32->64, BN, ReLU, conv3x3 64->64,    -> 64x3x3     exit 3: linear 576->128, ReLU,
           BN, ReLU, maxpool2                                                 linear 128->10
Loss = sum of the exits' cross-entropies; Adam + one-cycle schedule; horizontal flips as augmentation.
Accuracy printed here is PyTorch's on the calibration split, for information only: the reported
figures come from the C++ engine (`imprecise eval --pipeline vision`).
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn as nn

from imprecise_common import exit_accuracies, exit_metadata, export_onnx, load_features_torch, one_cycle, train_epoch

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
EXIT_NAMES = ["exit1", "exit2", "exit3"]


def conv_bn(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class VisionNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stage1 = nn.Sequential(*conv_bn(1, 16), nn.MaxPool2d(2))
        self.exit1 = nn.Sequential(nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 7 * 7, classes))
        self.stage2 = nn.Sequential(*conv_bn(16, 32), nn.MaxPool2d(2))
        self.exit2 = nn.Sequential(nn.Flatten(), nn.Linear(32 * 7 * 7, classes))
        self.stage3 = nn.Sequential(*conv_bn(32, 64), *conv_bn(64, 64), nn.MaxPool2d(2))
        self.exit3 = nn.Sequential(nn.Flatten(), nn.Linear(64 * 3 * 3, 128), nn.ReLU(), nn.Dropout(0.3),
                                   nn.Linear(128, classes))

    def forward(self, x):
        h1 = self.stage1(x)
        h2 = self.stage2(h1)
        h3 = self.stage3(h2)
        return self.exit1(h1), self.exit2(h2), self.exit3(h3)


def flip(xb, generator):
    """Mirrors half of the batch left-right: clothes look the same mirrored."""
    mirrored = torch.rand(len(xb), generator=generator) < 0.5
    return torch.where(mirrored[:, None, None, None], xb.flip(3), xb)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", default="data/vision/features", help="folder with train/ and calibration/")
    ap.add_argument("--out", default="models/vision.onnx")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)

    x_train, y_train = load_features_torch(args.features, "train")
    x_cal, y_cal = load_features_torch(args.features, "calibration")
    print(f"train {tuple(x_train.shape)}, calibration {tuple(x_cal.shape)}")
    model = VisionNet()
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = one_cycle(opt, args.lr, args.epochs, len(x_train), args.batch)
    generator = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        started = time.time()
        loss = train_epoch(model, opt, sched, x_train, y_train, args.batch, generator, augment=flip)
        acc = exit_accuracies(model, x_cal, y_cal, batch=1000)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss:.4f}, calibration accuracy per exit "
              f"{np.round(acc, 4).tolist()} ({time.time() - started:.0f} s)", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    export_onnx(model, torch.zeros(1, 1, 28, 28), args.out, EXIT_NAMES, exit_metadata(LABELS, EXIT_NAMES))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
