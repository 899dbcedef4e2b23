"""The page at / in headless Chromium (Playwright): paste text, click, see the entities highlighted."""

import pytest

from tests.servers import serving


@pytest.fixture
def server(bundle, tmp_path):
    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings

    keys = tmp_path / "keys"
    keys.write_text("page-key\n")
    with serving(create_app(ServiceSettings(_env_file=None, model_dir=bundle, api_key_file=keys))) as url:
        yield f"{url}/"


def loaded(page):
    # The page has asked the service for its model (the answer shows in #model).
    page.wait_for_function("!document.getElementById('model').textContent.startsWith('loading')")


def test_a_person_pastes_text_and_sees_the_entities(server, page):
    page.goto(server)
    loaded(page)
    assert page.text_content("#model") == "model: 401"
    page.fill("#key", "page-key")
    page.dispatch_event("#key", "change")
    page.wait_for_function("document.getElementById('model').textContent.startsWith('model ')")
    text = "Alma met Borel in Quenby 🙂 with Hollin today"
    page.fill("#text", text)
    page.click("#run")
    page.wait_for_function("document.getElementById('status').textContent.endsWith('entities')")
    marks = page.eval_on_selector_all(
        "#result mark",
        "ms => ms.map(m => [m.firstChild.textContent, m.dataset.label, getComputedStyle(m).backgroundColor])",
    )
    seen = {(word, label) for word, label, _ in marks}
    assert {("Alma", "PER"), ("Borel", "PER"), ("Quenby", "LOC"), ("Hollin", "ORG")} <= seen
    assert page.text_content("#status") == f"{len(marks)} entities"
    colours = {label: colour for _, label, colour in marks}
    assert colours["PER"] != colours["LOC"] != colours["ORG"]
    visible = page.inner_text("#result")
    assert visible.replace("PER", "").replace("LOC", "").replace("ORG", "").replace("MISC", "") == text
    assert page.locator("#entities tbody tr").count() == len(marks) and page.is_visible("#entities")


def test_a_wrong_key_shows_the_error(server, page):
    page.goto(server)
    loaded(page)
    page.fill("#key", "wrong")
    page.fill("#text", "Alma")
    page.click("#run")
    page.wait_for_function("document.getElementById('status').className === 'error'")
    message = page.text_content("#status")
    assert message.startswith("401") and "API key" in message
