#!/usr/bin/python3
# Plots the edge-server experiment (examples/edge_server results.csv): real runs vs the simulator.
"""Usage: plot_edge_server.py RESULTS_CSV OUT_DIR

Writes OUT_DIR/edge_accuracy_vs_load.png (accuracy and miss ratio vs load, one colour per policy,
solid = real run, dashed = simulator on the same jobs with the profiles measured while serving) and OUT_DIR/edge_streams.png (per-stream
accuracy of each policy at the highest load). Uses /usr/bin/python3 (Debian's python3-matplotlib).
"""
import os
import sys

from imprecise_common import legend_outside, note_all_zero, policy_style, pyplot, read_csv_rows, x_offsets, zoom_limits

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
    # Policies that tie (e.g. several at zero misses) are drawn side by side, not on top of each other.
    step = min(b - a for a, b in zip(loads, loads[1:])) if len(loads) > 1 else 1.0
    offsets = x_offsets(len(policies), 0.25 * step)

    def series(policy, source, metric):
        return sorted((float(r["load"]), float(r[metric])) for r in rows
                      if r["policy"] == policy and r["source"] == source and r["stream"] == "total")

    # Three panels: accuracy over its whole range, the same zoomed into the top cluster (where the
    # planners and the best baselines sit within a few points), and the miss ratio.
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    panels = (("accuracy", axes[0], "Accuracy (missed/shed count as wrong)"),
              ("accuracy", axes[1], "Accuracy, zoomed into the top"),
              ("miss_ratio", axes[2], "Deadline miss ratio"))
    for metric, ax, title in panels:
        for i, policy in enumerate(policies):
            for source, dashes, alpha in (("real", "-", 1.0), ("simulated", "--", 0.6)):
                points = series(policy, source, metric)
                if points:
                    style = policy_style(i)
                    ax.plot([p[0] + offsets[i] for p in points], [p[1] for p in points], linestyle=dashes,
                            marker=style["marker"], color=colours[i % len(colours)], alpha=alpha, markersize=5,
                            fillstyle="full" if source == "real" else "none",
                            label=policy if source == "real" else None)
        ax.set_xticks(loads, [f"{x:g}" for x in loads])
        ax.set_xlabel("offered load (1 = full depth fills the device)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    values = [float(r["accuracy"]) for r in rows if r["stream"] == "total"]
    low, high = zoom_limits(values, band=0.05)
    axes[1].set_ylim(low, high)
    axes[0].axhspan(low, high, color="grey", alpha=0.12, linewidth=0)  # the zoomed band
    axes[2].set_ylim(bottom=-0.02)
    note_all_zero(axes[2], [p for p in policies if all(v == 0.0 for _, v in series(p, "real", "miss_ratio"))])
    axes[2].axhline(0.0, color="grey", linewidth=0.8)
    legend_outside(axes[2], title="solid/filled: real\ndashed/open: simulated")
    fig.suptitle("edge server: real runs vs simulator on the same jobs (markers offset per policy where they tie)")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "edge_accuracy_vs_load.png"), dpi=110)

    top = loads[-1]
    streams = [r["stream"] for r in rows if r["source"] == "real" and float(r["load"]) == top
               and r["policy"] == policies[0] and r["stream"] != "total"]
    fig, ax = plt.subplots(figsize=(12, 4.4))
    width = 0.8 / max(1, len(policies))
    for i, policy in enumerate(policies):
        values = []
        for stream in streams:
            match = [float(r["accuracy"]) for r in rows if r["source"] == "real" and float(r["load"]) == top
                     and r["policy"] == policy and r["stream"] == stream]
            values.append(match[0] if match else 0.0)
        xs = [s + i * width for s in range(len(streams))]
        ax.bar(xs, values, width, label=policy, color=colours[i % len(colours)])
        for x, v in zip(xs, values):
            # Every bar gets its value; a zero bar, invisible otherwise, gets a marker on the axis.
            if v < 0.005:
                ax.plot([x], [0.0], marker="x", color=colours[i % len(colours)], markersize=8, clip_on=False)
                ax.text(x, 0.03, "0", ha="center", va="bottom", fontsize=7, color="black")
            else:
                ax.text(x, v + 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_xticks([s + 0.4 - width / 2 for s in range(len(streams))], streams)
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.12)
    ax.set_title(f"per-stream accuracy, real runs at load {top:g} (x and 0: no job answered right)")
    legend_outside(ax)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "edge_streams.png"), dpi=110)


if __name__ == "__main__":
    main()
