"""The page at / in headless Chromium: paste text, click, see the entities highlighted."""

import pytest

from tests.servers import serving
from tests.service.browser import Browser, find_chromium

CHROMIUM = find_chromium()
# The page has loaded and asked the service for its model (the answer shows in #model).
LOADED = (
    "(() => { const m = document.getElementById('model');"
    " return m !== null && !m.textContent.startsWith('loading'); })()"
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (Debian: apt install chromium)")


@pytest.fixture
def server(bundle, tmp_path):
    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings

    keys = tmp_path / "keys"
    keys.write_text("page-key\n")
    with serving(create_app(ServiceSettings(_env_file=None, model_dir=bundle, api_key_file=keys))) as url:
        yield f"{url}/"


@pytest.fixture
def browser(tmp_path):
    browser = Browser(CHROMIUM, tmp_path / "profile")
    yield browser
    browser.close()


def test_a_person_pastes_text_and_sees_the_entities(server, browser):
    browser.open(server)
    browser.wait_for(LOADED)
    assert browser.evaluate("document.getElementById('model').textContent") == "model: 401"

    browser.type_into("#key", "page-key")
    browser.evaluate("document.getElementById('key').dispatchEvent(new Event('change'))")
    browser.wait_for("document.getElementById('model').textContent.startsWith('model ')")
    text = "Alma met Borel in Quenby 🙂 with Hollin today"
    browser.type_into("#text", text)
    browser.click("#run")
    status = browser.wait_for(
        "(() => { const s = document.getElementById('status').textContent;"
        " return s.endsWith('entities') ? s : ''; })()"
    )
    marks = browser.evaluate(
        "Array.from(document.querySelectorAll('#result mark'))"
        ".map(m => [m.firstChild.textContent, m.dataset.label, getComputedStyle(m).backgroundColor])"
    )
    seen = {(word, label) for word, label, _ in marks}
    assert {("Alma", "PER"), ("Borel", "PER"), ("Quenby", "LOC"), ("Hollin", "ORG")} <= seen
    assert status == f"{len(marks)} entities"
    colours = {label: colour for _, label, colour in marks}
    assert colours["PER"] != colours["LOC"] != colours["ORG"]
    visible = browser.evaluate("document.getElementById('result').innerText")
    assert visible.replace("PER", "").replace("LOC", "").replace("ORG", "").replace("MISC", "") == text
    rows = browser.evaluate("document.querySelectorAll('#entities tbody tr').length")
    assert rows == len(marks) and browser.evaluate("!document.getElementById('entities').hidden")


def test_a_wrong_key_shows_the_error(server, browser):
    browser.open(server)
    browser.wait_for(LOADED)
    browser.type_into("#key", "wrong")
    browser.type_into("#text", "Alma")
    browser.click("#run")
    message = browser.wait_for(
        "(() => { const s = document.getElementById('status');"
        " return s.className === 'error' ? s.textContent : ''; })()"
    )
    assert message.startswith("401") and "API key" in message
