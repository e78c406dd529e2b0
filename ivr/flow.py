"""The call flow: a small state machine over the catalogue, free of HTTP, Redis and TwiML.

`step(state, event, line)` takes the caller's input and returns the new state and the
actions to perform. Safety comes first in every turn: the call opens with the 999
guidance, key 9 and any spoken emergency repeat it, and every way out of the call ends
with it. The keys are the same at every menu:

    1-5  choose     8  more     0  back     *  repeat     7  slower     9  emergency advice

States: "lang" (choose a language), "main" (categories), "category" (its services),
"choice" (the services a spoken word may mean: "knife"), "service" (a service was read;
1 by text, 2 again, 4 more detail, 0 back, 3 end). Key 7 (or "slower") slows the voice
for the rest of the call. Everything after the opening guidance is said inside the
Gather, so a key or a word interrupts it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from . import signpost
from .actions import Gather, Hangup, Noted, Pause, Say, SendSms
from .line import Line
from .matching import SPOKEN_COMMAND
from .text import fold

PAGE = 5
MAX_MISSES = 3
HINTS = 100


@dataclass(frozen=True)
class CallState:
    node: str = "start"
    lang: str = "en"
    category: str | None = None
    service: str | None = None
    page: int = 0
    misses: int = 0
    slow: bool = False
    texts_sent: int = 0
    can_text: bool = False
    choice: str = ""          # at "choice": the services a spoken word may mean, comma-separated

    def to_json(self) -> dict:
        # Every field is a plain value: no deep copy needed (dataclasses.asdict makes one).
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def to_token(self) -> str:
        """The call's place, compact enough for a URL: the fallback when Redis is away."""
        flags = ("s" if self.slow else "") + ("t" if self.can_text else "") or "-"
        return ".".join([self.node, self.lang, self.category or "", self.service or "",
                         str(self.page), str(self.misses), flags, str(self.texts_sent), self.choice])

    @classmethod
    def from_token(cls, token: str) -> "CallState | None":
        """The state a Gather action URL carries, or None when there is none or it is garbled."""
        parts = (token or "").split(".")
        if len(parts) == 8:
            parts.append("")          # a call that began before choices existed
        if len(parts) != 9:
            return None
        node, lang, cat, svc, page, misses, flags, sent, choice = parts
        try:
            return cls(node=node or "main", lang=lang or "en", category=cat or None,
                       service=svc or None, page=int(page), misses=int(misses),
                       slow="s" in flags, texts_sent=int(sent), can_text="t" in flags, choice=choice)
        except ValueError:
            return None

    @classmethod
    def from_json(cls, data: dict | None) -> "CallState":
        if not isinstance(data, dict):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:
            return cls()


@dataclass(frozen=True)
class Event:
    """One caller input: keys pressed, words recognised, or nothing at all."""
    kind: str            # "start", "digits", "speech", "silence"
    text: str = ""
    preferred_lang: str | None = None   # at start: the caller's remembered language
    dialled_lang: str | None = None     # at start: the language of the number dialled
    can_text: bool = False              # the line can text this caller (a UK mobile)
    # Asks the host, given texts sent on this call: ok, off, not_mobile, opted_out or limit.
    texting: Callable[[int], str] | None = None


def _say(line: Line, state: CallState, key: str, **kw) -> Say:
    return Say(line.texts[state.lang].prompt(key, **{**line.numbers, **kw}), state.lang, state.slow)


# --- menus -----------------------------------------------------------------------

def _options(line: Line, state: CallState) -> list[tuple[str, str]]:
    """(id, spoken title) of every choice at the current node, across all pages."""
    texts = line.texts[state.lang]
    if state.node == "main":
        return [(c.id, texts.field(c.id, "title", c.title)) for c in line.catalogue.categories]
    if state.node == "category":
        cat = line.catalogue.category(state.category)
        return [(s.id, signpost.title(texts, s)) for s in cat.services]
    if state.node == "lang":
        return [(code, line.languages[code].native) for code in _language_order(line, state)]
    if state.node == "choice":
        return [(sid, signpost.title(texts, line.catalogue.services[sid])) for sid in _choice(line, state)]
    return []


def _choice(line: Line, state: CallState) -> list[str]:
    return [sid for sid in state.choice.split(",") if sid in line.catalogue.services][:PAGE]


def _language_order(line: Line, state: CallState) -> list[str]:
    order = list(line.offered)
    if state.lang in order and state.lang != "en":   # a remembered language comes first
        order.remove(state.lang)
        order.insert(0, state.lang)
    return order


def _pages(n: int) -> int:
    return max(1, -(-n // PAGE))


def _menu(line: Line, state: CallState) -> list:
    """The prompt for the current node, as the children of a Gather."""
    texts = line.texts[state.lang]
    options = _options(line, state)
    page = options[state.page * PAGE:(state.page + 1) * PAGE]
    many = len(options) > PAGE
    last = state.page >= _pages(len(options)) - 1
    if state.node == "lang":
        # Each language is offered in its own words and its own voice.
        out = []
        for i, (code, _) in enumerate(page, start=1):
            out.append(Say(line.texts[code].prompt("language_option", key=i), code, state.slow))
        if many and not last:
            # The languages of the next page are named too, each in its own words: "8".
            after = options[(state.page + 1) * PAGE:(state.page + 2) * PAGE]
            out += [Say(line.texts[code].prompt("language_option", key=8), code, state.slow)
                    for code, _ in after]
        elif many:
            out.append(_say(line, state, "menu_first"))
        return out
    if state.node == "service":
        options = [_say(line, state, "service_options_text" if state.can_text else "service_options")]
        if line.detail(state.lang, state.service):
            options.insert(0, _say(line, state, "more_detail"))
        return options
    parts = []
    if state.node == "choice":
        parts.append(texts.prompt("choice_menu"))
    if state.node == "main" and state.page == 0:
        parts.append(texts.prompt("main_menu"))
    elif state.node == "category" and state.page == 0:
        parts.append(signpost.category_title(texts, line.catalogue, state.category) + ".")
    parts += [texts.prompt("menu_option", title=title, key=i) for i, (_, title) in enumerate(page, start=1)]
    if many:
        parts.append(texts.prompt("menu_more" if not last else "menu_first"))
    return [Say("\n".join(parts), state.lang, state.slow)]


def _hints(line: Line, state: CallState) -> tuple[str, ...]:
    """Speech hints for the menu: its options, and the strongest keywords. Made once per
    menu and language, then kept on the line (they never change while it runs)."""
    key = (state.lang, state.node, state.category)
    if key not in line.hints:
        line.hints[key] = _make_hints(line, state)
    return line.hints[key]


def _make_hints(line: Line, state: CallState) -> tuple[str, ...]:
    words = [title for _, title in _options(line, state)]
    if state.node in ("main", "category"):
        texts = line.texts[state.lang]
        for svc in line.catalogue.services.values():
            words += texts.words(svc.id, "keywords", svc.keywords)[:2]
    seen, out = set(), []
    for w in words:
        w = w.replace(",", " ")[:100]
        if w and w not in seen:
            seen.add(w)
            out.append(w)
    return tuple(out[:HINTS])


def _prompt(line: Line, state: CallState, before: list | None = None, after: list | None = None) -> list:
    """Say `before`, the current node's menu, then `after`, all inside the Gather: a caller
    who knows what they want presses or speaks at once, and the line stops talking
    (barge-in). Only a text to send (and what it tells the host to count) comes first."""
    before = list(before or [])
    first = [a for a in before if isinstance(a, (SendSms, Noted))]
    says = [a for a in before if not isinstance(a, (SendSms, Noted))]
    gather = Gather(tuple(says) + tuple(_menu(line, state)) + tuple(after or ()), state.lang, _hints(line, state))
    return first + [gather]


def _emergency(line: Line, state: CallState, full: bool = True) -> list:
    out = [_say(line, state, "emergency")]
    if state.lang != "en":
        out.append(_say(line, state, "emergency_interpreter"))
    if full:
        out.append(_say(line, state, "emergency_more"))
    return out


# --- transitions ------------------------------------------------------------------

def _enter_service(line: Line, state: CallState, service_id: str) -> tuple[CallState, list]:
    svc = line.catalogue.services[service_id]
    state = replace(state, node="service", category=svc.category, service=svc.id, page=0, misses=0, choice="")
    text = line.spoken(state.lang, svc.id)
    return state, _prompt(line, state, [Say(text, state.lang, state.slow), Pause(1)])


def _enter_menu(line: Line, state: CallState, node: str, category: str | None = None,
                page: int = 0) -> tuple[CallState, list]:
    state = replace(state, node=node, category=category, service=None, page=page, misses=0, choice="")
    return state, _prompt(line, state)


def _choose_language(line: Line, state: CallState, code: str) -> tuple[CallState, list]:
    """The main menu in the chosen language. The 999 guidance is said once per language:
    English callers heard it as the call opened; others hear it now, in their language.
    Then one short sentence, the menu, and the keys after it."""
    state = replace(state, lang=code, node="main", page=0, misses=0)
    before = [_say(line, state, "language_chosen")]
    if code in line.auto:
        before.append(_say(line, state, "auto_translated"))
    if code != "en":
        before += _emergency(line, state, full=False)
    before.append(_say(line, state, "say_or_press"))
    return state, _prompt(line, state, before, after=[_say(line, state, "keys_help")])


def start(line: Line, event: Event) -> tuple[CallState, list]:
    """A new call: the 999 guidance in English before anything else, then language or menu.

    A number dialled for one community (`dialled_lang`) goes straight into its language; a
    returning caller's remembered language (`preferred_lang`) is offered first.
    """
    state = CallState(lang="en", can_text=event.can_text)
    # The one thing said before anything can be pressed: the 999 guidance, in English.
    before = [Say(line.texts["en"].prompt("emergency", **line.numbers), "en")]
    if event.dialled_lang in line.offered and event.dialled_lang != "en":
        state, actions = _choose_language(line, state, event.dialled_lang)
        return state, before + actions
    if len(line.offered) > 1 and event.preferred_lang in line.offered:
        # A returning caller: the main menu in their language at once, and how to change it.
        state = replace(state, node="main", lang=event.preferred_lang)
        return state, before + _prompt(line, state, after=[_say(line, state, "change_language"),
                                                           _say(line, state, "keys_help")])
    if len(line.offered) > 1:
        state = replace(state, node="lang")
        return state, before + _prompt(line, state)
    state = replace(state, node="main")
    return state, before + _prompt(line, state, [_say(line, state, "say_or_press")],
                                   after=[_say(line, state, "keys_help")])


def _miss(line: Line, state: CallState, silent: bool) -> tuple[CallState, list]:
    """No dead ends: help once, then the menu again, then a polite goodbye with 999."""
    state = replace(state, misses=state.misses + 1)
    if state.misses >= MAX_MISSES:
        return replace(state, node="end"), [_say(line, state, "goodbye_missed"), Hangup()]
    if state.misses == 1:
        before = [_say(line, state, "no_input" if silent else "not_understood"),
                  _say(line, state, "say_or_press"), _say(line, state, "keys_help")]
        return state, _prompt(line, state, before)
    return state, _prompt(line, state)


def _back(line: Line, state: CallState) -> tuple[CallState, list]:
    if state.node == "service":
        cat = line.catalogue.category(state.category)
        index = next(i for i, s in enumerate(cat.services) if s.id == state.service)
        return _enter_menu(line, state, "category", state.category, index // PAGE)
    if state.node == "category":
        index = next(i for i, c in enumerate(line.catalogue.categories) if c.id == state.category)
        return _enter_menu(line, state, "main", None, index // PAGE)
    if state.node == "choice":
        return _enter_menu(line, state, "main")
    if state.node == "main" and line.offered[1:]:
        return _enter_menu(line, state, "lang")
    if state.node == "lang":
        return _enter_menu(line, state, "lang")       # the languages again, from the first
    return replace(state, misses=0), _prompt(line, state, [_say(line, state, "top_of_menu")])


def _command(line: Line, state: CallState, cmd: str, texting=None) -> tuple[CallState, list]:
    if cmd == "repeat":
        if state.node == "service":
            return _enter_service(line, state, state.service)
        return replace(state, misses=0), _prompt(line, state)
    if cmd == "back":
        return _back(line, state)
    if cmd == "emergency":
        return replace(state, misses=0), _prompt(line, state, _emergency(line, state))
    if cmd == "more":
        n = _pages(len(_options(line, state)))
        if n <= 1:
            return _miss(line, state, silent=False)
        return replace(state, page=(state.page + 1) % n, misses=0), \
            _prompt(line, replace(state, page=(state.page + 1) % n))
    if cmd == "main":
        return _enter_menu(line, state, "main")
    if cmd == "goodbye":
        return replace(state, node="end"), [_say(line, state, "goodbye"), Hangup()]
    if cmd == "slower":
        state = replace(state, slow=True, misses=0)
        if state.node == "service":
            state, actions = _enter_service(line, state, state.service)
            return state, [_say(line, state, "slower_on")] + actions
        return state, _prompt(line, state, [_say(line, state, "slower_on")])
    if cmd == "text" and state.node == "service" and state.can_text:
        return _send_text(line, state, texting)
    return _miss(line, state, silent=False)


def _send_text(line: Line, state: CallState, texting) -> tuple[CallState, list]:
    """Key 1 after a service: text it to the caller, or say kindly why not."""
    status = texting(state.texts_sent) if texting else "off"
    state = replace(state, misses=0)
    if status == "ok":
        sms = SendSms(state.service, state.lang, sent=_say(line, state, "text_sent"),
                      failed=_say(line, state, "text_failed"))
        return replace(state, texts_sent=state.texts_sent + 1), _prompt(line, state, [sms])
    reason = {"not_mobile": "text_not_mobile", "opted_out": "text_opted_out"}.get(status, "text_limit")
    if status == "off":
        reason = "text_failed"
    return state, _prompt(line, state, [_say(line, state, reason)])


KEYS = {"*": "repeat", "0": "back", "9": "emergency", "8": "more", "7": "slower"}


def _digits(line: Line, state: CallState, digits: str, texting=None) -> tuple[CallState, list]:
    key = digits.strip()[:1]
    if key in KEYS:
        return _command(line, state, KEYS[key])
    if state.node == "service":
        if key == "1" and state.can_text:
            return _send_text(line, state, texting)
        if key == "2":
            return _enter_service(line, state, state.service)
        if key == "3":
            return _command(line, state, "goodbye")
        if key == "4" and line.detail(state.lang, state.service):
            detail = Say(line.detail(state.lang, state.service), state.lang, state.slow)
            return replace(state, misses=0), _prompt(line, state, [detail, Pause(1)])
        return _miss(line, state, silent=False)
    if key.isdigit() and 1 <= int(key) <= PAGE:
        options = _options(line, state)
        index = state.page * PAGE + int(key) - 1
        if index < len(options):
            return _select(line, state, options[index][0])
    return _miss(line, state, silent=False)


def _select(line: Line, state: CallState, choice: str) -> tuple[CallState, list]:
    if state.node == "lang":
        return _choose_language(line, state, choice)
    if state.node == "main":
        return _enter_menu(line, state, "category", choice)
    return _enter_service(line, state, choice)


def _offer(line: Line, state: CallState, services: list[str]) -> tuple[CallState, list]:
    """A spoken everyday word: its one service, or a short menu of those it may mean."""
    if len(services) == 1:
        return _enter_service(line, state, services[0])
    state = replace(state, node="choice", choice=",".join(services[:PAGE]), page=0, misses=0)
    return state, _prompt(line, state)


def _speech(line: Line, state: CallState, said: str, texting=None) -> tuple[CallState, list]:
    # Every spoken answer, at every menu and in every language, is read for danger first.
    # One that is nothing but a command of the call ("go back", "goodbye") is read by the
    # word lists alone, as a text that is only MENU is: the model hears "goodbye" as a
    # farewell of another kind.
    heard = fold(said)
    command = any(line.matchers[code].exactly(heard, SPOKEN_COMMAND) is not None
                  for code in dict.fromkeys((state.lang, "en")))
    decision = line.safety.assess(said, first=state.lang, words_only=command)
    if decision.danger:
        return replace(state, misses=0), [Noted(decision.source)] + _prompt(
            line, state, _emergency(line, state))
    state, actions = _heard(line, state, said, texting)
    return state, [Noted("safe")] + actions


def _heard(line: Line, state: CallState, said: str, texting=None) -> tuple[CallState, list]:
    """What a spoken answer with no danger in it asks for."""
    # A choice named in the current menu wins over a keyword elsewhere.
    heard = fold(said)
    for option_id, title in _options(line, state):
        if heard and heard == fold(title):
            return _select(line, state, option_id)
    if state.node == "lang":
        found = line.match(state.lang, said, {"language"})
        if found:
            return _choose_language(line, state, found.target.id)
        # The menu listens in English: a topic said there ("fraud") chooses English and
        # is answered at once, rather than heard as a wrong answer.
        found = line.match("en", said, {"service", "category"})
        if found is None:
            return _miss(line, state, silent=False)
        state = replace(state, lang="en")
        if found.target.kind == "service":
            return _enter_service(line, state, found.target.id)
        return _enter_menu(line, state, "category", found.target.id)
    found = line.match(state.lang, said, {"command", "service", "category", "language"})
    if found is None:
        services = line.topic(state.lang, said)
        return _offer(line, state, services) if services else _miss(line, state, silent=False)
    kind, target = found.target.kind, found.target.id
    if kind == "command":
        return _command(line, state, target, texting)
    if kind == "service":
        return _enter_service(line, state, target)
    if kind == "category":
        return _enter_menu(line, state, "category", target)
    return _choose_language(line, state, target)


NODES = {"start", "lang", "main", "category", "choice", "service", "end"}


def _sane(state: CallState, line: Line) -> CallState:
    """A state read from Redis or a URL may be stale or tampered with: repair it, never crash."""
    def number(value, low, high):
        return value if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high else low

    cat = line.catalogue.category(state.category) if isinstance(state.category, str) else None
    svc = line.catalogue.services.get(state.service) if isinstance(state.service, str) else None
    node = state.node if state.node in NODES else "main"
    if node == "category" and cat is None or node == "service" and svc is None:
        node = "main"
    if node == "lang" and len(line.offered) < 2:
        node = "main"
    choice = ",".join(sid for sid in state.choice.split(",") if sid in line.catalogue.services) \
        if isinstance(state.choice, str) else ""
    if node == "choice" and not choice:
        node = "main"
    return CallState(node=node, lang=state.lang if state.lang in line.offered else "en",
                     category=cat.id if cat else None, service=svc.id if svc else None,
                     page=number(state.page, 0, 99), misses=number(state.misses, 0, MAX_MISSES),
                     slow=state.slow is True, texts_sent=number(state.texts_sent, 0, 99),
                     can_text=state.can_text is True, choice=choice)


def step(state: CallState, event: Event, line: Line) -> tuple[CallState, list]:
    """One turn of the call."""
    if event.kind == "start" or state.node == "start":
        return start(line, event)
    state = _sane(state, line)
    if state.node == "end":
        return state, [_say(line, state, "goodbye"), Hangup()]
    if event.kind == "digits" and event.text.strip():
        return _digits(line, state, event.text, event.texting)
    if event.kind == "speech" and event.text.strip():
        return _speech(line, state, event.text, event.texting)
    return _miss(line, state, silent=True)

