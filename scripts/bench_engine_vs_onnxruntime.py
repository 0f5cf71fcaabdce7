#!/usr/bin/env python3
"""Side by side: our engine (engine_bench: the cpu and onednn backends) and ONNX Runtime (npm
onnxruntime-node, CPU) on the same ONNX files and inputs, whole model, 1 and 2 threads, batch 1, 8, 32.

ONNX Runtime is timed through Node: each call carries the binding's overhead, measured on a model that
does (almost) nothing (tests/fixtures/nn/op_relu.onnx, 12 floats) and subtracted ("ORT net"). Ratios
are ORT net / ours: > 1 means ours is faster. Writes docs/results/engine_vs_onnxruntime.md.

Run from the repository root after building engine_bench and the CLI (used to read input shapes):
    cmake --build build/default -j2 --target engine_bench imprecise_cli
    python3 scripts/bench_engine_vs_onnxruntime.py
onnxruntime-node is installed by this script into build/ort-bench (ignored by git; benchmark only).
"""
import argparse
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIPELINE = ["vision", "voice", "lidar"]
FIXTURES = ["cnn3", "resnet_skip", "audio1d", "pointnet", "mobilenet_exits"]
BATCHES = [1, 8, 32]


def model_path(name):
    fixture = os.path.join(ROOT, "tests", "fixtures", "nn", name + ".onnx")
    return fixture if os.path.exists(fixture) else os.path.join(ROOT, "models", name + ".onnx")


def sample_shape(cli, path):
    info = json.loads(subprocess.run([cli, "inspect", path], check=True, capture_output=True, text=True).stdout)
    return info["input"]["shape"][1:]


def install_ort(folder):
    module = os.path.join(folder, "node_modules", "onnxruntime-node")
    if not os.path.exists(module):
        os.makedirs(folder, exist_ok=True)
        # --ignore-scripts: the CPU build ships in the package; its install script only fetches CUDA parts.
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "onnxruntime-node"],
                       cwd=folder, check=True)
    return module


def run_ort(module, models, threads, rounds):
    config = {"models": models, "threads": threads, "batches": BATCHES, "rounds": rounds, "min_round_s": 0.2}
    env = dict(os.environ, ORT_MODULE=module)
    out = subprocess.run(["node", os.path.join(ROOT, "scripts", "bench_onnxruntime.mjs"), json.dumps(config)],
                         check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


def run_engine(bench, backend, threads, names, rounds):
    env = dict(os.environ, IMPRECISE_BENCH_BACKEND=backend, IMPRECISE_ONEDNN_THREADS=str(threads))
    pattern = "engine/(" + "|".join(names) + ")/whole/"
    out = subprocess.run([bench, f"--benchmark_filter={pattern}", "--benchmark_format=json",
                          f"--benchmark_repetitions={rounds}", "--benchmark_report_aggregates_only=true",
                          "--benchmark_min_time=0.2"], check=True, capture_output=True, text=True, env=env)
    rows = {}
    for b in json.loads(out.stdout)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        parts = b["run_name"].split("/")  # engine/<model>/whole/batch:<b>/manual_time
        rows[(parts[1], int(parts[3].split(":")[1]))] = b["real_time"]  # microseconds (Unit kMicrosecond)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "default", "benchmarks", "engine_bench"))
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "default", "bin", "imprecise"))
    ap.add_argument("--ort-dir", default=os.path.join(ROOT, "build", "ort-bench"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "results", "engine_vs_onnxruntime.md"))
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    names = PIPELINE + FIXTURES
    module = install_ort(args.ort_dir)
    load_before = os.getloadavg()[0]

    models = [{"name": n, "path": model_path(n), "sample_shape": sample_shape(args.cli, model_path(n))} for n in names]
    models.append({"name": "empty", "path": model_path("op_relu"), "sample_shape": [3, 4]})
    ort = run_ort(module, models, threads, args.rounds)
    ort_us = {(r["name"], r["threads"], r["batch"]): r["us"] for r in ort["rows"]}
    ours = {("cpu", 1): run_engine(args.bench, "cpu", 1, names, args.rounds)}  # the cpu backend has one thread
    for t in threads:
        ours[("onednn", t)] = run_engine(args.bench, "onednn", t, names, args.rounds)

    cpu_model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [
        "<!-- written by scripts/bench_engine_vs_onnxruntime.py -->",
        "# Our engine vs ONNX Runtime (CPU)",
        "",
        f"Machine: {cpu_model}, {os.cpu_count()} vCPUs, {platform.platform()}; 1-minute load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after (a shared machine: compare within one run). "
        f"ONNX Runtime {ort['version']} (npm onnxruntime-node, through Node). Ours: engine_bench, whole model "
        f"(every stage), median of {args.rounds}; ORT: median of {args.rounds} rounds of >= 0.2 s.",
        "",
        "ORT's binding overhead per call (a 12-float Relu model): " +
        ", ".join(f"{ort_us[('empty', t, 1)]:.1f} us at {t} thread(s)" for t in threads) +
        "; subtracted in \"ORT net\". Ratio = ORT net / onednn (> 1: ours is faster). "
        "The cpu backend (Eigen reference) is single-threaded: its column is the same at every thread count.",
        "",
    ]
    for t in threads:
        lines += [f"## {t} thread(s)", "",
                  "| model | batch | cpu µs | onednn µs | ORT µs | ORT net µs | ratio | onednn µs/sample |",
                  "|---|---|---|---|---|---|---|---|"]
        for n in names:
            for b in BATCHES:
                cpu = ours[("cpu", 1)].get((n, b))
                one = ours[("onednn", t)].get((n, b))
                raw = ort_us.get((n, t, b))
                if cpu is None or one is None or raw is None:
                    continue
                net = max(raw - ort_us[("empty", t, 1)], 0.0)
                lines.append(f"| {n} | {b} | {cpu:,.1f} | {one:,.1f} | {raw:,.1f} | {net:,.1f} | {net / one:.2f}x | "
                             f"{one / b:,.1f} |")
        lines.append("")
    lines += ["## Batching (onednn, 1 thread): cost per sample at batch 32 / batch 1", "",
              "| model | batch 1 µs/sample | batch 32 µs/sample | ratio |", "|---|---|---|---|"]
    for n in names:
        one, many = ours[("onednn", threads[0])].get((n, 1)), ours[("onednn", threads[0])].get((n, 32))
        if one and many:
            lines.append(f"| {n} | {one:,.1f} | {many / 32:,.1f} | {many / 32 / one:.2f} |")
    lines.append("")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
