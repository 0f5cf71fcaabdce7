#!/usr/bin/env python3
"""ctest driver for kserve_http_client.py: starts `imprecise serve` on the shipped repository with only
its HTTP endpoint (port chosen by the OS, read from the server's log line), runs the client against it,
then stops the server with SIGTERM, which must exit 0."""
import argparse
import re
import signal
import subprocess
import sys
import threading


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--imprecise", required=True)
    parser.add_argument("--repository", required=True)
    parser.add_argument("--example", required=True)
    args = parser.parse_args()

    server = subprocess.Popen([args.imprecise, "serve", "--model-repository", args.repository, "--grpc-port", "-1",
                               "--metrics-port", "-1", "--http-port", "0"], stderr=subprocess.PIPE, text=True)
    log, port = [], []
    listening = threading.Event()

    def read_log():  # keeps draining, so the server never blocks on a full pipe
        for line in server.stderr:
            log.append(line)
            found = re.search(r"HTTP/REST listening on [^:]+:(\d+)", line)
            if found and not port:
                port.append(int(found.group(1)))
                listening.set()
        listening.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        # Loading the models takes a few seconds; more on a loaded machine.
        listening.wait(120)
        if not port:
            print("the server did not start:\n" + "".join(log))
            return 1
        # A generous deadline: the CI machine is loaded and a success is expected.
        result = subprocess.call([sys.executable, args.example, "--url", f"http://127.0.0.1:{port[0]}",
                                  "--deadline-ms", "5000"], timeout=120)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            code = server.wait()
        reader.join(10)
    if code != 0:
        print(f"the server exited with {code} on SIGTERM:\n" + "".join(log))
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
