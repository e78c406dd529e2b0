"""/insight in a real browser (Debian's headless Chromium, driven by Selenium)."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ivr.simulator import Phone
from ivr.simulator import text as send_text

from .conftest import as_staff, axe_violations, fresh_number, past_language_step, screenshot


def figure(driver, name: str) -> int:
    return int(driver.find_element(By.CSS_SELECTOR, f'[data-figure="{name}"]').text)


def test_the_page_shows_the_counts_after_scripted_traffic(browser, live_url, transport, line):
    browser.get(live_url + "/insight?period=week")
    calls, texts, emergency = figure(browser, "calls"), figure(browser, "texts"), figure(browser, "emergency")
    for words in ("fraud", "knife bin", "help me he has a knife", "dementia"):
        send_text(transport, words, sender=fresh_number())
    for words in ("snorkel tangerine widget",) * 3:
        send_text(transport, words, sender=fresh_number())
    phone = Phone(transport, caller=fresh_number())
    past_language_step(phone, phone.dial(), "pl", line)
    browser.refresh()
    assert figure(browser, "texts") == texts + 7
    assert figure(browser, "calls") == calls + 1
    assert figure(browser, "emergency") == emergency + 1
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#phrases tbody tr")]
    assert any(r.startswith("snorkel tangerine widget 3") for r in rows), rows
    languages = browser.find_element(By.ID, "languages").text
    assert "Polish" in languages
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 2 and all(c.size["width"] > 200 for c in charts)
    screenshot(browser, "insight")


def test_the_page_refuses_a_browser_without_the_login(chromium, live_url):
    chromium.delete_all_cookies()
    as_staff(chromium, logged_in=False)
    try:
        chromium.get(live_url + "/insight")
        assert "What residents ask" not in chromium.page_source     # the login prompt, nothing else
        assert "Calls and texts" not in chromium.page_source
    finally:
        chromium.get("about:blank")
        as_staff(chromium)


def test_the_period_form_works_from_the_keyboard_and_the_csv_links_point_at_it(browser, live_url):
    browser.get(live_url + "/insight?period=week")
    day = browser.find_element(By.CSS_SELECTOR, 'input[name="period"][value="day"]')
    day.click()
    browser.find_element(By.CSS_SELECTOR, ".period button").click()
    WebDriverWait(browser, 10).until(lambda d: "period=day" in d.current_url)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a.csv")]
    assert len(links) == 5 and all("period=day" in href for href in links)


def test_the_page_has_no_serious_accessibility_violations(browser, live_url, transport):
    for _ in range(3):
        send_text(transport, "kwiatki doniczka balkon", sender=fresh_number())
    browser.get(live_url + "/insight?period=week")
    assert axe_violations(browser) == []


def test_at_200_percent_zoom_the_page_does_not_scroll_sideways(browser, live_url):
    browser.get(live_url + "/insight?period=week")
    size = browser.get_window_size()
    try:
        # 200% zoom of a 1,100-pixel window is a 550-pixel-wide page (as WCAG's reflow counts it).
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 550, "height": 900, "deviceScaleFactor": 2, "mobile": False})
        browser.refresh()
        wide, room = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert wide <= room
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        browser.set_window_size(size["width"], size["height"])
