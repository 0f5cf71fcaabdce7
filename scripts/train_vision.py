#!/usr/bin/python3
"""Trains the vision pipeline's anytime ResNet (4 exits) on corrupted Fashion-MNIST; exports models/vision.onnx.

Reads what the C++ pipeline produced (`imprecise features`: frames with the seeded edge-camera corruptions
of src/data/vision_corruption.cpp, through the front end), so training and serving never disagree:
    build/default/bin/imprecise features --pipeline vision --split train       --out data/vision/features/train
    build/default/bin/imprecise features --pipeline vision --split calibration --out data/vision/features/calibration
    /usr/bin/python3 scripts/train_vision.py --features data/vision/features --out models/vision.onnx
(scripts/make_vision.sh runs all of it, then `imprecise eval`). The committed models/vision.onnx was made by
exactly these commands with the defaults below.

Model (input [N, 1, 28, 28]); every exit is global average pooling + one linear layer, so an exit costs
almost nothing and an early exit only knows what its shallow features know:
  stage 1  conv3x3 1->26, conv3x3 26->26 (28x28), maxpool2                 -> 26x14x14   exit 1
  stage 2  residual block 26->36, residual block 36->36 (14x14)           -> 36x14x14   exit 2
  stage 3  residual block 36->72 stride 2 (7x7), residual block 72->72     -> 72x7x7     exit 3
  stage 4  residual block 72->144 stride 2 (4x4), residual block 144->144 -> 144x4x4    exit 4
(--widths; the widths 24, 32, 64, 128 of the first version took 0.46 ms per frame in our engine, below the
0.5 ms that keeps a scheduling decision small beside the model, issue 13.)
(each conv with BN + ReLU; BN folded by the exporter.) Loss = sum of the exits' cross-entropies; Adam +
one-cycle; horizontal flips. Budget trade: the first --train-subset frames of the 55,000 (default 50,000)
and --epochs epochs (default 6) on one thread, to stay near 20 minutes on a shared 2-core machine.
Accuracy printed here is PyTorch's on the calibration split, for information only: the reported figures
come from the C++ engine (`imprecise eval --pipeline vision`).
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn as nn

from imprecise_common import (exit_accuracies, exit_metadata, export_onnx, load_features_torch, one_cycle,
                              per_exit_arg, train_epoch)

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
EXIT_NAMES = ["exit1", "exit2", "exit3", "exit4"]


def conv_bn(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class ResidualBlock(nn.Module):
    """Two 3x3 convs plus a shortcut (1x1 conv when the shape changes), ReLU after the sum."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.body = nn.Sequential(*conv_bn(cin, cout, stride), nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(cout))
        self.shortcut = nn.Identity() if cin == cout and stride == 1 else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


def exit_head(channels, classes):
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))


class VisionNet(nn.Module):
    def __init__(self, classes=10, widths=(26, 36, 72, 144)):
        super().__init__()
        w1, w2, w3, w4 = widths
        self.stages = nn.ModuleList([
            nn.Sequential(*conv_bn(1, w1), *conv_bn(w1, w1), nn.MaxPool2d(2)),
            nn.Sequential(ResidualBlock(w1, w2), ResidualBlock(w2, w2)),
            nn.Sequential(ResidualBlock(w2, w3, stride=2), ResidualBlock(w3, w3)),
            nn.Sequential(ResidualBlock(w3, w4, stride=2), ResidualBlock(w4, w4)),
        ])
        self.exits = nn.ModuleList([exit_head(c, classes) for c in widths])

    def forward(self, x):
        outputs = []
        for stage, head in zip(self.stages, self.exits):
            x = stage(x)
            outputs.append(head(x))
        return tuple(outputs)


def flip(xb, generator):
    """Mirrors half of the batch left-right: clothes look the same mirrored."""
    mirrored = torch.rand(len(xb), generator=generator) < 0.5
    return torch.where(mirrored[:, None, None, None], xb.flip(3), xb)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", default="data/vision/features", help="folder with train/ and calibration/")
    ap.add_argument("--out", default="models/vision.onnx")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--train-subset", type=int, default=50000, help="train on the first N frames (0: all)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--widths", default="26,36,72,144", help="channels of stages 1-4, comma-separated")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)

    x_train, y_train = load_features_torch(args.features, "train")
    if args.train_subset > 0:
        x_train, y_train = x_train[:args.train_subset], y_train[:args.train_subset]
    x_cal, y_cal = load_features_torch(args.features, "calibration")
    print(f"train {tuple(x_train.shape)}, calibration {tuple(x_cal.shape)}")
    widths = per_exit_arg(ap, "--widths", args.widths, len(EXIT_NAMES), kind=int)
    model = VisionNet(widths=widths)
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = one_cycle(opt, args.lr, args.epochs, len(x_train), args.batch)
    generator = torch.Generator().manual_seed(args.seed)
    started_all = time.time()
    for epoch in range(args.epochs):
        started = time.time()
        loss = train_epoch(model, opt, sched, x_train, y_train, args.batch, generator, augment=flip)
        acc = exit_accuracies(model, x_cal, y_cal, batch=1000)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss:.4f}, calibration accuracy per exit "
              f"{np.round(acc, 4).tolist()} ({time.time() - started:.0f} s)", flush=True)
    print(f"training took {time.time() - started_all:.0f} s on {args.threads} thread(s)")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    export_onnx(model, torch.zeros(1, 1, 28, 28), args.out, EXIT_NAMES, exit_metadata(LABELS, EXIT_NAMES))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
