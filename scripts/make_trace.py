#!/usr/bin/python3
"""Writes a deterministic arrival trace (CSV, column time_ms) for scenarios/trace_replay.json.

It imitates a camera that drops frames and a LIDAR whose scans arrive in clumps behind a congested
link: 30 Hz frames with a 5 % chance of a dropped frame and occasional 0.5-2 s windows where
frames come at twice the rate (a device flushing its buffer). Same seed, same file.
"""
import random
import sys


def main() -> None:
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 2026
    out = sys.argv[1] if len(sys.argv) > 1 else "scenarios/traces/camera_flush.csv"
    rng = random.Random(seed)
    t, end, rows = 0.0, 30_000.0, []
    while t < end:
        if rng.random() < 0.01:  # a buffer flush: a burst at twice the frame rate
            burst_end = t + rng.uniform(500.0, 2000.0)
            while t < min(burst_end, end):
                rows.append(t)
                t += 1000.0 / 60.0
            continue
        if rng.random() >= 0.05:  # 5 % of frames are dropped
            rows.append(t + rng.uniform(-2.0, 2.0) if t > 2.0 else t)
        t += 1000.0 / 30.0
    with open(out, "w", encoding="ascii") as f:
        f.write("time_ms\n")
        for r in sorted(rows):
            f.write(f"{r:.3f}\n")
    print(f"wrote {out} ({len(rows)} arrivals over {end / 1000:.0f} s)")


if __name__ == "__main__":
    main()
