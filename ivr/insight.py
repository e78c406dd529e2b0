"""What residents ask, counted with nothing personal in it: the figures behind `/insight`.

The webhooks count what they answered in the same pipelined Redis write as their own
state (no extra round trip), into one hash a day, `ivr:stats:<YYYY-MM-DD>` (UTC):

    call:<lang>:calls              calls (moved to the language the caller chose)
    call:<lang>:service:<id>       services heard on a call
    call:<lang>:hangup:<menu>      calls that ended while the line waited at a menu
                                   (from Twilio's call status callback)
    call|sms:<lang>:words|model    answers that led with 999: danger read by the word
                                   lists or the model
    call|sms:<lang>:safe           spoken answers and texts read as not danger
    sms:<lang>:service:<id>        services a text reached
    sms:<lang>:nothing             texts that found nothing

Texts that found nothing also leave their words, scrubbed by `phrase` (no digits,
e-mail or web addresses, postcodes or capitalised names; at most six words), in
`ivr:phrases:<day>`, with a HyperLogLog of the keyed hashes of their senders in
`ivr:phrase-senders:<day>:<digest>`: it can say how many different senders sent a
phrase, but not who. A phrase is shown only when at least `MIN_SENDERS` different
senders sent it in the period shown. Counters are kept 40 days, phrases 30.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from .text import fold

STATS_TTL = 40 * 24 * 3600
PHRASES_TTL = 30 * 24 * 3600
MIN_SENDERS = 3
MAX_WORDS = 6

# --- the words of a text that found nothing --------------------------------------------

_ADDRESS = re.compile(r"\S+@\S+|\bhttps?://\S+|\bwww\.\S+|\S+\.(?:com|org|net|uk|gov|co)\b\S*"
                      r"|@\w+", re.IGNORECASE)
# UK postcodes, whole or outward part only ("NN1 1AA", "nn11aa", "NN1").
_POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?(?:\s*[0-9][A-Z]{2})?\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|\S*\d\S*")


def phrase(text: str) -> str:
    """The folded words of a message, with anything that could say who sent it removed.

    Dropped: anything with a digit (numbers, times, house numbers, dates), e-mail and web
    addresses and @handles, postcodes, and capitalised words (names, streets, places),
    except the first word (phones capitalise it themselves) and in a message written in
    capitals throughout. At most six words are kept. What is left is shown only when
    several different senders sent it (`MIN_SENDERS`).
    """
    text = _ADDRESS.sub(" ", (text or "")[:300])
    text = _POSTCODE.sub(" ", text)
    shouting = not any(ch.islower() for ch in text)
    kept: list[str] = []
    for i, match in enumerate(_WORD.finditer(text)):
        word = match.group()
        if any(ch.isdigit() for ch in word) or len(word) > 24:
            continue
        if i > 0 and not shouting and word[:1].isupper():
            continue
        folded = fold(word)
        if any(ch.isdigit() for ch in folded):
            continue            # "¾" folds to "3 4": a digit all the same
        if folded:
            kept.append(folded)
        if len(kept) == MAX_WORDS:
            break
    return " ".join(kept)


def digest(words: str) -> str:
    return hashlib.sha256(words.encode()).hexdigest()[:16]


def phrases_key(day: str) -> str:
    return f"ivr:phrases:{day}"


def senders_key(day: str, words: str) -> str:
    return f"ivr:phrase-senders:{day}:{digest(words)}"


def today() -> str:
    return dt.datetime.now(dt.timezone.utc).date().isoformat()


# --- reading the counters back --------------------------------------------------------

@dataclass
class Period:
    """A day or a week (Monday to Sunday, UTC), and the days in it that have happened."""
    kind: str
    start: dt.date
    days: list[str]

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        return f"week of {self.start.isoformat()}"

    @classmethod
    def of(cls, kind: str, when: str | None, now: dt.date | None = None) -> "Period":
        """The period `kind` ("day" or "week") holding the date `when`; today when absent or
        not a date, and never a day in the future or older than the counters are kept."""
        now = now or dt.datetime.now(dt.timezone.utc).date()
        try:
            day = dt.date.fromisoformat(when or "")
        except ValueError:
            day = now
        oldest = now - dt.timedelta(seconds=STATS_TTL - 24 * 3600)
        day = min(max(day, oldest), now)
        if kind != "week":
            return cls("day", day, [day.isoformat()])
        start = day - dt.timedelta(days=day.weekday())
        days = [start + dt.timedelta(days=i) for i in range(7)]
        return cls("week", start, [d.isoformat() for d in days if oldest <= d <= now])

    def previous(self) -> str:
        return (self.start - dt.timedelta(days=1 if self.kind == "day" else 7)).isoformat()

    def next(self) -> str:
        return (self.start + dt.timedelta(days=1 if self.kind == "day" else 7)).isoformat()


@dataclass
class Figures:
    """Every table of the insight page, for one period."""
    period: Period
    by_language: list[dict] = field(default_factory=list)     # one row per channel and language
    services: list[dict] = field(default_factory=list)        # most asked-for services
    hangups: list[dict] = field(default_factory=list)         # where callers gave up
    daily: list[dict] = field(default_factory=list)           # calls and texts per day
    phrases: list[dict] = field(default_factory=list)         # texts that found nothing


def read(client, period: Period, titles: dict[str, str], menus: dict[str, str]) -> Figures:
    """The period's figures: counters summed over its days, phrases from at least
    MIN_SENDERS different senders. One pipelined round trip for the counters and phrase
    lists, and one for the distinct-sender counts."""
    pipe = client.pipeline(transaction=False)
    for day in period.days:
        pipe.hgetall(f"ivr:stats:{day}")
        pipe.hgetall(phrases_key(day))
    raw = pipe.execute()
    per_day = [{k.decode(): int(v) for k, v in raw[i].items()} for i in range(0, len(raw), 2)]
    phrase_days: dict[str, list[str]] = {}
    phrase_texts: dict[str, int] = {}
    for day, found in zip(period.days, raw[1::2]):
        for words, n in found.items():
            words = words.decode()
            phrase_days.setdefault(words, []).append(day)
            phrase_texts[words] = phrase_texts.get(words, 0) + int(n)
    pipe = client.pipeline(transaction=False)
    ordered = sorted(phrase_days)
    for words in ordered:
        pipe.pfcount(*[senders_key(day, words) for day in phrase_days[words]])
    senders = dict(zip(ordered, pipe.execute())) if ordered else {}

    figures = Figures(period)
    totals: dict[str, int] = {}
    for day, counts in zip(period.days, per_day):
        calls = sum(n for k, n in counts.items() if k.endswith(":calls"))
        texts = sum(n for k, n in counts.items() if k.startswith("sms:") and k.endswith((":words", ":model", ":safe")))
        figures.daily.append({"day": day, "calls": calls, "texts": texts})
        for k, n in counts.items():
            totals[k] = totals.get(k, 0) + n
    figures.by_language = _by_language(totals)
    figures.services = _services(totals, titles)
    figures.hangups = _hangups(totals, menus)
    figures.phrases = sorted(
        ({"phrase": w, "senders": senders[w], "texts": phrase_texts[w]}
         for w in ordered if senders[w] >= MIN_SENDERS),
        key=lambda row: (-row["senders"], -row["texts"], row["phrase"]))
    return figures


def _split(key: str) -> tuple[str, str, str, str]:
    channel, lang, what, *rest = key.split(":") + [""]
    return channel, lang, what, ":".join(r for r in rest if r)


def _by_language(totals: dict[str, int]) -> list[dict]:
    rows: dict[tuple[str, str], dict] = {}
    for key, n in totals.items():
        channel, lang, what, _ = _split(key)
        if channel not in ("call", "sms") or not lang:
            continue
        row = rows.setdefault((channel, lang), {"channel": "call" if channel == "call" else "text",
                                                "language": lang, "contacts": 0, "emergency_first": 0,
                                                "services_reached": 0, "found_nothing": 0, "hung_up": 0})
        if what == "calls":
            row["contacts"] += n
        elif what in ("words", "model"):
            row["emergency_first"] += n
        if channel == "sms" and what in ("words", "model", "safe"):
            row["contacts"] += n
        if what == "service":
            row["services_reached"] += n
        if what == "nothing":
            row["found_nothing"] += n
        if what == "hangup":
            row["hung_up"] += n
    return [rows[k] for k in sorted(rows)]


def _services(totals: dict[str, int], titles: dict[str, str]) -> list[dict]:
    rows: dict[str, dict] = {}
    for key, n in totals.items():
        channel, _, what, target = _split(key)
        if what != "service" or not target:
            continue
        row = rows.setdefault(target, {"service": titles.get(target, target), "calls": 0, "texts": 0})
        row["calls" if channel == "call" else "texts"] += n
    return sorted(rows.values(), key=lambda r: (-(r["calls"] + r["texts"]), r["service"]))


def _hangups(totals: dict[str, int], menus: dict[str, str]) -> list[dict]:
    rows: dict[str, int] = {}
    for key, n in totals.items():
        channel, _, what, where = _split(key)
        if channel == "call" and what == "hangup":
            rows[where] = rows.get(where, 0) + n
    return sorted(({"menu": menus.get(k, k), "calls": n} for k, n in rows.items()),
                  key=lambda r: (-r["calls"], r["menu"]))
