#!/usr/bin/python3
"""Trains the voice pipeline's multi-exit 1-D CNN on log-mel features and exports models/voice.onnx.

Input: the C++ front end's output, written by `imprecise features` (so training and serving never
disagree): FEATURES/{train,calibration}/inputs.npy [N, 40, 98] (mel bands as channels, frames as
time) + labels.npy. The network is four stages of two Conv1d+BatchNorm+ReLU blocks each (stride 2
at the start of stages 1-3; widths 24, 48, 96, 128); every stage ends in an exit:
[mean over time, max over time] -> Linear.
Loss = the sum of the four exits' cross-entropies. Augmentation: random time shift and
SpecAugment-style band/time masks. The calibration split is only monitored, never selected on.

Exported with one output per exit (opset 13, dynamic batch) and metadata imprecise.mandatory_depth=1,
imprecise.labels, imprecise.exit_names. models/voice.onnx was produced by (see scripts/make_voice.sh):
    build/<dir>/bin/imprecise features --pipeline voice --split train --out data/voice/features/train
    build/<dir>/bin/imprecise features --pipeline voice --split calibration --out data/voice/features/calibration
    /usr/bin/python3 scripts/train_voice.py --features data/voice/features --out models/voice.onnx --seed 0 --epochs 40
"""
import argparse
import os
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

LABELS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "unknown", "silence"]
BANDS, FRAMES = 40, 98


def block(cin, cout, k=3, stride=1):
    return nn.Sequential(nn.Conv1d(cin, cout, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm1d(cout),
                         nn.ReLU())


class Head(nn.Module):
    def __init__(self, channels, classes):
        super().__init__()
        self.fc = nn.Linear(2 * channels, classes)

    def forward(self, x):
        return self.fc(torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1))


class VoiceNet(nn.Module):
    def __init__(self, classes=len(LABELS), widths=(24, 48, 96, 128)):
        super().__init__()
        w1, w2, w3, w4 = widths
        self.s1 = nn.Sequential(block(BANDS, w1, 5, 2), block(w1, w1))     # 98 -> 49 frames
        self.s2 = nn.Sequential(block(w1, w2, 3, 2), block(w2, w2))        # -> 25
        self.s3 = nn.Sequential(block(w2, w3, 3, 2), block(w3, w3))        # -> 13
        self.s4 = nn.Sequential(block(w3, w4), block(w4, w4))
        self.heads = nn.ModuleList([Head(w, classes) for w in widths])

    def forward(self, x):
        outs = []
        for stage, head in zip([self.s1, self.s2, self.s3, self.s4], self.heads):
            x = stage(x)
            outs.append(head(x))
        return tuple(outs)


def augment(x, gen):
    """Random shift of up to +-15 frames (rolled), one band mask (<= 6 bands) and one time mask (<= 12 frames)."""
    n = x.shape[0]
    shifts = torch.randint(-15, 16, (n,), generator=gen)
    x = torch.stack([torch.roll(x[i], int(shifts[i]), dims=1) for i in range(n)])
    f0 = torch.randint(0, BANDS, (n, 1, 1), generator=gen)
    fw = torch.randint(0, 7, (n, 1, 1), generator=gen)
    t0 = torch.randint(0, FRAMES, (n, 1, 1), generator=gen)
    tw = torch.randint(0, 13, (n, 1, 1), generator=gen)
    bands = torch.arange(BANDS).view(1, BANDS, 1)
    frames = torch.arange(FRAMES).view(1, 1, FRAMES)
    mask = ((bands >= f0) & (bands < f0 + fw)) | ((frames >= t0) & (frames < t0 + tw))
    return x.masked_fill(mask, 0.0)  # 0 = the training mean after the front end's normalisation


def load(features, split):
    x = np.load(os.path.join(features, split, "inputs.npy")).astype(np.float32)
    y = np.load(os.path.join(features, split, "labels.npy")).astype(np.int64)
    assert x.shape[1:] == (BANDS, FRAMES), x.shape
    return torch.from_numpy(x), torch.from_numpy(y)


def accuracies(model, x, y):
    model.eval()
    with torch.no_grad():
        outs = [torch.cat(o) for o in zip(*[model(x[i:i + 256]) for i in range(0, len(x), 256)])]
    return [float((o.argmax(1) == y).float().mean()) for o in outs]


def export(model, path):
    model.eval()
    names = [f"exit{k + 1}" for k in range(4)]
    dynamic = {"input": {0: "N"}, **{n: {0: "N"} for n in names}}
    torch.onnx.export(model, (torch.zeros(1, BANDS, FRAMES),), path, opset_version=13, input_names=["input"],
                      output_names=names, dynamic_axes=dynamic, do_constant_folding=True)
    m = onnx.load(path)
    for key, value in {"imprecise.mandatory_depth": "1", "imprecise.labels": ",".join(LABELS),
                       "imprecise.exit_names": ",".join(names)}.items():
        p = m.metadata_props.add()
        p.key, p.value = key, value
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--features", default="data/voice/features")
    parser.add_argument("--out", default="models/voice.onnx")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="1 is faster than 2 on a busy 2-core machine")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    x, y = load(args.features, "train")
    xc, yc = load(args.features, "calibration")
    model = VoiceNet()
    print(f"train {tuple(x.shape)}, calibration {tuple(xc.shape)}, "
          f"{sum(p.numel() for p in model.parameters())} parameters")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-3)
    steps = args.epochs * ((len(x) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)
    for epoch in range(args.epochs):
        model.train()
        start, total = time.time(), 0.0
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), args.batch):
            idx = order[i:i + args.batch]
            xb = augment(x[idx], gen)
            loss = sum(F.cross_entropy(o, y[idx], label_smoothing=0.05) for o in model(xb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            acc = accuracies(model, xc, yc)
            print(f"epoch {epoch + 1}: loss {total / len(x):.3f}, calibration accuracy per exit "
                  f"{' '.join(f'{a:.3f}' for a in acc)} ({time.time() - start:.1f} s/epoch)", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    export(model, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
