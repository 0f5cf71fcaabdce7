#!/usr/bin/python3
"""Latency of our inference engine (cpu backend) against PyTorch eager on the same fixture networks.

One run, one machine, interleaved: every round runs engine_bench (Google Benchmark, all rows, one
repetition) and then PyTorch 1.13 eager on the same modules rebuilt from scripts/make_fixtures.py with
the seeds it used (checked against the fixtures' reference outputs before anything is timed), the order
flipped every other round, so that load from other processes (this is a 2-CPU machine, often shared)
hits both sides alike. Reported: medians over rounds of each side's time and of the per-round ratio.
Writes
    docs/results/engine_bench.txt     per-row medians / min / max over rounds (per stage and whole model)
    docs/results/engine_bench.md      the per-stage medians as markdown
    docs/results/engine_vs_pytorch.md whole model (all exits), batch 1/8/32, ours vs PyTorch
(with --isa generic: engine_bench_generic.txt/.md and engine_vs_pytorch_generic.md)
Our cpu backend runs on one thread (no OpenMP), so the fair comparison is PyTorch at threads=1; add
--threads 1,2 for PyTorch at 2 threads beside it. Which convolution kernels ran is reported: the cpu
backend picks AVX2+FMA at run time where the CPU has them (--isa generic sets IMPRECISE_CPU_ISA=generic
to time the portable kernels instead). Run from the repo root after building engine_bench:
    cmake --preset default && cmake --build build/default -j2 --target engine_bench
    /usr/bin/python3 scripts/bench_engine_vs_pytorch.py --bench build/default/benchmarks/engine_bench
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
    vm = " (virtual machine)" if "hypervisor" in cpu_flags() else ""
    return f"{cpu}, {os.cpu_count()} logical CPUs{vm}, {platform.system()} {platform.release()}"


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
    """Median over rounds of the mean per-call wall time and thread CPU time (us) of model(x), like
    engine_bench's rows. The CPU time is this thread's only: meaningful at torch threads = 1."""
    with torch.inference_mode():
        for _ in range(10):
            model(x)
        t0 = time.perf_counter()
        n = 0
        while time.perf_counter() - t0 < 0.05:
            model(x)
            n += 1
        per_round = max(1, int(n * min_round_s / 0.05))
        wall, cpu = [], []
        for _ in range(rounds):
            c0 = time.thread_time_ns()
            t0 = time.perf_counter_ns()
            for _ in range(per_round):
                model(x)
            wall.append((time.perf_counter_ns() - t0) / per_round / 1e3)
            cpu.append((time.thread_time_ns() - c0) / per_round / 1e3)
    return statistics.median(wall), statistics.median(cpu)


def run_engine_bench(bench, min_time, env):
    """One repetition of every engine_bench row; returns ({name: wall us}, {name: thread CPU us}, context)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [bench, f"--benchmark_min_time={min_time}", f"--benchmark_out={out}", "--benchmark_out_format=json"]
    subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
    with open(out) as f:
        data = json.load(f)
    os.unlink(out)
    times, cpu = {}, {}
    for row in data["benchmarks"]:
        if row.get("run_type", "iteration") == "iteration":
            assert row["time_unit"] == "us", row
            name = row["run_name"].removesuffix("/manual_time")
            times[name] = row["real_time"]
            cpu[name] = row.get("cpu_us", float("nan"))
    return times, cpu, data["context"]


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def build_config(bench):
    """CMAKE_BUILD_TYPE and CMAKE_CXX_FLAGS of the build tree engine_bench comes from."""
    cache = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(bench))), "CMakeCache.txt")
    found = {}
    try:
        with open(cache) as f:
            for line in f:
                for key in ("CMAKE_BUILD_TYPE", "CMAKE_CXX_FLAGS", "CMAKE_CXX_COMPILER"):
                    if line.startswith(key + ":"):
                        found[key] = line.split("=", 1)[1].strip()
    except OSError:
        return "build settings unknown (no CMakeCache.txt next to the benchmark)"
    flags = found.get("CMAKE_CXX_FLAGS") or "none"
    return (f"CMAKE_BUILD_TYPE={found.get('CMAKE_BUILD_TYPE', '?')}, CMAKE_CXX_FLAGS: {flags} "
            f"(no -march: the library's baseline ISA is the compiler default, x86-64 = SSE2)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "default", "benchmarks", "engine_bench"))
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per row and round, each side")
    ap.add_argument("--reps", type=int, default=7, help="interleaved rounds (engine, PyTorch)")
    ap.add_argument("--isa", choices=("auto", "generic"), default="auto",
                    help="auto: the kernels the cpu backend picks; generic: force the portable ones")
    ap.add_argument("--out", default=RESULTS)
    ap.add_argument("--threads", default="1", help="PyTorch thread counts, e.g. 1,2 (ours is always 1)")
    args = ap.parse_args()

    thread_counts = [int(t) for t in args.threads.split(",")]
    load_before = os.getloadavg()[0]
    torch.set_num_interop_threads(1)
    rebuilt = [(name,) + rebuild(name, cls, seed) for name, cls, seed in MODELS]
    print("PyTorch modules reproduce the fixture exits (max abs error <= 1e-5)")

    env = dict(os.environ, OMP_NUM_THREADS="1")  # no effect today (no OpenMP); pins it if that changes
    env.pop("IMPRECISE_CPU_ISA", None)
    if args.isa == "generic":
        env["IMPRECISE_CPU_ISA"] = "generic"
    flags = cpu_flags()
    if args.isa == "generic":
        isa = "portable (generic) kernels, forced with IMPRECISE_CPU_ISA=generic"
    elif {"avx2", "fma"} <= flags:
        isa = "AVX2+FMA kernels, picked at run time (the CPU reports avx2 and fma)"
    else:
        isa = "portable (generic) kernels (the CPU lacks avx2/fma)"

    ours_rounds, ours_cpu_rounds, theirs_rounds, theirs_cpu_rounds, context = [], [], [], [], {}

    def engine_round():
        nonlocal context
        times, cpu, context = run_engine_bench(args.bench, args.min_time, env)
        ours_rounds.append(times)
        ours_cpu_rounds.append(cpu)

    def torch_round():
        times, cpu = {}, {}
        for name, model, x, _ in rebuilt:
            for threads in thread_counts:
                torch.set_num_threads(threads)
                for b in BATCHES:
                    times[(name, b, threads)], cpu[(name, b, threads)] = time_torch(model, batch_of(x, b),
                                                                                    args.min_time, 1)
        theirs_rounds.append(times)
        theirs_cpu_rounds.append(cpu)

    for r in range(args.reps):
        # Flip the order every round so that neither side always runs second.
        for step in ((engine_round, torch_round) if r % 2 == 0 else (torch_round, engine_round)):
            step()
        print(f"round {r + 1}/{args.reps}: load {os.getloadavg()[0]:.2f}", flush=True)

    med = statistics.median
    ours = {k: med(t[k] for t in ours_rounds) for k in ours_rounds[0]}
    theirs = {k: med(t[k] for t in theirs_rounds) for k in theirs_rounds[0]}

    ours_cpu = {k: med(t[k] for t in ours_cpu_rounds) for k in ours_cpu_rounds[0]}
    theirs_cpu = {k: med(t[k] for t in theirs_cpu_rounds) for k in theirs_cpu_rounds[0]}

    def ratio(name, b, threads, cpu=False):
        """Median over rounds of PyTorch / ours, both measured in the same round."""
        t_rounds, o_rounds = (theirs_cpu_rounds, ours_cpu_rounds) if cpu else (theirs_rounds, ours_rounds)
        return med(t[(name, b, threads)] / o[f"engine/{name}/whole/batch:{b}"] for t, o in zip(t_rounds, o_rounds))

    os.makedirs(args.out, exist_ok=True)
    suffix = "_generic" if args.isa == "generic" else ""  # the portable kernels' tables sit beside the default ones
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    where = machine()
    # Other processes on a 2-CPU machine slow both sides: say how busy it was.
    header = (f"Measured {when} on {where}; {context.get('num_cpus')} CPUs at {context.get('mhz_per_cpu')} MHz "
              f"(engine_bench context); 1-minute load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} "
              f"after (other processes were running when it is well above 0). {args.reps} interleaved rounds, "
              f"each >= {args.min_time} s per row and side; medians over rounds.\n"
              f"Convolutions: {isa}. Build: {build_config(args.bench)}.\n")
    with open(os.path.join(args.out, f"engine_bench{suffix}.txt"), "w") as f:
        f.write(f"# engine_bench (cpu backend, max_batch 32): {header.replace(chr(10), chr(10) + '# ')}")
        f.write(f"{os.path.relpath(args.bench, ROOT)} --benchmark_min_time={args.min_time}, "
                f"{args.reps} runs; microseconds per call\n")
        f.write(f"{'row':<44} {'median':>10} {'min':>10} {'max':>10} {'CPU median':>11}\n")
        for key in ours_rounds[0]:
            vals = [t[key] for t in ours_rounds]
            f.write(f"{key:<44} {med(vals):>10.2f} {min(vals):>10.2f} {max(vals):>10.2f} "
                    f"{med(t[key] for t in ours_cpu_rounds):>11.2f}\n")

    with open(os.path.join(args.out, f"engine_bench{suffix}.md"), "w") as f:
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

    # Models that miss the targets at that batch (threads=1), by wall time and by CPU time.
    missed = {(b, kind): [] for b in (1, 32) for kind in ("wall", "CPU")}
    rows = []
    for name, _, _, _ in rebuilt:
        for b in BATCHES:
            key = f"engine/{name}/whole/batch:{b}"
            mine = ours[key]
            for threads in thread_counts:
                r = ratio(name, b, threads)
                cells = f"| {name} | {b} | {mine / 1e3:.4f} | {theirs[(name, b, threads)] / 1e3:.4f} | {r:.2f} |"
                if threads == 1:
                    rc = ratio(name, b, threads, cpu=True)
                    cells += f" {ours_cpu[key] / 1e3:.4f} | {theirs_cpu[(name, b, threads)] / 1e3:.4f} | {rc:.2f} |"
                    for kind, value in (("wall", r), ("CPU", rc)):
                        if b in (1, 32) and value < (2.0 if b == 1 else 1.0):
                            missed[(b, kind)].append(f"{name} {value:.2f}x")
                else:
                    cells += " - | - | - |"  # thread CPU time misses PyTorch's other threads
                rows.append(cells + f" ours 1, PyTorch {threads} |")
    with open(os.path.join(args.out, f"engine_vs_pytorch{suffix}.md"), "w") as f:
        f.write("<!-- engine vs PyTorch eager; written by scripts/bench_engine_vs_pytorch.py -->\n")
        f.write("# Inference engine vs PyTorch eager (whole model, all exits)\n\n")
        f.write(header)
        f.write(f"PyTorch {torch.__version__} eager, `torch.inference_mode()`, modules rebuilt from "
                "scripts/make_fixtures.py and checked against the fixtures' reference outputs; ours = "
                "engine_bench `whole` rows (cpu backend, single-threaded: no OpenMP, so our thread "
                "count is always 1). Ours also computes softmax + confidence for every exit; PyTorch only the "
                "logits. Latency in ms per batch (median over rounds); ratio = median over rounds of "
                "PyTorch / ours measured in the same round (> 1: we are faster). CPU columns: the calling "
                "thread's CPU time per call (CLOCK_THREAD_CPUTIME_ID / time.thread_time), which leaves out "
                "time other processes held the CPU (on a busy machine wall times include it, and we saw the "
                "wall-time ratio move with the load; cache sharing still affects both columns).\n\n")
        f.write("| model | batch | ours ms | PyTorch ms | ratio | ours CPU ms | PyTorch CPU ms | CPU ratio | threads |\n")
        f.write("|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
        f.write("\n".join(rows) + "\n\n")
        verdict = {k: "met by every model" if not m else "NOT met by " + ", ".join(m) for k, m in missed.items()}
        f.write(f"Targets (issue), at equal thread count (1): ratio >= 2 at batch 1: {verdict[(1, 'wall')]} "
                f"(CPU time: {verdict[(1, 'CPU')]}); ratio >= 1 at batch 32: {verdict[(32, 'wall')]} "
                f"(CPU time: {verdict[(32, 'CPU')]}).\n\n")
        f.write(f"Rerun: `/usr/bin/python3 scripts/bench_engine_vs_pytorch.py --bench "
                f"{os.path.relpath(args.bench, ROOT)} --reps {args.reps} --threads {args.threads}"
                f"{' --isa generic' if args.isa == 'generic' else ''}`\n")
    print(open(os.path.join(args.out, f"engine_vs_pytorch{suffix}.md")).read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
