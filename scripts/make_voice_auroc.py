#!/usr/bin/python3
"""How informative each exit's confidence is: the AUROC of max-softmax confidence for that exit's own
correctness (0.5 = no information, 1 = every right answer is more confident than every wrong one),
plus accuracy per exit by SNR band, on the voice test split.

Reads models/voice.replay_test.csv (written by `imprecise profile --pipeline voice`: one row per test
clip in the split's index order, conf_k / correct_k per exit) and data/voice/test/index.csv (the
clips' SNR, room, distance). Writes docs/results/voice_auroc.json and prints a table. Run from the repo root:
    /usr/bin/python3 scripts/make_voice_auroc.py [--replay models/voice.replay_test.csv] [--index data/voice/test/index.csv]
"""
import argparse
import csv
import json
import os
import sys

import numpy as np

from imprecise_common import auroc  # the one AUROC every pipeline reports

SNR_BANDS = [(-5, 0), (0, 10), (10, 20), (20, 35)]  # dB, against the word's RMS


def read_rows(path, required):
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                sys.exit(f"{path}: missing column(s) {', '.join(missing)}")
            return list(reader)
    except FileNotFoundError:
        sys.exit(f"{path}: not found")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replay", default="models/voice.replay_test.csv")
    parser.add_argument("--index", default="data/voice/test/index.csv")
    parser.add_argument("--out", default="docs/results/voice_auroc.json")
    args = parser.parse_args()
    replay = read_rows(args.replay, ["sample", "conf_1", "correct_1"])
    exits = sorted(int(c.split("_")[1]) for c in replay[0] if c.startswith("conf_"))
    clips = read_rows(args.index, ["path", "snr_db"])
    if len(clips) != len(replay):
        sys.exit(f"{args.replay}: {len(replay)} rows but {args.index} lists {len(clips)} clips; "
                 "regenerate one or the other (imprecise profile --pipeline voice)")
    snr = np.array([float(clips[int(r["sample"])]["snr_db"]) for r in replay])
    snr = np.minimum(snr, SNR_BANDS[-1][1] - 1e-9)  # 35.0 after rounding to 0.1 dB belongs to the top band
    result = {"samples": len(replay), "exits": []}
    print(f"{'exit':>5} {'accuracy':>9} {'AUROC':>6}  accuracy by SNR band " +
          " ".join(f"[{lo},{hi})" for lo, hi in SNR_BANDS))
    for k in exits:
        conf = np.array([float(r[f"conf_{k}"]) for r in replay])
        correct = np.array([r[f"correct_{k}"] == "1" for r in replay])
        bands = {f"{lo}..{hi} dB": float(correct[(snr >= lo) & (snr < hi)].mean()) for lo, hi in SNR_BANDS}
        result["exits"].append({"exit": k, "accuracy": float(correct.mean()), "auroc": auroc(conf, correct),
                                "accuracy_by_snr": bands})
        e = result["exits"][-1]
        print(f"{k:>5} {e['accuracy']:>9.3f} {e['auroc']:>6.3f}  " + " ".join(f"{v:>7.3f}" for v in bands.values()))
    result["clips_by_snr"] = {f"{lo}..{hi} dB": int(((snr >= lo) & (snr < hi)).sum()) for lo, hi in SNR_BANDS}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
