#!/usr/bin/env python3
"""Compares the controllers (issue 16) in the simulator on the edge-server scenario.

For each controller, each offered load (constant, and loads that change over time: a ramp and bursts)
and each seed, runs `imprecise simulate` with the same policy and lanes and reports what every
controller is scored by: SloUtility (accuracy-weighted, the controllers' objective, and the plain
throughput-vs-latency one), accuracy, SLO violations, p99 latency, throughput and the controller's
decision time (p50/p99). Writes a JSON of every run, a markdown table of means over seeds and a plot.

  /usr/bin/python3 scripts/control_sweep.py --out-dir docs/results/controllers
"""
import argparse
import json
import os
import subprocess
import sys

CONTROLLERS = {
    # name: (label, extra CLI arguments)
    "static-1": ("static, 1 instance per model (Triton-like)", ["--controller", "static", "--static-lanes", "1"]),
    "static": ("static, every lane", ["--controller", "static"]),
    "aimd": ("aimd (Clipper)", ["--controller", "aimd"]),
    "model-based": ("model-based (ours)", ["--controller", "model-based"]),
    "sac": ("sac (learned)", ["--controller", "sac"]),
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cli", default="build/default/bin/imprecise")
    p.add_argument("--scenario", default="scenarios/edge_server.json")
    p.add_argument("--policy", default="yao-dp")
    p.add_argument("--lanes", type=int, default=2)
    p.add_argument("--loads", default="1,2,3,4")
    p.add_argument("--schedules", default="ramp:0.5:4,bursts:1:4:2:0.5")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--controllers", default=",".join(CONTROLLERS))
    p.add_argument("--actor", default="models/controllers/sac_actor.onnx")
    p.add_argument("--out-dir", default="docs/results/controllers")
    return p.parse_args()


def run(args, controller, load_args, seed, out):
    cmd = [args.cli, "simulate", "--scenario", args.scenario, "--policy", args.policy, "--lanes", str(args.lanes),
           "--duration", str(args.duration), "--seed", str(seed), "--json", out] + load_args
    cmd += CONTROLLERS[controller][1]
    if controller == "sac":
        cmd += ["--actor", args.actor]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(out) as f:
        return json.load(f)


def main():
    args = parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    workloads = [(f"load {l}", ["--load", l]) for l in args.loads.split(",") if l]
    workloads += [(s, ["--load", "1", "--load-schedule", s]) for s in args.schedules.split(",") if s]
    controllers = [c for c in args.controllers.split(",") if c]
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = []
    tmp = os.path.join(args.out_dir, ".run.json")
    for name, load_args in workloads:
        for controller in controllers:
            for seed in seeds:
                r = run(args, controller, load_args, seed, tmp)
                slo = r["slo"]
                runs.append({"workload": name, "controller": controller, "seed": seed, **{k: slo[k] for k in (
                    "utility_accuracy", "utility", "accuracy", "slo_violations", "latency_p99_ms", "throughput_per_s",
                    "decision_p50_us", "decision_p99_us")}})
            print(f"{name:24s} {controller:12s} done", file=sys.stderr, flush=True)
    os.remove(tmp)
    with open(os.path.join(args.out_dir, "runs.json"), "w") as f:
        json.dump({"settings": vars(args), "runs": runs}, f, indent=1)

    def mean(rows, key):
        return sum(r[key] for r in rows) / len(rows)

    lines = [f"Policy `{args.policy}`, {args.lanes} lanes, `{args.scenario}`, {args.duration:g} s per run, "
             f"mean of seeds {args.seeds}. U_acc: accuracy-weighted SloUtility (the controllers' objective); "
             "U: plain (throughput vs latency). Decision: the controller's, p50 / p99 over the run's intervals.",
             "",
             "| workload | controller | U_acc | U | accuracy | SLO violations | p99 latency (ms) | throughput (/s) | decision p50 / p99 (µs) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, _ in workloads:
        base = [r for r in runs if r["workload"] == name and r["controller"] == "static-1"]
        for controller in controllers:
            rows = [r for r in runs if r["workload"] == name and r["controller"] == controller]
            gain = ""
            if base and controller != "static-1":
                gain = f" ({100 * (mean(rows, 'utility_accuracy') / mean(base, 'utility_accuracy') - 1):+.1f} %)"
            lines.append(f"| {name} | {CONTROLLERS[controller][0]} | {mean(rows, 'utility_accuracy'):.3f}{gain} | "
                         f"{mean(rows, 'utility'):.3f} | {mean(rows, 'accuracy'):.3f} | {mean(rows, 'slo_violations'):.4f} | "
                         f"{mean(rows, 'latency_p99_ms'):.1f} | {mean(rows, 'throughput_per_s'):.0f} | "
                         f"{mean(rows, 'decision_p50_us'):.1f} / {mean(rows, 'decision_p99_us'):.1f} |")
    with open(os.path.join(args.out_dir, "table.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    plot(runs, workloads, controllers, os.path.join(args.out_dir, "controllers.png"))


def plot(runs, workloads, controllers, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    names = [w for w, _ in workloads]
    width = 0.8 / len(controllers)
    for k, (key, title) in enumerate([("utility_accuracy", "accuracy-weighted SloUtility"),
                                      ("slo_violations", "SLO violations")]):
        ax = axes[k]
        for i, c in enumerate(controllers):
            vals = []
            for w in names:
                rows = [r[key] for r in runs if r["workload"] == w and r["controller"] == c]
                vals.append(sum(rows) / len(rows))
            ax.bar([x + i * width for x in range(len(names))], vals, width, label=CONTROLLERS[c][0])
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(names))])
        ax.set_xticklabels(names, rotation=20, fontsize=8)
        ax.set_title(title)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
