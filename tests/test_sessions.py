"""Session state in a real Redis: shared between processes, keyed without phone numbers, always expiring."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from itertools import cycle

import pytest

from ivr.simulator import Phone, Transport
from ivr.simulator import text as send_text

from .conftest import TOKEN, fresh_number, node


def test_keys_hold_a_keyed_hash_never_the_number(store):
    number = "+447700900123"
    key = store.sender_key(number)
    assert "7700900123" not in key
    assert store.hashed(number) == store.hashed(number)
    from ivr.sessions import Store
    other = Store(store.client, "another-secret")
    assert other.hashed(number) != store.hashed(number), "the hash is keyed by the secret"


def test_after_calls_and_texts_redis_holds_no_number_or_message_and_every_key_expires(
        transport, store, line, caplog):
    number = fresh_number()
    phone = Phone(transport, caller=number)
    phone.dial()
    phone.press("1")
    secret_words = "my drink was spiked at the Red Lion"
    send_text(transport, secret_words, sender=number)
    send_text(transport, "MENU", sender=number)
    digits = number.lstrip("+")
    national = "0" + digits[2:]
    for key in store.client.scan_iter("*"):
        value = readable(store.client, key)
        blob = (key + b" " + value).decode("utf-8", "replace")
        for form in (number, digits, national, digits[-10:]):
            assert form not in blob, f"{key!r} holds the number"
        assert "Red Lion" not in blob
        # -1: no expiry (a defect); -2: expired since the scan saw it (fine).
        assert store.client.ttl(key) != -1, f"{key!r} never expires"
    for form in (number, digits, national):
        assert form not in caplog.text
    assert "Red Lion" not in caplog.text


def readable(client, key) -> bytes:
    """Everything a key holds, whatever its type, as bytes to search."""
    kind = client.type(key).decode()
    if kind == "string":
        return client.get(key) or b""
    if kind == "hash":
        return b" ".join(k + b"=" + v for k, v in client.hgetall(key).items())
    raise AssertionError(f"{key!r}: a {kind} the privacy test cannot read yet")


def test_the_call_state_survives_between_requests(transport, line):
    phone = Phone(transport, caller=fresh_number())
    turn = phone.dial()
    assert node(turn) in ("main", "lang")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Alternating(Transport):
    """Sends each request to the next of several servers, signing the URL it really requests.

    It drops the state token from the URL, so only Redis can carry the call's place.
    """

    def __init__(self, bases):
        super().__init__(TOKEN, base_url=bases[0])
        self._next = cycle(bases)
        self.seen = []

    def post(self, url, form, sign=True):
        base = next(self._next)
        path = url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
        real = f"{base}/{path}"
        self.seen.append(base)
        return super().post(real, form, sign)


@pytest.fixture
def two_servers(tmp_path):
    """Two separate app processes sharing one Redis (the embedded one, or REDIS_URL)."""
    env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN, "IVR_DATA_DIR": str(tmp_path),
           "IVR_HASH_SECRET": "shared", "IVR_PROXY_COUNT": "0"}
    procs, bases = [], []
    for _ in range(2):
        port = _free_port()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "ivr.cli", "serve", "--port", str(port), "--workers", "1"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base in bases:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                pytest.fail(f"{base} did not start")
        yield bases
    finally:
        for p in procs:
            os.killpg(p.pid, 15)
        for p in procs:
            p.wait(timeout=10)


def test_one_call_alternating_between_two_processes_keeps_its_place(two_servers, line):
    transport = Alternating(two_servers)
    phone = Phone(transport, caller=fresh_number())
    turn = phone.dial()
    if node(turn) == "lang":
        turn = phone.press(str(line.offered.index("en") + 1))
    turn = phone.press("1")
    assert node(turn) == "category"
    turn = phone.press("2")
    assert turn.said[0].text.startswith(line.catalogue.category("reporting").services[1].title)
    turn = phone.press("6")          # a miss, counted in Redis ...
    turn = phone.press("6")          # ... by the other process
    assert "Sorry" not in " ".join(h.text for h in turn.said), "the second miss repeats the menu"
    assert len(set(transport.seen)) == 2


def test_an_sms_conversation_alternating_between_two_processes(two_servers):
    transport = Alternating(two_servers)
    number = fresh_number()
    assert "1 Reporting" in send_text(transport, "menu", sender=number)
    assert "Domestic abuse" in send_text(transport, "8", sender=number)
    assert send_text(transport, "1", sender=number).startswith("Clare's Law")


# --- the worker's own link: one wait a webhook at most, writes sent without waiting --------

def test_a_webhook_waits_on_redis_once_at_most_and_sends_its_write_without_waiting(monkeypatch, transport, line):
    import redis

    from ivr.sessions import Link
    waited, sent = [], []
    ask, send = Link.ask, Link.send
    monkeypatch.setattr(Link, "ask", lambda self, *a, **k: waited.append(1) or ask(self, *a, **k))
    monkeypatch.setattr(Link, "send", lambda self, *a, **k: sent.append(1) or send(self, *a, **k))
    for through_pool in ("execute_command",):
        original = getattr(redis.Redis, through_pool)
        monkeypatch.setattr(redis.Redis, through_pool,
                            lambda self, *a, **k: waited.append(a[0]) or original(self, *a, **k))

    def one(request):
        waited.clear(), sent.clear()
        request()
        return len(waited), len(sent)

    number = fresh_number()
    assert one(lambda: send_text(transport, "fraud", sender=number)) == (1, 0), \
        "a one-off reply stores nothing, and its counts wait in the worker"
    assert one(lambda: send_text(transport, "MENU", sender=number)) == (1, 1)
    phone = Phone(transport, caller=fresh_number())
    assert one(phone.dial) == (1, 1), "a call's start reads the caller's language, then writes"
    assert one(lambda: phone.press("1")) == (0, 1), "a step's place is in its URL: nothing to wait for"


def test_a_write_sent_without_waiting_is_there_for_the_next_reader(store):
    key = store.sender_key(fresh_number())
    assert store.write([(key, {"lang": "pl"}, 60)], counts=["sms:pl:safe"])
    other = store.client        # redis-py's own pool: another connection than the link's
    assert other.get(key) == b'{"lang":"pl"}'
    assert 0 < other.ttl(key) <= 60


def test_a_write_redis_refuses_is_logged_when_read_and_the_link_goes_on(store, caplog):
    key = "ivr:test:{a-hash}"
    store.client.hset(key, "f", "v")
    store.client.expire(key, 60)
    store.link.send([("INCR", key)])            # WRONGTYPE: answered later, on the next use
    number = fresh_number()
    assert store.write([(store.sender_key(number, "lang"), "ro", 60)])
    assert store.sender(number).lang == "ro"
    assert "redis refused a write: ResponseError" in caplog.text
    assert "a-hash" not in caplog.text


def test_the_link_reconnects_when_redis_drops_it(store):
    number = fresh_number()
    store.write([(store.sender_key(number, "lang"), "lt", 60)])
    assert store.sender(number).lang == "lt"
    link_id = store.link.ask([("CLIENT", "ID")])[0]
    assert store.client.execute_command("CLIENT", "KILL", "ID", link_id) == 1
    assert store.sender(number).lang == "lt", "a dropped connection is opened again, once"
    assert store.write([(store.sender_key(number, "lang"), "pt", 60)])
    assert store.sender(number).lang == "pt"


def test_a_forked_worker_opens_its_own_link(store):
    """gunicorn preloads the app and forks: a worker must never share its parent's socket."""
    number = fresh_number()
    store.write([(store.sender_key(number, "lang"), "bg", 60)])
    assert store.sender(number).lang == "bg"
    parent = store.link._connection()
    pid = os.fork()
    if pid == 0:
        try:
            ok = store.link._connection() is not parent and store.sender(number).lang == "bg"
            ok = ok and store.write([(store.sender_key(number, "lang"), "ar", 60)])
            os._exit(0 if ok else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.sender(number).lang == "ar", "the parent's link still works, and sees the child's write"
