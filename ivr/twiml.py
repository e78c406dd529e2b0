"""Actions -> TwiML. The only module that knows TwiML; built with the twilio library."""
from __future__ import annotations

import re
from xml.sax.saxutils import escape

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather as TwGather
from twilio.twiml.voice_response import VoiceResponse

from .actions import Gather, Hangup, Pause, Say
from .i18n import Language

GATHER = dict(input="dtmf speech", method="POST", timeout=5, speech_timeout=2,
              num_digits=1, finish_on_key="", action_on_empty_result=False)


PAUSE = "400ms"   # between menu options; longer when speaking slowly
SLOW_PAUSE = "800ms"


# Numbers to dial (999, 101, 112, 18000) are read digit by digit: "nine nine nine",
# never "nine hundred and ninety-nine", in every voice.
_DIAL = re.compile(r"(?<!\d)(?<!\d[.,])(\d{3}|\d{5})(?!\d)(?![.,]\d)")


def _fill(target, text: str) -> None:
    for i, piece in enumerate(_DIAL.split(text)):
        if i % 2:
            target.say_as(piece, interpret_as="digits")
        elif piece:
            target.append(piece)


def _say(parent, action: Say, languages: dict[str, Language]) -> None:
    """A <Say> in the language's voice. Lines of the text are options: a short SSML break
    goes between them; slow speech wraps the whole text in <prosody rate="slow">."""
    lang = languages.get(action.lang) or languages["en"]
    parts = [p for p in action.text.split("\n") if p.strip()]
    slow = action.slow and lang.slow_prosody
    if len(parts) <= 1 and not slow and not _DIAL.search(action.text):
        parent.say(action.text, voice=lang.voice, language=lang.say_language)
        return
    say = parent.say(voice=lang.voice, language=lang.say_language)
    target = say.prosody(rate="slow") if slow else say
    for i, part in enumerate(parts):
        if i:
            target.break_(time=SLOW_PAUSE if slow else PAUSE)
        _fill(target, part.strip() + (" " if i < len(parts) - 1 else ""))


def _child(parent, action, languages) -> None:
    if isinstance(action, Say):
        _say(parent, action, languages)
    elif isinstance(action, Pause):
        parent.pause(length=action.seconds)


# A turn's TwiML depends on its actions (the menu, its page, the language, slow or not)
# and on the action URL (the call's place): rendered once per set of actions with a stand-in
# for the URL, then reused with each call's URL put in. The line says a bounded set of
# things (its prompts and catalogue), so the memo stays small; it is bounded all the same.
_STAND_IN = "ivr-stand-in-d41d8cd9"
_MEMO: dict[tuple, tuple[dict, str]] = {}
_ATTRIBUTE = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}   # as ElementTree writes them
MEMO_SIZE = 4096


def voice(actions: list, languages: dict[str, Language], action_url: str) -> str:
    """Render one turn. After a Gather, a Redirect to the same action reports silence."""
    if not action_url:                   # an empty element is written differently
        return _render(actions, languages, action_url)
    try:
        key = (id(languages), *actions)
        hit = _MEMO.get(key)
    except TypeError:                    # an action holding a list: rendered as it is
        return _render(actions, languages, action_url)
    if hit is None or hit[0] is not languages:
        if len(_MEMO) >= MEMO_SIZE:
            _MEMO.clear()
        hit = _MEMO[key] = (languages, _render(actions, languages, _STAND_IN))
    if _STAND_IN not in hit[1]:
        return hit[1]
    return (hit[1].replace(f'action="{_STAND_IN}"', f'action="{escape(action_url, _ATTRIBUTE)}"')
            .replace(f">{_STAND_IN}<", f">{escape(action_url)}<"))


def _render(actions: list, languages: dict[str, Language], action_url: str) -> str:
    response = VoiceResponse()
    for action in actions:
        if isinstance(action, Gather):
            lang = languages.get(action.lang) or languages["en"]
            options = dict(GATHER, action=action_url, language=lang.speech)
            if action.hints:
                options["hints"] = ", ".join(action.hints)
            gather = TwGather(**{k: v for k, v in options.items() if k != "action_on_empty_result"})
            for child in action.prompt:
                _child(gather, child, languages)
            response.append(gather)
            response.redirect(action_url, method="POST")
            break  # nothing after a Gather runs before the caller answers
        if isinstance(action, Hangup):
            response.hangup()
            break
        _child(response, action, languages)
    return str(response)


# A reply is the same document around its text: rendered once by the library around a
# stand-in, and the text (escaped as ElementTree escapes text) put in for each reply.
_EMPTY_MESSAGE = str(MessagingResponse())


def _around(stand_in: str) -> list[str]:
    response = MessagingResponse()
    response.message(stand_in)
    return str(response).split(stand_in)


_MESSAGE = _around(_STAND_IN)


def message(text: str) -> str:
    if not text:
        return _EMPTY_MESSAGE
    return escape(text).join(_MESSAGE)
