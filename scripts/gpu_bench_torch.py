#!/usr/bin/env python3
"""Baselines for the cuda backend on the same GPU: PyTorch eager (and CUDA-graph replay) per stage and
whole model, and ONNX Runtime's CUDA provider on the same ONNX files, at batch 1, 8 and 32.

Run by scripts/gpu-check.sh on the GPU machine, with the python3 that holds PyTorch (needs torch and
numpy; onnx to import the fixture definitions; onnxruntime for its rows, where it has the
CUDAExecutionProvider):
    python3 scripts/gpu_bench_torch.py --out torch_bench.md --json torch_bench.json \
        [--engine-json engine_cuda_bench.json]

Models: the pipelines' networks (scripts/train_{vision,voice,lidar}.py: VisionNet, VoiceNet,
MultiExitPointNet) and the four multi-exit fixtures (scripts/make_fixtures.py: cnn3, resnet_skip,
audio1d, pointnet), rebuilt from those definitions with random weights (timing only; eval mode).
Stage k = what our engine runs as stage k: the trunk from the tensors carried out of stage k-1 to
exit k's logits (and the tensors the next stage needs). Columns, medians over --reps calls after
--warmup calls:
  eager gpu   inputs already on the GPU, CUDA events around the call (device time, launch-bound)
  eager e2e   host tensors in -> GPU -> outputs (logits and carried tensors) back to the host, wall
              clock: what engine_cuda_bench's rows measure today (host -> staging -> graph -> host)
  graph       the same call captured once in a CUDA graph and replayed (events): eager without its
              launch overhead, a rough lower bound for a cuDNN/cuBLAS-kernel implementation
  ORT cuda    onnxruntime with the CUDAExecutionProvider on the .onnx file (whole model only):
              e2e = session.run on numpy arrays, gpu = run_with_iobinding on device buffers (wall clock)
fp32 everywhere; TF32 is off (our tests hold 1e-4) unless --tf32; cudnn.benchmark on unless
--no-cudnn-benchmark. With --engine-json (Google Benchmark JSON of engine_cuda_bench) the per-stage
table gets our engine's median and the ratio eager e2e / ours (>= 2 at batch 1 is the issue's target).
--device cpu runs the same code on the CPU (wall clock; for trying the script without a GPU).
"""
import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
import traceback

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
try:  # the model scripts import onnx at the top (for export only): a stub lets them load without it
    import onnx  # noqa: F401
except ImportError:
    import types
    _stub = types.ModuleType("onnx")
    _stub.TensorProto = _stub.helper = None
    sys.modules["onnx"] = _stub
if not hasattr(torch.onnx, "TrainingMode"):  # make_fixtures names it in a default argument
    import types
    torch.onnx.TrainingMode = types.SimpleNamespace(EVAL=0, PRESERVE=1, TRAINING=2)


# --------------------------------------------------------------------------------------------------
# Models and their stage decomposition. Each stage function takes the tuple of tensors carried into it
# (the input for stage 0) and returns (carried tuple for the next stage, exit logits).

def vision_stages(m):
    def make(k):
        def s(c):
            x = m.stages[k](c[0])
            return ((x,) if k + 1 < len(m.stages) else ()), m.exits[k](x)
        return s
    return [make(k) for k in range(len(m.stages))]


def voice_stages(m):
    stages = [m.s1, m.s2, m.s3, m.s4]

    def make(k):
        def s(c):
            x = stages[k](c[0])
            return ((x,) if k + 1 < len(stages) else ()), m.heads[k](x)
        return s
    return [make(k) for k in range(len(stages))]


def lidar_stages(m):
    trunks = [m.stage1, lambda h: m.stage2_rest(m.stage2(h)), m.stage3, m.stage4]
    heads = [m.exit1, m.exit2, m.exit3, m.exit4]

    def make(k):
        def s(c):
            h = trunks[k](c[0])
            return ((h,) if k + 1 < len(trunks) else ()), heads[k](h)
        return s
    return [make(k) for k in range(len(trunks))]


def cnn3_stages(m):
    def s0(c):
        x1 = m.b1(c[0])
        return (x1,), m.h1(F.adaptive_avg_pool2d(x1, 1).flatten(1))

    def s1(c):
        x2 = m.b2(c[0])
        return (x2,), m.h2(F.adaptive_avg_pool2d(x2, 1).flatten(1))

    def s2(c):
        x3 = m.b3(c[0])
        return (), m.h3(x3.view(x3.size(0), -1))
    return [s0, s1, s2]


def resnet_skip_stages(m):
    def s0(c):
        s = m.stem(c[0])
        x1 = m.block1(s) + s
        return (x1, s), m.h1(F.adaptive_avg_pool2d(x1, 1).flatten(1))

    def s1(c):
        x1, s = c
        x2 = F.relu(m.block2(x1) + s)
        pooled = torch.cat([F.adaptive_avg_pool2d(x2, 1), F.adaptive_max_pool2d(x2, 1)], dim=1)
        return (), m.h2(torch.flatten(pooled, 1))
    return [s0, s1]


def audio1d_stages(m):
    def s0(c):
        x1 = m.b1(c[0])
        return (x1,), m.h1(x1.mean(dim=2))

    def s1(c):
        x2 = m.b2(c[0])
        return (x2,), m.h2(x2.mean(dim=2))

    def s2(c):
        x3 = m.b3(c[0])
        return (), m.h3(x3.amax(dim=2))
    return [s0, s1, s2]


def pointnet_stages(m):
    def s0(c):
        f = m.mlp1(c[0])
        g = f.amax(dim=1)
        return (f, g), m.h1(g)

    def s1(c):
        f, g = c
        both = torch.cat([f, f - g.unsqueeze(1)], dim=2)
        return (), m.h2(m.mlp2(both).amax(dim=1))
    return [s0, s1]


# name, module file, class, sample shape, stage decomposition, ONNX file, seed (the fixtures' own)
MODELS = [
    ("vision", "train_vision", "VisionNet", (1, 28, 28), vision_stages, "models/vision.onnx", 0),
    ("voice", "train_voice", "VoiceNet", (40, 98), voice_stages, "models/voice.onnx", 0),
    ("lidar", "train_lidar", "ScanOrderPointNet", (3, 256), lidar_stages, "models/lidar.onnx", 0),
    ("cnn3", "make_fixtures", "Cnn3", (3, 16, 16), cnn3_stages, "tests/fixtures/nn/cnn3.onnx", 2),
    ("resnet_skip", "make_fixtures", "ResNetSkip", (3, 8, 8), resnet_skip_stages,
     "tests/fixtures/nn/resnet_skip.onnx", 3),
    ("audio1d", "make_fixtures", "Audio1d", (1, 64), audio1d_stages, "tests/fixtures/nn/audio1d.onnx", 4),
    ("pointnet", "make_fixtures", "PointNet", (16, 3), pointnet_stages, "tests/fixtures/nn/pointnet.onnx", 5),
]


# --------------------------------------------------------------------------------------------------
# Timing

class Timer:
    def __init__(self, device, warmup, reps):
        self.device, self.warmup, self.reps = device, warmup, reps
        self.cuda = device.type == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def device_us(self, fn):
        """Median device time (CUDA events) of fn(); wall clock on the CPU."""
        for _ in range(self.warmup):
            fn()
        self.sync()
        times = []
        if self.cuda:
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            for _ in range(self.reps):
                start.record()
                fn()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end) * 1e3)
        else:
            for _ in range(self.reps):
                t0 = time.perf_counter_ns()
                fn()
                times.append((time.perf_counter_ns() - t0) / 1e3)
        return statistics.median(times)

    def wall_us(self, fn):
        """Median wall time of fn(), which must leave nothing pending on the device."""
        for _ in range(self.warmup):
            fn()
        self.sync()
        times = []
        for _ in range(self.reps):
            t0 = time.perf_counter_ns()
            fn()
            times.append((time.perf_counter_ns() - t0) / 1e3)
        return statistics.median(times)


def graph_us(timer, fn, static_inputs):
    """fn captured in a CUDA graph (after warm-up on a side stream), replay timed with events."""
    if not timer.cuda:
        return None
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn(static_inputs)
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn(static_inputs)
    torch.cuda.synchronize()
    return timer.device_us(graph.replay)


def to_host(outputs):
    carried, logits = outputs
    host = [t.cpu() for t in carried]
    host += [t.cpu() for t in (logits if isinstance(logits, tuple) else (logits,))]
    return host


def time_stage(timer, fn, carried_host, device):
    """eager gpu / eager e2e / graph for fn on a batch whose inputs (host tensors) are carried_host."""
    row = {}
    dev = tuple(t.to(device) for t in carried_host)
    row["eager_gpu_us"] = timer.device_us(lambda: fn(dev))
    row["eager_e2e_us"] = timer.wall_us(lambda: to_host(fn(tuple(t.to(device) for t in carried_host))))
    try:
        static = tuple(t.clone() for t in dev)
        row["graph_us"] = graph_us(timer, fn, static)
    except Exception as e:  # noqa: BLE001  (report and go on: capture is a bonus column)
        row["graph_us"] = None
        row["graph_error"] = f"{type(e).__name__}: {e}".splitlines()[0][:200]
    return row


def whole_model(m):
    return lambda c: ((), tuple(m(c[0])))


# --------------------------------------------------------------------------------------------------
# ONNX Runtime

def ort_rows(path, batches, timer, sample_shape):
    try:
        import onnxruntime as ort
    except ImportError as e:
        return None, f"onnxruntime not importable ({e})"
    providers = ort.get_available_providers()
    if "CUDAExecutionProvider" not in providers:
        return None, f"onnxruntime {ort.__version__} has no CUDAExecutionProvider (providers: {providers})"
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(path, opts, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    if sess.get_providers()[0] != "CUDAExecutionProvider":
        return None, f"session fell back to {sess.get_providers()}"
    name = sess.get_inputs()[0].name
    outs = [o.name for o in sess.get_outputs()]
    rows = {}
    rng = np.random.default_rng(0)
    for b in batches:
        x = rng.standard_normal((b, *sample_shape)).astype(np.float32)
        row = {"ort_e2e_us": timer.wall_us(lambda: sess.run(outs, {name: x}))}
        try:
            binding = sess.io_binding()
            xd = ort.OrtValue.ortvalue_from_numpy(x, "cuda", 0)
            binding.bind_ortvalue_input(name, xd)
            for o in outs:
                binding.bind_output(o, "cuda", 0)

            def run_bound():
                sess.run_with_iobinding(binding)
                binding.synchronize_outputs()
            row["ort_gpu_us"] = timer.wall_us(run_bound)
        except Exception as e:  # noqa: BLE001
            row["ort_gpu_us"] = None
            row["ort_gpu_error"] = f"{type(e).__name__}: {e}".splitlines()[0][:200]
        rows[b] = row
    return rows, f"onnxruntime {ort.__version__}, CUDAExecutionProvider"


# --------------------------------------------------------------------------------------------------
# Our engine's numbers (engine_cuda_bench's Google Benchmark JSON)

def load_engine(path):
    """{(model, stage, batch): median real time in us} from engine_cuda/<model>/stage:<k>/batch:<b> rows."""
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        data = json.load(f)
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
    plain, median = {}, {}
    for row in data.get("benchmarks", []):
        name = row.get("run_name", row.get("name", "")).replace("/manual_time", "")
        parts = name.split("/")
        if len(parts) < 4 or parts[0] != "engine_cuda" or row.get("error_occurred"):
            continue
        try:
            key = (parts[1], int(parts[2].split(":")[1]), int(parts[3].split(":")[1]))
        except (IndexError, ValueError):
            continue
        us = row["real_time"] * scale.get(row.get("time_unit", "ns"), 1e-3)
        if row.get("run_type") == "aggregate":
            if row.get("aggregate_name") == "median":
                median[key] = us
        else:
            plain.setdefault(key, []).append(us)
    out = {k: statistics.median(v) for k, v in plain.items()}
    out.update(median)
    return out


# --------------------------------------------------------------------------------------------------

def fmt(v):
    if v is None:
        return "—"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="torch_bench.md", help="markdown report")
    ap.add_argument("--json", default="", help="all numbers as JSON")
    ap.add_argument("--engine-json", default="", help="engine_cuda_bench --benchmark_out JSON, to compare")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--models", default="", help="comma-separated subset of " + ",".join(m[0] for m in MODELS))
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    ap.add_argument("--tf32", action="store_true", help="allow TF32 in cuDNN and cuBLAS (off by default)")
    ap.add_argument("--no-cudnn-benchmark", action="store_true")
    ap.add_argument("--no-ort", action="store_true")
    args = ap.parse_args()

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_bench_torch: torch sees no CUDA device (use --device cpu to try the script)")
    device = torch.device(args.device)
    batches = [int(b) for b in args.batches.split(",")]
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = not args.no_cudnn_benchmark
    timer = Timer(device, args.warmup, args.reps)
    engine = load_engine(args.engine_json)
    wanted = set(filter(None, args.models.split(",")))

    facts = {
        "python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else platform.processor() or "cpu",
        "tf32": args.tf32, "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "warmup": args.warmup, "reps": args.reps,
    }
    print("gpu_bench_torch:", json.dumps(facts), flush=True)
    stage_rows, model_rows, notes = [], [], []
    ort_note = "skipped (--no-ort)" if args.no_ort else ""
    for name, module, cls, shape, decompose, onnx_path, seed in MODELS:
        if wanted and name not in wanted:
            continue
        try:
            mod = importlib.import_module(module)
            torch.manual_seed(seed)
            model = getattr(mod, cls)().eval().to(device)
        except Exception as e:  # noqa: BLE001  (one model missing must not stop the others)
            notes.append(f"{name}: could not build {module}.{cls}: {type(e).__name__}: {e}")
            print(notes[-1], flush=True)
            continue
        stages = decompose(model)
        with torch.no_grad():
            # The decomposition must reproduce the model's exits.
            x = torch.randn(4, *shape, device=device)
            ref = model(x)
            carried = (x,)
            try:
                for k, stage in enumerate(stages):
                    carried, logits = stage(carried)
                    err = float((logits - ref[k]).abs().max())
                    if err > 1e-4 * max(1.0, float(ref[k].abs().max())):
                        notes.append(f"{name}: stage {k} differs from the model's exit {k} by {err:g}")
            except Exception as e:  # noqa: BLE001  (a stale decomposition must not stop the other models)
                notes.append(f"{name}: the stage decomposition fails: {type(e).__name__}: {e}")
                print(notes[-1], flush=True)
                continue
            for b in batches:
                carried_host = (torch.randn(b, *shape),)
                for k, stage in enumerate(stages):
                    try:
                        row = time_stage(timer, stage, carried_host, device)
                    except Exception as e:  # noqa: BLE001
                        notes.append(f"{name} stage {k} batch {b}: {type(e).__name__}: {e}")
                        traceback.print_exc()
                        break
                    row.update(model=name, stage=k, batch=b, engine_us=engine.get((name, k, b)))
                    stage_rows.append(row)
                    carried_host = tuple(t.cpu() for t in stage(tuple(t.to(device) for t in carried_host))[0])
                row = time_stage(timer, whole_model(model), (torch.randn(b, *shape),), device)
                row.update(model=name, batch=b, stages=len(stages))
                model_rows.append(row)
        if not args.no_ort:
            path = os.path.join(ROOT, onnx_path)
            try:
                ort, ort_note = ort_rows(path, batches, timer, shape) if os.path.exists(path) else (None, "")
            except Exception as e:  # noqa: BLE001
                ort, ort_note = None, f"onnxruntime failed on {onnx_path}: {type(e).__name__}: {e}"
                notes.append(ort_note)
            for row in model_rows:
                if row["model"] == name and ort:
                    row.update(ort.get(row["batch"], {}))
        print(f"{name}: done", flush=True)

    lines = ["# PyTorch eager / CUDA graph / ONNX Runtime baselines", ""]
    lines.append(f"- device: {facts['device']}; torch {facts['torch']} (CUDA {facts['cuda']}, cuDNN {facts['cudnn']}); "
                 f"Python {facts['python']}")
    lines.append(f"- fp32, TF32 {'on' if args.tf32 else 'off'}, cudnn.benchmark {facts['cudnn_benchmark']}; "
                 f"medians of {args.reps} calls after {args.warmup} warm-up calls; times in µs")
    lines.append(f"- ONNX Runtime: {ort_note or 'not run'}")
    lines.append("- eager gpu: inputs on the GPU, CUDA events; eager e2e: host in -> GPU -> host out (logits and "
                 "carried tensors), wall clock; graph: the call replayed as a CUDA graph (events)")
    if engine:
        lines.append("- ours: engine_cuda_bench median (host -> staging -> CUDA graph -> host); "
                     "e2e/ours = eager e2e divided by ours (issue target at batch 1: >= 2)")
    lines += ["", "## Per stage", ""]
    head = "| model | stage | batch | eager gpu | eager e2e | graph |"
    sep = "|---|---:|---:|---:|---:|---:|"
    if engine:
        head += " ours | e2e/ours | gpu/ours |"
        sep += "---:|---:|---:|"
    lines += [head, sep]
    for r in stage_rows:
        line = (f"| {r['model']} | {r['stage']} | {r['batch']} | {fmt(r['eager_gpu_us'])} | "
                f"{fmt(r['eager_e2e_us'])} | {fmt(r['graph_us'])} |")
        if engine:
            ours = r.get("engine_us")
            line += (f" {fmt(ours)} | {r['eager_e2e_us'] / ours:.2f} | {r['eager_gpu_us'] / ours:.2f} |" if ours
                     else " — | — | — |")
        lines.append(line)
    lines += ["", "## Whole model (all exits)", "",
              "| model | stages | batch | eager gpu | eager e2e | graph | ORT cuda e2e | ORT cuda iobinding |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in model_rows:
        lines.append(f"| {r['model']} | {r['stages']} | {r['batch']} | {fmt(r['eager_gpu_us'])} | "
                     f"{fmt(r['eager_e2e_us'])} | {fmt(r['graph_us'])} | {fmt(r.get('ort_e2e_us'))} | "
                     f"{fmt(r.get('ort_gpu_us'))} |")
    errors = sorted({r["graph_error"] for r in stage_rows + model_rows if r.get("graph_error")})
    if notes or errors:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes] + [f"- graph capture: {e}" for e in errors]
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"facts": facts, "stages": stage_rows, "models": model_rows, "notes": notes,
                       "ort": ort_note}, f, indent=1)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
