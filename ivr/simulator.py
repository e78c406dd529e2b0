"""Follow the line's TwiML the way Twilio does: the engine behind `ivr-line call` and the tests.

A `Phone` posts signed webhooks (to a Flask app in-process, or to a URL over HTTP),
reads the TwiML back as XML, and plays it: `<Say>` is heard, `<Gather>` waits for an
answer, a `<Redirect>` is followed, `<Hangup>` ends the call. Relative URLs are resolved
against the URL that was requested, as Twilio resolves them.
"""
from __future__ import annotations

import itertools
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from twilio.request_validator import RequestValidator

_sids = itertools.count(1)


@dataclass
class Heard:
    """One thing said on the call."""
    text: str
    voice: str
    language: str


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


def parse(xml_text: str, url: str) -> Turn:
    """Read one TwiML answer. Raises ET.ParseError when it is not XML."""
    root = ET.fromstring(xml_text)
    if root.tag != "Response":
        raise ValueError(f"not TwiML: root is <{root.tag}>")
    turn = Turn(url=url, xml=xml_text)

    def says(element):
        for say in element.iter("Say"):
            text = " ".join("".join(say.itertext()).split())
            turn.said.append(Heard(text, say.get("voice", ""), say.get("language", "")))

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

    def __init__(self, token: str, app=None, base_url: str = "http://localhost"):
        self.validator = RequestValidator(token)
        self.app = app
        self.client = app.test_client() if app is not None else None
        self.base_url = base_url.rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + path

    def post(self, url: str, form: dict, sign: bool = True) -> tuple[int, str]:
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, form)} if sign else {}
        if self.client is not None:
            r = self.client.post(url, data=form, headers=headers)
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
                 line_number: str = "+441604000000"):
        self.transport = transport
        self.sid = f"CA{next(_sids):032d}"
        self.caller = caller
        self.line_number = line_number
        self.turns: list[Turn] = []

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
