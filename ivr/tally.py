"""What Redis may see up to a second late: the day's counters, added up in each worker.

No answer depends on them (they are /insight's figures), so a worker keeps them and sends
them together about once a second, from a small background thread or with the first
request that finds them due, instead of writing to Redis on every request: under load,
hundreds of requests' counts go out as a few HINCRBYs. What a worker killed outright still
held (its last second) is lost; a worker that exits normally (a restart, gunicorn's
`max_requests`) sends it first.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import Counter
from typing import Callable

log = logging.getLogger(__name__)

WAIT = 1.0      # seconds, by default, that anything is kept before it is sent


class Tally:
    """Counts kept in this process until they are due; `send(commands)` writes
    Redis commands (and raises when Redis is unavailable)."""

    def __init__(self, send: Callable[[list[tuple]], None], wait: float = WAIT):
        self._send = send
        self.wait = wait
        self._start()
        _TALLIES.add(self)

    def _start(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._counts: Counter = Counter()    # (hash key, field) -> amount
        self._members: dict = {}             # HyperLogLog key -> members to add
        self._ttls: dict = {}                # every key above -> its TTL
        self._since: float | None = None     # when the oldest thing kept was kept

    def _locked(self) -> threading.Lock:
        if self._pid != os.getpid():
            # A fork's copy of its parent's tally: the parent sends what it holds, and its
            # lock may have been held, by a thread the fork does not have, when it forked.
            self._start()
        return self._lock

    def _keeping(self) -> None:
        """Called under the lock before anything is kept."""
        if self._since is None:
            self._since = time.monotonic()
            _start_sender()

    def count(self, key: str, name: str, by: int, ttl: int) -> None:
        with self._locked():
            self._keeping()
            self._counts[(key, name)] += by
            self._ttls[key] = ttl

    def add(self, key: str, member: str, ttl: int) -> None:
        """A member for a HyperLogLog (PFADD)."""
        with self._locked():
            self._keeping()
            self._members.setdefault(key, set()).add(member)
            self._ttls[key] = ttl

    def due(self) -> bool:
        since = self._since
        return since is not None and self._pid == os.getpid() and time.monotonic() - since >= self.wait

    def take(self) -> list[tuple]:
        """Everything kept, as Redis commands (each key's EXPIRE after what creates it)."""
        with self._locked():
            commands = [("HINCRBY", key, name, by) for (key, name), by in self._counts.items() if by]
            commands += [("PFADD", key, *sorted(members)) for key, members in self._members.items()]
            commands += [("EXPIRE", key, ttl) for key, ttl in self._ttls.items()]
            self._counts, self._members, self._ttls = Counter(), {}, {}
            self._since = None
        return commands

    def flush(self, only_if_due: bool = False) -> bool:
        """Send what is kept (`only_if_due`: only once it has waited `wait` seconds).
        False when Redis did not take it: it is dropped, and said so in the log."""
        if only_if_due and not self.due():
            return True
        commands = self.take()
        if not commands:
            return True
        try:
            self._send(commands)
            return True
        except Exception as exc:   # noqa: BLE001 - the background sender must not die
            log.warning("redis unavailable: %d counts not sent (%s)",
                        len(commands), type(exc).__name__)
            return False


_TALLIES: weakref.WeakSet = weakref.WeakSet()
_sender_pid: int | None = None


def _start_sender() -> None:
    """One daemon thread per process (a forked worker starts its own) sends what is due."""
    global _sender_pid
    if _sender_pid == os.getpid():
        return
    _sender_pid = os.getpid()
    threading.Thread(target=_send_due, name="ivr-tally", daemon=True).start()


def _each_tally() -> list[Tally]:
    while True:
        try:
            return list(_TALLIES)
        except RuntimeError:      # the set changed while it was copied: copy it again
            continue


def _send_due() -> None:
    while True:
        time.sleep(min([t.wait for t in _each_tally()] + [WAIT]) / 2 or 0.05)
        for tally in _each_tally():
            tally.flush(only_if_due=True)


@atexit.register
def _send_all() -> None:
    """A worker that exits normally sends what it kept."""
    for tally in _each_tally():
        tally.flush()
