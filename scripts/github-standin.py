#!/usr/bin/env python3
"""A local stand-in for the GitHub REST API, for Baton's benchmarks. Listens on 127.0.0.1 only.

    GET /repos/{owner}/{repo}/tags[?…]   30 tags (v1.0.0 … v3.9.0), newest first, after --latency
    GET /__stats                         {"total": N, "per_repo": {"owner/repo": N, …}}
    POST /__reset                        zeroes the counters

Every other path answers 404 (and is counted under "other"). Prints the chosen port on stdout
(the first line) and, with --port-file, also writes it to that file once listening.
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TAGS = [f"v{major}.{minor}.0" for major in (1, 2, 3) for minor in range(10)]


class State:
    lock = threading.Lock()
    per_repo = {}
    other = 0
    latency = 0.05
    body = json.dumps(
        [
            {
                "name": t,
                "commit": {"sha": f"{i:040x}", "url": "http://127.0.0.1/"},
                "zipball_url": "http://127.0.0.1/",
                "tarball_url": "http://127.0.0.1/",
                "node_id": "x",
            }
            for i, t in enumerate(reversed(TAGS))
        ]
    ).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # Headers and body leave in one write, with Nagle off: two small writes on a keep-alive
    # connection would meet the client's delayed ACK and add ~40 ms to every response.
    disable_nagle_algorithm = True

    def reply(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        parts = path.strip("/").split("/")
        if path == "/__stats":
            with State.lock:
                stats = {
                    "total": sum(State.per_repo.values()) + State.other,
                    "other": State.other,
                    "per_repo": dict(sorted(State.per_repo.items())),
                }
            return self.reply(200, json.dumps(stats).encode())
        if len(parts) == 4 and parts[0] == "repos" and parts[3] == "tags":
            key = f"{parts[1]}/{parts[2]}"
            with State.lock:
                State.per_repo[key] = State.per_repo.get(key, 0) + 1
            time.sleep(State.latency)
            return self.reply(200, State.body)
        with State.lock:
            State.other += 1
        time.sleep(State.latency)
        self.reply(404, b'{"message":"Not Found"}')

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path == "/__reset":
            with State.lock:
                State.per_repo.clear()
                State.other = 0
            return self.reply(200, b"{}")
        self.reply(404, b'{"message":"Not Found"}')


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0, help="0: a free port (default)")
    p.add_argument("--latency-ms", type=float, default=50.0, help="delay per request (default 50)")
    p.add_argument("--port-file", help="write the port here once listening")
    args = p.parse_args()
    State.latency = args.latency_ms / 1000.0
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    print(port, flush=True)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
