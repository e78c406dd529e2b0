"""/try in a real browser (Debian's headless Chromium, driven by Selenium).

Headless Chromium may have no voices and no sound: the tests read the transcript, and
see what was given to speech synthesis by wrapping `speechSynthesis.speak`."""
from __future__ import annotations

import re

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from ivr import segments

from .conftest import axe_violations, screenshot

# Records each utterance the page queues (and still lets the browser speak it).
RECORD_SPEECH = """
window.spoken = [];
const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
window.speechSynthesis.speak = u => { window.spoken.push({text: u.text, lang: u.lang, rate: u.rate}); speak(u); };
"""


def open_try(driver, live_url):
    driver.get(live_url + "/try")
    driver.execute_script(RECORD_SPEECH)


def until(driver, check, timeout=10):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: check(d))


def lines(driver) -> list[str]:
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#transcript li.line")]


def wait_for_line(driver, words: str, after: int = 0) -> str:
    """The first thing the line said, after the first `after`, that contains `words`."""
    def found(d):
        return next((t for t in lines(d)[after:] if words in t), None)
    return until(driver, found)


def dial(driver, caller="mobile"):
    driver.find_element(By.CSS_SELECTOR, f'input[name="caller"][value="{caller}"]').click()
    driver.find_element(By.ID, "dial").click()
    wait_for_line(driver, "999")


def test_keys_reach_999_first_then_a_service_by_keypad_and_by_spoken_words(browser, live_url, line):
    open_try(browser, live_url)
    dial(browser)
    assert "999" in lines(browser)[0]                 # the guidance comes before anything
    assert browser.find_elements(By.CSS_SELECTOR, '#transcript li.line span[dir="rtl"][lang="ar"]')
    keys = ActionChains(browser)
    keys.send_keys(str(line.offered.index("en") + 1)).perform()    # the keyboard presses the keypad
    wait_for_line(browser, "Main menu")
    seen = len(lines(browser))
    browser.find_element(By.CSS_SELECTOR, '#keypad button[data-key="2"]').click()   # Fraud and business crime
    wait_for_line(browser, "Fraud", seen)
    seen = len(lines(browser))
    ActionChains(browser).send_keys("1").perform()
    wait_for_line(browser, "To hear it again, press 2", seen)
    seen = len(lines(browser))
    words = browser.find_element(By.ID, "words")
    words.send_keys("knife bin", Keys.ENTER)
    assert wait_for_line(browser, "Knife amnesty bins", seen)
    callers = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#transcript li.caller")]
    assert callers[-1].endswith("“knife bin”") and any("pressed 2" in c for c in callers)
    # A UK mobile is offered the text; the page shows it instead of sending it.
    ActionChains(browser).send_keys("1").perform()    # focus is in the words box: typed, not pressed
    assert words.get_attribute("value") == "1"
    words.clear()
    browser.find_element(By.CSS_SELECTOR, '#keypad button[data-key="1"]').click()
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#chat li.from-line"))
    assert "Knife amnesty bins" in browser.find_element(By.CSS_SELECTOR, "#chat li.from-line").text
    spoken = browser.execute_script("return window.spoken")
    assert spoken and spoken[0]["lang"] == "en-GB" and "999" in spoken[0]["text"]
    browser.find_element(By.ID, "hangup").click()


def test_choosing_polish_gives_polish_prompts_in_a_polish_voice(browser, live_url, line):
    open_try(browser, live_url)
    dial(browser)
    seen = len(lines(browser))
    browser.find_element(By.CSS_SELECTOR, f'#keypad button[data-key="{line.offered.index("pl") + 1}"]').click()
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, '#transcript li.line span[lang="pl-PL"]')) > 1)
    polish = [e.text for e in browser.find_elements(By.CSS_SELECTOR, '#transcript li.line span[lang="pl-PL"]')]
    assert any("Menu" in t or "menu" in t for t in polish), polish
    assert len(lines(browser)) > seen
    until(browser, lambda d: any(u["lang"] == "pl-PL" for u in d.execute_script("return window.spoken")))
    browser.find_element(By.ID, "hangup").click()


def test_texting_fraud_shows_the_action_fraud_reply_with_its_segments(browser, live_url):
    open_try(browser, live_url)
    box = browser.find_element(By.ID, "body")
    box.send_keys("fraud", Keys.ENTER)
    reply = until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#chat li.from-line"))[0]
    body = reply.find_element(By.CSS_SELECTOR, ".body").text
    assert "Action Fraud" in body
    n = segments.segments(body)
    assert re.search(rf"GSM-7, {n} segments?, {len(body)} characters", reply.text), reply.text


def test_the_page_passes_axe_and_fits_at_200_percent_zoom(browser, live_url, line):
    open_try(browser, live_url)
    dial(browser)
    browser.find_element(By.CSS_SELECTOR, f'#keypad button[data-key="{line.offered.index("en") + 1}"]').click()
    wait_for_line(browser, "Main menu")
    browser.find_element(By.ID, "body").send_keys("fraud", Keys.ENTER)
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#chat li.from-line"))
    violations = axe_violations(browser)
    assert violations == [], violations
    size = browser.get_window_size()
    try:
        browser.set_window_size(size["width"], 1900)      # the whole page, for the README
        browser.execute_script("window.scrollTo(0, 0)")
        screenshot(browser, "try")
        browser.set_window_size(550, size["height"])     # 1100 px at 200% zoom
        wide = browser.execute_script("return document.documentElement.scrollWidth")
        assert wide <= browser.execute_script("return document.documentElement.clientWidth")
    finally:
        browser.set_window_size(size["width"], size["height"])
        browser.find_element(By.ID, "hangup").click()


def test_the_skip_link_and_labels_serve_a_keyboard(browser, live_url):
    open_try(browser, live_url)
    ActionChains(browser).send_keys(Keys.TAB).perform()
    skip = browser.switch_to.active_element
    assert skip.text == "Skip to the content"
    skip.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"
    for control in browser.find_elements(By.CSS_SELECTOR, "input[type=text]"):
        label = browser.find_element(By.CSS_SELECTOR, f'label[for="{control.get_attribute("id")}"]')
        assert label.text
