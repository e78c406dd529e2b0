"""Realistic webhook traffic, signed exactly as Twilio signs it.

Three steps, so that nothing costly happens while the clock runs:

1. `plans`: what residents do. Callers choose a language when offered one, walk the
   menus by keys (main menu, maybe "8" for more, a category, a service) or say what they
   need, hear a service, then ask for it by text, hear it again, go back or hang up.
   Texters send a keyword, MENU, a category number, sometimes a service number, then
   MORE. About one request in ten is an emergency text.
2. `record`: each plan is played once through the app's Flask test client. The app's
   own TwiML decides the next URL: the Gather action is relative ("voice/step?s=..."
   from /voice, "step?s=..." from /voice/step) and is resolved as Twilio resolves it.
   The recorded answer is kept, so the live run can check it gets the same one.
3. `instantiate`: recorded shapes become requests with their own CallSid, From and
   MessageSid, signed with `RequestValidator(token).compute_signature(full URL, params)`
   and rendered to raw HTTP bytes. Signing costs about 45 us a request in Python, a
   real share of a one-core client, so it is done before the clock starts.
"""
from __future__ import annotations

import html
import random
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

from ivr.flow import PAGE

from .privacy import USED

TOKEN = "bench-token-0123456789abcdef"       # the bench's TWILIO_AUTH_TOKEN; not a secret
ACCOUNT = "AC" + "b" * 32
LINE_NUMBER = "+441604000000"

# The fields Twilio posts with every call webhook and every incoming message: their
# number and size are part of the cost of parsing and of checking the signature.
VOICE_FIELDS = {
    "AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "CallStatus": "in-progress",
    "Called": LINE_NUMBER, "CalledCity": "NORTHAMPTON", "CalledCountry": "GB",
    "CalledState": "Northamptonshire", "CalledZip": "", "CallerCity": "", "CallerCountry": "GB",
    "CallerState": "", "CallerZip": "", "Direction": "inbound", "FromCity": "",
    "FromCountry": "GB", "FromState": "", "FromZip": "", "To": LINE_NUMBER,
    "ToCity": "NORTHAMPTON", "ToCountry": "GB", "ToState": "Northamptonshire", "ToZip": "",
}
SMS_FIELDS = {
    "AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "FromCity": "", "FromCountry": "GB",
    "FromState": "", "FromZip": "", "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
    "To": LINE_NUMBER, "ToCity": "NORTHAMPTON", "ToCountry": "GB", "ToState": "Northamptonshire",
    "ToZip": "",
}
_VOICE_ENCODED = urlencode(VOICE_FIELDS)
_SMS_ENCODED = urlencode(SMS_FIELDS)

EMERGENCIES = ("a man with a knife outside", "help me", "Help me please",
               "there is a man with a knife outside my house", "someone is breaking in now")
SENTENCES = ("i think i have been scammed", "someone passed too close to my bike",
             "how do i report something", "found a stray dog", "i want to volunteer")
KINDS = ("voice_start", "voice_step", "sms", "sms_emergency")
REAL = 10     # categories of the real catalogue; a grown one only adds after them

_ACTION = re.compile(rb'<Gather [^>]*action="([^"]*)"')


@dataclass(frozen=True)
class Step:
    """One request of a recorded conversation: what was posted and what came back."""
    kind: str
    path: str                     # path and query, as the TwiML told the caller to post
    fields: tuple                 # the caller's input: (("Digits", "2"),), (("Body", "MENU"),)
    expect: bytes                 # the body the app answered when recorded


@dataclass(frozen=True)
class Request:
    kind: str
    payload: bytes                # the whole HTTP request, signature included
    expect: bytes


# --- 1. plans -----------------------------------------------------------------------

def _keys(index: int) -> list[str]:
    """Key presses that choose option `index` of a menu: "8" per page, then 1-5."""
    return ["8"] * (index // PAGE) + [str(index % PAGE + 1)]


def _known(catalogue) -> list:
    """The services residents ask for: the real ones, so that a grown catalogue is measured
    on exactly the same plans (same seed, same choices) as the real one."""
    return [svc for cat in catalogue.categories[:REAL] for svc in cat.services]


@dataclass(frozen=True)
class Plan:
    """What one caller or texter does: inputs in order."""
    inputs: tuple                 # ("digits", "2"), ("speech", "scam") or message bodies
    mobile: bool = True           # a caller on a UK mobile can be sent a text
    language: int = 0             # at a language menu: 0 English, else that option


def call_plan(catalogue, rng: random.Random) -> Plan:
    """A caller: maybe a language, then keys through two or three menus, or a spoken need."""
    if rng.random() < 0.2:      # says what they need at the main menu
        svc = rng.choice(_known(catalogue))
        inputs = [("speech", rng.choice(svc.keywords[:2]))]
    else:
        ci = rng.randrange(min(REAL, len(catalogue.categories)))
        cat = catalogue.categories[ci]
        inputs = [("digits", k) for k in _keys(ci) + _keys(rng.randrange(len(cat.services)))]
    mobile = rng.random() < 0.8
    # At the service: text it to me and end, hear it again, go back, or just hang up.
    ending = rng.choice((["1", "3"], ["1", "3"], ["3"], ["2", "3"], ["0"], []))
    language = 0 if rng.random() < 0.7 else rng.randrange(1, 5)
    return Plan(tuple(inputs + [("digits", k) for k in ending]), mobile, language)


def sms_plan(catalogue, rng: random.Random) -> Plan:
    """A texter: a keyword, MENU, a category number, maybe a service number, MORE."""
    if rng.random() < 0.15:
        first = rng.choice(SENTENCES)
    else:
        svc = rng.choice(_known(catalogue))
        first = rng.choice(svc.keywords[:2] + svc.synonyms[:1])
        first = first.upper() if rng.random() < 0.2 else first
    ci = rng.randrange(min(REAL, len(catalogue.categories)))
    bodies = [first, "MENU", str(ci + 1)]
    if rng.random() < 0.5:
        bodies.append(str(rng.randrange(len(catalogue.categories[ci].services)) + 1))
    return Plan(tuple(bodies + ["MORE"]))


def keyword_plan(catalogue, rng: random.Random) -> Plan:
    """The SMS keyword path alone: a first message naming a service."""
    svc = rng.choice(_known(catalogue))
    return Plan((rng.choice(svc.keywords[:2]),))


# --- 2. record through the test client -------------------------------------------------

@dataclass(frozen=True)
class Shape:
    """A recorded conversation: the requests of one call or one texter, in order."""
    steps: tuple[Step, ...]
    mobile: bool = True


def _node(path: str) -> str:
    token = parse_qs(urlsplit(path).query).get("s", [""])[0]
    return token.split(".", 1)[0]


class Recorder:
    """Plays plans through the app's test client, signed like the live requests.

    `series` (0-9) keeps each recording's callers apart from every other recording's,
    since the line remembers a caller's language between calls.
    """

    def __init__(self, app, series: int):
        self.series = series
        self.client = app.test_client()
        self.validator = RequestValidator(TOKEN)
        self.apologies = {body.encode() for body in app.extensions["ivr.errors"].values()}
        self.count = 0

    def _post(self, path: str, params: dict) -> bytes:
        USED.add(params)
        sig = self.validator.compute_signature("http://localhost" + path, params)
        resp = self.client.post(path, data=params, headers={"X-Twilio-Signature": sig})
        if resp.status_code != 200 or b"<Response" not in resp.data or resp.data in self.apologies:
            raise RuntimeError(f"recording {path} {params.get('Digits') or params.get('Body')!r}: "
                               f"{resp.status_code} {resp.data[:300]!r}")
        return resp.data

    def call(self, plan: Plan) -> Shape:
        self.count += 1
        n = f"{self.series}{self.count:05d}"
        caller = f"+447400{n}" if plan.mobile else f"+441604{n}"
        ids = {"CallSid": f"CArec{n:0>27}", "From": caller, "Caller": caller}
        body = self._post("/voice", {**VOICE_FIELDS, **ids})
        steps = [Step("voice_start", "/voice", (), body)]
        path, inputs, chose = "/voice", list(plan.inputs), False
        while inputs:
            action = _ACTION.search(body)
            if not action:
                break           # the call ended (hang-up) before the plan did
            path = urljoin(path, html.unescape(action.group(1).decode()))
            if _node(path) == "lang" and not chose:   # more than English is offered
                kind, value, chose = "digits", str(plan.language + 1), True
            else:
                kind, value = inputs.pop(0)
            fields = (("Digits", value),) if kind == "digits" else \
                (("SpeechResult", value), ("Confidence", "0.92"))
            body = self._post(path, {**VOICE_FIELDS, **ids, **dict(fields)})
            steps.append(Step("voice_step", path, fields, body))
        return Shape(tuple(steps), plan.mobile)

    def texts(self, plan: Plan, kind: str = "sms") -> Shape:
        self.count += 1
        n = f"{self.series}{self.count:05d}"
        ids = {**SMS_FIELDS, "From": f"+447401{n}"}
        steps = []
        for i, text in enumerate(plan.inputs):
            sid = f"SMrec{n}{i:021d}"
            body = self._post("/sms", {**ids, "Body": text, "MessageSid": sid, "SmsSid": sid,
                                       "SmsMessageSid": sid})
            if kind == "sms_emergency" and b"999" not in body:
                raise RuntimeError(f"emergency text {text!r} got no 999 guidance: {body[:200]!r}")
            steps.append(Step(kind, "/sms", (("Body", text),), body))
        return Shape(tuple(steps))


@dataclass
class Shapes:
    """Recorded conversations of each kind."""
    calls: list[Shape]
    texts: list[Shape]
    emergencies: list[Shape]
    keywords: list[Shape]
    record_seconds: float = 0.0


def record(app, catalogue, series: int, seed: int = 6, calls: int = 150, texts: int = 150) -> Shapes:
    """Record the same plans (same seed) whatever the app's catalogue, for fair comparison."""
    rng = random.Random(seed)
    rec = Recorder(app, series)
    t0 = time.perf_counter()
    shapes = Shapes(
        calls=[rec.call(call_plan(catalogue, rng)) for _ in range(calls)],
        texts=[rec.texts(sms_plan(catalogue, rng)) for _ in range(texts)],
        emergencies=[rec.texts(Plan((e,)), "sms_emergency") for e in EMERGENCIES],
        keywords=[rec.texts(keyword_plan(catalogue, rng)) for _ in range(texts)],
    )
    shapes.record_seconds = time.perf_counter() - t0
    return shapes


# --- 3. instantiate: unique ids, signed, rendered --------------------------------------

def conversation_ids(shape: Shape, seed: int, n: int) -> list[dict]:
    """The ids Twilio would post with each step of conversation `n`: its own CallSid and
    From (a UK mobile or a landline, as recorded), a MessageSid per text. `seed` (1-9)
    keeps the numbers of different pools apart, so no caller is ever in two pools."""
    if shape.steps[0].kind.startswith("voice"):
        caller = f"+4478{seed}{n:07d}" if shape.mobile else f"+4420{seed}{n:07d}"
        ids = {"CallSid": f"CA{seed:04d}{n:028d}", "From": caller, "Caller": caller}
        return [ids] * len(shape.steps)
    caller = f"+4479{seed}{n:07d}"
    return [{"From": caller, "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid}
            for sid in (f"SM{seed:04d}{n:024d}{i:04d}" for i in range(len(shape.steps)))]


def own_fields(step: Step, ids: dict) -> dict:
    """The fields of one request beyond Twilio's fixed ones."""
    return {**ids, **dict(step.fields)}


def all_fields(step: Step, ids: dict) -> dict:
    fields = {**(VOICE_FIELDS if step.kind.startswith("voice") else SMS_FIELDS), **own_fields(step, ids)}
    USED.add(fields)        # for the privacy scan at the end of the run
    return fields


class Signer:
    """Renders a recorded step for one caller as raw, signed HTTP bytes."""

    def __init__(self, port: int):
        self.host = f"127.0.0.1:{port}"
        self.validator = RequestValidator(TOKEN)
        self.seconds = 0.0      # time spent signing, to report what precomputing saves
        self.signed = 0

    def render(self, step: Step, ids: dict) -> Request:
        t0 = time.perf_counter()
        signature = self.validator.compute_signature(f"http://{self.host}{step.path}",
                                                     all_fields(step, ids))
        self.seconds += time.perf_counter() - t0
        self.signed += 1
        fixed = _VOICE_ENCODED if step.kind.startswith("voice") else _SMS_ENCODED
        form = fixed + "&" + urlencode(own_fields(step, ids))
        head = (f"POST {step.path} HTTP/1.1\r\nHost: {self.host}\r\n"
                f"User-Agent: TwilioProxy/1.1\r\nX-Twilio-Signature: {signature}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(form)}\r\nConnection: close\r\n\r\n")
        return Request(step.kind, (head + form).encode(), step.expect)


def instantiate(shapes: list[Shape], weights: list[float], requests: int, signer: Signer,
                seed: int) -> list[list[Request]]:
    """Conversations of their own until `requests` requests, shapes picked by weight."""
    rng = random.Random(seed)
    out, total, n = [], 0, 0
    while total < requests:
        n += 1
        shape = rng.choices(shapes, weights)[0]
        conv = [signer.render(step, ids)
                for step, ids in zip(shape.steps, conversation_ids(shape, seed, n))]
        out.append(conv)
        total += len(conv)
    return out


def mix(shapes: Shapes) -> tuple[list[Shape], list[float]]:
    """The realistic mix: calls and text conversations, and about 10% emergency texts.

    Weights are per conversation, chosen so emergencies are ~10% of *requests*:
    e / (call_len + text_len + e) = 0.1 with calls and texts weighing 1 in all.
    """
    call_len = sum(len(s.steps) for s in shapes.calls) / len(shapes.calls)
    text_len = sum(len(s.steps) for s in shapes.texts) / len(shapes.texts)
    emergency = (call_len + text_len) / 9
    return (shapes.calls + shapes.texts + shapes.emergencies,
            [1 / len(shapes.calls)] * len(shapes.calls) + [1 / len(shapes.texts)] * len(shapes.texts)
            + [emergency / len(shapes.emergencies)] * len(shapes.emergencies))


def keywords(shapes: Shapes) -> tuple[list[Shape], list[float]]:
    return shapes.keywords, [1.0] * len(shapes.keywords)


def call_starts(shapes: Shapes) -> tuple[list[Shape], list[float]]:
    """Call starts alone: the first request of each recorded call."""
    starts = [Shape(s.steps[:1], s.mobile) for s in shapes.calls]
    return starts, [1.0] * len(starts)


def call_steps(shapes: Shapes) -> tuple[list[Shape], list[float]]:
    """The steps of each recorded call after its start, in order: each Gather action URL
    carries the call's place, so the steps stand without the start."""
    steps = [Shape(s.steps[1:], s.mobile) for s in shapes.calls if len(s.steps) > 1]
    return steps, [1.0] * len(steps)
