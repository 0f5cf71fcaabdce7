#!/usr/bin/python3
"""Accuracy per exit and per corruption of the vision model, from OUR C++ engine's answers on the test split.

Groups the test frames by the corruption the C++ pipeline gave them (draw_corruption() in
src/data/vision_corruption.cpp, mirrored below and checked against it by tests/data_vision_corruption_test.cpp
through tests/fixtures/data/vision/test_draws.csv) and prints, per group, the share of frames, every exit's
accuracy and exit 1's mean confidence; writes the same as JSON. Run from the repo root:
    build/default/bin/imprecise features --pipeline vision --split test --out data/vision/features/test
    /usr/bin/python3 scripts/make_vision_report.py --bin build/default/bin/imprecise
With --draws-csv N it only writes the first N test draws as CSV (the test fixture) and exits.
"""
import argparse
import json
import os
import sys

import numpy as np

from imprecise_common import run_infer

MASK = (1 << 64) - 1
KINDS = ["gaussian_noise", "shot_noise", "motion_blur", "defocus_blur", "low_light", "low_contrast", "occlusion",
         "blockiness"]
TEST_SEED = 0x74657374  # vision_split_seed(Split::test)


class SplitMix64:
    """The C++ Rng of vision_corruption.cpp (splitmix64)."""

    def __init__(self, state):
        self.state = state & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53


def draw(index, split_seed=TEST_SEED, clean_fraction=0.5, min_severity=1, max_severity=5):
    """(kind name or "clean", severity) of frame `index`, as draw_corruption() with CorruptionMix's defaults."""
    rng = SplitMix64(split_seed * 0xD1B54A32D192ED03 + index)
    u = rng.uniform()
    kind = KINDS[rng.next() % len(KINDS)]
    severity = min_severity + rng.next() % (max_severity - min_severity + 1)
    return ("clean", 0) if u < clean_fraction else (kind, severity)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="build/default/bin/imprecise", help="the built imprecise CLI")
    ap.add_argument("--model", default="models/vision.onnx")
    ap.add_argument("--features", default="data/vision/features/test")
    ap.add_argument("--out", default="docs/results/vision_by_corruption.json")
    ap.add_argument("--draws-csv", type=int, metavar="N", help="write the first N test draws as CSV to --out, exit")
    args = ap.parse_args()
    if args.draws_csv:
        with open(args.out, "w") as f:
            f.write("index,kind,severity\n")
            for i in range(args.draws_csv):
                kind, severity = draw(i)
                f.write(f"{i},{kind},{severity}\n")
        return
    labels = np.load(os.path.join(args.features, "labels.npy")).astype(int)
    exits = run_infer(args.bin, args.model, os.path.join(args.features, "inputs.npy"))
    correct = np.array([np.array(e["prediction"]) == labels for e in exits])  # exits x samples
    confidence1 = np.array(exits[0]["confidence"])
    draws = [draw(i) for i in range(len(labels))]
    groups = {"all": np.ones(len(labels), bool), "clean": np.array([k == "clean" for k, _ in draws])}
    groups["corrupted"] = ~groups["clean"]
    for kind in KINDS:
        groups[kind] = np.array([k == kind for k, _ in draws])
    for severity in range(1, 6):
        groups[f"severity {severity}"] = np.array([s == severity for _, s in draws])
    report = {}
    names = [e["name"] for e in exits]
    print(f"{'group':<16}{'share':>7}" + "".join(f"{n:>8}" for n in names) + f"{'conf1':>8}")
    for name, m in groups.items():
        if not m.any():
            continue
        acc = [float(c[m].mean()) for c in correct]
        report[name] = {"share": float(m.mean()), "accuracy": acc, "exit1_mean_confidence": float(confidence1[m].mean())}
        print(f"{name:<16}{m.mean():>7.3f}" + "".join(f"{a:>8.3f}" for a in acc) + f"{confidence1[m].mean():>8.3f}")
    with open(args.out, "w") as f:
        json.dump({"model": args.model, "samples": len(labels), "groups": report}, f, indent=1)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
