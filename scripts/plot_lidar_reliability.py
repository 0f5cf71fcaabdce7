#!/usr/bin/python3
"""Reliability plot of the lidar model (confidence vs accuracy per exit) from the C++ engine's own
answers on the held-out test split: `imprecise features` gives the front end's inputs and labels,
`imprecise infer` runs every exit of models/lidar.onnx on them. Run from the repository root:
    /usr/bin/python3 scripts/plot_lidar_reliability.py --cli build/<dir>/bin/imprecise
writes docs/results/lidar_reliability.png.
"""
import argparse
import json
import os
import subprocess
import tempfile

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True, help="the built imprecise CLI")
    ap.add_argument("--split", default="test")
    ap.add_argument("--model", default="models/lidar.onnx")
    ap.add_argument("--out", default="docs/results/lidar_reliability.png")
    ap.add_argument("--bins", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([args.cli, "features", "--pipeline", "lidar", "--split", args.split, "--out", tmp], check=True)
        labels = np.load(os.path.join(tmp, "labels.npy")).astype(int)
        result = json.loads(subprocess.run([args.cli, "infer", "--model", args.model, "--input",
                                            os.path.join(tmp, "inputs.npy")], check=True, capture_output=True,
                                           text=True).stdout)
    edges = np.linspace(0, 1, args.bins + 1)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k:", label="perfect calibration")
    for exit_ in result["exits"]:
        conf = np.array(exit_["confidence"])
        correct = np.array(exit_["prediction"]) == labels
        idx = np.clip(np.digitize(conf, edges) - 1, 0, args.bins - 1)
        xs, ys = [], []
        for b in range(args.bins):
            sel = idx == b
            if sel.sum() >= 5:
                xs.append(conf[sel].mean())
                ys.append(correct[sel].mean())
        ece = sum(abs(correct[idx == b].mean() - conf[idx == b].mean()) * (idx == b).mean()
                  for b in range(args.bins) if (idx == b).any())
        ax.plot(xs, ys, "o-", label=f"{exit_['name']}: accuracy {correct.mean():.3f}, ECE {ece:.3f}")
    ax.set_xlabel("confidence (max softmax probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"lidar, {args.split} split ({len(labels)} scenes), C++ engine")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
