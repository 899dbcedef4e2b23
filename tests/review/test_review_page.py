"""A person reviews in the page, keyboard only (Playwright driving Debian's chromium): 20 sentences,
a split entity fixed, one rejected, one undone and decided again; the export is what they did.

With NERD_SCREENSHOTS=DIR the page is photographed along the way (docs/review.md uses them).
"""

import json
import os
from pathlib import Path

import pytest

from nerd.review.app import create_review_app
from nerd.review.exporting import export_reviewed
from nerd.review.store import NewItem, ReviewStore
from tests.servers import serving

LABELS = ["PER", "ORG", "LOC", "MISC"]
SHOTS = os.environ.get("NERD_SCREENSHOTS")


def snap(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


@pytest.fixture
def review(tmp_path):
    store = ReviewStore(tmp_path / "review.db")
    store.create(LABELS)
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
    store.add_items(items)  # fmt: skip
    with serving(create_review_app(store, "given")) as url:
        yield store, url


def at(page, position):
    page.wait_for_function(f"document.getElementById('where').textContent.startsWith('#{position} ')")


def test_a_person_reviews_twenty_sentences_with_the_keyboard(review, page, tmp_path):
    store, url = review
    page.goto(f"{url}/?reviewer=ann")
    at(page, 1)
    snap(page, "review-split-entity")
    # 1: "New York Times" is one organisation: cursor to "New", select three tokens, 2 (ORG), accept.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("2")
    snap(page, "review-fixed")
    page.keyboard.press("Enter")
    at(page, 2)
    # 2: rejected.
    page.keyboard.press("x")
    at(page, 3)
    # 3: accepted as suggested, then undone and decided again with Rome as LOC too.
    page.keyboard.press("Enter")
    at(page, 4)
    page.keyboard.press("u")
    at(page, 3)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    # 4-20: as the teacher suggested.
    for position in range(4, 21):
        at(page, position)
        page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Nothing left')")
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
    undo = [d for d in store.decisions(item_id=3) if d.action == "undo"]
    assert len(undo) == 1  # the history keeps the undone decision and the undo


def test_the_mouse_selects_and_a_label_button_labels(review, page):
    store, url = review
    page.goto(f"{url}/?reviewer=bob")
    at(page, 1)
    tokens = page.locator("#sentence .tok")
    tokens.nth(1).hover()
    page.mouse.down()
    tokens.nth(3).hover()
    page.mouse.up()
    page.click("#labels button:has-text('ORG')")
    page.click("#accept")
    at(page, 2)
    assert store.current(1, "bob").spans == [[1, 4, "ORG"]]
