"""SMS length as carriers count it."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ivr.segments import fit, is_gsm7, plain, segments, units


def test_gsm7_single_and_multipart_sizes():
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3


def test_extension_characters_count_twice():
    assert units("[]") == 4
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2


def test_any_other_character_means_ucs2():
    assert not is_gsm7("Zażółć")
    assert segments("ż" * 70) == 1 and segments("ż" * 71) == 2 and segments("ż" * 134) == 2
    assert units("😀") == 2


def test_look_alikes_are_made_plain():
    text = plain("Don’t “panic” – it’s fine…")
    assert is_gsm7(text) and text == "Don't \"panic\" - it's fine..."


def test_a_long_text_is_cut_at_a_sentence_with_more():
    text = "First sentence here. " * 20
    now, rest = fit(text, 2, "Reply MORE.")
    assert segments(now) <= 2 and now.endswith("Reply MORE.")
    assert now.split("\n")[0].endswith(".")
    assert (now.split("\n")[0] + " " + rest).split() == text.split()


def test_a_text_is_not_cut_after_an_abbreviation():
    text = "Call 999 now. Text a topic, e.g. FRAUD or KNIFE BIN" + ", or another" * 20 + "."
    now, rest = fit(text, 1, "Reply MORE")
    assert now == "Call 999 now.\nReply MORE"
    assert rest.startswith("Text a topic, e.g. FRAUD")


@given(st.text(max_size=1200), st.integers(min_value=1, max_value=4))
def test_fit_always_fits_and_loses_nothing(text, parts):
    now, rest = fit(text, parts, "Reply MORE for the rest.")
    assert segments(now) <= parts
    if rest:
        body = now.rsplit("\n", 1)[0]
        assert "".join((body + rest).split()) == "".join(text.split())
