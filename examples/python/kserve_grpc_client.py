#!/usr/bin/env python3
"""A KServe v2 gRPC client for `imprecise serve`, using Debian's python3-grpcio.

It speaks the standard protocol (package `inference`, service `GRPCInferenceService`) with stubs that
the build generates from proto/inference/grpc_predict_v2.proto (protoc --python_out + grpc_python_plugin,
into <build>/examples/python/stubs). For each model it checks liveness and readiness, reads the model's
metadata, and runs ModelInfer with a deadline (the gRPC call's own timeout, which the server turns into
the job's deadline), printing the exit that answered.

    python3 examples/python/kserve_grpc_client.py --target 127.0.0.1:8001 \
        --stubs build/default/examples/python/stubs --models vision voice lidar --deadline-ms 50
"""
import argparse
import random
import struct
import sys


def load_stubs(folder):
    sys.path.insert(0, folder)
    try:
        from inference import grpc_predict_v2_pb2 as pb2
        from inference import grpc_predict_v2_pb2_grpc as pb2_grpc
    except ImportError as error:
        sys.exit(f"no generated stubs in {folder} ({error}); build the project first")
    return pb2, pb2_grpc


def infer(stub, pb2, model, metadata, deadline_s, token_metadata):
    """One ModelInfer with a random input of the model's shape (batch 1), raw FP32 contents."""
    tensor = metadata.inputs[0]
    shape = [1] + list(tensor.shape[1:])
    count = 1
    for d in shape:
        count *= d
    values = [random.uniform(0.0, 1.0) for _ in range(count)]
    request = pb2.ModelInferRequest(model_name=model, id=f"{model}-example")
    request.inputs.add(name=tensor.name, datatype="FP32", shape=shape)
    request.raw_input_contents.append(struct.pack(f"<{count}f", *values))
    response = stub.ModelInfer(request, timeout=deadline_s, metadata=token_metadata)
    out = response.outputs[0]
    logits = struct.unpack(f"<{len(response.raw_output_contents[0]) // 4}f", response.raw_output_contents[0])
    p = response.parameters
    print(f"{model}: {out.name} {list(out.shape)}, exit {p['exit'].int64_param} of depth {p['depth'].int64_param}, "
          f"prediction {p['prediction'].int64_param} (argmax {max(range(len(logits)), key=logits.__getitem__)}), "
          f"outcome {p['outcome'].string_param}, queue {p['queue_us'].int64_param} us, run {p['run_us'].int64_param} us")
    return response


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:8001", help="host:port of the gRPC endpoint")
    parser.add_argument("--stubs", required=True, help="folder holding inference/grpc_predict_v2_pb2*.py")
    parser.add_argument("--models", nargs="+", default=["vision", "voice", "lidar"])
    parser.add_argument("--deadline-ms", type=float, default=100.0, help="each ModelInfer's deadline")
    parser.add_argument("--token", default="", help="sent as 'authorization: Bearer <token>'")
    args = parser.parse_args()

    import grpc  # Debian: python3-grpcio
    pb2, pb2_grpc = load_stubs(args.stubs)
    random.seed(15)
    token = [("authorization", f"Bearer {args.token}")] if args.token else None
    with grpc.insecure_channel(args.target) as channel:
        stub = pb2_grpc.GRPCInferenceServiceStub(channel)
        live = stub.ServerLive(pb2.ServerLiveRequest(), timeout=5, metadata=token).live
        server = stub.ServerMetadata(pb2.ServerMetadataRequest(), timeout=5, metadata=token)
        print(f"server {server.name} {server.version} at {args.target}: live {live}")
        if not live:
            return 1
        for model in args.models:
            if not stub.ModelReady(pb2.ModelReadyRequest(name=model), timeout=5, metadata=token).ready:
                print(f"{model}: not ready")
                return 1
            metadata = stub.ModelMetadata(pb2.ModelMetadataRequest(name=model), timeout=5, metadata=token)
            print(f"{model}: versions {list(metadata.versions)}, platform {metadata.platform}, input "
                  f"{metadata.inputs[0].name} {metadata.inputs[0].datatype} {list(metadata.inputs[0].shape)}, output "
                  f"{metadata.outputs[0].name} {list(metadata.outputs[0].shape)}")
            try:
                infer(stub, pb2, model, metadata, args.deadline_ms / 1000.0, token)
            except grpc.RpcError as error:
                # A missed deadline (DEADLINE_EXCEEDED) may carry the best finished answer as trailing metadata.
                trailers = dict(error.trailing_metadata() or ())
                print(f"{model}: {error.code().name}: {error.details()} "
                      f"(outcome {trailers.get('imprecise-outcome', '-')}, exit {trailers.get('imprecise-exit', '-')})")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
