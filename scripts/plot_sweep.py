#!/usr/bin/python3
# Plots an `imprecise sweep` summary.csv: accuracy, miss ratio and drop ratio vs offered load, one line per policy.
"""Usage: plot_sweep.py SUMMARY_CSV OUT_DIR

Writes OUT_DIR/accuracy_vs_load.png, OUT_DIR/miss_ratio_vs_load.png and OUT_DIR/drop_ratio_vs_load.png.
Uses the Debian interpreter (/usr/bin/python3) because that is where python3-matplotlib is installed.
"""
import os
import sys

from imprecise_common import pyplot, read_csv_rows

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

    for column, label, title in FIGURES:
        if column not in rows[0]:
            continue
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        # Distinct markers and dashes keep policies that tie (e.g. yao-dp and density) visible.
        markers = "osD^v<>xP*"
        dashes = ["-", "--", "-.", ":"]
        for index, policy in enumerate(policies):
            points = sorted(
                (float(r["load"]), float(r[column])) for r in rows if r["policy"] == policy and r[column] != ""
            )
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker=markers[index % len(markers)],
                        linestyle=dashes[index % len(dashes)], markersize=5, label=policy)
        # Load 1.0: running every job to full depth exactly fills the device.
        ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("offered load (1.0 = full depth fills the device)")
        ax.set_ylabel(label)
        if column != "accuracy":
            ax.set_ylim(bottom=0)
        heading = title if not scenario else f"{title}: {scenario}"
        if seeds:
            heading += f" ({seeds} seed{'s' if seeds != '1' else ''})"
        ax.set_title(heading, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = os.path.join(out_dir, f"{column}_vs_load.png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv)
