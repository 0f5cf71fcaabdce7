#!/usr/bin/env python3
"""ctest driver for kserve_grpc_client.py: starts the example gRPC server on the shipped repository (port
chosen by the OS), runs the client against it, stops the server. Exit 77 (skipped) without python3-grpcio."""
import argparse
import subprocess
import sys
import threading


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--repository", required=True)
    parser.add_argument("--example", required=True)
    parser.add_argument("--stubs", required=True)
    args = parser.parse_args()
    try:
        import grpc  # noqa: F401
    except ImportError:
        print("python3-grpcio is not installed: skipped")
        return 77

    server = subprocess.Popen([args.server, args.repository], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        # The server prints "port N" once it serves; give a loaded machine time to load the models.
        line = []
        reader = threading.Thread(target=lambda: line.append(server.stdout.readline()), daemon=True)
        reader.start()
        reader.join(120)
        if not line or not line[0].startswith("port "):
            print(f"the server did not start: {line}")
            return 1
        port = int(line[0].split()[1])
        # A generous deadline: the CI machine is loaded and a success is expected.
        return subprocess.call([sys.executable, args.example, "--target", f"127.0.0.1:{port}", "--stubs", args.stubs,
                                "--deadline-ms", "5000"], timeout=120)
    finally:
        server.stdin.close()  # the server's cue to shut down
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    sys.exit(main())
