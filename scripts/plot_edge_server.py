#!/usr/bin/python3
# Plots the edge-server experiment (examples/edge_server results.csv): real runs vs the simulator.
"""Usage: plot_edge_server.py RESULTS_CSV OUT_DIR

Writes OUT_DIR/edge_accuracy_vs_load.png (accuracy and miss ratio vs load, one colour per policy,
solid = real run, dashed = simulator on the same jobs with the profiles measured while serving) and OUT_DIR/edge_streams.png (per-stream
accuracy of each policy at the highest load). Uses /usr/bin/python3 (Debian's python3-matplotlib).
"""
import os
import sys

from imprecise_common import pyplot, read_csv_rows

plt = pyplot()  # Agg: no display on build machines


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, out_dir = sys.argv[1], sys.argv[2]
    rows = read_csv_rows(path, "plot_edge_server.py")
    os.makedirs(out_dir, exist_ok=True)
    policies = list(dict.fromkeys(r["policy"] for r in rows))
    loads = sorted({float(r["load"]) for r in rows})
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for metric, ax, title in (("accuracy", axes[0], "Accuracy (missed/shed count as wrong)"),
                              ("miss_ratio", axes[1], "Deadline miss ratio")):
        for i, policy in enumerate(policies):
            for source, style in (("real", "-o"), ("simulated", "--")):
                points = sorted((float(r["load"]), float(r[metric])) for r in rows
                                if r["policy"] == policy and r["source"] == source and r["stream"] == "total")
                if points:
                    ax.plot([p[0] for p in points], [p[1] for p in points], style, color=colours[i % len(colours)],
                            label=f"{policy}" if source == "real" else None, markersize=4)
        ax.set_xlabel("offered load (1 = full depth fills the device)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("edge server, real runs (solid) vs simulator (dashed)")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "edge_accuracy_vs_load.png"), dpi=110)

    top = loads[-1]
    streams = [r["stream"] for r in rows if r["source"] == "real" and float(r["load"]) == top
               and r["policy"] == policies[0] and r["stream"] != "total"]
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / max(1, len(policies))
    for i, policy in enumerate(policies):
        values = []
        for stream in streams:
            match = [float(r["accuracy"]) for r in rows if r["source"] == "real" and float(r["load"]) == top
                     and r["policy"] == policy and r["stream"] == stream]
            values.append(match[0] if match else 0.0)
        ax.bar([s + i * width for s in range(len(streams))], values, width, label=policy, color=colours[i % len(colours)])
    ax.set_xticks([s + 0.4 - width / 2 for s in range(len(streams))], streams)
    ax.set_ylabel("accuracy")
    ax.set_title(f"per-stream accuracy, real runs at load {top:g}")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "edge_streams.png"), dpi=110)


if __name__ == "__main__":
    main()
