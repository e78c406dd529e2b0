"""The matcher's indexes: a whole message looked up once, as a full match would read it."""
from __future__ import annotations


def test_a_whole_message_lookup_finds_what_an_exact_match_of_all_of_it_finds(line):
    """`exactly` (one dict lookup, tried on every text) against `match(fuzzy=False)` whose
    phrase is the whole message, on every phrase of every language and a few non-phrases."""
    from ivr.matching import WHOLE_KINDS
    from ivr.text import fold
    checked = 0
    for code, m in line.matchers.items():
        messages = {fold(" ".join(words)) for view in (m.exact, m.inflected) if view for words in view._phrases}
        messages |= {"menu please", "more help", "stop", "polski", "help me", "x"}
        for kinds in WHOLE_KINDS:
            for message in messages:
                found = m.match(message, set(kinds), fuzzy=False)
                expected = found.target if found and fold(found.phrase) == message else None
                assert m.exactly(message, kinds) == expected, (code, message)
                checked += 1
    assert checked > 10_000


def test_a_language_s_stopwords_are_never_loose_words_shared_with_a_service():
    """Two loose words shared with a service's phrases find it; "my" and "me" say nothing,
    so "sotul meu ma bate" (my husband is beating me) does not find a bus named Beat."""
    from ivr.matching import LanguageMatcher, Target
    m = LanguageMatcher({}, stopwords=frozenset({"meu", "ma"}))
    m.add("beat bus meu cartier ma", Target("service", "beat-bus"))
    m.freeze()
    assert m.match("sotul meu ma bate", {"service"}) is None
    assert m.match("beat cartier azi", {"service"}).target.id == "beat-bus"


def test_no_offered_language_finds_a_service_from_its_stopwords_alone(line):
    for code, m in line.matchers.items():
        words = " ".join(sorted(m.stopwords))
        assert m.match(words, {"service", "category"}) is None, code
