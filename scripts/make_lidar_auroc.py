#!/usr/bin/python3
"""How informative each exit's confidence is: the AUROC of the confidence (max softmax probability) for the
exit's correctness, on the lidar test split, from the C++ engine's answers that `imprecise profile --pipeline
lidar` stored in models/lidar.replay_test.csv (columns sample, conf_K, correct_K per exit K). An AUROC of
0.5 says the confidence tells right from wrong answers no better than chance, 1.0 perfectly.
Run from the repository root (scripts/make_lidar.sh runs it after the profile):
    /usr/bin/python3 scripts/make_lidar_auroc.py [--replay models/lidar.replay_test.csv] [--out docs/results/lidar_auroc.json]
"""
import argparse
import json
import os
import sys

import numpy as np

from imprecise_common import auroc, read_csv_rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replay", default="models/lidar.replay_test.csv")
    ap.add_argument("--out", default="docs/results/lidar_auroc.json")
    args = ap.parse_args()
    rows = read_csv_rows(args.replay, "make_lidar_auroc")
    exits = sorted(int(k.split("_")[1]) for k in rows[0] if k.startswith("conf_"))
    if not exits:
        sys.exit(f"make_lidar_auroc: {args.replay}: no conf_K columns (header: {','.join(rows[0])})")
    result = {"replay": args.replay, "samples": len(rows), "exits": []}
    for k in exits:
        try:
            conf = np.array([float(r[f"conf_{k}"]) for r in rows])
            correct = np.array([int(r[f"correct_{k}"]) for r in rows]) == 1
        except (KeyError, ValueError) as e:
            sys.exit(f"make_lidar_auroc: {args.replay}: bad or missing conf_{k} / correct_{k} value ({e})")
        result["exits"].append({"exit": k, "accuracy": float(correct.mean()), "auroc": auroc(conf, correct)})
        print(f"exit{k}: accuracy {correct.mean():.4f}, AUROC of confidence for correctness "
              f"{result['exits'][-1]['auroc']:.4f} ({len(rows)} samples)")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
