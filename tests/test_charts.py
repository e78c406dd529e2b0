"""Charts are SVG drawn on the server: well-formed, titled, escaped, on a readable scale."""
import xml.etree.ElementTree as ET

import pytest

from ivr import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup):
    return ET.fromstring(str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_columns_draw_a_bar_per_day_and_series_with_a_title():
    rows = [{"day": "2026-12-01", "calls": 3, "texts": 5}, {"day": "2026-12-02", "calls": 0, "texts": 1}]
    svg = parse(charts.columns(rows, "day", ["calls", "texts"], "Calls & texts"))
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Calls & texts"
    bars = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 4
    assert [b.find(f"{SVG}title").text for b in bars][:2] == ["2026-12-01: 3 calls", "2026-12-01: 5 texts"]
    tallest = max(float(b.get("height")) for b in bars)
    assert tallest == max(float(b.get("height")) for b in bars if "5 texts" in b.find(f"{SVG}title").text)


def test_labels_are_escaped_not_markup():
    svg = parse(charts.bars([("<script>alert(1)</script>", 2)], "Services"))
    assert "<script>alert(1)</script>" in "".join(svg.itertext())
    assert not list(svg.iter(f"{SVG}script")) and not list(svg.iter("script"))


def test_an_empty_period_says_so():
    assert "Nothing yet" in "".join(parse(charts.bars([], "Services")).itertext())


@pytest.mark.parametrize("top, axis", [(0, 4), (7, 8), (9, 20), (41, 80), (1234, 2000)])
def test_the_axis_rises_in_four_round_steps(top, axis):
    assert charts._scale(top) == axis
