#!/usr/bin/env python3
"""Writes the behaviour snapshot that tests/cli_test.cpp (SimulateMatches..., PlanMatches...) compares against:
`imprecise simulate` on scenarios/edge_multi_model.json for every policy at loads 0.5-5 (wall-clock fields left
out) and `imprecise plan` on fixed instances. Run it only when a change of results is intended, and say why in
the commit:  scripts/make_golden.py build/default/bin/imprecise"""
import json
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
POLICIES = ["yao-dp", "density", "edf-full", "edf-mandatory", "edf-fixed:2", "edf-threshold:0.8", "fifo-full",
            "round-robin", "oracle-utility"]
LOADS = ["0.5", "1", "2", "3", "5"]
WALL_CLOCK = {"decision_p50_us", "decision_p99_us", "events_per_second"}


def job(deadline, cumulative, reward, mandatory=1):
    return {"deadline": deadline, "cumulative_time": cumulative, "reward": reward, "mandatory": mandatory}


def instances():
    out = {
        "hand": {"now": 0, "jobs": [job(10, [2, 5, 9], [5, 8, 10]), job(6, [1, 3], [4, 7])]},
        "example": {"now": 0, "jobs": [job(18, [2, 3, 5, 7, 9], [12, 15, 16, 17, 17]), job(10, [1, 4, 6], [10, 14, 15]),
                                       job(25, [3, 6, 8, 12], [8, 12, 15, 20], 2), job(12, [2, 4], [6, 11])]},
    }
    rng = random.Random(20261127)
    for k in range(6):
        jobs = []
        for _ in range(rng.randint(3, 8)):
            depth, t, r, cumulative, reward = rng.randint(1, 4), 0, 0.0, [], []
            for _ in range(depth):
                t += rng.randint(1, 6)
                r += rng.uniform(0, 10)
                cumulative.append(t)
                reward.append(round(r, 3))
            jobs.append(job(rng.randint(3, 40), cumulative, reward, rng.randint(1, depth)))
        out[f"random{k}"] = {"now": rng.randint(0, 3), "jobs": jobs}
    return out


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "build" / "default" / "bin" / "imprecise")
    (GOLDEN / "simulate").mkdir(parents=True, exist_ok=True)
    (GOLDEN / "plan").mkdir(parents=True, exist_ok=True)
    tmp = GOLDEN / "simulate" / ".tmp.json"
    for policy in POLICIES:
        for load in LOADS:
            subprocess.run([cli, "simulate", "--scenario", str(ROOT / "scenarios" / "edge_multi_model.json"),
                            "--policy", policy, "--load", load, "--json", str(tmp)], check=True, stdout=subprocess.DEVNULL)
            result = {k: v for k, v in json.loads(tmp.read_text()).items() if k not in WALL_CLOCK}
            name = policy.replace(":", "_")
            (GOLDEN / "simulate" / f"{name}_load{load}.json").write_text(json.dumps(result, indent=1, sort_keys=True))
    tmp.unlink()
    for name, instance in instances().items():
        path = GOLDEN / "plan" / f"{name}.instance.json"
        path.write_text(json.dumps(instance))
        for policy in ["yao-dp", "density", "exhaustive"]:
            for delta in [None, "1"]:
                args = [cli, "plan", "--instance", str(path), "--policy", policy] + (["--delta", delta] if delta else [])
                out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
                (GOLDEN / "plan" / f"{name}.{policy}{'.delta1' if delta else ''}.out").write_text(out)


if __name__ == "__main__":
    main()
