"""Languages and translated text: gettext catalogues managed with Babel.

English sources live in `prompts/*.yaml` and `catalogue/`; translations in
`locales/<lang>/LC_MESSAGES/messages.po`. Every string has a message context: a prompt's
key (`prompt:main_menu`) or a catalogue entry and field (`live-chat:summary`), so the
same English words can be translated differently where they mean different things.
`.mo` files are compiled from their `.po` at start-up when missing or older, so a
compiled catalogue cannot go stale.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import yaml
from babel import Locale
from babel.dates import format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from .catalogue import read_yaml

log = logging.getLogger(__name__)

DOMAIN = "messages"

# The emergency guidance: written by a person in every language, never machine-drafted
# (`ivr-line translate` leaves these empty and says a human translator is needed).
EMERGENCY_CONTEXTS = frozenset({
    "prompt:emergency", "prompt:emergency_more", "prompt:emergency_interpreter",
    "prompt:error", "prompt:goodbye_missed", "prompt:sms_emergency",
})


@dataclass(frozen=True)
class Language:
    """One language of the line, described once in `locales/languages.yaml`."""
    code: str            # gettext and Babel locale code: "pl", "pt_PT"
    english: str         # its name in English: "Polish"
    voice: str           # Twilio <Say voice>: "Polly.Ewa"
    say_language: str    # Twilio <Say language>: "pl-PL"
    speech: str          # <Gather language> for speech recognition: "pl-PL"
    words: tuple[str, ...] = ()   # extra words that select it (SMS and speech)
    slow_prosody: bool = True     # the voice honours SSML <prosody rate>
    sms_gsm7: bool = False        # texts drop its accents to stay GSM-7 (its speech keeps them)
    stopwords: tuple[str, ...] = ()   # common words that never name a topic on their own
    native: str = ""              # its name in its own words: from Babel, at load

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.code)



def load_languages(locales_dir: Path) -> dict[str, Language]:
    rows = read_yaml(Path(locales_dir) / "languages.yaml")
    languages = {}
    for row in rows:
        row = dict(row)
        row["words"] = tuple(w.lower() for w in row.get("words", ()))
        row["stopwords"] = tuple(str(w).lower() for w in row.get("stopwords", ()))
        name = Locale.parse(row["code"]).get_language_name(row["code"]) or row["english"]
        row["native"] = name[:1].upper() + name[1:]   # Babel's locale data: "polski" -> "Polski"
        languages[row["code"]] = Language(**row)
    if "en" not in languages:
        raise ValueError("locales/languages.yaml must describe English (code en)")
    return languages


def load_prompts(prompts_dir: Path) -> dict[str, str]:
    """Every prompt's English source, keyed by name, from all `prompts/*.yaml` files."""
    prompts: dict[str, str] = {}
    for path in sorted(Path(prompts_dir).glob("*.yaml")):
        for key, text in (read_yaml(path) or {}).items():
            if key in prompts:
                raise ValueError(f"{path.name}: prompt {key!r} is defined twice")
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{path.name}: prompt {key!r} must be non-empty text")
            prompts[key] = " ".join(text.split())
    return prompts


def compile_catalogues(locales_dir: Path) -> None:
    """Compile each `.po` to `.mo` where the `.mo` is missing or older than its source."""
    for po_path in Path(locales_dir).glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(f".mo.{id(catalog)}")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        tmp.replace(mo_path)


def load_translations(locales_dir: Path, code: str, fuzzy: bool = False) -> NullTranslations:
    """The compiled catalogue of one language; with `fuzzy`, machine drafts included too
    (read from the `.po`: only for languages a deployment opts in as automatic)."""
    if code == "en":
        return NullTranslations()
    lc = Path(locales_dir) / code / "LC_MESSAGES"
    if fuzzy and (lc / f"{DOMAIN}.po").exists():
        import io
        with (lc / f"{DOMAIN}.po").open("rb") as fh:
            catalog = read_po(fh, locale=code)
        buf = io.BytesIO()
        write_mo(buf, catalog, use_fuzzy=True)
        buf.seek(0)
        return Translations(buf, domain=DOMAIN)
    if not (lc / f"{DOMAIN}.mo").exists():
        return NullTranslations()
    with (lc / f"{DOMAIN}.mo").open("rb") as fh:
        return Translations(fh, domain=DOMAIN)


class Texts:
    """Everything one language says: prompts and catalogue text, translated and formatted."""

    def __init__(self, language: Language, translations: NullTranslations, prompts: dict[str, str]):
        self.language = language
        self._t = translations
        self._prompts = prompts

    def prompt(self, key: str, /, **values) -> str:
        text = self._t.pgettext(f"prompt:{key}", self._prompts[key])
        return text.format(**values) if values else text

    def field(self, owner: str, name: str, source: str) -> str:
        """A catalogue field, translated: context `<owner id>:<field>`."""
        return self._t.pgettext(f"{owner}:{name}", source)

    def words(self, owner: str, name: str, source: tuple[str, ...]) -> tuple[str, ...]:
        """A translated word list (keywords, synonyms): one comma-separated message."""
        if not source:
            return ()
        text = self._t.pgettext(f"{owner}:{name}", ", ".join(source))
        return tuple(w.strip().lower() for w in text.split(",") if w.strip())

    def time(self, hhmm: str) -> str:
        hour, minute = (int(p) for p in hhmm.split(":"))
        return format_time(dt.time(hour, minute), format="short", locale=self.language.locale)


# --- Babel extraction -------------------------------------------------------------

def _yaml_lines(text: str) -> dict[str, int]:
    """First line on which each scalar appears, so `.pot` references point somewhere useful."""
    lines: dict[str, int] = {}
    for node in yaml.compose(text).value if text.strip() else []:
        _walk(node, lines)
    return lines


def _walk(node, lines):
    if isinstance(node, yaml.ScalarNode):
        lines.setdefault(node.value, node.start_mark.line + 1)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            _walk(child, lines)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _walk(key, lines)
            _walk(value, lines)


def catalogue_messages(name: str, data) -> list[tuple[str, str, str]]:
    """(context, English text, comment) for each translatable field of one YAML file."""
    out = []
    if name == "contacts.yaml":
        for cid, contact in data.items():
            out.append((f"{cid}:label", contact["label"], "Contact label"))
    elif name == "categories.yaml":
        for cat in data:
            out.append((f"{cat['id']}:title", cat["title"], "Menu category"))
            out.append((f"{cat['id']}:keywords", ", ".join(cat["keywords"]),
                        "Comma-separated words a caller says or texts for this category"))
    elif isinstance(data, list):
        for svc in data:
            sid = svc["id"]
            out.append((f"{sid}:title", svc["title"], "Service title, said in menus"))
            out.append((f"{sid}:summary", " ".join(svc["summary"].split()), "SMS signpost: keep it short"))
            out.append((f"{sid}:spoken", " ".join(svc["spoken"].split()), "Read out on a call"))
            out.append((f"{sid}:keywords", ", ".join(svc["keywords"]),
                        "Comma-separated words a resident texts or says for this service"))
            if svc.get("synonyms"):
                out.append((f"{sid}:synonyms", ", ".join(svc["synonyms"]),
                            "Comma-separated other phrasings of the same need"))
            for fact in svc.get("facts", []):
                out.append((f"{sid}:facts", " ".join(fact.split()), "A fact a resident needs"))
    else:  # a prompts file: key -> text
        for key, text in data.items():
            out.append((f"prompt:{key}", " ".join(text.split()), f"Prompt {key}"))
    return out


def extract_yaml(fileobj, keywords, comment_tags, options):
    """Babel extractor (`ivr_yaml` in babel.cfg) for prompt and catalogue YAML files."""
    text = fileobj.read().decode(options.get("encoding", "utf-8"))
    data = yaml.safe_load(text)
    if not data:
        return
    lines = _yaml_lines(text)
    name = Path(getattr(fileobj, "name", "")).name
    for context, message, comment in catalogue_messages(name, data):
        yield lines.get(message, lines.get(message.split(", ")[0], 1)), "pgettext", (context, message), [comment]


# --- Completeness -------------------------------------------------------------------

@dataclass(frozen=True)
class Status:
    """How complete one language's `.po` is against the English sources."""
    code: str
    translated: int
    fuzzy: int
    missing: int
    fuzzy_keys: tuple[str, ...] = ()
    missing_keys: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return self.fuzzy == 0 and self.missing == 0


def source_messages(catalogue_dir: Path, prompts_dir: Path) -> list[tuple[str, str]]:
    """Every (context, English text) the line can say: what `pybabel extract` finds."""
    out = []
    paths = [Path(catalogue_dir) / "contacts.yaml", Path(catalogue_dir) / "categories.yaml"]
    paths += sorted((Path(catalogue_dir) / "services").glob("*.yaml"))
    paths += sorted(Path(prompts_dir).glob("*.yaml"))
    for path in paths:
        out += [(ctx, msg) for ctx, msg, _ in catalogue_messages(path.name, read_yaml(path))]
    return out


def missing_from(translations: NullTranslations, expected: list[tuple[str, str]]) -> int:
    """How many source messages a compiled catalogue lacks (fuzzy ones are not compiled):
    the cheap completeness test used at start-up; `po_status` gives the detail."""
    catalog = getattr(translations, "_catalog", None)
    if catalog is None:
        return len(expected)
    return sum(1 for ctx, msgid in expected if f"{ctx}\x04{msgid}" not in catalog)


def po_status(locales_dir: Path, code: str, expected: list[tuple[str, str]]) -> Status:
    po_path = Path(locales_dir) / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return Status(code, 0, 0, len(expected), (), tuple(c for c, _ in expected))
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=code)
    translated, fuzzy, missing = [], [], []
    for ctx, msgid in expected:
        msg = catalog.get(msgid, context=ctx)
        if msg is None or not msg.string:
            missing.append(ctx)
        elif msg.fuzzy:
            fuzzy.append(ctx)
        else:
            translated.append(ctx)
    return Status(code, len(translated), len(fuzzy), len(missing), tuple(fuzzy), tuple(missing))


def placeholder_errors(locales_dir: Path, code: str) -> list[str]:
    """Translations whose {placeholders} differ from their English source."""
    import re

    po_path = Path(locales_dir) / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return []
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=code)
    errors = []
    pattern = re.compile(r"\{[A-Za-z_]+\}")
    for msg in catalog:
        if msg.id and msg.string and sorted(pattern.findall(msg.id)) != sorted(pattern.findall(msg.string)):
            errors.append(f"{msg.context}: expected {sorted(pattern.findall(msg.id))}")
    return errors
