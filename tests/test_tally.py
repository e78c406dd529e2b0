"""The day's counters wait in the worker, added up, and reach Redis within about a second."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import redis

from ivr.sessions import Store

from .conftest import fresh_number


def waiting_store(store, wait):
    return Store(store.client, "test-hash-secret", wait)


def eventually(check, seconds=3.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_counts_are_added_up_into_one_command_per_counter(store):
    s = waiting_store(store, 60)
    for _ in range(100):
        s.write([], ["test:add:a", ("test:add:b", -1)])
    commands = s.later.take()
    key = s.stats_key()
    assert ("HINCRBY", key, "test:add:a", 100) in commands
    assert ("HINCRBY", key, "test:add:b", -100) in commands
    assert commands[-1] == ("EXPIRE", key, s.STATS_TTL), "the TTL after what creates the key"
    assert s.later.take() == []


def test_a_count_reaches_redis_within_its_wait_with_no_other_request(store):
    s = waiting_store(store, 0.2)
    name = f"test:alone:{fresh_number()}"
    s.write([], [name])
    key = s.stats_key()
    assert store.client.hget(key, name) is None, "kept in the worker at first"
    assert eventually(lambda: store.client.hget(key, name) == b"1"), "sent by the background sender"
    assert store.client.ttl(key) > 0


def test_with_no_wait_a_count_is_sent_with_its_request(store):
    s = waiting_store(store, 0)
    name = f"test:now:{fresh_number()}"
    s.write([], [name])
    assert eventually(lambda: store.client.hget(s.stats_key(), name) == b"1", seconds=0.5)


def test_what_the_conversation_needs_is_not_kept_waiting(store):
    s = waiting_store(store, 60)
    key = s.sender_key(fresh_number())
    s.write([(key, {"lang": "lt"}, 60)], ["test:conversation"])
    assert store.client.get(key) == b'{"lang":"lt"}'


def test_a_process_reads_its_own_counts_at_once(store):
    s = waiting_store(store, 60)
    name = f"test:own:{fresh_number()}"
    s.write([], [name, name])
    assert s.counts()[name] == 2


def test_a_forked_worker_never_sends_its_parents_counts(store):
    s = waiting_store(store, 60)
    name = f"test:fork:{fresh_number()}"
    s.write([], [name])
    pid = os.fork()
    if pid == 0:
        os._exit(0 if s.later.take() == [] else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert s.counts()[name] == 1, "counted once, by the parent"


def test_counts_redis_cannot_take_are_dropped_and_said_so(caplog):
    down = redis.Redis(unix_socket_path="/nonexistent/redis.sock", socket_timeout=0.2)
    s = Store(down, "secret", 60)
    s.write([], ["test:down"])
    assert s.later.flush() is False
    assert "counts not sent (ConnectionError)" in caplog.text
    assert s.later.take() == []


def test_a_worker_that_exits_sends_what_it_kept(store, tmp_path):
    name = f"test:exit:{fresh_number()}"
    kwargs = store.client.connection_pool.connection_kwargs
    where = (f"unix_socket_path={kwargs['path']!r}" if "path" in kwargs
             else f"host={kwargs['host']!r}, port={kwargs['port']}, db={kwargs.get('db', 0)}")
    script = (f"import redis\nfrom ivr.sessions import Store\n"
              f"s = Store(redis.Redis({where}), 'x', 3600)\ns.write([], [{name!r}])\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30,
                   cwd=os.path.dirname(os.path.dirname(__file__)))
    assert store.client.hget(store.stats_key(), name) == b"1"
