"""Actions -> TwiML. The only module that knows TwiML; built with the twilio library."""
from __future__ import annotations

import re

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


def voice(actions: list, languages: dict[str, Language], action_url: str) -> str:
    """Render one turn. After a Gather, a Redirect to the same action reports silence."""
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


def message(text: str) -> str:
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
