"""Machine drafts (`ivr-line translate`): masks, the protected-parts check, the fuzzy flag,
and the real argos-translate loading and translating code, end to end, offline.

No argos model can be downloaded here, so the end-to-end tests build a tiny deterministic
one (a character-level SentencePiece model and a hand-set CTranslate2 transformer that
upper-cases, or one that also loses the letter Q) and install it with argos's own
`install_from_path`. argos reads its folders from the environment once, at import, and
imports torch: every argos step runs in a child process with all XDG_* and ARGOS_* pointed
at a temporary folder and with sockets refused, so nothing leaks into this test session.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from ivr.i18n import EMERGENCY_CONTEXTS, source_messages
from ivr.translate import (NEVER_DRAFTED, Rejected, draft, draft_text, mask, protected_errors,
                           protected_parts, unmask)

ROOT = Path(__file__).resolve().parent.parent
COMMENT = "Machine translation by argos-translate (en->{0}), awaiting review by a native speaker."

# A tiny catalogue: (context, English, translation a person already wrote or "")
MESSAGES = [
    ("prompt:emergency", "If you are in danger, call {emergency}. Otherwise call {non_emergency}.", ""),
    ("prompt:sms_emergency", "In danger now? Call {emergency}. Deaf: dial {relay}.", ""),
    ("prompt:auto_translated", "This service is translated automatically.", ""),
    ("prompt:welcome", "Welcome to the police information line.", ""),
    ("prompt:menu_option", "For {title}, press {key}.", ""),
    ("prompt:greeting", "Hello {first_name}, call 0300 123 2040 between 8am and 6pm.", ""),
    ("prompt:slow", '<prosody rate="slow">Press 5 5 now.</prosody> Then wait.', ""),
    ("prompt:goodbye", "Goodbye.", "Auf Wiedersehen."),
    ("fraud:keywords", "fraud, scam, 999 bsl app", ""),
    ("prompt:words_more", "more, next", ""),
    ("contact:summary", "Email help@northants.police.uk or visit https://www.northants.police.uk/report today.", ""),
]


def write_catalogue(locales: Path, code: str | None = None) -> None:
    """locales/messages.pot, and a `.po` for `code` holding the hand-written translations."""
    pot = Catalog(project="ivr-line")
    po = Catalog(locale=code, project="ivr-line") if code else None
    for context, english, translated in MESSAGES:
        flags = ["python-brace-format"] if "{" in english else []
        pot.add(english, context=context, flags=flags)
        if po is not None:
            po.add(english, translated, context=context, flags=flags,
                   user_comments=["Written by hand."] if translated else [])
    locales.mkdir(parents=True, exist_ok=True)
    with (locales / "messages.pot").open("wb") as fh:
        write_po(fh, pot)
    if po is not None:
        (locales / code / "LC_MESSAGES").mkdir(parents=True)
        with (locales / code / "LC_MESSAGES" / "messages.po").open("wb") as fh:
            write_po(fh, po)


def read(locales: Path, code: str) -> dict:
    with (locales / code / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return {m.context: m for m in read_po(fh, locale=code) if m.id}


# --- The protected-parts check and the masks: no argos needed ------------------------

def test_protected_parts_are_placeholders_numbers_phones_addresses_and_ssml():
    parts = protected_parts('Hi {first_name}: call 0300 123 2040 or +44 1604 888111 by 8am. '
                            '<break time="500ms"/> help@example.org www.example.org/a1')
    assert parts == {"{first_name}": 1, "0300": 1, "123": 1, "2040": 1, "44": 1, "1604": 1,
                     "888111": 1, "8": 1, '<break time="500ms"/>': 1, "help@example.org": 1,
                     "www.example.org/a1": 1}


def test_protected_errors_allow_local_number_formats_and_catch_lost_or_changed_ones():
    assert protected_errors("Leave 1.5 metres.", "Zostaw 1,5 metra.") == []
    assert protected_errors("aged 13 to 18", "w wieku 13-18 lat") == []
    assert protected_errors("from 8am", "من ٨ صباحا") == []       # Arabic-Indic digits
    assert protected_errors("Call {number} on 101.", "Zadzwoń pod {numer} na 102.") == [
        "missing '{number}'", "missing '101'", "unexpected '{numer}'", "unexpected '102'"]
    assert protected_errors("Press 5 5.", "Naciśnij 5.") == ["missing '5'"]


def test_masks_survive_what_argos_does_to_text():
    masked, parts = mask('Hi {first_name}, call 0300 123 2040. <say-as interpret-as="digits">101</say-as>')
    assert parts == ["{first_name}", "0300 123 2040", '<say-as interpret-as="digits">', "101", "</say-as>"]
    # argos turns "_" into spaces, collapses spaces and may change case: a mask has none of these
    assert "_" not in masked and "{" not in masked and "<" not in masked
    mangled = " ".join(masked.upper().replace("_", " ").split())
    assert unmask(mangled, parts) == 'HI {first_name}, CALL 0300 123 2040. <say-as interpret-as="digits">101</say-as>'


@pytest.mark.parametrize("draft_out, reason", [
    ("CALL Z1Q.", "lost '0300 123 2040'"),
    ("CALL Z1Q, Z2Q AND Z2Q.", "'0300 123 2040' came back 2 times"),
    ("CALL Z1Q, Z2Q, Z3Q.", "invented mask Z3Q"),
])
def test_a_draft_whose_masks_did_not_come_back_once_is_rejected(draft_out, reason):
    masked, parts = mask("Call {name}, 0300 123 2040.")
    assert masked == "Call Z1Q, Z2Q."
    with pytest.raises(Rejected, match=reason):
        unmask(draft_out, parts)


def test_a_model_that_invents_a_number_is_rejected():
    with pytest.raises(Rejected, match="unexpected '24'"):
        draft_text("Call us.", "x:summary", lambda text: "Call us 24 hours.")


def test_word_lists_are_translated_item_by_item():
    asked = []

    def model(text):
        asked.append(text)
        return text.upper() + "."

    assert draft_text("fraud, scam, 999 bsl app", "fraud:keywords", model) == "FRAUD, SCAM, 999 BSL APP"
    assert asked == ["fraud", "scam", "Z1Q bsl app"]
    assert draft_text("more, next", "prompt:sms_words_more", str.upper) == "MORE, NEXT"


def test_every_real_message_keeps_its_protected_parts_and_the_emergency_list_is_real():
    """The line's own template, through a model that changes every letter: nothing is
    rejected, and every never-drafted context exists (a renamed prompt would fail here)."""
    messages = source_messages(ROOT / "catalogue", ROOT / "prompts")
    for context, english in messages:
        assert protected_errors(english, draft_text(english, context, str.upper)) == []
    contexts = {context for context, _ in messages}
    assert EMERGENCY_CONTEXTS <= NEVER_DRAFTED <= contexts


def test_drafting_keeps_people_s_work_and_never_drafts_the_emergency_guidance(tmp_path):
    locales = tmp_path / "locales"
    write_catalogue(locales, "de")
    pot, po = locales / "messages.pot", locales / "de" / "LC_MESSAGES" / "messages.po"

    report = draft(po, pot, "de", translate=str.upper)
    msgs = read(locales, "de")
    assert report.translated == 1 and msgs["prompt:goodbye"].string == "Auf Wiedersehen."
    assert not msgs["prompt:goodbye"].fuzzy
    assert sorted(report.needs_human) == ["prompt:auto_translated", "prompt:emergency",
                                          "prompt:sms_emergency"]
    assert len(report.drafted) == len(MESSAGES) - 4 and not report.rejected
    assert msgs["prompt:welcome"].fuzzy

    # a later run leaves drafts for review; --redo drafts them again
    def bracket(text):
        return f"[{text}]"

    again = draft(po, pot, "de", translate=bracket)
    assert again.drafted == [] and again.awaiting_review == len(report.drafted)
    assert read(locales, "de")["prompt:welcome"].string == "WELCOME TO THE POLICE INFORMATION LINE."
    redo = draft(po, pot, "de", redo=True, translate=bracket)
    assert redo.drafted == report.drafted
    welcome = read(locales, "de")["prompt:welcome"]
    assert welcome.string == "[Welcome to the police information line.]"
    assert " ".join(welcome.user_comments) == COMMENT.format("de")     # one comment, not two


def test_a_machine_draft_of_the_emergency_guidance_is_taken_out(tmp_path):
    locales = tmp_path / "locales"
    write_catalogue(locales, "de")
    po = locales / "de" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="de")
    sneaked = catalog.get(MESSAGES[0][1], context="prompt:emergency")
    sneaked.string, sneaked.user_comments = "WENN SIE IN GEFAHR SIND...", [COMMENT.format("de")]
    sneaked.flags.add("fuzzy")
    with po.open("wb") as fh:
        write_po(fh, catalog)
    report = draft(po, locales / "messages.pot", "de", translate=str.upper)
    emergency = read(locales, "de")["prompt:emergency"]
    assert emergency.string == "" and not emergency.fuzzy and not emergency.user_comments
    assert "prompt:emergency" in report.needs_human


def test_the_webhook_process_never_imports_argos():
    code = ("import sys, ivr, ivr.web, ivr.line, ivr.translate; print(sorted({m.split('.')[0] "
            "for m in sys.modules} & {'argostranslate', 'torch', 'ctranslate2', 'spacy', 'stanza'}))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_translate_says_how_to_install_argos_when_it_is_missing(tmp_path):
    """Runs without the extra: a stand-in `argostranslate` that cannot be imported."""
    shim = tmp_path / "shim" / "argostranslate"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('argostranslate is not installed (test)')\n")
    write_catalogue(tmp_path / "locales", "de")
    before = (tmp_path / "locales" / "de" / "LC_MESSAGES" / "messages.po").read_bytes()
    env = {**os.environ, "PYTHONPATH": f"{shim.parent}{os.pathsep}{ROOT}",
           "IVR_LOCALES_DIR": str(tmp_path / "locales")}
    r = subprocess.run([sys.executable, "-m", "ivr.cli", "translate", "--to", "de"], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "pip install -e '.[mt]'" in r.stderr
    assert (tmp_path / "locales" / "de" / "LC_MESSAGES" / "messages.po").read_bytes() == before


# --- The real argos-translate, with a tiny model built here ---------------------------

ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            " .,;:!?'\"-/()")
POSITIONS = 128      # longest sentence the model can copy, in characters, plus two


def image_of(kind: str):
    """What the tiny model writes for each character: its upper case; "lossy" also turns
    every Q into O, so the masks (Z1Q...) never come back."""
    def image(piece: str) -> str:
        out = piece.upper() if len(piece.upper()) == 1 else piece
        return "O" if kind == "lossy" and out == "Q" else out
    return image


def build_package(path: Path, to_code: str, kind: str) -> None:
    """Write `<path>` as an .argosmodel: metadata, a character-level SentencePiece model, a
    CTranslate2 transformer that copies position by position, and a blank spaCy pipeline
    for sentence splitting (argos adds its rule-based sentencizer to it).

    The transformer: width = V + P (one-hot token, then one-hot position); every
    self-attention and feed-forward weight zero so the residual carries the input; the
    decoder's cross-attention matches its position to the same source position and reads
    that source token; the projection maps each token to its image. The copied </s> ends
    decoding."""
    import numpy as np
    import sentencepiece as spm
    import spacy
    from ctranslate2.specs import transformer_spec

    work = path.with_suffix("")
    (work / "model").mkdir(parents=True)
    letters = "".join(sorted(set(ALPHABET) - {" "}))
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([letters]), model_writer=proto, model_type="char",
        vocab_size=len(letters) + 4, character_coverage=1.0,
        normalization_rule_name="identity", minloglevel=2)
    (work / "sentencepiece.model").write_bytes(proto.getvalue())
    sp = spm.SentencePieceProcessor(model_proto=proto.getvalue())
    vocab = ["<unk>", "<s>", "</s>"] + [sp.id_to_piece(i) for i in range(3, sp.get_piece_size())]

    V, P = len(vocab), POSITIONS
    d = V + P
    f32 = np.float32
    tokens = np.eye(V, d, dtype=f32)                      # token i -> dimension i
    positions = np.eye(P, d, k=V, dtype=f32)              # position p -> dimension V + p
    pick_positions = np.diag(np.r_[np.zeros(V), np.ones(P)]).astype(f32)
    pick_tokens = np.diag(np.r_[np.ones(V), np.zeros(P)]).astype(f32)

    def norm(layer):
        layer.gamma, layer.beta = np.ones(d, f32), np.zeros(d, f32)

    spec = transformer_spec.TransformerSpec.from_config(1, 1)
    spec.config.add_source_eos = True
    for stack in (spec.encoder, spec.decoder):
        stack.scale_embeddings = False
        stack.position_encodings.encodings = positions
        norm(stack.layer_norm)
        layer = stack.layer[0]
        norm(layer.self_attention.layer_norm)
        layer.self_attention.linear[0].weight = np.zeros((3 * d, d), f32)
        layer.self_attention.linear[1].weight = np.zeros((d, d), f32)
        norm(layer.ffn.layer_norm)
        layer.ffn.linear_0.weight = np.zeros((4, d), f32)
        layer.ffn.linear_1.weight = np.zeros((d, 4), f32)
    spec.encoder.embeddings[0].weight = tokens
    spec.decoder.embeddings.weight = tokens
    cross = spec.decoder.layer[0].attention
    norm(cross.layer_norm)
    cross.linear[0].weight = 10 * pick_positions                      # query: my position
    cross.linear[1].weight = np.concatenate([pick_positions, pick_tokens])   # key, value
    cross.linear[2].weight = pick_tokens
    image = image_of(kind)
    projection = np.zeros((V, d), f32)
    for i, piece in enumerate(vocab):
        projection[vocab.index(image(piece)) if image(piece) in vocab else i, i] = 30
    spec.decoder.projection.weight = projection
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.validate()
    spec.save(str(work / "model"))

    spacy.blank("en").to_disk(work / "spacy")
    (work / "metadata.json").write_text(json.dumps({
        "package_version": "0.0", "argos_version": "1.9", "type": "translate",
        "from_code": "en", "from_name": "English", "to_code": to_code, "to_name": kind}))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:     # one top-level folder
        for file in sorted(work.rglob("*")):
            zf.write(file, Path(f"translate-en_{to_code}") / file.relative_to(work))


# Every child starts with this: a socket that tries to connect is logged and refused, so a
# download argos swallows still shows in the log.
GUARD = """
import os, socket
def _refuse(*args, **kwargs):
    with open(os.environ["NETWORK_LOG"], "a") as log:
        log.write(repr(args) + "\\n")
    raise OSError("network refused in the argos test")
socket.socket.connect = socket.socket.connect_ex = _refuse
socket.create_connection = socket.getaddrinfo = _refuse
"""


@pytest.fixture(scope="module")
def argos_home(tmp_path_factory):
    """Argos folders with two tiny packages installed by argos itself: en->de upper-cases,
    en->fr also loses every mask."""
    for name in ("argostranslate", "ctranslate2", "sentencepiece", "spacy"):
        pytest.importorskip(name)
    home = tmp_path_factory.mktemp("argos")
    # argos (ARGOS_CHUNK_TYPE=SPACY) downloads a multilingual spaCy model at import unless
    # this folder exists; the packages carry their own blank pipeline.
    (home / "cache" / "argos-translate" / "spacy" / "senter" / "model").mkdir(parents=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARGOS_")}
    env.update(XDG_DATA_HOME=str(home / "data"), XDG_CACHE_HOME=str(home / "cache"),
               XDG_CONFIG_HOME=str(home / "config"), ARGOS_CHUNK_TYPE="SPACY",
               ARGOS_DEVICE_TYPE="cpu", ARGOS_BEAM_SIZE="1", PYTHONPATH=str(ROOT),
               NETWORK_LOG=str(home / "network.log"))
    install = GUARD + f"""
from pathlib import Path
from tests.test_translate import build_package
import argostranslate.package as package
for code, kind in (("de", "upper"), ("fr", "lossy")):
    path = Path({str(home)!r}) / f"{{code}}.argosmodel"
    build_package(path, code, kind)
    package.install_from_path(path)
print(sorted((p.from_code, p.to_code) for p in package.get_installed_packages()))
"""
    r = subprocess.run([sys.executable, "-c", install], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "[('en', 'de'), ('en', 'fr')]" in r.stdout
    yield home, env
    assert not (home / "network.log").exists(), (home / "network.log").read_text()


def run_translate(argos_home, locales: Path, *args: str) -> subprocess.CompletedProcess:
    """`ivr-line translate ...` in a child with the tiny packages and no network."""
    home, env = argos_home
    code = GUARD + f"import sys; from ivr.cli import main; sys.exit(main({['translate', *args]!r}))"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**env, "IVR_LOCALES_DIR": str(locales)}, timeout=300)


def test_argos_drafts_are_fuzzy_and_keep_placeholders_numbers_phones_and_ssml(argos_home, tmp_path):
    locales = tmp_path / "locales"
    write_catalogue(locales, "de")
    r = run_translate(argos_home, locales, "--to", "de")
    assert r.returncode == 0, r.stderr
    assert "drafted 7 (fuzzy, awaiting review), rejected 0, needs a human translator 3, " \
           "already translated 1" in r.stdout
    msgs = read(locales, "de")
    assert msgs["prompt:welcome"].string == "WELCOME TO THE POLICE INFORMATION LINE."
    assert msgs["prompt:greeting"].string == "HELLO {first_name}, CALL 0300 123 2040 BETWEEN 8AM AND 6PM."
    # argos translates sentence by sentence and joins them with a space
    assert msgs["prompt:slow"].string == '<prosody rate="slow">PRESS 5 5 NOW. </prosody> THEN WAIT.'
    assert msgs["prompt:menu_option"].string == "FOR {title}, PRESS {key}."
    assert msgs["fraud:keywords"].string == "FRAUD, SCAM, 999 BSL APP"
    assert msgs["contact:summary"].string == ("EMAIL help@northants.police.uk OR VISIT "
                                              "https://www.northants.police.uk/report TODAY.")
    for context, english, _ in MESSAGES:
        msg = msgs[context]
        if context in NEVER_DRAFTED:
            assert msg.string == "" and not msg.fuzzy, context
            assert f"needs a human translator: {context}" in r.stdout
        elif context == "prompt:goodbye":
            assert msg.string == "Auf Wiedersehen." and not msg.fuzzy
            assert msg.user_comments == ["Written by hand."]
        else:
            assert msg.fuzzy, context
            assert " ".join(msg.user_comments) == COMMENT.format("de")
            assert protected_errors(english, msg.string) == []

    before = (locales / "de" / "LC_MESSAGES" / "messages.po").read_text()
    r = run_translate(argos_home, locales, "--to", "de", "--redo")
    assert r.returncode == 0, r.stderr
    assert "drafted 7" in r.stdout
    assert (locales / "de" / "LC_MESSAGES" / "messages.po").read_text() == before   # deterministic


def test_argos_drafts_whose_masks_were_lost_are_rejected(argos_home, tmp_path):
    locales = tmp_path / "locales"
    write_catalogue(locales)                      # no French .po yet: made from the template
    r = run_translate(argos_home, locales, "--to", "fr")
    assert r.returncode == 0, r.stderr
    assert "rejected prompt:greeting: lost '{first_name}'; lost '0300 123 2040'" in r.stdout
    msgs = read(locales, "fr")
    for context in ("prompt:greeting", "prompt:menu_option", "prompt:slow", "contact:summary",
                    "fraud:keywords"):
        assert msgs[context].string == "" and not msgs[context].fuzzy, context
        assert f"rejected {context}: lost" in r.stdout
    assert msgs["prompt:welcome"].string == "WELCOME TO THE POLICE INFORMATION LINE."
    assert msgs["prompt:welcome"].fuzzy


def test_translate_names_the_argos_package_to_install_for_a_missing_pair(argos_home, tmp_path):
    locales = tmp_path / "locales"
    write_catalogue(locales, "pl")
    before = (locales / "pl" / "LC_MESSAGES" / "messages.po").read_bytes()
    r = run_translate(argos_home, locales, "--to", "pl")
    assert r.returncode == 1
    assert "No argos-translate model for en->pl" in r.stderr
    assert "argospm install translate-en_pl" in r.stderr
    assert "install_from_path" in r.stderr
    assert (locales / "pl" / "LC_MESSAGES" / "messages.po").read_bytes() == before
