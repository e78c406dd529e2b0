"""The /try page's sessions: one browser is one pretend caller, kept in Redis between requests.

A browser holds only a random id (an HttpOnly, SameSite=Strict cookie). Redis holds,
under the keyed hash of that id and with a TTL, which example caller it is and the call it
is on (what the call waits for, never the number). The number is derived again on every
request from the id and the deployment's secret: one of Ofcom's drama numbers, which no
real phone has, so each session is one sender of its own (its remembered language, its
texts, its limits) and a session's texts can reach no one.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import redis

from . import segments
from .sessions import PREFIX, Store
from .simulator import Heard, Turn
from .texting import Texter, is_uk_mobile

# Ofcom's ranges for drama: never given to a real line.
MOBILE, LANDLINE = "+447700900", "+442079460"
LINE = "+441632960000"       # the line as this page dials and texts it (drama range too)
WITHHELD = "+266696687"      # what Twilio sends in From for a withheld number
CALLERS = {"mobile": "A UK mobile", "landline": "A landline", "withheld": "A withheld number"}

SESSION_TTL = 3600           # an idle try session is forgotten after an hour
STEPS_PER_MINUTE = 30        # public mode: call steps per browser session
SESSIONS_PER_MINUTE = 5      # public mode: new try sessions per client address


def is_pretend_line(to: str) -> bool:
    """Whether a webhook came from this page (it dials `LINE`, which no real call can reach):
    such traffic is answered as any other but not counted in /insight."""
    return to.replace(" ", "") == LINE


def number(store: Store, session_id: str, kind: str) -> str:
    """The session's pretend number for this kind of caller (the same on every request)."""
    if kind == "withheld":
        return WITHHELD
    n = int(store.hashed("try-number:" + session_id)[:8], 16) % 1000
    return f"{LANDLINE if kind == 'landline' else MOBILE}{n:03d}"


def _key(store: Store, session_id: str, kind: str = "state") -> str:
    return f"{PREFIX}:try:{{{store.hashed('try-session:' + session_id)}}}:{kind}"


def _taken_key(store: Store, session_id: str) -> str:
    return f"{PREFIX}:try:taken:{store.hashed(number(store, session_id, 'mobile'))}"


@dataclass
class TrySession:
    """One browser's pretend caller: the kind chosen, and the call it is on (if any)."""
    id: str
    kind: str = "mobile"
    call: dict | None = field(default=None)   # Phone.to_data() without the caller's number

    def number(self, store: Store, kind: str | None = None) -> str:
        return number(store, self.id, kind or self.kind)


def load(store: Store, session_id: str | None) -> TrySession | None:
    if not session_id or len(session_id) > 64:
        return None
    data = store.load(_key(store, session_id))
    if not isinstance(data, dict):
        return None
    kind = data.get("kind") if data.get("kind") in CALLERS else "mobile"
    return TrySession(session_id, kind, data.get("call"))


def save(store: Store, session: TrySession) -> None:
    """Keep the session for another idle hour, and its number taken for as long."""
    store.write([(_key(store, session.id), {"kind": session.kind, "call": session.call}, SESSION_TTL),
                 (_taken_key(store, session.id), "1", SESSION_TTL)])


def new(store: Store) -> TrySession:
    """A new session on a drama number no live session has. The number starts afresh: what
    an earlier, expired session left under it (a language, an opt-out, texts sent) goes."""
    for _ in range(20):
        session = TrySession(secrets.token_urlsafe(24))
        try:
            free = store.client.set(_taken_key(store, session.id), "1", ex=SESSION_TTL, nx=True)
        except redis.RedisError:
            free = True
        if free:
            break
    mobile, landline = session.number(store, "mobile"), session.number(store, "landline")
    kinds = ("sms", "lang", "optout", "sent", "rate", "danger")
    try:
        store.client.delete(*[store.sender_key(n, k) for n in (mobile, landline) for k in kinds])
    except redis.RedisError:
        pass
    save(store, session)
    return session


def allow(store: Store, what: str, who: str, per_minute: int) -> bool:
    """One more `what` for `who` this minute, if under `per_minute` (the count has a TTL).
    When Redis does not answer, yes: the page is then no more open than the line."""
    key = f"{PREFIX}:try:limit:{what}:{store.hashed('try-limit:' + who)}"
    try:
        pipe = store.client.pipeline(transaction=False)
        pipe.set(key, 0, ex=60, nx=True)
        pipe.incr(key)
        return int(pipe.execute()[1]) <= per_minute
    except redis.RedisError:
        return True


class Outbox(Texter):
    """Send-by-text for the try page: the line's own rules (`Texter.status`: mobiles only,
    per-call and per-day limits, STOP), but a text is kept to show in the page, never sent.
    Ofcom's drama mobiles count as mobiles here: no real phone has one."""

    def __init__(self, config: dict):
        super().__init__(config)
        self.sent: list[str] = []

    @property
    def enabled(self) -> bool:
        return True

    def reaches(self, number: str) -> bool:
        return (number.startswith(MOBILE) and len(number) == len(MOBILE) + 3) or is_uk_mobile(number)

    def send(self, to: str, body: str) -> bool:
        self.sent.append(body)
        return True


def message(body: str) -> dict:
    """A text as the page shows it, with its length as carriers count it."""
    gsm = segments.is_gsm7(body)
    return {"body": body, "encoding": "GSM-7" if gsm else "UCS-2", "chars": len(body),
            "segments": segments.segments(body) if body else 0}


def heard(item: Heard, languages: dict) -> dict:
    """A thing the line said, as the browser speaks and shows it: the BCP 47 tag for the
    voice and for `lang=`, and the script's direction for `dir=`."""
    language = next((lang for lang in languages.values() if lang.say_language == item.language), None)
    tag = item.language
    direction = "ltr"
    if language is not None:
        if "-" not in tag:     # a Twilio-only tag ("arb"): the language's own code
            tag = language.code.replace("_", "-")
        direction = "rtl" if language.locale.character_order == "right-to-left" else "ltr"
    return {"text": item.text, "parts": item.parts or [item.text], "lang": tag,
            "slow": item.slow, "dir": direction}


def turn(turns: list[Turn], languages: dict, outbox: Outbox) -> dict:
    """What the browser gets after a step: everything said since the caller's last input
    (redirects followed), what the call waits for, and the texts the line 'sent'."""
    last = turns[-1]
    waiting = last.gather is not None and not last.hangup
    return {"said": [heard(h, languages) for t in turns for h in t.said],
            "waiting": waiting, "ended": not waiting,
            "timeout": last.timeout if waiting else None,
            "speech_lang": last.speech_language if waiting else None,
            "silence": bool(last.silence_url),
            "texts": [message(b) for b in outbox.sent]}
