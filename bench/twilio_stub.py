"""A stand-in for Twilio's Messages API, so send-by-text is part of the measured calls.

The line sends a service by text with the Twilio REST client, inside the webhook. The
bench points `IVR_TWILIO_API_BASE` here; this answers every message with 201 and a
queued message, after an optional delay that stands for Twilio's own response time.
It runs in its own process so it takes no CPU from the load generator's event loop.

    python -m bench.twilio_stub PORT [DELAY_MS]
"""
from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive, as the Twilio client expects
    # Headers and body in one write: written apart on a kept-alive connection, Nagle's
    # algorithm holds the body until the client's delayed ACK, 40 ms a text that Twilio's
    # own API would not add (its real response time is `--twilio-api-ms`).
    wbufsize = -1
    delay = 0.0
    count = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.delay:
            time.sleep(self.delay)
        Handler.count += 1
        body = json.dumps({"sid": f"SMstub{Handler.count:028d}", "status": "queued",
                           "num_segments": "1", "direction": "outbound-api"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):                  # a readiness probe
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.wfile.flush()

    def log_message(self, *args):      # quiet: thousands of requests
        pass


def main(argv: list[str]) -> None:
    port = int(argv[0])
    Handler.delay = float(argv[1]) / 1000 if len(argv) > 1 else 0.0
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
