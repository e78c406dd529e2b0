"""Recognising danger: the word lists, the learned model, its corpus, and its figures."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ivr.safety import MODEL_FILE, Safety, WordLists, corpus, features, report
from ivr.safety.words import Rules
from ivr.safety import train as training
from ivr.safety.model import Model

EMERGENCY = Path(__file__).resolve().parent.parent / "catalogue" / "emergency"
LANGS = sorted(p.stem for p in EMERGENCY.glob("*.yaml"))
DANGER_TOPICS = {"violence", "weapon", "intruder", "domestic", "sexual", "abduction", "followed",
                 "fire", "injury", "suicide", "held", "threat"}


@pytest.fixture(scope="module")
def lists():
    return WordLists.load(EMERGENCY)


@pytest.fixture(scope="module")
def safety():
    return Safety.load(EMERGENCY)


# --- the word lists -------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_every_listed_phrase_is_detected_in_its_language(lists, lang):
    rules = yaml.safe_load((EMERGENCY / f"{lang}.yaml").read_text(encoding="utf-8"))
    assert len(rules["phrases"]) >= 10, "at least ten phrasings per language"
    for phrase in rules["phrases"]:
        assert lists.which(str(phrase)), (lang, phrase)
        assert lists.which(f"please!! {str(phrase).upper()} ..."), (lang, phrase)


@pytest.mark.parametrize("lang", LANGS)
def test_asking_about_a_service_is_not_an_emergency_by_the_word_lists(lists, lang):
    rules = yaml.safe_load((EMERGENCY / f"{lang}.yaml").read_text(encoding="utf-8"))
    for phrase in rules.get("signposts", []):
        assert not lists.which(str(phrase)), (lang, phrase)


def test_a_weapon_is_an_emergency_only_when_it_is_here_and_now(safety):
    assert not safety.is_emergency("knife")
    assert not safety.is_emergency("where can I hand in a knife")
    assert safety.is_emergency("a man with a knife outside")
    assert safety.is_emergency("he has got a gun")


def test_no_text_is_no_emergency(safety):
    for text in ("", "   !!! ", None):
        assert not safety.is_emergency(text)


def test_accents_that_tell_words_apart_are_kept(lists):
    # Portuguese "faça" (do) is not "faca" (knife); typed without accents it may be either.
    assert lists.which("faça uma denúncia online") is None
    assert lists.which("ele tem uma faca aqui") is not None


def test_the_whole_message_is_read_however_long(safety):
    filler = "I wanted to ask about the bike marking events and when they are on. " * 40
    assert len(filler) > 2000
    assert safety.is_emergency(filler + "HELP HE HAS A KNIFE AND HE IS OUTSIDE")
    assert safety.is_emergency(filler + "hes breaking the door down rn im so scared")


# --- what the issue found, in every language ---------------------------------------------

MISSED_BEFORE = [
    ("en", "help someone is breaking into my house right now"),
    ("en", "my partner is punching me"),
    ("en", "theres someone downstairs i can hear them"),
    ("en", "got the pills ready"),
    ("en", "im hiding in the bathroom"),
    ("en", "hes on the bridge and says hes going to jump"),
    ("en", "smoke everywhere and the baby is inside"),
    ("en", "he's hitting my mum"),
    ("en", "I don't want to be here anymore"),
    ("lt", "Padėkite!"),
    ("lt", "Pagalbos!"),
    ("pt", "Ajudem!"),
    ("pl", "Napadli na mnie"),
    ("bg", "Удари ме"),
    ("ar", "اتصلوا بالإسعاف"),
    ("pa", "ਘਰ ਵਿੱਚ ਕੋਈ ਵੜ ਗਿਆ"),
]

FALSE_ALARMS_BEFORE = [
    ("en", "non-emergency"),
    ("en", "this is a non emergency question about my car"),
    ("ar", "غير طارئ"),
    ("pt", "faça uma denúncia"),
    ("pa", "ਠੱਗੀ ਵਿੱਚ ਫਸ ਗਿਆ"),
    ("ro", "armă de foc"),
    ("ro", "permis de armă de foc"),
]


@pytest.mark.parametrize("lang, text", MISSED_BEFORE)
def test_danger_the_line_used_to_miss(safety, lang, text):
    assert safety.is_emergency(text), (lang, text)


@pytest.mark.parametrize("lang, text", FALSE_ALARMS_BEFORE)
def test_ordinary_words_that_used_to_raise_a_false_alarm(safety, lang, text):
    assert not safety.is_emergency(text), (lang, text)


@pytest.mark.parametrize("lang, text", [
    ("pl", "kurde on mnie dusi ratujcie"), ("bg", "нож има в кухнята и ме гони"),
    ("pt", "ta me batendo de novo nao aguento"), ("ro", "ma loveste si nu ma lasa sa plec"),
    ("lt", "jis mane smaugia ir neleidzia iseiti"), ("en", "hes kicking the bedroom door in im so scared"),
])
def test_the_model_alone_finds_danger_and_its_language(safety, lang, text):
    model_only = Safety(WordLists({"en": Rules(*[frozenset()] * 4)}), safety.model)
    decision = model_only.assess(text)
    assert decision.danger and decision.source == "model", (text, decision)
    assert decision.lang == lang, (text, decision)


def test_gibberish_and_unknown_languages_are_not_danger_by_the_model(safety):
    for text in ("asdfgh qwerty", "zxcvb", "Tere, kuidas läheb?", "hi", "ok thanks"):
        assert not safety.assess(text).danger, text


def test_a_message_told_as_past_or_as_a_question_is_left_to_the_model(lists):
    assert lists.which("I was attacked last year, how do I report it") is None
    assert lists.which("what should i do if someone is following me") is None
    assert lists.which("he attacked me last year and now hes outside again") == "en"
    assert lists.which("help me") == "en"


# --- the corpus ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def examples():
    return corpus.read(EMERGENCY, "train")


@pytest.fixture(scope="module")
def held_out():
    return corpus.read(EMERGENCY, "test")


@pytest.mark.parametrize("lang", LANGS)
def test_the_corpus_has_enough_texts_of_both_kinds_in_every_language(examples, lang):
    mine = [ex for ex in examples if ex.lang == lang]
    danger = [ex for ex in mine if ex.danger]
    safe = [ex for ex in mine if not ex.danger]
    least = 400 if lang == "en" else 200
    assert len(danger) >= least and len(safe) >= len(danger) * 0.9, (len(danger), len(safe))
    assert {ex.topic for ex in danger} >= DANGER_TOPICS


def test_no_text_is_both_trained_on_and_tested_on(examples, held_out):
    assert held_out, "the test split is missing"
    trained = {(ex.lang, " ".join(features_words(ex.text))) for ex in examples}
    shared = [ex.text for ex in held_out if (ex.lang, " ".join(features_words(ex.text))) in trained]
    assert not shared


def features_words(text):
    from ivr.text import fold
    return fold(text).split()


def test_a_malformed_corpus_line_is_named(tmp_path):
    bad = tmp_path / "xx.tsv"
    bad.write_text("label\ttopic\ttext\ndanger\tfire\tsmoke everywhere\nurgent\tfire\tsmoke\n", encoding="utf-8")
    with pytest.raises(ValueError, match="xx.tsv:3"):
        corpus.read_file(bad)


# --- the model file ---------------------------------------------------------------------

def test_the_shipped_model_is_small_and_up_to_date_with_its_corpus():
    path = EMERGENCY / MODEL_FILE
    assert path.stat().st_size < 5_000_000
    assert training.is_stale(EMERGENCY) is None


def test_a_changed_corpus_makes_the_model_stale(tmp_path):
    copy = tmp_path / "emergency"
    shutil.copytree(EMERGENCY, copy)
    assert training.is_stale(copy) is None
    with (copy / "corpus" / "en.tsv").open("a", encoding="utf-8") as fh:
        fh.write("safe\tother\twhat time does the station open\n")
    assert "older than its corpus" in training.is_stale(copy)
    (copy / MODEL_FILE).unlink()
    assert "missing" in training.is_stale(copy)


def test_training_is_deterministic(tmp_path):
    """Two trainings on the same texts give the same bytes (a small corpus: quick)."""
    copy = tmp_path / "emergency"
    shutil.copytree(EMERGENCY, copy, ignore=shutil.ignore_patterns("test"))
    for path in (copy / "corpus").glob("*.tsv"):
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(lines[:1] + lines[1::6]) + "\n", encoding="utf-8")
    first = training.train(copy).dumps()
    second = training.train(copy).dumps()
    assert first == second
    assert Model.load(copy / MODEL_FILE).corpus_digest == corpus.digest(copy, training.SETTINGS)


def test_a_model_made_for_other_features_is_refused(tmp_path):
    model = Model.load(EMERGENCY / MODEL_FILE)
    model.header["features"] = features.VERSION + 1
    (tmp_path / "model.bin").write_bytes(model.dumps())
    with pytest.raises(ValueError, match="features version"):
        Model.load(tmp_path / "model.bin")


def test_the_webhook_process_imports_nothing_heavy(tmp_path):
    code = ("import sys; from ivr import create_app; "
            f"create_app({{'DATA_DIR': r'{tmp_path}', 'TWILIO_AUTH_TOKEN': 't'}}); "
            "heavy = [m for m in ('numpy', 'scipy', 'sklearn', 'torch', 'argostranslate') if m in sys.modules]; "
            "from ivr.sessions import stop_embedded; stop_embedded(__import__('pathlib').Path(r'" + str(tmp_path) + "')); "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- the figures --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def test_figures():
    return report.test_split(EMERGENCY)


# The targets (recall >= 98%, false alarms <= 8%) are printed, met or MISSED, by
# `ivr-line safety report` (README: the figures). These floors catch a model or a word
# list that got worse; raise them as the corpus grows.
RECALL_FLOOR, FALSE_ALARM_CEILING = 0.93, 0.20


@pytest.mark.parametrize("lang", LANGS)
def test_held_out_recall_and_false_alarms_stay_within_their_floors(test_figures, lang):
    t = test_figures[lang]
    assert t.danger >= 100 and t.safe >= 100
    assert t.recall >= RECALL_FLOOR, t.misses
    assert t.false_alarm_rate <= FALSE_ALARM_CEILING, t.false_alarms


def test_the_report_prints_every_language_and_fails_when_a_target_is_missed(capsys, test_figures):
    from ivr.cli import main
    code = main(["safety", "report", "--folds", "1"])
    out = capsys.readouterr().out
    for lang in LANGS:
        assert f"| {lang} |" in out
    assert code == (0 if all(t.meets() for t in test_figures.values()) else 1)


def test_arabic_and_joined_to_a_word_is_read_apart_by_the_word_lists(lists):
    """"ولا أستطيع التنفس" is "and I cannot breathe": the و joined to لا hid the phrase."""
    assert lists.which("عندي ألم شديد في صدري ولا أستطيع التنفس", "ar") == "ar"
    assert lists.which("ولد صغير ضايع في السوق امبارح", "ar") is None   # a word of its own stays
