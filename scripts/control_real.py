#!/usr/bin/env python3
"""Compares the controllers (issue 16) in real runs: `edge_server` serving the edge scenario on this machine.

For each round and workload (constant loads, a ramp, bursts) runs `edge_server` once with the controllers
static (every lane), aimd, model-based and sac, and once with the Triton-like static setting (one instance
per model: `--static-lanes 1`), all on the same jobs. Each run is real (the Engine, 10 s by default) and
simulated on the profiles measured while serving. Writes every run (real_runs.json) and a table of every
figure the controllers are scored by, one value per round (real_table.md). Needs the machine to itself:
about 4.5 minutes per round at the defaults.

  /usr/bin/python3 scripts/control_real.py --rounds 2 --out-dir docs/results/controllers
  /usr/bin/python3 scripts/control_real.py --table-from docs/results/controllers/real_runs.json   # table only
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control_sweep import CONTROLLERS  # noqa: E402  (one set of labels for both tables)

ORDER = ["static-1", "static", "aimd", "model-based", "sac"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--edge-server", default="build/default/bin/edge_server")
    p.add_argument("--policy", default="yao-dp")
    p.add_argument("--lanes", type=int, default=2)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--loads", default="2,4")
    p.add_argument("--schedules", default="ramp:0.5:4,bursts:1:4:2:0.5")
    p.add_argument("--actor", default="models/controllers/sac_actor.onnx")
    p.add_argument("--out-dir", default="docs/results/controllers")
    p.add_argument("--table-from", help="write the table from this real_runs.json and run nothing")
    return p.parse_args()


def run_edge_server(args, load_args, controller_args, out_dir):
    cmd = [args.edge_server, "--policies", args.policy, "--lanes", str(args.lanes), "--duration", str(args.duration),
           "--no-trace", "--actor", args.actor, "--out-dir", out_dir] + load_args + controller_args
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(os.path.join(out_dir, "results.json")) as f:
        return json.load(f)


def measure(args):
    workloads = [(f"load {l}", ["--loads", l]) for l in args.loads.split(",") if l]
    workloads += [(s, ["--loads", "1", "--load-schedule", s]) for s in args.schedules.split(",") if s]
    adaptive = ["--controllers", "static,aimd,model-based,sac"]
    triton_like = ["--controllers", "static", "--static-lanes", "1"]
    runs, setup = [], None
    started = datetime.datetime.now(datetime.timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(1, args.rounds + 1):
            for name, load_args in workloads:
                for controller_args in (adaptive, triton_like):
                    results = run_edge_server(args, load_args, controller_args, tmp)
                    setup = setup or results["setup"]
                    for run in results["runs"]:
                        label = "static-1" if controller_args is triton_like else run["controller"]
                        runs.append({"round": r, "workload": name, "controller": label, "real": run["slo"]["real"],
                                     "simulated_served_profiles": run["slo"]["simulated"]})
                print(f"round {r} {name:24s} done", file=sys.stderr, flush=True)
    ended = datetime.datetime.now(datetime.timezone.utc)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    code = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"machine": f"{os.cpu_count()} CPUs, {cpu}", "when": f"{started:%Y-%m-%d %H:%M}-{ended:%H:%M} UTC",
            "code": code, "command": " ".join(sys.argv), "setup": setup, "runs": runs}


def table(data):
    runs = data["runs"]
    kinds = ("load", "ramp", "bursts")  # constant loads first (by load), then the ramps, then the bursts
    workloads = sorted(dict.fromkeys(r["workload"] for r in runs),
                       key=lambda w: (next((i for i, k in enumerate(kinds) if w.startswith(k)), len(kinds)), w))
    lines = [f"Real runs ({data['machine']}; {data['when']}; code {data['code']}): `edge_server`, one value per "
             "round, in the rounds' order. U_acc: accuracy-weighted SloUtility, the controllers' "
             "objective; [sim]: the simulator on the profiles measured while serving, same jobs; U: plain "
             "(throughput vs latency). Decision: the controller's, p50 / p99 over the run's intervals.",
             "",
             "| workload | controller | rounds | U_acc [sim] | U | accuracy | SLO violations | p99 latency (ms) | "
             "throughput (/s) | decision p50, p99 (µs) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for w in workloads:
        for c in ORDER:
            rows = sorted((r for r in runs if r["workload"] == w and r["controller"] == c), key=lambda r: r["round"])
            if not rows:
                continue

            def each(fmt, key, rows=rows):
                return " / ".join(fmt.format(r["real"][key]) for r in rows)
            sim = " / ".join(f"{r['simulated_served_profiles']['utility_accuracy']:.3f}" for r in rows)
            violations = " / ".join(f"{100 * r['real']['slo_violations']:.1f} %" for r in rows)
            decision = " / ".join(f"{r['real']['decision_p50_us']:.1f}, {r['real']['decision_p99_us']:.1f}" for r in rows)
            which = ", ".join(str(r["round"]) for r in rows)
            lines.append(f"| {w} | {CONTROLLERS[c][0]} | {which} | {each('{:.3f}', 'utility_accuracy')} [{sim}] | "
                         f"{each('{:.3f}', 'utility')} | {each('{:.3f}', 'accuracy')} | "
                         f"{violations} | "
                         f"{each('{:.1f}', 'latency_p99_ms')} | {each('{:.0f}', 'throughput_per_s')} | {decision} |")
    return "\n".join(lines) + "\n"


def main():
    args = parse_args()
    if args.table_from:
        with open(args.table_from) as f:
            data = json.load(f)
        out_dir = os.path.dirname(args.table_from) or "."
    else:
        data = measure(args)
        out_dir = args.out_dir
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "real_runs.json"), "w") as f:
            json.dump(data, f, indent=1)
    text = table(data)
    with open(os.path.join(out_dir, "real_table.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
