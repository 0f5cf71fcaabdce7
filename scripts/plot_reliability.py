#!/usr/bin/python3
"""Reliability diagram of a pipeline's model (vision, voice), per exit, from OUR C++ engine's answers on the test split.

Runs `imprecise infer` (the C++ engine) on the front end's test features and plots, per exit, accuracy
against mean confidence in 10 equal-width confidence bins (the diagonal is perfect calibration), with
each exit's accuracy and ECE (15 bins, as `imprecise eval` computes it) in the legend. Run from the repo root:
    build/default/bin/imprecise features --pipeline vision --split test --out data/vision/features/test
    /usr/bin/python3 scripts/plot_reliability.py --pipeline vision --bin build/default/bin/imprecise
(defaults: models/P.onnx, data/P/features/test, docs/results/P_reliability.png). The LIDAR pipeline
has its own script (plot_lidar_reliability.py), which also generates the features it plots.
"""
import argparse
import json
import os
import subprocess

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


NOUNS = {"vision": "images", "voice": "clips"}  # what one test sample is, for the labels


def ece(conf, correct, bins=15):
    idx = np.clip((conf * bins).astype(int), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += abs(correct[m].sum() - conf[m].sum()) / len(conf)
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipeline", required=True, choices=sorted(NOUNS))
    ap.add_argument("--bin", default="build/default/bin/imprecise")
    ap.add_argument("--model")
    ap.add_argument("--features")
    ap.add_argument("--out")
    ap.add_argument("--bins", type=int, default=10)
    args = ap.parse_args()
    p = args.pipeline
    args.model = args.model or f"models/{p}.onnx"
    args.features = args.features or f"data/{p}/features/test"
    args.out = args.out or f"docs/results/{p}_reliability.png"
    run = subprocess.run([args.bin, "infer", "--model", args.model, "--input", os.path.join(args.features, "inputs.npy")],
                         check=True, capture_output=True, text=True)
    exits = json.loads(run.stdout)["exits"]
    labels = np.load(os.path.join(args.features, "labels.npy")).astype(int)

    fig, (ax, hist) = plt.subplots(1, 2, figsize=(10, 4.2))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    edges = np.linspace(0, 1, args.bins + 1)
    for e in exits:
        conf = np.asarray(e["confidence"], dtype=float)
        correct = (np.asarray(e["prediction"]) == labels).astype(float)
        idx = np.clip(np.digitize(conf, edges) - 1, 0, args.bins - 1)
        xs, ys = [], []
        for b in range(args.bins):
            m = idx == b
            if m.sum() >= 10:  # bins with a handful of samples say nothing
                xs.append(conf[m].mean())
                ys.append(correct[m].mean())
        ax.plot(xs, ys, "o-", label=f"{e['name']}: acc {correct.mean():.3f}, ECE {ece(conf, correct):.3f}")
        hist.hist(conf, bins=edges, histtype="step", lw=1.5, label=e["name"])
        print(f"{e['name']}: accuracy {correct.mean():.4f}, ECE {ece(conf, correct):.4f}, {len(conf)} samples")
    ax.set_xlabel("confidence (max softmax probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{p}: reliability per exit (C++ engine, {len(labels)} test {NOUNS[p]})", fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    hist.set_yscale("log")
    hist.set_xlabel("confidence")
    hist.set_ylabel(f"test {NOUNS[p]}")
    hist.set_title("confidence histogram per exit")
    hist.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
