"""The labelled corpus the danger model learns from and is judged on.

    catalogue/emergency/corpus/<lang>.tsv        training texts (k-fold figures come from these)
    catalogue/emergency/corpus/test/<lang>.tsv   the test split: written apart, never trained on
    catalogue/emergency/corpus/catalogue/<lang>.tsv   the line's own keywords and titles, all
        `safe` (texting "knife bin" asks for a signpost): made by `ivr-line safety train`

Each file is tab-separated with a header `label topic text`; `label` is `danger` (someone
is in danger now) or `safe` (everything else, much of it sharing danger's words).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

LABELS = {"danger": True, "safe": False}


@dataclass(frozen=True)
class Example:
    lang: str
    danger: bool
    topic: str
    text: str


def corpus_dir(emergency_dir: Path) -> Path:
    return Path(emergency_dir) / "corpus"


def files(emergency_dir: Path, split: str = "train") -> list[Path]:
    base = corpus_dir(emergency_dir)
    if split == "test":
        return sorted((base / "test").glob("*.tsv"))
    return sorted(base.glob("*.tsv")) + sorted((base / "catalogue").glob("*.tsv"))


def read_file(path: Path) -> list[Example]:
    """One language's file; a malformed line stops with its file and line number."""
    lang = path.stem
    out = []
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t") != ["label", "topic", "text"]:
        raise ValueError(f"{path}:1: the header must be: label<TAB>topic<TAB>text")
    for number, row in enumerate(lines[1:], start=2):
        if not row.strip():
            continue
        parts = row.split("\t")
        if len(parts) != 3 or parts[0] not in LABELS or not parts[2].strip():
            raise ValueError(f"{path}:{number}: expected danger|safe, a topic and a text")
        out.append(Example(lang, LABELS[parts[0]], parts[1].strip(), parts[2].strip()))
    return out


def read(emergency_dir: Path, split: str = "train") -> list[Example]:
    return [ex for path in files(emergency_dir, split) for ex in read_file(path)]


def digest(emergency_dir: Path, settings: dict) -> str:
    """What the shipped model was trained from: the training files, byte for byte, and
    the training settings. A model whose digest differs is stale."""
    h = hashlib.sha256(repr(sorted(settings.items())).encode())
    for path in files(emergency_dir, "train"):
        h.update(path.relative_to(corpus_dir(emergency_dir)).as_posix().encode() + b"\0"
                 + path.read_bytes() + b"\0")
    return h.hexdigest()


def fold_of(example: Example, k: int) -> int:
    """A stable fold for k-fold cross-validation (the same text always lands in the same fold)."""
    return int.from_bytes(hashlib.sha256(example.text.encode()).digest()[:4], "big") % k


def write_catalogue(emergency_dir: Path, phrases: dict[str, set[str]]) -> None:
    """The line's own words per language, as `safe` training texts (sorted: deterministic),
    leaving out any the test split holds (it is never trained on)."""
    from ..text import fold
    held = {(ex.lang, fold(ex.text)) for ex in read(emergency_dir, "test")}
    phrases = {lang: {w for w in words if (lang, fold(w)) not in held} for lang, words in phrases.items()}
    target = corpus_dir(emergency_dir) / "catalogue"
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.tsv"):
        old.unlink()
    for lang, words in sorted(phrases.items()):
        rows = sorted({" ".join(w.split()) for w in words if w.strip() and "\t" not in w})
        (target / f"{lang}.tsv").write_text(
            "label\ttopic\ttext\n" + "".join(f"safe\tcatalogue\t{w}\n" for w in rows), encoding="utf-8")
