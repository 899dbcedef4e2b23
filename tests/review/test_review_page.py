"""The review page in a browser (Playwright driving Debian's chromium): one person reviewing with the
keyboard, the mouse, a team of four on PostgreSQL with an adjudicator, the pure span functions, and what
the page does when the server cannot be reached.

With NERD_SCREENSHOTS=DIR the page is photographed along the way (docs/review.md uses them).
"""

import json
import os
from pathlib import Path

import pytest

from nerd.review.app import create_review_app
from nerd.review.exporting import export_reviewed
from nerd.review.settings import ReviewSettings
from nerd.review.store import NewItem
from nerd.review.users import Role
from tests.review.factories import PASSWORD, made, with_users
from tests.servers import serving

SHOTS = os.environ.get("NERD_SCREENSHOTS")


def snap(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def one_person_items():
    items = [
        # The teacher split "New York Times" in two.
        NewItem(
            ("The", "New", "York", "Times", "said", "so", "."),
            "t.jsonl:1",
            teacher=[[1, 3, "LOC"], [3, 4, "ORG"]],
            model=[[1, 4, "ORG", 0.71]],
            disagreement=1.0,
        ),
        NewItem(("Ann", "left", "Oslo", "."), "t.jsonl:2", teacher=[[0, 1, "PER"], [2, 3, "LOC"]]),
    ]
    items += [
        NewItem((f"Name{n}", "visited", "Rome", "."), f"t.txt:{n}", teacher=[[0, 1, "PER"]])
        for n in range(18)
    ]
    return items


@pytest.fixture
def review(tmp_path):
    store = made(str(tmp_path / "review.db"), one_person_items())
    with serving(create_review_app(store, ReviewSettings(open_reviewer="ann"))) as url:
        yield store, url


# Waits go through Playwright's selectors, never a string of script: the page's Content-Security-Policy
# forbids eval, and the tests run under it (only the one that imports spans.js bypasses it).
def at(page, position):
    page.wait_for_selector(f"#item:not([hidden]) #where:text-matches('^#{position} ')")


def says(page, text):
    page.wait_for_selector(f"#status:has-text({json.dumps(text)})")


def test_a_person_reviews_twenty_sentences_with_the_keyboard(review, page, tmp_path):
    store, url = review
    page.goto(url)
    at(page, 1)
    assert page.text_content("#caption") == "your answer, starting from the teacher's"
    # The tokens where the teacher and the model differ are marked; an entity is one chip.
    assert page.locator("#teacher .differs-token").count() == 3
    assert page.locator("#sentence .chip").count() == 2
    snap(page, "review-split-entity")
    # 1: "New York Times" is one organisation: cursor to "New", select three tokens, 2 (ORG), accept.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("2")
    assert page.locator("#sentence .chip").count() == 1
    snap(page, "review-fixed")
    page.keyboard.press("Enter")
    at(page, 2)
    # Browser shortcuts are the browser's: Ctrl+C clears nothing, Ctrl+S skips nothing.
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+s")
    assert page.locator("#sentence .chip").count() == 2 and store.decisions(item_id=2) == []
    # 2: rejected, and the page says so.
    page.keyboard.press("x")
    at(page, 3)
    assert page.text_content("#status").startswith("Rejected: #2")
    # 3: accepted as suggested, then undone and decided again with Rome as LOC too.
    page.keyboard.press("Enter")
    at(page, 4)
    page.keyboard.press("u")
    at(page, 3)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    for position in range(4, 21):
        at(page, position)
        page.keyboard.press("Enter")
    page.wait_for_selector("#done:not([hidden])")
    assert page.text_content("#progress").startswith("20 done / 20")  # 19 accepted, 1 rejected
    snap(page, "review-done")

    counts = export_reviewed(store, jsonl=tmp_path / "gold.jsonl")
    assert (counts.exported, counts.rejected, counts.undecided) == (19, 1, 0)
    records = [json.loads(line) for line in (tmp_path / "gold.jsonl").read_text().splitlines()]
    by_tokens = {" ".join(r["tokens"]): r["tags"] for r in records}
    assert by_tokens["The New York Times said so ."] == ["O", "B-ORG", "I-ORG", "I-ORG", "O", "O", "O"]
    assert "Ann left Oslo ." not in by_tokens
    assert by_tokens["Name0 visited Rome ."] == ["B-PER", "O", "B-LOC", "O"]
    assert all(by_tokens[f"Name{n} visited Rome ."] == ["B-PER", "O", "O", "O"] for n in range(1, 18))
    assert len([d for d in store.decisions(item_id=3) if d.action == "undo"]) == 1


def test_after_a_reload_undo_and_the_history_still_work(review, page):
    store, url = review
    page.goto(url)
    at(page, 1)
    page.keyboard.press("Enter")
    at(page, 2)
    page.reload()
    at(page, 2)  # the sentence leased to this person comes back
    page.keyboard.press("u")
    at(page, 1)
    assert store.current(1, "ann") is None
    page.keyboard.press("x")
    at(page, 2)
    page.click("#history summary")
    page.wait_for_selector("#history-list .history-entry")
    page.fill("#history-search", "York")
    page.wait_for_selector("#history-list li:only-child .history-entry")
    page.click("#history-list .history-entry")
    at(page, 1)
    page.keyboard.press("Enter")
    says(page, "Accepted: #1")
    assert store.current(1, "ann").action == "accept"


def test_the_mouse_selects_labels_and_removes_an_entity(review, page):
    store, url = review
    page.goto(url)
    at(page, 1)
    page.locator("#sentence .chip").first.locator(".remove").click()
    assert page.locator("#sentence .chip").count() == 1
    tokens = page.locator("#sentence .tok")
    tokens.nth(1).hover()
    page.mouse.down()
    tokens.nth(3).hover()
    page.mouse.up()
    page.click("#labels button:has-text('ORG')")
    page.click("#accept")
    at(page, 2)
    assert store.current(1, "ann").spans == [[1, 4, "ORG"]]


def test_a_decision_the_server_did_not_confirm_is_said_and_sent_again_once(review, page):
    store, url = review
    page.goto(url)
    at(page, 1)
    page.route("**/api/items/1/decisions", lambda route: route.abort())
    page.keyboard.press("Enter")
    says(page, "NOT confirmed")
    assert page.is_visible("#retry")
    page.unroute("**/api/items/1/decisions")
    page.click("#retry")
    at(page, 2)
    assert len(store.decisions(item_id=1)) == 1


def test_the_span_functions_of_the_page(review, chromium):
    _, url = review
    context = chromium.new_context(bypass_csp=True)  # page.evaluate is an eval
    page = context.new_page()
    page.goto(url)
    at(page, 1)
    result = page.evaluate(
        """async () => {
        const s = await import('/static/spans.js');
        return {
          applied: s.applyLabel(
            [{start: 0, end: 2, label: 'LOC'}, {start: 3, end: 4, label: 'PER'}], 1, 2, 'ORG'),
          removed: s.removeAt([{start: 0, end: 2, label: 'LOC'}], 1),
          differ: [...s.differingTokens(
            [{start: 0, end: 2, label: 'LOC'}], [{start: 0, end: 1, label: 'LOC'}], 3)],
          runs: s.runs([{start: 1, end: 3, label: 'X'}], 4).map((r) => [r.start, r.end, !!r.span]),
          colours: new Set(Array.from({length: 20}, (_, i) => s.labelColour(i))).size,
          keys: [s.labelKey(0), s.labelKey(8), s.labelKey(9)],
        };
      }"""
    )
    assert result["applied"] == [
        {"start": 1, "end": 3, "label": "ORG"},
        {"start": 3, "end": 4, "label": "PER"},
    ]
    assert result["removed"] == [] and result["differ"] == [1]
    assert result["runs"] == [[0, 1, False], [1, 3, True], [3, 4, False]]
    assert result["colours"] == 20 and result["keys"] == ["1", "9", None]
    context.close()


def test_a_right_to_left_override_in_one_token_stays_in_that_token(tmp_path, page):
    store = made(str(tmp_path / "r.db"), [NewItem(("\u202eabc", "def", "ghi"), "rtl.txt:1")])
    with serving(create_review_app(store, ReviewSettings())) as url:
        page.goto(url)
        at(page, 1)
        tokens = page.locator("#sentence .tok")
        # The later tokens are laid out left to right, in order: the override did not reach them.
        xs = [tokens.nth(i).bounding_box()["x"] for i in range(3)]
        assert xs[0] < xs[1] < xs[2]


def log_in(context, url, name):
    page = context.new_page()
    page.goto(url)
    page.wait_for_url("**/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#who:not(:empty)")
    return page


def shown(page):
    """The position shown, or None when the page says nothing is left."""
    page.wait_for_selector("#done:not([hidden]), #item:not([hidden]) #where:text-matches('^#')")
    if page.is_visible("#done"):
        return None
    return int(page.text_content("#where").split()[0][1:])


def test_four_reviewers_and_an_adjudicator_on_postgresql(postgres, chromium, tmp_path):
    items = [
        NewItem((f"Name{n}", "met", "Kim", "."), f"t.txt:{n + 1}", teacher=[[0, 1, "PER"]]) for n in range(24)
    ]
    store = with_users(made(postgres, items, overlap_every=3), "anna", "ben", "cleo", "dan")
    with_users(store, "zoë", role=Role.adjudicator)
    with serving(create_review_app(store, ReviewSettings())) as url:
        contexts = [chromium.new_context() for _ in range(5)]
        # Anyone without a session is sent to the login page.
        anonymous = contexts[4].new_page()
        anonymous.goto(url)
        assert anonymous.url.endswith("/login")
        pages = {
            name: log_in(context, url, name)
            for name, context in zip(["anna", "ben", "cleo", "dan"], contexts, strict=False)
        }
        snap(pages["anna"], "review-team-header")
        done: dict[str, list[int]] = {name: [] for name in pages}
        current = {name: shown(page) for name, page in pages.items()}
        # Round robin: all four hold a sentence at once, each decides theirs, then the next.
        while any(position is not None for position in current.values()):
            for name, page in pages.items():
                position = current[name]
                if position is None:
                    continue
                done[name].append(position)
                page.keyboard.press("x" if name == "dan" else "Enter")
                page.wait_for_selector(
                    f"#done:not([hidden]), #item:not([hidden]) #where:not(:text-matches('^#{position} '))"
                )
                current[name] = shown(page)
        by_position: dict[int, list[str]] = {}
        for name, positions in done.items():
            for position in positions:
                by_position.setdefault(position, []).append(name)
        overlap = {item.position for item in store.items() if item.overlap}
        assert sorted(by_position) == list(range(1, 25))
        for position, names in by_position.items():
            assert len(set(names)) == len(names) == (2 if position in overlap else 1), (position, names)

        # The adjudicator settles every conflict (dan rejected, another accepted) with the accepting version.
        conflicts = {p for p in overlap if "dan" in by_position[p]}
        zoe = log_in(contexts[4], url, "zoë")
        zoe.click("#conflicts summary")
        snap(zoe, "review-conflicts")
        for _ in conflicts:
            first = zoe.wait_for_selector("#conflict-list .conflict")
            item = first.get_attribute("data-item")
            takes = zoe.locator(f"#conflict-list .conflict[data-item='{item}'] .take")
            takes.filter(has_not_text="dan's").click()
            zoe.wait_for_selector("#caption:has-text('the settlement, starting from the version you took')")
            zoe.keyboard.press("Enter")
            # Settled once the list, redrawn, no longer holds it.
            zoe.wait_for_selector(f"#conflict-list .conflict[data-item='{item}']", state="detached")
        zoe.wait_for_selector("#conflicts-count:text-is('0')")
        for context in contexts:
            context.close()
    counts = export_reviewed(store, conll=tmp_path / "team-gold.conll")
    accepted = {p for p, names in by_position.items() if "dan" not in names} | conflicts
    assert counts.exported == len(accepted) and counts.settled == len(conflicts) and counts.conflicts == 0
    assert counts.rejected == 24 - len(accepted)
