"""Emergency detection on its own, for every language that has emergency words."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ivr.safety import Detector

WORDS = Path(__file__).resolve().parent.parent / "catalogue" / "emergency"


@pytest.fixture(scope="module")
def detector():
    return Detector.load(WORDS)


def languages():
    return sorted(p.stem for p in WORDS.glob("*.yaml"))


@pytest.mark.parametrize("lang", languages())
def test_every_listed_phrase_is_detected_in_its_language(detector, lang):
    rules = yaml.safe_load((WORDS / f"{lang}.yaml").read_text(encoding="utf-8"))
    assert len(rules["phrases"]) >= 10, "at least ten phrasings per language"
    for phrase in rules["phrases"]:
        assert detector.is_emergency(str(phrase)), (lang, phrase)
        assert detector.is_emergency(f"please!! {str(phrase).upper()} ..."), (lang, phrase)


@pytest.mark.parametrize("lang", languages())
def test_asking_about_a_service_is_not_an_emergency(detector, lang):
    rules = yaml.safe_load((WORDS / f"{lang}.yaml").read_text(encoding="utf-8"))
    for phrase in rules.get("signposts", []):
        assert not detector.is_emergency(str(phrase)), (lang, phrase)


def test_a_weapon_is_an_emergency_only_when_it_is_here_and_now(detector):
    assert not detector.is_emergency("knife")
    assert not detector.is_emergency("where can I hand in a knife")
    assert detector.is_emergency("a man with a knife outside")
    assert detector.is_emergency("he has got a gun")


def test_no_text_is_no_emergency(detector):
    assert not detector.is_emergency("")
    assert not detector.is_emergency("   !!! ")
