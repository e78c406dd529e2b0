"""Follow the line's TwiML the way Twilio does: the engine behind `ivr-line call` and the tests.

A `Phone` posts signed webhooks (to a Flask app in-process, or to a URL over HTTP),
reads the TwiML back as XML, and plays it: `<Say>` is heard, `<Gather>` waits for an
answer, a `<Redirect>` is followed, `<Hangup>` ends the call. Relative URLs are resolved
against the URL that was requested, as Twilio resolves them.
"""
from __future__ import annotations

import itertools
import secrets
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from twilio.request_validator import RequestValidator

_sids = itertools.count(1)


@dataclass
class Heard:
    """One thing said on the call, with what a browser needs to say it aloud: the
    `<Say language>`, whether it is slowed (`<prosody rate="slow">`), and its parts split
    at `<break>` (the pauses between menu options)."""
    text: str
    voice: str
    language: str
    slow: bool = False
    parts: list[str] = field(default_factory=list)


def _parts(say) -> list[str]:
    """The Say's text in pieces, cut wherever it has a <break>."""
    parts, current = [], []

    def walk(element):
        current.append(element.text or "")
        for child in element:
            if child.tag == "break":
                parts.append("".join(current))
                current.clear()
            else:
                walk(child)
            current.append(child.tail or "")

    walk(say)
    parts.append("".join(current))
    return [" ".join(p.split()) for p in parts if p.strip()]


@dataclass
class Turn:
    """What one webhook answered: what was said, and what the call waits for next."""
    url: str
    said: list[Heard] = field(default_factory=list)
    gather: dict | None = None       # the Gather's attributes, when waiting for input
    next_url: str | None = None      # the Gather action / Redirect target
    silence_url: str | None = None   # where Twilio goes when the Gather hears nothing
    hangup: bool = False
    xml: str = ""

    @property
    def timeout(self) -> int:
        """Seconds the Gather waits for a first key or word before it counts as silence
        (Twilio's default is 5)."""
        try:
            return int((self.gather or {}).get("timeout", 5))
        except ValueError:
            return 5

    @property
    def speech_language(self) -> str:
        """The language the Gather listens for (Twilio's default is en-US)."""
        return (self.gather or {}).get("language", "en-US")


def parse(xml_text: str, url: str) -> Turn:
    """Read one TwiML answer. Raises ET.ParseError when it is not XML."""
    root = ET.fromstring(xml_text)
    if root.tag != "Response":
        raise ValueError(f"not TwiML: root is <{root.tag}>")
    turn = Turn(url=url, xml=xml_text)

    def says(element):
        for say in element.iter("Say"):
            text = " ".join("".join(say.itertext()).split())
            slow = any(p.get("rate") in ("slow", "x-slow") for p in say.iter("prosody"))
            turn.said.append(Heard(text, say.get("voice", ""), say.get("language", ""),
                                   slow=slow, parts=_parts(say)))

    children = list(root)
    for i, child in enumerate(children):
        if child.tag == "Say":
            says(child)
        elif child.tag == "Gather":
            says(child)
            turn.gather = dict(child.attrib)
            turn.next_url = urllib.parse.urljoin(url, child.get("action", url))
            after = children[i + 1] if i + 1 < len(children) else None
            if after is not None and after.tag == "Redirect":
                turn.silence_url = urllib.parse.urljoin(url, (after.text or "").strip() or url)
            break
        elif child.tag == "Redirect":
            turn.next_url = urllib.parse.urljoin(url, (child.text or "").strip() or url)
            break
        elif child.tag == "Hangup":
            turn.hangup = True
            break
    return turn


class Transport:
    """Posts signed forms: to an in-process Flask app, or over HTTP to a running line."""

    def __init__(self, token: str, app=None, base_url: str = "http://localhost",
                 environ: dict | None = None):
        self.validator = RequestValidator(token)
        self.app = app
        self.client = app.test_client() if app is not None else None
        self.base_url = base_url.rstrip("/")
        # In-process only: WSGI environ keys for the app (no HTTP request can set them).
        self.environ = environ or {}

    def url(self, path: str) -> str:
        return self.base_url + path

    def post(self, url: str, form: dict, sign: bool = True) -> tuple[int, str]:
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, form)} if sign else {}
        if self.client is not None:
            r = self.client.post(url, data=form, headers=headers, environ_overrides=self.environ)
            return r.status_code, r.get_data(as_text=True)
        data = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


class Phone:
    """One call, answered step by step."""

    def __init__(self, transport: Transport, caller: str = "+447700900123",
                 line_number: str = "+441604000000", sid: str | None = None):
        self.transport = transport
        self.sid = sid or f"CA{next(_sids):032d}"
        self.caller = caller
        self.line_number = line_number
        self.turns: list[Turn] = []

    @staticmethod
    def new_sid() -> str:
        """A random CallSid, unique across processes (the counter is unique within one)."""
        return "CA" + secrets.token_hex(16)

    def to_data(self) -> dict:
        """What the call needs to go on later, as plain data: who, and what it waits for.
        (It holds the caller's number: whoever stores it decides how.)"""
        last = self.turns[-1] if self.turns else None
        waiting = {} if last is None else {
            "url": last.url, "gather": last.gather, "next_url": last.next_url,
            "silence_url": last.silence_url, "hangup": last.hangup}
        return {"sid": self.sid, "caller": self.caller, "line_number": self.line_number,
                "waiting": waiting}

    @classmethod
    def from_data(cls, transport: Transport, data: dict) -> "Phone":
        """The call `to_data` described, ready for its next key, words or silence."""
        phone = cls(transport, caller=data["caller"], line_number=data["line_number"], sid=data["sid"])
        waiting = data.get("waiting") or {}
        if waiting:
            phone.turns.append(Turn(url=waiting["url"], gather=waiting.get("gather"),
                                    next_url=waiting.get("next_url"),
                                    silence_url=waiting.get("silence_url"),
                                    hangup=bool(waiting.get("hangup"))))
        return phone

    def _form(self, **extra) -> dict:
        form = {"CallSid": self.sid, "From": self.caller, "To": self.line_number,
                "CallStatus": "in-progress", "AccountSid": "AC" + "0" * 32}
        form.update({k: v for k, v in extra.items() if v is not None})
        return form

    def _post(self, url: str, **extra) -> Turn:
        status, body = self.transport.post(url, self._form(**extra))
        if status != 200:
            raise RuntimeError(f"{url} answered {status}")
        turn = parse(body, url)
        self.turns.append(turn)
        return turn

    def dial(self) -> Turn:
        return self._follow(self._post(self.transport.url("/voice"), CallStatus="ringing"))

    def press(self, digits: str) -> Turn:
        return self._follow(self._post(self._waiting(), Digits=digits))

    def say(self, words: str, confidence: float = 0.9) -> Turn:
        return self._follow(self._post(self._waiting(), SpeechResult=words, Confidence=str(confidence)))

    def silence(self) -> Turn:
        """Say nothing: Twilio runs the TwiML after the Gather (our Redirect); if none, the call ends."""
        last = self.turns[-1] if self.turns else None
        self._waiting()
        if not last.silence_url:
            raise RuntimeError("a Gather with nothing after it: silence would hang up the call")
        return self._follow(self._post(last.silence_url))

    def _waiting(self) -> str:
        last = self.turns[-1] if self.turns else None
        if last is None or last.hangup or not last.next_url:
            raise RuntimeError("the call is not waiting for input")
        return last.next_url

    def _follow(self, turn: Turn) -> Turn:
        """Follow bare Redirects (no Gather) until the line waits or hangs up."""
        hops = 0
        while turn.gather is None and not turn.hangup and turn.next_url and hops < 10:
            turn = self._post(turn.next_url)
            hops += 1
        return turn

    @property
    def ended(self) -> bool:
        return bool(self.turns) and self.turns[-1].hangup

    def hang_up(self) -> None:
        """The caller puts the phone down: Twilio then posts the call status callback."""
        form = self._form(CallStatus="completed")
        self.transport.post(self.transport.url("/voice/status"), form)
        if self.turns:
            self.turns[-1].hangup = True


def text(transport: Transport, body: str, sender: str = "+447700900123",
         line_number: str = "+441604000000") -> str:
    """Send one SMS to the line; the reply's text (empty when it sends none)."""
    form = {"MessageSid": f"SM{next(_sids):032d}", "From": sender, "To": line_number,
            "Body": body, "NumMedia": "0", "AccountSid": "AC" + "0" * 32}
    status, xml_text = transport.post(transport.url("/sms"), form)
    if status != 200:
        raise RuntimeError(f"/sms answered {status}")
    root = ET.fromstring(xml_text)
    return "\n".join("".join(m.itertext()) for m in root.iter("Message"))
