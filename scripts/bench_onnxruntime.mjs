// Times ONNX Runtime (npm onnxruntime-node, CPU) on ONNX files, whole model (every exit), for the
// side-by-side with engine_bench; called by scripts/bench_engine_vs_onnxruntime.py, which installs
// the package into build/ort-bench. Benchmark-only: nothing in the library depends on it.
//
// argv[2]: JSON {"models": [{"name", "path", "sample_shape"}], "threads": [..], "batches": [..],
//                "rounds": 3, "min_round_s": 0.2}
// stdout: JSON {"version", "rows": [{"name", "threads", "batch", "us": median over rounds}]}
// Inputs are the deterministic sin(0.37 i) values engine_bench gives the pipeline models.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const ort = require(process.env.ORT_MODULE || "onnxruntime-node");
const config = JSON.parse(process.argv[2]);

function input(shape, batch) {
  const dims = [batch, ...shape];
  const n = dims.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; ++i) values[i] = Math.sin(0.37 * i);
  return new ort.Tensor("float32", values, dims);
}

async function time(session, feeds, rounds, minRound) {
  for (let i = 0; i < 10; ++i) await session.run(feeds);  // warm-up
  const means = [];
  for (let r = 0; r < rounds; ++r) {
    let runs = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < minRound) {
      await session.run(feeds);
      ++runs;
      elapsed = Number(process.hrtime.bigint() - start) * 1e-9;
    }
    means.push((elapsed / runs) * 1e6);
  }
  means.sort((a, b) => a - b);
  return means[Math.floor(means.length / 2)];
}

const rows = [];
for (const model of config.models) {
  for (const threads of config.threads) {
    const session = await ort.InferenceSession.create(model.path, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
    for (const batch of config.batches) {
      const feeds = { [session.inputNames[0]]: input(model.sample_shape, batch) };
      const us = await time(session, feeds, config.rounds, config.min_round_s);
      rows.push({ name: model.name, threads, batch, us });
      process.stderr.write(`ort ${model.name} threads ${threads} batch ${batch}: ${us.toFixed(1)} us\n`);
    }
  }
}
process.stdout.write(JSON.stringify({ version: ort.env.versions.common, rows }));
