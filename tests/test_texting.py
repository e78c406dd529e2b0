"""Which numbers the line may text: UK mobiles only, judged by phonenumbers."""
from __future__ import annotations

import phonenumbers
from hypothesis import given
from hypothesis import strategies as st

from ivr.texting import is_uk_mobile


def parsed_is_uk_mobile(number: str) -> bool:
    """phonenumbers' own answer, by its general parse."""
    try:
        parsed = phonenumbers.parse(number, "GB")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.region_code_for_number(parsed) in {"GB", "GG", "JE", "IM"} and \
        phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE


def test_uk_mobiles_and_others():
    assert is_uk_mobile("+447911123456")            # a mobile
    assert is_uk_mobile("+447624123456")            # an Isle of Man mobile
    assert not is_uk_mobile("+441604123456")        # a Northampton landline
    assert not is_uk_mobile("+447700900123")        # Ofcom's range for drama: no one's phone
    assert not is_uk_mobile("+15005550006")
    assert not is_uk_mobile("anonymous")
    assert not is_uk_mobile("")


@given(st.sampled_from(["+44", "+440", "+447", "+4479", "+44 7", "+1", "07", "+44٧"]),
       st.text(alphabet="0123456789", max_size=12))
def test_the_quick_path_for_e164_agrees_with_parsing_the_number(prefix, digits):
    number = prefix + digits
    assert is_uk_mobile(number) == parsed_is_uk_mobile(number)
