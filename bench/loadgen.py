"""A closed-loop load generator on raw asyncio sockets: small, and cheap per request.

Gunicorn's sync workers close the connection after every response (no keep-alive), so
each request is connect, send, read until EOF, close: exactly what this does, with no
HTTP library in the way. `connections` coroutines each play whole conversations, one
request after the other (a caller presses a key only after hearing the menu), from a
shared list of pre-signed requests.

Latency is measured from connect to the last byte of the answer. An error is a failed
connection, a status other than 200 or a body without `<Response`. A mismatch (app only)
is a body that differs from the one the test client recorded: a sign that state or the
next URL went astray.
"""
from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Result:
    seconds: float = 0.0
    cpu_seconds: float = 0.0                          # the generator's own CPU time
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    mismatches: int = 0
    examples: list = field(default_factory=list)      # a few mismatches, to see why
    conversations: int = 0
    wrapped: int = 0                                  # conversations replayed: pool ran out

    @property
    def requests(self) -> int:
        return sum(map(len, self.latencies.values()))

    def summary(self) -> dict:
        kinds = {}
        for kind, values in sorted(self.latencies.items()):
            values.sort()
            kinds[kind] = {"n": len(values), "errors": self.errors.get(kind, 0),
                           **{f"p{q}_ms": round(percentile(values, q) * 1e3, 2) for q in (50, 95, 99)},
                           "max_ms": round(values[-1] * 1e3, 2)}
        everything = sorted(v for values in self.latencies.values() for v in values)
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "errors": sum(self.errors.values()),
            "mismatches": self.mismatches,
            "mismatch_examples": self.examples,
            "client_cpu": round(self.cpu_seconds / self.seconds, 2) if self.seconds else 0.0,
            "conversations": self.conversations,
            "replayed_conversations": self.wrapped,
            "all": {f"p{q}_ms": round(percentile(everything, q) * 1e3, 2) for q in (50, 95, 99)}
            if everything else {},
            "kinds": kinds,
        }


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q% of values at or below it."""
    if not sorted_values:
        return float("nan")
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


def _complete(data: bytes) -> bool:
    """Whether a raw answer arrived whole: headers, and as much body as they announce."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return value.strip().isdigit() and len(body) >= int(value)
    return True


async def _exchange(loop, addr, payload: bytes) -> bytes:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, addr)
        await loop.sock_sendall(sock, payload)
        chunks = []
        while chunk := await loop.sock_recv(sock, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        sock.close()


async def _drive(port: int, pool: list, connections: int, duration: float, check: bool,
                 on_tick=None, observe=None, retry=None) -> Result:
    loop = asyncio.get_running_loop()
    addr = ("127.0.0.1", port)
    result = Result()
    latencies, errors = result.latencies, result.errors
    next_conv = 0
    deadline = time.perf_counter() + duration

    async def connection():
        nonlocal next_conv
        while time.perf_counter() < deadline:
            conv = pool[next_conv % len(pool)]
            result.wrapped += next_conv >= len(pool)
            next_conv += 1
            result.conversations += 1
            for req in conv:
                if time.perf_counter() >= deadline:
                    return
                t0 = time.perf_counter()
                try:
                    data = await _exchange(loop, addr, req.payload)
                except OSError:
                    data = b""
                if retry and not _complete(data):
                    # The connection was lost or cut short (a worker killed mid-request):
                    # Twilio then requests the number's fallback URL; `retry` renders that.
                    with contextlib.suppress(OSError):
                        data = await _exchange(loop, addr, retry(req))
                    if observe:
                        observe(req, t0, None, b"")      # the lost attempt itself
                latencies[req.kind].append(time.perf_counter() - t0)
                head, _, body = data.partition(b"\r\n\r\n")
                if observe:
                    observe(req, t0, time.perf_counter() - t0, data)
                if head[9:12] != b"200" or b"<Response" not in body:
                    errors[req.kind] += 1
                    break           # the rest of this conversation would make no sense
                if check and body != req.expect:
                    result.mismatches += 1
                    if len(result.examples) < 3:
                        result.examples.append({"kind": req.kind, "request": req.payload.decode(errors="replace"),
                                                "expected": req.expect.decode(errors="replace"),
                                                "got": body.decode(errors="replace")})

    async def ticker():
        while time.perf_counter() < deadline:
            on_tick()
            await asyncio.sleep(0.5)

    t0, c0 = time.perf_counter(), time.process_time()
    tasks = [connection() for _ in range(connections)] + ([ticker()] if on_tick else [])
    # No overall timeout needed: gunicorn kills a worker stuck past its `timeout`, which
    # closes the connection, and a dead server refuses connections at once.
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - t0
    result.cpu_seconds = time.process_time() - c0
    return result


def run(port: int, pool: list, connections: int, duration: float, check: bool = False,
        on_tick=None, observe=None, retry=None) -> Result:
    """Play `pool` (conversations of pre-signed requests) for `duration` seconds.

    `observe(request, start, seconds, raw answer)`, when given, sees every answer (and,
    with `seconds` None, every lost connection); `retry(request)` renders the request to
    send once more when a connection is lost (the fault run's fallback URL)."""
    return asyncio.run(_drive(port, pool, connections, duration, check, on_tick, observe, retry))
