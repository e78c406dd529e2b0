"""REDIS_URL through redis-py's own clients: Sentinel and Cluster, on real redis-server processes.

A call and an SMS conversation must work unchanged: one session's keys share a hash tag,
so its pipelined reads and writes stay on one cluster slot.
"""
from __future__ import annotations

import subprocess
import time

import pytest
import redis

from ivr import create_app
from ivr.sessions import redis_server_binary
from ivr.simulator import Phone, Transport
from ivr.simulator import text as send_text

from .conftest import TOKEN, fresh_number, node, past_language_step
from .test_outage import _free_port

SERVER = str(redis_server_binary())
CLI = SERVER.replace("redis-server", "redis-cli")


def wait_for(check, what, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.1)
    pytest.fail(f"{what} did not come up")


@pytest.fixture
def processes():
    procs = []
    yield procs
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=10)


def start(processes, *args):
    processes.append(subprocess.Popen([SERVER, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


def walk(app):
    line = app.extensions["ivr.line"]
    phone = Phone(Transport(TOKEN, app=app), caller=fresh_number())
    turn = past_language_step(phone, phone.dial(), "en", line)
    turn = phone.press("3")
    assert node(turn) == "category"
    store = app.extensions["ivr.store"]
    assert store.load(store.call_key(phone.sid))["category"] == "safety"
    number = fresh_number()
    transport = Transport(TOKEN, app=app)
    assert "1 Reporting" in send_text(transport, "menu", sender=number)
    assert send_text(transport, "8", sender=number).startswith("Domestic abuse")
    assert store.sender(number).sms["listing"] == "domestic-abuse"


def test_redis_sentinel(processes, tmp_path):
    master, sentinel = _free_port(), _free_port()
    start(processes, "--port", str(master), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path))
    wait_for(lambda: redis.Redis(port=master).ping(), "redis master")
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sentinel}\nbind 127.0.0.1\nsentinel monitor line 127.0.0.1 {master} 1\n")
    start(processes, str(conf), "--sentinel")
    wait_for(lambda: redis.Redis(port=sentinel).sentinel_masters().get("line"), "sentinel")
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": tmp_path / "data",
                      "REDIS_URL": f"redis+sentinel://127.0.0.1:{sentinel}/line/0"})
    walk(app)


def _cluster_port():
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    import random
    import socket
    while True:
        port = random.randint(20000, 40000)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            continue


def test_redis_cluster(processes, tmp_path):
    ports = [_cluster_port() for _ in range(3)]
    for port in ports:
        folder = tmp_path / str(port)
        folder.mkdir()
        start(processes, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
              "--cluster-config-file", "nodes.conf", "--save", "", "--dir", str(folder))
    for port in ports:
        wait_for(lambda: redis.Redis(port=port).ping(), "cluster node")
    subprocess.run([CLI, "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-yes"],
                   check=True, capture_output=True, timeout=60)
    wait_for(lambda: b"cluster_state:ok" in redis.Redis(port=ports[0]).execute_command("CLUSTER", "INFO"), "cluster")
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": tmp_path / "data",
                      "REDIS_URL": f"redis+cluster://127.0.0.1:{ports[0]}"})
    walk(app)
