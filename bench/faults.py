"""`python -m bench --faults`: the line at full load while things break.

The app runs as production runs it (gunicorn, 2 workers, the embedded Redis) under the
realistic mix at the bench's connections. During the run:

1. Redis is stopped (SHUTDOWN SAVE, as a restart would) for 5 seconds, then started again
   on the same unix socket, as the app's own `sessions.connect` starts it;
2. later, one gunicorn worker is killed (SIGKILL, as the kernel's OOM killer would), and
   gunicorn forks another.

A connection lost with the killed worker is what Twilio meets when a webhook fails: it
then requests the number's fallback URL (`/fallback`, signed the same way), and the load
generator does the same, once. Every answer is then checked: errors (no answer, not 200,
no `<Response>`), answers that are not valid TwiML (parsed as XML, root `<Response>`),
call starts whose first `<Say>` lacks the 999 guidance, emergency texts whose reply
lacks it, and latency before, while Redis was away, and after. Answers that differ from
the recorded ones are counted too, but expected: with Redis away a texter's
conversation and a caller's remembered language are not there.

Needs the embedded Redis (no `REDIS_URL`): a shared server is not the bench's to stop.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from . import loadgen, traffic
from .loadgen import percentile
from .servers import children

REDIS_AWAY_S = 5.0


class Schedule(threading.Thread):
    """The faults, at set times after the load starts; each moment recorded."""

    def __init__(self, bench, server, redis_at: float, kill_at: float):
        super().__init__(daemon=True)
        self.bench, self.server = bench, server
        self.redis_at, self.kill_at = redis_at, kill_at
        self.t0 = 0.0
        self.events: dict[str, float] = {}
        self.error: str | None = None

    def _at(self, seconds: float) -> None:
        time.sleep(max(0.0, self.t0 + seconds - time.perf_counter()))

    def _mark(self, name: str) -> None:
        self.events[name] = time.perf_counter() - self.t0

    def run(self) -> None:
        try:
            self._redis()
            self._kill()
        except Exception as exc:     # reported, never hidden
            self.error = f"{type(exc).__name__}: {exc}"

    def _redis(self) -> None:
        from ivr import sessions
        redis = self.bench.redis
        pid = redis.pid
        self._at(self.redis_at)
        self._mark("redis_stopped")
        with contextlib.suppress(Exception):
            redis.client.shutdown(save=True)      # closes the connection as it goes
        for _ in range(200):
            if not _alive(pid):
                break
            time.sleep(0.01)
        self._mark("redis_gone")
        self._at(self.redis_at + REDIS_AWAY_S)
        self._mark("redis_restarting")
        sessions.connect(None, redis.data_dir, timeout=2.0).ping()   # same socket, same data folder
        self._mark("redis_back")

    def _kill(self) -> None:
        self._at(self.kill_at)
        before = set(children(self.server.proc.pid))
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        self._mark("worker_killed")
        self.events["killed_pid"] = victim
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline:
            now = set(children(self.server.proc.pid))
            if victim not in now and len(now) >= self.server.workers and now - before:
                self._mark("worker_replaced")
                return
            time.sleep(0.005)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (not yet reaped) counts as gone.
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def fallback_renderer(port: int):
    """The request Twilio makes to the fallback URL after a failed one: the same form,
    posted to /fallback and signed for that URL."""
    host = f"127.0.0.1:{port}"
    validator = RequestValidator(traffic.TOKEN)

    def render(req) -> bytes:
        form = req.payload.partition(b"\r\n\r\n")[2]
        params = dict(parse_qsl(form.decode(), keep_blank_values=True))
        signature = validator.compute_signature(f"http://{host}/fallback", params)
        head = (f"POST /fallback HTTP/1.1\r\nHost: {host}\r\nUser-Agent: TwilioProxy/1.1\r\n"
                f"X-Twilio-Signature: {signature}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(form)}\r\nConnection: close\r\n\r\n")
        return head.encode() + form
    return render


def _first_say(root) -> str:
    say = next(root.iter("Say"), None)
    return "".join(say.itertext()) if say is not None else ""


def analyse(observed: list, events: dict) -> dict:
    """Every answer checked; latency before, during and after Redis's absence."""
    out = {"requests": 0, "lost_connections": 0, "errors": 0, "invalid_twiml": 0,
           "call_starts": 0, "call_starts_without_999": 0,
           "emergency_texts": 0, "emergency_texts_without_999": 0, "answered_by_fallback": 0}
    windows = {"before": [], "redis_away": [], "after": []}
    away_from, away_to = events.get("redis_stopped", 1e9), events.get("redis_back", 1e9)
    for kind, start, seconds, data in observed:
        if seconds is None:
            out["lost_connections"] += 1
            continue
        out["requests"] += 1
        head, _, body = data.partition(b"\r\n\r\n")
        if head[9:12] != b"200" or b"<Response" not in body:
            out["errors"] += 1
            if len(out.setdefault("error_examples", [])) < 3:    # answers only: no caller data
                out["error_examples"].append({"kind": kind, "status": head[:12].decode(errors="replace"),
                                              "at_s": round(start, 3), "bytes": len(data)})
            continue
        try:
            root = ET.fromstring(body)
            valid = root.tag == "Response"
        except ET.ParseError:
            valid = False
        if not valid:
            out["invalid_twiml"] += 1
            continue
        window = "before" if start < away_from else "redis_away" if start <= away_to else "after"
        windows[window].append(seconds)
        if kind == "voice_start":
            out["call_starts"] += 1
            out["call_starts_without_999"] += "999" not in _first_say(root)
        elif kind == "sms_emergency":
            message = root.find("Message")
            out["emergency_texts"] += 1
            out["emergency_texts_without_999"] += message is None or "999" not in (message.text or "")
    out["latency_ms"] = {}
    for name, values in windows.items():
        values.sort()
        out["latency_ms"][name] = {"n": len(values), **{
            f"p{q}": round(percentile(values, q) * 1e3, 2) if values else None for q in (50, 99)},
            "max": round(values[-1] * 1e3, 2) if values else None}
    return out


def measure(b, server, pool: list, warm: list, seconds: float) -> dict:
    """The mix for `seconds`, Redis away from 30% of it for 5 s, a worker killed at 70%."""
    s = b.s
    loadgen.run(b.port, warm, s.connections, s.warmup)
    server.reset_samples()
    schedule = Schedule(b, server, redis_at=0.3 * seconds, kill_at=0.7 * seconds)
    observed = []

    def observe(req, t0, elapsed, data):
        observed.append((req.kind, t0 - schedule.t0, elapsed, data))

    schedule.t0 = time.perf_counter()
    schedule.start()
    result = loadgen.run(b.port, pool, s.connections, seconds, check=True, on_tick=server.sample,
                         observe=observe, retry=fallback_renderer(b.port))
    schedule.join(timeout=40)
    summary = result.summary()
    out = analyse(observed, schedule.events)
    out["answered_by_fallback"] = out["lost_connections"]
    out.update(rps=summary["rps"], seconds=summary["seconds"], mismatches=summary["mismatches"],
               events_s={k: round(v, 3) for k, v in schedule.events.items() if k != "killed_pid"},
               schedule_error=schedule.error, client_cpu=summary["client_cpu"])
    ev = schedule.events
    if "worker_replaced" in ev:
        out["worker_replaced_after_s"] = round(ev["worker_replaced"] - ev["worker_killed"], 3)
    if "redis_back" in ev:
        out["redis_away_s"] = round(ev["redis_back"] - ev["redis_stopped"], 2)
    return out


def text(r: dict) -> str:
    lat = r["latency_ms"]
    rows = [f"  {name:<11} {v['n']:>6} requests  p50 {v['p50']} ms  p99 {v['p99']} ms  max {v['max']} ms"
            for name, v in lat.items()]
    ev = r["events_s"]
    return "\n".join([
        f"Faults at full load ({r['seconds']:.0f} s, {r['rps']:.0f} req/s, {r['requests']} answers): "
        f"Redis stopped at {ev.get('redis_stopped', '?')} s and answering again at "
        f"{ev.get('redis_back', '?')} s ({r.get('redis_away_s', '?')} s away); a worker killed at "
        f"{ev.get('worker_killed', '?')} s, replaced after {r.get('worker_replaced_after_s', '?')} s"
        + (f"; schedule error: {r['schedule_error']}" if r["schedule_error"] else ""),
        f"  errors {r['errors']} (after Twilio's fallback request; connections lost with the killed "
        f"worker, or cut short: {r['lost_connections']}, each answered by /fallback)",
        *(f"    error: {e}" for e in r.get("error_examples", [])),
        f"  answers that are not valid TwiML {r['invalid_twiml']}",
        f"  call starts without the 999 guidance first {r['call_starts_without_999']} of {r['call_starts']}",
        f"  emergency texts without the 999 guidance {r['emergency_texts_without_999']} of {r['emergency_texts']}",
        f"  answers that differ from the recorded ones {r['mismatches']} (expected with Redis away: "
        f"conversations and remembered languages are not there)",
        "  latency by when the request started:", *rows])


def targets(r: dict) -> list[dict]:
    def t(name, value, met):
        return {"target": name, "value": value, "limit": "0", "unit": "", "met": bool(met)}
    return [t("faults: errors (after Twilio's fallback request)", r["errors"], r["errors"] == 0),
            t("faults: answers that are not valid TwiML", r["invalid_twiml"], r["invalid_twiml"] == 0),
            t("faults: call starts without the 999 guidance", r["call_starts_without_999"],
              r["call_starts_without_999"] == 0),
            t("faults: emergency texts without the 999 guidance", r["emergency_texts_without_999"],
              r["emergency_texts_without_999"] == 0),
            t("faults: every fault happened as scheduled", r["schedule_error"] or "yes",
              not r["schedule_error"] and "worker_replaced_after_s" in r and "redis_away_s" in r)]
