"""Walkthrough in headless Chromium at 1400 px, the layout items (issue 13, items 7 and 9): the
batch grid keeps every model's column in view with headers and answers that wrap between words;
Compare's answer boxes start at one height whatever note a column carries; nothing floats over
a chat message; "First rows" tables show the file's own headers, or no table before a file."""

import pytest

from tests.e2e.test_browser import SCREENSHOTS, open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]
TEMPLATE = "In a few words, what does this review of {{product}} complain about? {{review}}"
REVIEWS = (
    "product,review\n"
    "Kettle,It is loud and the lid broke.\n"
    'Toaster,"Burns one side of the bread every single morning, and the crumb tray sticks."\n'
)
ANSWER_TOKENS = "10"  # short answers: the layout, not the models, is under test here

# For each visible header: the column's box, and how many lines its text takes against how many
# words it has (a header split letter by letter takes more lines than it has words).
HEADER_BOXES = """selector => [...document.querySelectorAll(selector + ' thead th')]
  .filter(th => th.offsetParent !== null)
  .map(th => {
    const span = th.querySelector('span') || th;
    const range = document.createRange();
    range.selectNodeContents(span);
    const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
    const box = th.getBoundingClientRect();
    return {text: span.innerText.trim(), left: box.left, right: box.right, width: box.width,
            lines, words: span.innerText.trim().split(/\\s+/).length};
  })"""
VIEWPORT_OF = """selector => {
  const v = document.querySelector(selector + ' .virtual-table-viewport');
  const box = v.getBoundingClientRect();
  return {left: box.left, right: box.right, scrollWidth: v.scrollWidth, clientWidth: v.clientWidth};
}"""
# Cells whose text overflows its cell sideways (clipped instead of wrapped).
CLIPPED_CELLS = """selector => [...document.querySelectorAll(selector + ' [role=gridcell] span')]
  .filter(s => s.scrollWidth > s.clientWidth + 1).map(s => s.innerText)"""
# Top edge of each visible Compare column's chat box.
CHAT_TOPS = """() => [0, 1, 2, 3].map(i => document.querySelector('#compare-chat' + i))
  .filter(c => c && c.offsetParent !== null).map(c => c.getBoundingClientRect().top)"""
# Anything Gradio floats over a chat (its label, icon buttons) that covers a message.
COVERED_MESSAGES = """() => {
  const hits = [];
  const meets = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  document.querySelectorAll('[id^=compare-chat]').forEach(chat => {
    const floats = [...chat.querySelectorAll('[data-testid=block-label], .top-panel')]
      .filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect());
    chat.querySelectorAll('.message').forEach(m => {
      const box = m.getBoundingClientRect();
      if (floats.some(f => meets(f, box))) hits.push(chat.id + ': ' + m.innerText.slice(0, 40));
    });
  });
  return hits;
}"""


@pytest.fixture(scope="module")
def page(running_app):
    with open_page(running_app.url) as page:
        page.get_by_role("tab", name="Compare").wait_for(timeout=60_000)
        yield page


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"layout-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscreenshot: {path}")


def short_answers(page, columns: int) -> None:
    for index in range(columns):
        settings = page.locator(f"#col{index}-settings")
        settings.get_by_text("Settings").click()
        box = settings.get_by_label("number input for Max tokens")
        box.fill(ANSWER_TOKENS)
        box.press("Enter")
        settings.get_by_text("Settings").click()


def assert_answer_boxes_level(page, columns: int) -> None:
    tops = page.evaluate(CHAT_TOPS)
    assert len(tops) == columns, tops
    assert max(tops) - min(tops) < 1, f"the columns' answer boxes start at different heights: {tops}"


def test_compare_columns_start_their_answers_level_and_nothing_covers_a_message(page):
    page.get_by_role("tab", name="Compare").click()
    # Column 2 holds Gemma, a base model: its note is said, under the answer, not above it.
    page.locator("#compare-model-note1").get_by_text("Base model").wait_for(timeout=30_000)
    assert not page.locator("#compare-model-note0").inner_text().strip()
    note_top = page.locator("#compare-model-note1").bounding_box()["y"]
    assert note_top > page.locator("#compare-chat1").bounding_box()["y"]
    assert_answer_boxes_level(page, 2)
    short_answers(page, 2)
    page.locator("#compare-prompt textarea").fill("Name three fruits.")
    page.locator("#compare-send").click()
    for index in range(2):
        page.locator(f"#compare-figures{index}").get_by_text("tokens/s").wait_for(timeout=300_000)
    assert page.evaluate(COVERED_MESSAGES) == []
    assert_answer_boxes_level(page, 2)
    for _ in range(2):
        page.locator("#compare-add-column").click()
    page.locator("#compare-col3").wait_for(state="visible", timeout=30_000)
    page.locator("#compare-model-note3").get_by_text("Base model").wait_for(timeout=30_000)
    assert_answer_boxes_level(page, 4)  # four columns, two with the note
    shot(page, "compare-columns")


def test_batch_grid_keeps_four_models_in_view_at_1400px(page, tmp_path):
    page.get_by_role("tab", name="Compare").click()
    page.locator("#compare-col3").wait_for(state="visible", timeout=30_000)  # left by the test above
    short_answers(page, 4)
    page.locator("#compare-batch").get_by_text("Batch run over a table").click()
    # No file yet: no "First rows" table and no results grid, so no stand-in headers "1 2 3".
    page.locator("#batch-file").wait_for(timeout=20_000)
    assert not page.locator("#batch-preview").is_visible()
    assert not page.locator("#batch-grid").is_visible()
    page.locator("#compare-prompt textarea").fill(TEMPLATE)
    table = tmp_path / "reviews.csv"
    table.write_text(REVIEWS, encoding="utf-8")
    page.locator("#batch-file input[type=file]").set_input_files(str(table))
    page.locator("#batch-preview-info").get_by_text("= 8 answers").wait_for(timeout=60_000)
    page.locator("#batch-preview").wait_for(state="visible", timeout=20_000)
    assert [h["text"] for h in page.evaluate(HEADER_BOXES, "#batch-preview")] == ["product", "review"]

    page.locator("#batch-run").click()
    page.locator("#batch-progress").get_by_text("finished").wait_for(timeout=480_000)
    page.locator("#batch-grid").scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # the grid sizes its columns after it renders
    headers = page.evaluate(HEADER_BOXES, "#batch-grid")
    viewport = page.evaluate(VIEWPORT_OF, "#batch-grid")
    models = [h for h in headers if " · " in h["text"]]
    assert [h["text"][:4] for h in models] == ["1 · ", "2 · ", "3 · ", "4 · "], headers
    for header in headers:
        assert viewport["left"] - 1 <= header["left"] and header["right"] <= viewport["right"] + 1, (header, viewport)
        assert header["lines"] <= header["words"], f"header broken inside a word: {header}"
    assert viewport["scrollWidth"] <= viewport["clientWidth"] + 1, viewport  # no sideways scrolling
    assert min(h["width"] for h in models) >= 180, models  # at 1400 px, room to read an answer
    assert page.evaluate(CLIPPED_CELLS, "#batch-grid") == []  # answers wrap, none cut at the edge
    shot(page, "batch-grid")


def test_finetune_first_rows_show_the_files_headers(page):
    page.get_by_role("tab", name="Fine-tune").click()
    page.locator("#ft-data-demo").wait_for(timeout=30_000)
    assert not page.locator("#ft-data-first-rows").is_visible()  # no file: no table of stand-in headers
    page.locator("#ft-data-demo").click()
    first_rows = page.locator("#ft-data-first-rows")
    first_rows.wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(500)
    headers = page.evaluate(HEADER_BOXES, "#ft-data-first-rows")
    assert [h["text"] for h in headers] == ["instruction", "input", "output"]
    viewport = page.evaluate(VIEWPORT_OF, "#ft-data-first-rows")
    assert viewport["scrollWidth"] <= viewport["clientWidth"] + 1, viewport
    assert all(h["lines"] <= h["words"] for h in headers), headers
    shot(page, "finetune-first-rows")
