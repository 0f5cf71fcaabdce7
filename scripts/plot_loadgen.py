#!/usr/bin/env python3
"""Plots and tables of `imprecise loadgen` runs (python3-matplotlib).

    plot_loadgen.py [--in-process RESULTS.json] [--policy yao-dp] --out DIR LOADGEN.json...

Writes DIR/loadgen_summary.json (each run's figures, without the per-request rows), DIR/loadgen_latency.png (end-to-end latency CDF of the completed requests, per run) and, for runs made
with --scenario at several loads, DIR/network_vs_in_process.png and DIR/comparison.md: accuracy, miss and
shed ratios and p99 latency per load over the network next to the in-process edge_server run (its
results.json) of the same scenario, loads and duration.
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path) as f:
        return json.load(f)


def label_of(run, path):
    setup = run["setup"]
    if "load" in setup:
        return f"load {setup['load']:g}"
    return setup.get("pattern", os.path.basename(path))


def latency_cdf(runs, out):
    fig, ax = plt.subplots(figsize=(6, 4))
    for path, run in runs:
        col = run["request_columns"]
        code, latency = col.index("code"), col.index("latency_us")
        lat = sorted(r[latency] / 1e3 for r in run["requests"] if r[code] == 0)
        if lat:
            ax.plot(lat, [(i + 1) / len(lat) for i in range(len(lat))], label=label_of(run, path))
    ax.set_xlabel("end-to-end latency of completed requests (ms, client-measured)")
    ax.set_ylabel("fraction")
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "loadgen_latency.png"), dpi=120)


def in_process_by_load(path, policy):
    rows = {}
    for run in read(path)["runs"]:
        if run["policy"] == policy:
            rows[float(run["load"])] = run["real"]
    return rows


def comparison(runs, in_process, policy, out):
    net = {float(run["setup"]["load"]): run["total"] for _, run in runs if "load" in run["setup"]}
    loads = sorted(net)
    lines = [
        f"Policy {policy}. Network: `imprecise serve` + `imprecise loadgen` processes over gRPC on loopback. "
        "In-process: `edge_server` (Engine::submit) on the same jobs.",
        "",
        "| load | accuracy in-process | accuracy network | difference (points) | miss in-process | miss network "
        "| of which in transit | shed in-process | shed network | p99 ms in-process | p99 ms network "
        "| wire p50 / p99 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for load in loads:
        n = net[load]
        i = in_process.get(load)
        transit = n.get("missed_in_transit", 0) / max(n["requests"], 1)
        # The way there and back (client latency less send lag less the server's time); older files lack it.
        wire = f"{n['wire_p50_ms']:.2f} / {n['wire_p99_ms']:.2f}" if "wire_p99_ms" in n else "-"
        if i is None:
            lines.append(f"| {load:g} | - | {n['accuracy']:.4f} | - | - | {n['miss_ratio']:.4f} | {transit:.4f} | - "
                         f"| {n['shed_ratio']:.4f} | - | {n['latency_p99_ms']:.1f} | {wire} |")
            continue
        diff = 100.0 * (n["accuracy"] - i["accuracy"])
        lines.append(f"| {load:g} | {i['accuracy']:.4f} | {n['accuracy']:.4f} | {diff:+.1f} | {i['miss_ratio']:.4f} "
                     f"| {n['miss_ratio']:.4f} | {transit:.4f} | {i['drop_ratio']:.4f} | {n['shed_ratio']:.4f} "
                     f"| {i['latency_p99_ms']:.1f} | {n['latency_p99_ms']:.1f} | {wire} |")
    lines += ["", "Per stream (accuracy / miss ratio):", "",
              "| load | stream | in-process | network | difference (points) |", "|---:|---|---:|---:|---:|"]
    for load in loads:
        run = next(r for _, r in runs if float(r["setup"].get("load", -1)) == load)
        inproc = {s["name"]: s for s in in_process.get(load, {}).get("streams", [])}
        for s in run["streams"]:
            i = inproc.get(s["name"])
            if i is None:
                continue
            lines.append(f"| {load:g} | {s['name']} | {i['accuracy']:.4f} / {i['miss_ratio']:.4f} "
                         f"| {s['accuracy']:.4f} / {s['miss_ratio']:.4f} | {100 * (s['accuracy'] - i['accuracy']):+.1f} |")
    with open(os.path.join(out, "comparison.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, (key_net, key_in, title) in zip(axes, [("accuracy", "accuracy", "accuracy"),
                                                   ("miss_ratio", "miss_ratio", "miss ratio"),
                                                   ("shed_ratio", "drop_ratio", "shed ratio")]):
        ax.plot(loads, [net[l][key_net] for l in loads], "o-", label="network (gRPC)")
        have = [l for l in loads if l in in_process]
        ax.plot(have, [in_process[l][key_in] for l in have], "s--", label="in-process")
        ax.set_xlabel("offered load")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "network_vs_in_process.png"), dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="loadgen --out JSON files")
    parser.add_argument("--in-process", help="edge_server results.json of the same scenario and loads")
    parser.add_argument("--policy", default="yao-dp")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    runs = []
    for path in args.runs:
        run = read(path)
        if "requests" not in run or "total" not in run:
            sys.exit(f"plot_loadgen.py: {path}: not a loadgen output")
        runs.append((path, run))
    runs.sort(key=lambda pr: pr[1]["setup"].get("load", 0))
    latency_cdf(runs, args.out)
    # The figures without the per-request rows (tens of thousands at load 2), small enough to commit.
    summary = [{k: v for k, v in run.items() if k not in ("requests", "request_columns")} for _, run in runs]
    with open(os.path.join(args.out, "loadgen_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if args.in_process:
        comparison(runs, in_process_by_load(args.in_process, args.policy), args.policy, args.out)


if __name__ == "__main__":
    main()
