#!/usr/bin/python3
# Plots an `imprecise sweep` summary.csv: accuracy, miss ratio and drop ratio vs offered load, one line per policy.
"""Usage: plot_sweep.py SUMMARY_CSV OUT_DIR

Writes OUT_DIR/accuracy_vs_load.png, OUT_DIR/miss_ratio_vs_load.png and OUT_DIR/drop_ratio_vs_load.png.
Uses the Debian interpreter (/usr/bin/python3) because that is where python3-matplotlib is installed.
"""
import os
import sys

from imprecise_common import legend_outside, note_all_zero, policy_style, pyplot, read_csv_rows, x_offsets, zoom_limits

plt = pyplot()  # Agg: no display on build machines

FIGURES = [
    ("accuracy", "accuracy", "Accuracy (missed and dropped jobs count as wrong)"),
    ("miss_ratio", "miss ratio", "Deadline miss ratio"),
    ("drop_ratio", "drop ratio", "Drop (shed) ratio"),
]


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    summary, out_dir = argv[1], argv[2]
    rows = read_csv_rows(summary, "plot_sweep.py")
    os.makedirs(out_dir, exist_ok=True)
    scenario = rows[0].get("scenario", "")
    seeds = rows[0].get("seeds", "")

    # Keep the policies in the order the sweep ran them (first appearance), loads sorted.
    policies = []
    for row in rows:
        if row["policy"] not in policies:
            policies.append(row["policy"])

    loads = sorted({float(r["load"]) for r in rows})
    step = min(b - a for a, b in zip(loads, loads[1:])) if len(loads) > 1 else 1.0
    offsets = x_offsets(len(policies), 0.6 * step)  # policies that tie (e.g. at 0 misses) side by side

    for column, label, title in FIGURES:
        if column not in rows[0]:
            continue
        # Accuracy gets a second panel zoomed into the top cluster, where the planners and the best
        # baselines sit within a few points of each other.
        zoom = column == "accuracy"
        fig, axes = plt.subplots(1, 2 if zoom else 1, figsize=(12.5 if zoom else 8.0, 4.4), squeeze=False)
        axes = list(axes[0])
        for ax in axes:
            for index, policy in enumerate(policies):
                points = sorted(
                    (float(r["load"]), float(r[column])) for r in rows if r["policy"] == policy and r[column] != ""
                )
                if points:
                    ax.plot([p[0] + (0 if zoom else offsets[index]) for p in points], [p[1] for p in points],
                            markersize=5, label=policy, **policy_style(index))
            # Load 1.0: running every job to full depth exactly fills the device.
            ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
            ax.set_xlabel("offered load (1.0 = full depth fills the device)")
            ax.set_ylabel(label)
            ax.grid(True, alpha=0.3)
        if zoom:
            low, high = zoom_limits([float(r[column]) for r in rows if r[column] != ""])
            axes[1].set_ylim(low, high)
            axes[1].set_title("zoomed into the top", fontsize=10)
            axes[0].axhspan(low, high, color="grey", alpha=0.12, linewidth=0)
        else:
            top = max([float(r[column]) for r in rows if r[column] != ""] + [1e-3])
            axes[0].set_ylim(-0.03 * top, 1.08 * top)
            note_all_zero(axes[0], [p for p in policies
                                    if all(float(r[column]) == 0.0 for r in rows if r["policy"] == p and r[column] != "")])
            axes[0].axhline(0.0, color="grey", linewidth=0.8)
        heading = title if not scenario else f"{title}: {scenario}"
        if seeds:
            heading += f" ({seeds} seed{'s' if seeds != '1' else ''})"
        if not zoom:
            heading += "; markers offset per policy"
        axes[0].set_title(heading, fontsize=10)
        legend_outside(axes[-1])
        fig.tight_layout()
        path = os.path.join(out_dir, f"{column}_vs_load.png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv)
