#!/usr/bin/python3
"""Trains the lidar pipeline's multi-exit PointNet and exports models/lidar.onnx (3 exits).

Reads the C++ front end's output (so training and serving see the same tensors):
    build/<dir>/bin/imprecise features --pipeline lidar --split train --out FEAT/train
    build/<dir>/bin/imprecise features --pipeline lidar --split calibration --out FEAT/calibration
then, from the repository root (scripts/make_lidar.sh does all of it):
    /usr/bin/python3 scripts/train_lidar.py --features FEAT --out models/lidar.onnx
The committed models/lidar.onnx was made by exactly these commands, with the defaults below
(seed 0, 12 epochs, batch 128, 2 threads).

Model: a PointNet without the T-Nets. Inputs [N, 3, 256] (x, y, z per point, channels first);
shared per-point MLPs are Conv1d with kernel 1 + BatchNorm + ReLU. Three stages, each ending in an
exit that max-pools its own features over the points and classifies them with a small FC head:
    stage 1: 3 -> 16 -> 32          exit 1: max-pool, FC 32 -> 32 -> 8
    stage 2: 32 -> 64               exit 2: max-pool, FC 64 -> 64 -> 8
    stage 3: 64 -> 128              exit 3: max-pool, FC 128 -> 64 -> 8
(Small on purpose: it trains in about half an hour on two shared CPU cores.)
Loss: the sum of the exits' cross-entropies (label smoothing 0.05). Augmentation: mirror y (the
sensor would see the mirrored object the same way), 1 cm jitter, and, half of the time, a crop: the
256 points are in scan (azimuth) order, so keeping a random one of the first k (k in 128..256) for
every point acts as a cropped angular sector.
The calibration split is only used to report per-epoch accuracy here; the reported accuracy comes
from the C++ engine (`imprecise eval --pipeline lidar`).
"""
import argparse
import time

import torch
import torch.nn as nn

from imprecise_common import exit_accuracies, exit_metadata, export_onnx, load_features_torch, one_cycle, train_epoch

CLASSES = ["car", "van", "truck", "pedestrian", "cyclist", "pole", "tree", "sign"]
EXIT_NAMES = ["exit1", "exit2", "exit3"]


def mlp(*widths):
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Conv1d(a, b, 1, bias=False), nn.BatchNorm1d(b), nn.ReLU()]
    return nn.Sequential(*layers)


def head(width, hidden, classes):
    return nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(0.3), nn.Linear(hidden, classes))


class MultiExitPointNet(nn.Module):
    def __init__(self, classes=len(CLASSES)):
        super().__init__()
        self.stage1, self.exit1 = mlp(3, 16, 32), head(32, 32, classes)
        self.stage2, self.exit2 = mlp(32, 64), head(64, 64, classes)
        self.stage3, self.exit3 = mlp(64, 128), head(128, 64, classes)

    def forward(self, x):
        h1 = self.stage1(x)
        h2 = self.stage2(h1)
        h3 = self.stage3(h2)
        return (self.exit1(torch.amax(h1, dim=2)), self.exit2(torch.amax(h2, dim=2)),
                self.exit3(torch.amax(h3, dim=2)))


def augment(x, gen):
    b, _, n = x.shape
    x = x.clone()
    flip = torch.rand(b, generator=gen) < 0.5
    x[flip, 1, :] = -x[flip, 1, :]
    x = x + 0.01 * torch.randn(x.shape, generator=gen)
    # crop: each point replaced by a random one of the first k (k in [n/2, n]; scan order = azimuth order)
    keep = torch.randint(n // 2, n + 1, (b,), generator=gen)
    idx = (torch.rand(b, n, generator=gen) * keep[:, None]).long()
    idx = torch.where(torch.rand(b, 1, generator=gen) < 0.5, idx, torch.arange(n).expand(b, n))
    return torch.gather(x, 2, idx[:, None, :].expand(b, 3, n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", required=True, help="folder with train/ and calibration/ from `imprecise features`")
    ap.add_argument("--out", default="models/lidar.onnx")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    xtr, ytr = load_features_torch(args.features, "train")
    xcal, ycal = load_features_torch(args.features, "calibration")
    print(f"train {tuple(xtr.shape)}, calibration {tuple(xcal.shape)}", flush=True)
    model = MultiExitPointNet()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = one_cycle(opt, 4e-3, args.epochs, len(xtr), args.batch)
    for epoch in range(args.epochs):
        start = time.time()
        loss = train_epoch(model, opt, sched, xtr, ytr, args.batch, gen, augment=augment, label_smoothing=0.05)
        acc = exit_accuracies(model, xcal, ycal, batch=512)
        print(f"epoch {epoch + 1}: loss {loss:.3f}, calibration accuracy "
              + " ".join(f"{a:.3f}" for a in acc) + f" [{time.time() - start:.0f} s]", flush=True)

    m = export_onnx(model, xcal[:2], args.out, EXIT_NAMES, exit_metadata(CLASSES, EXIT_NAMES))
    print(f"wrote {args.out}: ops {sorted({n.op_type for n in m.graph.node})}")


if __name__ == "__main__":
    main()
