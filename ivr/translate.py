"""Machine drafts of missing translations, with argos-translate: `ivr-line translate --to pl`.

Like the force's Talking messages, a language can be drafted by machine and then reviewed
by a native speaker. A draft goes into the `.po` as *fuzzy* with a translator comment that
says so, so it is never compiled into the line's catalogues unless a deployment opts the
language in as automatic (`IVR_AUTO_LANGUAGES`). The emergency guidance is never drafted:
a wrong word there can cost a life, so a person writes it.

Machine translation rewrites or drops placeholders, numbers, phone numbers, addresses and
SSML tags, so these are swapped for masks ("Z1Q") before translation and put back after;
a draft in which any mask did not come back exactly once is rejected and reported.

argos-translate is an optional extra (`pip install -e '.[mt]'`) that pulls in torch: only
this command imports it, lazily, so the webhook process never does. `protected_parts` and
`protected_errors` import nothing heavy, for `ivr-line check` and the tests.
"""
from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from .i18n import EMERGENCY_CONTEXTS

# The sentence telling callers that a language is automatic must be hand-written too.
NEVER_DRAFTED = EMERGENCY_CONTEXTS | {"prompt:auto_translated"}

MACHINE_COMMENT = ("Machine translation by argos-translate ({source}->{target}), "
                   "awaiting review by a native speaker.")
# The same words, found again after Babel has wrapped the comment over two lines.
_MACHINE_RE = re.compile(r"Machine\s+translation\s+by\s+argos-translate\s+\(\S+\),\s+awaiting"
                         r"\s+review\s+by\s+a\s+native\s+speaker\.")

# What a translation must keep exactly: SSML tags, {placeholders}, web and email addresses,
# and numbers (times, decimals, phone numbers with their spaces: "0300 123 2040"). Order
# matters: a tag or an address is taken whole before the digits inside it.
_PROTECTED = re.compile(r"""
      <[^<>]+>
    | \{[^{}]*\}
    | (?:https?://|www\.)[^\s<>]*[^\s<>.,;:!?)'"]
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+
    | \b[\w-]+(?:\.[\w-]+)*\.(?:uk|com|org|net|gov|info|eu)\b(?:/[^\s<>]*[^\s<>.,;:!?)'"])?
    | \+?\d+(?:[ .,:/-]?\d)*
""", re.VERBOSE)
# A mask is letters and digits only: argos turns "_" into spaces, collapses spaces and
# may split on punctuation, but copies a short code like this one through.
_MASK = re.compile(r"Z(\d+)Q")


def protected_parts(text: str) -> Counter:
    """The placeholders, SSML tags, addresses and numbers in `text`, with how often each
    occurs: a translation must have exactly the same. A number counts by its runs of
    digits (read in any script), so "1,5" for "1.5", "13-18" for "13 to 18" or "٨" for "8"
    pass, and a lost or changed digit does not."""
    parts: Counter = Counter()
    for part in _PROTECTED.findall(text):
        if part[0].isdigit() or part[0] == "+":
            parts.update("".join(str(unicodedata.digit(c)) for c in run)
                         for run in re.findall(r"\d+", part))
        else:
            parts[part] += 1
    return parts


def protected_errors(source: str, translation: str) -> list[str]:
    """What a translation lost or gained of its source's protected parts ([] when none)."""
    want, got = protected_parts(source), protected_parts(translation)
    return ([f"missing {part!r}" for part in (want - got).elements()]
            + [f"unexpected {part!r}" for part in (got - want).elements()])


def is_word_list(context: str) -> bool:
    """Keywords and synonyms are one comma-separated message: translated item by item,
    so a model cannot merge words into a sentence."""
    return (context.endswith((":keywords", ":synonyms"))
            or context.startswith(("prompt:words_", "prompt:sms_words_")))


class Rejected(ValueError):
    """A draft that cannot be used: its protected parts did not survive."""


class Unavailable(RuntimeError):
    """Nothing can be drafted: argos-translate, a model for the pair, or the language
    itself is not available."""


def mask(text: str) -> tuple[str, list[str]]:
    """`text` with each protected part replaced by Z1Q, Z2Q...; and the parts, in order."""
    if _MASK.search(text):
        raise Rejected("the source text already contains mask-like text (Z<digits>Q)")
    parts: list[str] = []

    def swap(match: re.Match) -> str:
        parts.append(match.group())
        return f"Z{len(parts)}Q"

    return _PROTECTED.sub(swap, text), parts


def unmask(text: str, parts: list[str]) -> str:
    """Put the protected parts back; every mask must appear exactly once, or `Rejected`."""
    seen = Counter(int(n) for n in _MASK.findall(text))
    problems = [f"lost {part!r}" if not seen[n] else f"{part!r} came back {seen[n]} times"
                for n, part in enumerate(parts, 1) if seen[n] != 1]
    problems += [f"invented mask Z{n}Q" for n in sorted(seen) if not 1 <= n <= len(parts)]
    if problems:
        raise Rejected("; ".join(problems))
    return _MASK.sub(lambda m: parts[int(m.group(1)) - 1], text)


def draft_text(text: str, context: str, translate: Callable[[str], str]) -> str:
    """One message, translated with its protected parts intact (or `Rejected`). Each word
    of a list loses the full stop a model likes to end a "sentence" with."""
    if is_word_list(context):
        items = [item.strip() for item in text.split(",") if item.strip()]
        out = ", ".join(draft_text(item, "", translate).rstrip(".") for item in items)
    else:
        masked, parts = mask(text)
        out = unmask(translate(masked).strip(), parts)
    if not out:
        raise Rejected("the model gave an empty translation")
    errors = protected_errors(text, out)
    if errors:
        raise Rejected("; ".join(errors))
    return out


@dataclass
class Report:
    """What one drafting run did, per message context."""
    source: str
    target: str
    drafted: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)   # (context, why)
    needs_human: list[str] = field(default_factory=list)            # never machine-drafted
    translated: int = 0        # already translated and reviewed: left alone
    awaiting_review: int = 0   # fuzzy already (earlier drafts without --redo): left alone

    def summary(self) -> str:
        lines = [f"{self.source}->{self.target}: drafted {len(self.drafted)} (fuzzy, awaiting "
                 f"review), rejected {len(self.rejected)}, needs a human translator "
                 f"{len(self.needs_human)}, already translated {self.translated}, "
                 f"fuzzy left for review {self.awaiting_review}"]
        lines += [f"  rejected {ctx}: {why}" for ctx, why in self.rejected]
        lines += [f"  needs a human translator: {ctx}" for ctx in self.needs_human]
        return "\n".join(lines)


def argos_translator(source: str, target: str) -> Callable[[str], str]:
    """The installed argos model for `source`->`target`, as a function of one string.

    The package list is read first (cheap), so a missing model is reported without
    loading torch; `argostranslate.translate` is imported only when there is a model."""
    try:
        from argostranslate import package
    except ImportError as exc:
        raise Unavailable("argos-translate is not installed; install the extra with: "
                          "pip install -e '.[mt]'") from exc
    if not any(p.from_code == source and p.to_code == target
               for p in package.get_installed_packages()):
        raise Unavailable(
            f"No argos-translate model for {source}->{target}. Install one offline with: "
            f"argospm install translate-{source}_{target} (or "
            f"argostranslate.package.install_from_path(<file>.argosmodel))")
    from argostranslate import translate
    return translate.get_translation_from_codes(source, target).translate


def _is_machine_draft(message) -> bool:
    return message.fuzzy and bool(_MACHINE_RE.search("\n".join(message.user_comments)))


def _clear(message) -> None:
    """Take a machine draft out: no text, no fuzzy flag, no machine comment."""
    message.string = ""
    message.flags.discard("fuzzy")
    kept = _MACHINE_RE.sub("", "\n".join(message.user_comments))
    message.user_comments = [line for line in kept.split("\n") if line.strip()]


def _load(po_path: Path, pot_path: Path, target: str) -> Catalog:
    """The language's catalogue updated from the template, as `pybabel update` does
    (or a new one, as `pybabel init` does), so every source message is there."""
    with Path(pot_path).open("rb") as fh:
        template = read_po(fh)
    if not Path(po_path).exists():
        with Path(pot_path).open("rb") as fh:
            catalog = read_po(fh, locale=target)
        catalog.fuzzy = False
        return catalog
    with Path(po_path).open("rb") as fh:
        catalog = read_po(fh, locale=target)
    catalog.update(template)
    return catalog


def draft(po_path: Path, pot_path: Path, target: str, source: str = "en", redo: bool = False,
          translate: Callable[[str], str] | None = None) -> Report:
    """Draft every untranslated message of one language into its `.po`, as fuzzy.

    `redo` drafts again the messages that are still unreviewed machine drafts. A
    translation a person wrote (fuzzy or not) is never touched. `translate` replaces the
    argos model (tests); without it the model is found before the `.po` is changed."""
    try:
        Locale.parse(target)
    except (ValueError, UnknownLocaleError) as exc:
        raise Unavailable(f"Babel has no locale data for {target!r}: use a code such as "
                          "pl, pt or pa") from exc
    translate = translate or argos_translator(source, target)
    catalog = _load(po_path, pot_path, target)
    report = Report(source, target)
    cache: dict[str, str] = {}

    def cached(text: str) -> str:
        """Each text once; a model that fails on one text costs that message, not the run."""
        if text not in cache:
            try:
                cache[text] = translate(text)
            except Exception as exc:   # noqa: BLE001 - reported per message
                raise Rejected(f"the model failed: {exc}") from exc
        return cache[text]

    comment = MACHINE_COMMENT.format(source=source, target=target)
    for message in catalog:
        if not message.id:
            continue
        context = message.context or ""
        if _is_machine_draft(message) and (redo or context in NEVER_DRAFTED):
            _clear(message)
        if message.string:
            if message.fuzzy:
                report.awaiting_review += 1
            else:
                report.translated += 1
        elif context in NEVER_DRAFTED:
            report.needs_human.append(context)
        elif isinstance(message.id, (list, tuple)):
            report.rejected.append((context, "plural forms are translated by hand"))
        else:
            try:
                message.string = draft_text(message.id, context, cached)
            except Rejected as exc:
                report.rejected.append((context, str(exc)))
                continue
            message.flags.add("fuzzy")
            message.user_comments.append(comment)
            report.drafted.append(context)
    _write(Path(po_path), catalog)
    return report


def _write(po_path: Path, catalog: Catalog) -> None:
    """Write as `pybabel update` does, through a temporary file so a failure leaves the
    old `.po` whole."""
    po_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = po_path.with_suffix(f".po.{os.getpid()}")
    with tmp.open("wb") as fh:
        write_po(fh, catalog)
    tmp.replace(po_path)
