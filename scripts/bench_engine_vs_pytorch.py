#!/usr/bin/python3
"""Latency of our inference engine (cpu backend) against PyTorch eager on the same fixture networks.

One run, one machine: engine_bench (Google Benchmark, all rows, median of repetitions) for our engine,
then PyTorch 1.13 eager on the same modules rebuilt from scripts/make_fixtures.py with the seeds it
used (checked against the fixtures' reference outputs before anything is timed). Writes
    docs/results/engine_bench.txt     engine_bench's console table (per stage and whole model)
    docs/results/engine_bench.md      the per-stage medians as markdown
    docs/results/engine_vs_pytorch.md whole model (all exits), batch 1/8/32, ours vs PyTorch
Our cpu backend runs on one thread (Eigen without OpenMP), so the fair row is threads=1; PyTorch at 2
threads is shown beside it for reference. Run from the repo root after building engine_bench:
    cmake --build build/h6 -j2 --target engine_bench
    /usr/bin/python3 scripts/bench_engine_vs_pytorch.py --bench build/h6/benchmarks/engine_bench
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import make_fixtures as mf  # noqa: E402  (the module definitions the fixtures were exported from)

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "nn")
RESULTS = os.path.join(ROOT, "docs", "results")
BATCHES = (1, 8, 32)
# (fixture name, module class, torch seed before construction): as in make_fixtures.model_fixtures().
MODELS = (("cnn3", mf.Cnn3, 2), ("resnet_skip", mf.ResNetSkip, 3), ("audio1d", mf.Audio1d, 4),
          ("pointnet", mf.PointNet, 5))


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def batch_of(inputs, b):
    """b samples cycling through the fixture's 8, as engine_bench builds its jobs."""
    idx = np.arange(b) % inputs.shape[0]
    return torch.from_numpy(np.ascontiguousarray(inputs[idx]))


def rebuild(name, cls, seed):
    """The fixture's PyTorch module, verified to reproduce the fixture's reference exits."""
    torch.manual_seed(seed)
    model = cls().eval()
    x = np.load(os.path.join(FIXTURES, name + ".input.npy"))
    with torch.inference_mode():
        outs = model(torch.from_numpy(x))
    for k, out in enumerate(outs):
        ref = np.load(os.path.join(FIXTURES, f"{name}.exit{k}.npy"))
        err = float(np.max(np.abs(out.numpy() - ref)))
        if err > 1e-5:
            sys.exit(f"{name}: exit {k} differs from the fixture by {err:g}; not the same network")
    return model, x, len(outs)


def time_torch(model, x, min_round_s, rounds):
    """Median over rounds of the mean per-call time (us) of model(x), like engine_bench's median."""
    with torch.inference_mode():
        for _ in range(10):
            model(x)
        t0 = time.perf_counter()
        n = 0
        while time.perf_counter() - t0 < 0.05:
            model(x)
            n += 1
        per_round = max(1, int(n * min_round_s / 0.05))
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter_ns()
            for _ in range(per_round):
                model(x)
            samples.append((time.perf_counter_ns() - t0) / per_round / 1e3)
    return statistics.median(samples)


def run_engine_bench(bench, min_time, reps):
    """Every engine_bench row; returns ({name: median us}, console text)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    env = dict(os.environ, OMP_NUM_THREADS="1")  # no effect today (no OpenMP); pins it if that changes
    cmd = [bench, f"--benchmark_min_time={min_time}", f"--benchmark_repetitions={reps}",
           "--benchmark_report_aggregates_only=true", f"--benchmark_out={out}", "--benchmark_out_format=json"]
    console = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True).stdout
    with open(out) as f:
        data = json.load(f)
    os.unlink(out)
    medians = {}
    for row in data["benchmarks"]:
        if row.get("aggregate_name") == "median":
            assert row["time_unit"] == "us", row
            medians[row["run_name"].removesuffix("/manual_time")] = row["real_time"]
    return medians, console, data["context"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "h6", "benchmarks", "engine_bench"))
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per repetition / round")
    ap.add_argument("--reps", type=int, default=7, help="repetitions (engine) and rounds (PyTorch)")
    ap.add_argument("--out", default=RESULTS)
    ap.add_argument("--threads", default="1,2", help="PyTorch thread counts (ours is always 1)")
    args = ap.parse_args()

    thread_counts = [int(t) for t in args.threads.split(",")]
    load_before = os.getloadavg()[0]
    torch.set_num_interop_threads(1)
    rebuilt = [(name,) + rebuild(name, cls, seed) for name, cls, seed in MODELS]
    print("PyTorch modules reproduce the fixture exits (max abs error <= 1e-5)")

    ours, console, context = run_engine_bench(args.bench, args.min_time, args.reps)
    theirs = {}
    for name, model, x, _ in rebuilt:
        for threads in thread_counts:
            torch.set_num_threads(threads)
            for b in BATCHES:
                theirs[(name, b, threads)] = time_torch(model, batch_of(x, b), args.min_time, args.reps)
                print(f"pytorch {name} batch {b} threads {threads}: {theirs[(name, b, threads)]:.1f} us")

    os.makedirs(args.out, exist_ok=True)
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    where = machine()
    # Other processes on a 2-CPU machine make multi-threaded PyTorch (OpenMP barriers) erratic: say how busy it was.
    header = (f"Measured {when} on {where}; {context.get('num_cpus')} CPUs at {context.get('mhz_per_cpu')} MHz "
              f"(engine_bench context); 1-minute load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} "
              f"after. Medians of {args.reps} repetitions of >= {args.min_time} s each.\n")
    with open(os.path.join(args.out, "engine_bench.txt"), "w") as f:
        f.write(f"# engine_bench (cpu backend, max_batch 32): {header}")
        f.write(f"# {os.path.relpath(args.bench, ROOT)} --benchmark_min_time={args.min_time} "
                f"--benchmark_repetitions={args.reps} --benchmark_report_aggregates_only=true\n")
        f.write(console)

    with open(os.path.join(args.out, "engine_bench.md"), "w") as f:
        f.write("<!-- engine_bench per-stage latency; written by scripts/bench_engine_vs_pytorch.py -->\n")
        f.write("# Inference engine latency per stage (cpu backend)\n\n")
        f.write(header + "\n")
        f.write("Time of `run_stage(k, jobs)` for a batch of jobs that finished k stages (stacking the "
                "jobs' carried tensors, the stage's kernels, copying carried tensors back, softmax and "
                "confidence per exit); `whole` = every stage back to back. Microseconds; per sample in "
                "parentheses.\n\n")
        f.write("| model | stage | " + " | ".join(f"batch {b}" for b in BATCHES) + " |\n")
        f.write("|---|---|" + "---:|" * len(BATCHES) + "\n")
        for name, _, _, stages in rebuilt:
            for k in [str(i) for i in range(stages)] + ["whole"]:
                cells = []
                for b in BATCHES:
                    key = f"engine/{name}/{'stage:' + k if k != 'whole' else 'whole'}/batch:{b}"
                    us = ours[key]
                    cells.append(f"{us:.1f} ({us / b:.2f})")
                f.write(f"| {name} | {k} | " + " | ".join(cells) + " |\n")

    missed = {1: [], 32: []}  # models that miss the target at that batch (threads=1)
    rows = []
    for name, _, _, _ in rebuilt:
        for b in BATCHES:
            mine = ours[f"engine/{name}/whole/batch:{b}"]
            for threads in thread_counts:
                ratio = theirs[(name, b, threads)] / mine
                if threads == 1 and b in missed and ratio < (2.0 if b == 1 else 1.0):
                    missed[b].append(f"{name} {ratio:.2f}x")
                rows.append(f"| {name} | {b} | {mine / 1e3:.4f} | {theirs[(name, b, threads)] / 1e3:.4f} | "
                            f"{ratio:.2f} | ours 1, PyTorch {threads} |")
    with open(os.path.join(args.out, "engine_vs_pytorch.md"), "w") as f:
        f.write("<!-- engine vs PyTorch eager; written by scripts/bench_engine_vs_pytorch.py -->\n")
        f.write("# Inference engine vs PyTorch eager (whole model, all exits)\n\n")
        f.write(header)
        f.write(f"PyTorch {torch.__version__} eager, `torch.inference_mode()`, modules rebuilt from "
                "scripts/make_fixtures.py and checked against the fixtures' reference outputs; ours = "
                "engine_bench `whole` rows (cpu backend, Eigen, single-threaded: no OpenMP, so our thread "
                "count is always 1). Ours also computes softmax + confidence for every exit; PyTorch only the "
                "logits. ratio = PyTorch / ours (> 1: we are faster). Latency in ms per batch.\n\n")
        f.write("| model | batch | ours ms | PyTorch ms | ratio | threads |\n")
        f.write("|---|---:|---:|---:|---:|---|\n")
        f.write("\n".join(rows) + "\n\n")
        verdict = {b: "met by every model" if not m else "NOT met by " + ", ".join(m) for b, m in missed.items()}
        f.write(f"Targets (issue), at equal thread count (1): ratio >= 2 at batch 1: {verdict[1]}; "
                f"ratio >= 1 at batch 32: {verdict[32]}.\n\n")
        f.write(f"Rerun: `/usr/bin/python3 scripts/bench_engine_vs_pytorch.py --bench "
                f"{os.path.relpath(args.bench, ROOT)}`\n")
    print(open(os.path.join(args.out, "engine_vs_pytorch.md")).read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
