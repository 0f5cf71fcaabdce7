#!/usr/bin/env python3
"""Cuts a window out of a Chrome trace written by TraceWriter (e.g. one second of a 10 s run, small enough to
commit and open in Perfetto): keeps the metadata events and the events that start inside the window.

  scripts/trace_window.py out/edge_server/trace_yao-dp_load2.json docs/results/edge_server/trace_yao-dp_load2_1s.json --from-s 5
"""
import argparse
import json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("out")
    parser.add_argument("--from-s", type=float, default=5.0, help="window start, seconds on the trace's clock")
    parser.add_argument("--seconds", type=float, default=1.0, help="window length")
    args = parser.parse_args()
    with open(args.trace) as f:
        trace = json.load(f)
    start_us, end_us = args.from_s * 1e6, (args.from_s + args.seconds) * 1e6
    kept = [e for e in trace["traceEvents"] if e.get("ph") == "M" or start_us <= e.get("ts", -1) < end_us]
    with open(args.out, "w") as f:
        json.dump({"displayTimeUnit": trace.get("displayTimeUnit", "ms"), "traceEvents": kept}, f, separators=(",", ":"))
    print(f"{args.out}: {len(kept)} of {len(trace['traceEvents'])} events, [{args.from_s}, {args.from_s + args.seconds}) s")


if __name__ == "__main__":
    main()
