#!/usr/bin/env python3
"""A KServe v2 HTTP client for `imprecise serve` on Python's standard library alone (urllib, json, struct).

It sends tensors the way tritonclient's HTTP client does by default: Triton's binary tensor data
extension, the input's little-endian FP32 bytes after a small JSON header, whose length travels in the
`Inference-Header-Content-Length` header, and the logits asked back as bytes the same way. For each
model it checks readiness, reads the metadata, runs one inference with a deadline (`deadline_us`), and
prints the exit that answered with its label. It exits non-zero when any step fails.

    python3 examples/python/kserve_http_client.py --url http://127.0.0.1:8000 --models vision voice lidar \
        --deadline-ms 50
"""
import argparse
import json
import random
import struct
import sys
import urllib.error
import urllib.request

HEADER = "Inference-Header-Content-Length"


def call(url, body=None, headers=None, timeout_s=30.0):
    """(status, headers, body bytes) of a GET, or of a POST when a body is given; HTTP errors included."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def binary_request(metadata, deadline_ms):
    """The request body and headers: JSON first, then the input's FP32 bytes (one random sample)."""
    tensor = metadata["inputs"][0]
    shape = [1] + tensor["shape"][1:]
    count = 1
    for d in shape:
        count *= d
    data = struct.pack(f"<{count}f", *(random.uniform(0.0, 1.0) for _ in range(count)))
    head = json.dumps({
        "id": f"{metadata['name']}-example",
        "parameters": {"deadline_us": int(deadline_ms * 1000)},
        "inputs": [{"name": tensor["name"], "shape": shape, "datatype": "FP32",
                    "parameters": {"binary_data_size": len(data)}}],
        "outputs": [{"name": "logits", "parameters": {"binary_data": True}}],
    }).encode()
    return head + data, {HEADER: str(len(head)), "Content-Type": "application/octet-stream"}


def read_answer(headers, body):
    """The answer's JSON and its logits, read from the bytes after the JSON (or from JSON data)."""
    json_length = int(headers.get(HEADER, len(body)))
    answer = json.loads(body[:json_length])
    outputs = answer.get("outputs", [])
    if not outputs:
        return answer, []
    output = outputs[0]
    if "data" in output:
        return answer, output["data"]
    size = output["parameters"]["binary_data_size"]
    tail = body[json_length:json_length + size]
    if len(tail) != size or size % 4:
        raise ValueError(f"{size} bytes of logits announced, {len(tail)} sent")
    return answer, list(struct.unpack(f"<{size // 4}f", tail))


def run_model(base, model, deadline_ms):
    status, _, body = call(f"{base}/v2/models/{model}/ready")
    if status != 200:
        print(f"{model}: not ready ({status}: {body.decode(errors='replace')})")
        return False
    status, _, body = call(f"{base}/v2/models/{model}")
    if status != 200:
        print(f"{model}: no metadata ({status})")
        return False
    metadata = json.loads(body)
    request, headers = binary_request(metadata, deadline_ms)
    status, response_headers, body = call(f"{base}/v2/models/{model}/infer", request, headers)
    if status != 200:
        print(f"{model}: HTTP {status}: {body[:300].decode(errors='replace')}")
        return False
    answer, logits = read_answer(response_headers, body)
    p = answer["parameters"]
    expected = metadata["outputs"][0]["shape"][-1]
    if len(logits) != expected:
        print(f"{model}: {len(logits)} logits, the metadata says {expected}")
        return False
    best = max(range(len(logits)), key=logits.__getitem__)
    if best != p["prediction"]:
        print(f"{model}: the logits' argmax {best} is not the prediction {p['prediction']}")
        return False
    print(f"{model}: exit {p['exit']} of {metadata['parameters']['stages']}, {p['outcome']}, "
          f"prediction {p['prediction']} ({p.get('label', '-')}), {p['total_us']} us in the server, "
          f"{len(request)} bytes sent as binary")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--models", nargs="+", default=["vision", "voice", "lidar"])
    parser.add_argument("--deadline-ms", type=float, default=50.0)
    args = parser.parse_args()
    base = args.url.rstrip("/")
    status, _, body = call(f"{base}/v2")
    if status != 200:
        sys.exit(f"no KServe v2 HTTP server at {base} ({status})")
    server = json.loads(body)
    print(f"{server['name']} {server['version']}, extensions: {', '.join(server['extensions']) or 'none'}")
    if "binary_tensor_data" not in server["extensions"]:
        sys.exit("the server does not list binary_tensor_data")
    ok = all([run_model(base, model, args.deadline_ms) for model in args.models])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
