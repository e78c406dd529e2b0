"""Nothing personal left behind: after a run, Redis and every log it wrote are searched for
every phone number and message the run sent, and every Redis key must have a TTL.

What is searched for:

- every phone number the run posted (`From`, `Caller`; the line's own number aside), in
  the ways it could be written: +447..., 447..., 07... and URL-encoded (%2B447...);
- every message body and spoken answer the run posted that is not the line's own words.
  A text of "MENU", "2" or "knife bin" cannot be told apart from the line's own prompts
  and catalogue (which the line stores and may log), so bodies found in `catalogue/`,
  `prompts/` or `locales/` are counted and left out; the rest (sentences, emergency texts,
  questions) are searched for case-insensitively.

Where: every key name and value in Redis (strings, hashes, lists, sets, sorted sets), and
every log file the run wrote (gunicorn's stderr with the app logging at DEBUG, the bench
process's own log of the in-process app, and the embedded Redis's log).
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from .servers import ROOT

_LEVEL = re.compile(r"\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")
_DIGITS = re.compile(r"(?<!\d)(?:\+|%2[Bb])?\d{10,13}(?!\d)")


class Used:
    """Every phone number and message body (or spoken answer) the run posted."""

    def __init__(self):
        self.numbers: set[str] = set()
        self.bodies: set[str] = set()

    def add(self, fields: dict) -> None:
        for name in ("From", "Caller"):
            if fields.get(name):
                self.numbers.add(fields[name])
        for name in ("Body", "SpeechResult"):
            if fields.get(name):
                self.bodies.add(fields[name])


USED = Used()      # filled by bench.traffic as requests are made


def _normal(number: str) -> str:
    """+447700900123, 447700900123, 07700900123, %2B447700900123 -> 447700900123."""
    digits = number.replace("%2B", "").replace("%2b", "").lstrip("+")
    return "44" + digits[1:] if digits.startswith("0") else digits


def _own_words() -> str:
    """Everything the line itself can say or store: its catalogue, prompts and translations
    (not the danger corpus, which is never stored)."""
    parts = []
    for folder in ("catalogue", "prompts", "locales"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in (".yaml", ".po", ".json") and "emergency" not in path.parts:
                parts.append(path.read_text(errors="replace").lower())
    return "\n".join(parts)


def _redis_texts(client):
    """(where, text) for every key name and value; and the keys without a TTL."""
    no_ttl = []
    for key in client.scan_iter(count=1000):
        name = key.decode(errors="replace")
        yield f"key {name}", name
        kind = client.type(key).decode()
        if kind == "string":
            values = [client.get(key)]
        elif kind == "hash":
            values = [x for kv in client.hgetall(key).items() for x in kv]
        elif kind == "list":
            values = client.lrange(key, 0, -1)
        elif kind == "set":
            values = list(client.smembers(key))
        elif kind == "zset":
            values = [m for m, _ in client.zrange(key, 0, -1, withscores=True)]
        else:
            values = []
        for value in values:
            if value is not None:
                yield f"value of {name}", value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        if client.ttl(key) == -1:        # -2: it expired meanwhile, which is fine
            no_ttl.append(name)
    yield "no-ttl", no_ttl


def scan(client, logs: list[Path], used: Used | None = None) -> dict:
    """Search Redis and `logs` for `used`; the result says what was searched and found."""
    used = used or USED
    numbers = {_normal(n) for n in used.numbers}
    own = _own_words()
    bodies = sorted({b.strip().lower() for b in used.bodies if b.strip()})
    searched = [b for b in bodies if b not in own]
    body_re = re.compile("|".join(re.escape(b) for b in sorted(searched, key=len, reverse=True))) \
        if searched else None
    quoted_re = re.compile("|".join(re.escape(quote(b)) for b in searched), re.IGNORECASE) \
        if searched else None
    found: list[dict] = []

    def look(where: str, text: str) -> None:
        for m in _DIGITS.finditer(text):
            if _normal(m.group()) in numbers:
                found.append({"where": where, "what": "phone number"})
                break
        if body_re is not None:
            lowered = text.lower()
            if body_re.search(lowered) or quoted_re.search(text):
                found.append({"where": where, "what": "message body"})

    keys, no_ttl = 0, []
    for where, text in _redis_texts(client):
        if where == "no-ttl":
            no_ttl = text
            continue
        keys += where.startswith("key ")
        look(where, text)
    log_lines, levels = 0, {}
    for path in logs:
        if not path.exists():
            continue
        for i, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            log_lines += 1
            level = _LEVEL.search(line)
            if level:
                levels[level.group(1)] = levels.get(level.group(1), 0) + 1
            look(f"{path.name}:{i}", line)
    return {"numbers_searched": len(numbers), "bodies_searched": len(searched),
            "bodies_left_out_as_the_lines_own_words": len(bodies) - len(searched),
            "redis_keys": keys, "keys_without_ttl": len(no_ttl), "keys_without_ttl_examples": no_ttl[:5],
            "logs": [p.name for p in logs if p.exists()], "log_lines": log_lines,
            "log_lines_by_level": levels,
            "found": len(found), "found_examples": found[:10],
            "clean": not found and not no_ttl}


def text(result: dict) -> str:
    verdict = "clean" if result["clean"] else "FOUND PERSONAL DATA OR KEYS WITHOUT A TTL"
    lines = [f"Privacy scan: {verdict}. {result['numbers_searched']} phone numbers and "
             f"{result['bodies_searched']} message bodies searched for "
             f"({result['bodies_left_out_as_the_lines_own_words']} more are the line's own words: "
             f"commands, digits, catalogue keywords) in {result['redis_keys']} Redis keys and "
             f"{result['log_lines']} log lines ({', '.join(result['logs'])}; by level: "
             f"{', '.join(f'{k} {v}' for k, v in sorted(result['log_lines_by_level'].items()))}): "
             f"{result['found']} found; keys without a TTL: {result['keys_without_ttl']}."]
    for f in result["found_examples"]:
        lines.append(f"  {f['what']} in {f['where']}")
    for k in result["keys_without_ttl_examples"]:
        lines.append(f"  no TTL: {k}")
    return "\n".join(lines)
