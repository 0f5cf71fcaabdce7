#!/usr/bin/python3
"""Reliability diagram of a pipeline's model (vision, voice, lidar), per exit, from OUR C++ engine's answers.

Runs `imprecise infer` (the C++ engine) on the front end's features of a split (default test) and plots,
per exit, accuracy against mean confidence in 10 equal-width confidence bins (the diagonal is perfect
calibration), with each exit's accuracy and ECE (15 bins, as `imprecise eval` computes it) in the legend,
beside each exit's confidence histogram. Run from the repo root:
    build/default/bin/imprecise features --pipeline vision --split test --out data/vision/features/test
    /usr/bin/python3 scripts/plot_reliability.py --pipeline vision --bin build/default/bin/imprecise
(defaults: models/P.onnx, data/P/features/SPLIT, docs/results/P_reliability.png). When the features
folder has no inputs.npy, the script writes the split's features itself (`imprecise features`, into a
temporary folder), e.g. for lidar:
    /usr/bin/python3 scripts/plot_reliability.py --pipeline lidar --bin build/default/bin/imprecise
"""
import argparse
import os
import subprocess
import tempfile

import numpy as np

from imprecise_common import plot_reliability, run_infer

NOUNS = {"vision": "images", "voice": "clips", "lidar": "scenes"}  # what one sample is, for the labels


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipeline", required=True, choices=sorted(NOUNS))
    ap.add_argument("--bin", "--cli", dest="bin", default="build/default/bin/imprecise", help="the built imprecise CLI")
    ap.add_argument("--split", default="test", help="the split plotted (train, calibration, test)")
    ap.add_argument("--model")
    ap.add_argument("--features", help="`imprecise features` output of the split (made here if it has no inputs.npy)")
    ap.add_argument("--data-dir", help="passed to `imprecise features` when this script writes the features")
    ap.add_argument("--out")
    ap.add_argument("--bins", type=int, default=10)
    args = ap.parse_args()
    p = args.pipeline
    args.model = args.model or f"models/{p}.onnx"
    args.features = args.features or f"data/{p}/features/{args.split}"
    args.out = args.out or f"docs/results/{p}_reliability.png"
    with tempfile.TemporaryDirectory() as tmp:
        features = args.features
        if not os.path.exists(os.path.join(features, "inputs.npy")):
            features = tmp
            cmd = [args.bin, "features", "--pipeline", p, "--split", args.split, "--out", tmp]
            subprocess.run(cmd + (["--data-dir", args.data_dir] if args.data_dir else []), check=True)
        exits = run_infer(args.bin, args.model, os.path.join(features, "inputs.npy"))
        labels = np.load(os.path.join(features, "labels.npy")).astype(int)
    plot_reliability(exits, labels, args.out,
                     title=f"{p}: reliability per exit (C++ engine, {len(labels)} {args.split} {NOUNS[p]})",
                     samples_name=f"{args.split} {NOUNS[p]}", bins=args.bins)


if __name__ == "__main__":
    main()
