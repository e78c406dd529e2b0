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
