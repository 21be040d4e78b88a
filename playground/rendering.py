"""Text that a model, a document or another participant wrote, made inert for showing as Markdown.

Gradio's Markdown and Chatbot render Markdown and then sanitise the HTML, but their sanitiser
keeps ``<img src=...>`` (and so does a Markdown image): every viewer's browser would fetch an
image URL that a prompt-injected document made a model write. Gradio also runs its own pattern
matching on the raw text before Markdown (``$$`` maths, ```` ```mermaid ```` diagrams whose labels
may hold HTML), so escaping after the fact would not be enough. These functions therefore write
text that holds nothing active, whatever context the Markdown parser puts it in:

- no raw ``<`` (HTML, autolinks and comments are shown as text);
- no image: ``![alt](url)`` becomes a plain link, and any other ``![`` (reference images) loses its ``!``;
- no backtick and no ``$$`` from the text itself: code spans and fenced code blocks are written as
  ``<code>``/``<pre>`` HTML whose special characters are HTML entities, so nothing inside them can
  be read as Markdown, HTML, maths or a diagram, and a fence left open cannot swallow what follows;
- headings are at most level 4, so a passage starting with ``# Expenses`` does not shout.

Lists, emphasis, tables, block quotes and links stay, so a model's answer still reads well.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Characters written as HTML entities: in a <pre> block (an HTML block: only HTML and Gradio's own
# pre-pass over the raw text, for $$ maths, can act there), in a <code> span (its content is still
# read as inline Markdown) and in literal text (shown exactly as typed, wherever it is put).
_PRE = re.compile(r"[&<`$]|!(?=\[)")
_SPAN = re.compile(r"[&<>`$!*_~\[\]\\|]")
_LITERAL = _SPAN
_ATTRIBUTE = re.compile(r"[&<>\"'`$!*_~\[\]\\|]")
_LINE_START = re.compile(r"^(?:[#>+\-=]|\d{1,9}(?=[.)]))")
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_TOKENS = re.compile(r"\\[!-/:-@\[-`{-~]|`+|[^\\`]+|\\")
# Each part stops where another image could start ("[", "<", "("), so a line of "![![![..."
# is not scanned to its end from every "![" (quadratic time).
_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\(\s*(<[^<>\n]*>|[^\s()]*)(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\)")
_HEADING = re.compile(r"^((?:\s*(?:>|[-+*](?=\s)|\d{1,9}[.)](?=\s)))*\s*)#{1,3}(?=[ \t]|$)")
_SETEXT_EQUALS = re.compile(r"^(\s*(?:>\s*)*)=(=*\s*)$")
_SETEXT_DASHES = re.compile(r"^ {0,3}-+[ \t]*$")
_BANG = re.compile(r"\\?!(?=\[)")


def entities(text: str, pattern: re.Pattern[str] = _LITERAL) -> str:
    """The characters ``pattern`` matches as numeric HTML entities: shown as themselves, read as nothing."""
    return pattern.sub(lambda m: f"&#{ord(m.group())};", text)


def _literal_line(line: str) -> str:
    # A leading "#", ">", "-", "+", "=" or "1." would make the line a heading, quote, list or rule.
    line = entities(line)
    start = _LINE_START.match(line)
    if start is None:
        return line
    if start.group().isdigit():
        end = start.end()
        return line[:end] + f"&#{ord(line[end])};" + line[end + 1 :]
    return f"&#{ord(line[0])};" + line[1:]


def inert_inline(text: object) -> str:
    """A short text (a name, a label, an error) shown exactly as written, on one line, inside
    Markdown the app wrote (bold, a table cell, a heading)."""
    return _literal_line(" ".join(str(text if text is not None else "").split()))


def inert_attribute(text: object) -> str:
    """Text for a double-quoted HTML attribute the app writes into Markdown (a tooltip), one line."""
    return entities(" ".join(str(text if text is not None else "").split()), _ATTRIBUTE)


def inert_code_block(text: object) -> str:
    """Text shown as written in a code block (whitespace kept), e.g. a saved prompt or answer."""
    return _code_block(_normalise(str(text or "")).split("\n"))


def inert_quote(text: object) -> str:
    """A document passage shown as written, as a block quote with its line breaks: no line of it
    becomes a heading, a list, a rule or code."""
    lines = []
    for line in _normalise(str(text or "")).strip("\n").split("\n"):
        body = line.lstrip(" \t")
        indent = line[: len(line) - len(body)].replace("\t", "    ")
        lines.append("&nbsp;" * len(indent) + _literal_line(body.rstrip()))
    return "> " + "  \n> ".join(lines)


def inert_markdown(text: object) -> str:
    """Model or document text as Markdown that keeps its structure (lists, emphasis, tables,
    code) but can load nothing and run nothing when Gradio shows it."""
    parts: list[str] = []
    for is_code, lines in _blocks(_normalise(str(text or "")).split("\n")):
        parts.append(_code_block(lines) if is_code else _text_block(lines))
    return "\n\n".join(p for p in parts if p)


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")


# ---- block level ----------------------------------------------------------------------------
def _blocks(lines: list[str]) -> Iterator[tuple[bool, list[str]]]:
    """(is code, lines) runs: fenced code blocks (content only, fence lines dropped) and the text between."""
    text: list[str] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None or (opening.group(2)[0] == "`" and "`" in opening.group(3)):
            text.append(lines[index])
            index += 1
            continue
        if text:
            yield False, text
            text = []
        indent, fence = len(opening.group(1)), opening.group(2)
        closing = re.compile(rf" *{re.escape(fence[0])}{{{len(fence)},}}[ \t]*")
        end = next((j for j in range(index + 1, len(lines)) if closing.fullmatch(lines[j])), len(lines))
        yield True, [_dedent(line, indent) for line in lines[index + 1 : end]]
        index = end + 1
    if text:
        yield False, text


def _dedent(line: str, indent: int) -> str:
    body = line.lstrip(" ")
    return line[min(indent, len(line) - len(body)) :]


def _code_block(lines: list[str]) -> str:
    # Raw HTML, not a Markdown fence: its content is entities, so no context can make it active,
    # and a fence the text left open cannot swallow what follows.
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return "<pre><code>" + entities("\n".join(lines), _PRE) + "</code></pre>"


def _text_block(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if _SETEXT_DASHES.match(line) and out and out[-1].strip():
            out.append("")  # "Expenses\n---" would be a level-2 heading; a blank line makes it a rule
        line = _HEADING.sub(r"\1####", line)
        line = _SETEXT_EQUALS.sub(r"\1&#61;\2", line)
        out.append(_inline(line))
    return "\n".join(out).strip("\n")


# ---- inline level ---------------------------------------------------------------------------
def _inline(line: str) -> str:
    tokens = [m.group() for m in _TOKENS.finditer(line)]
    out: list[str] = []
    plain: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith("`"):
            close = next((j for j in range(index + 1, len(tokens)) if tokens[j] == token), None)
            if close is not None:
                out.append(_plain(plain))
                plain = []
                out.append(_code_span("".join(tokens[index + 1 : close])))
                index = close + 1
                continue
            plain.append("&#96;" * len(token))
        else:
            plain.append(token)
        index += 1
    out.append(_plain(plain))
    return _BANG.sub("&#33;", "".join(out))


def _plain(pieces: list[str]) -> str:
    text = _IMAGE.sub(_image_link, "".join(pieces))
    text = re.sub(r"\\?<", "&lt;", text)
    text = re.sub(r"\\?`", "&#96;", text)
    return text.replace("$$", "&#36;&#36;")


def _code_span(code: str) -> str:
    if code.startswith(" ") and code.endswith(" ") and code.strip():
        code = code[1:-1]
    return "<code>" + entities(code, _SPAN) + "</code>"


def _image_link(match: re.Match[str]) -> str:
    alt = match.group(1).strip()
    url = match.group(2).strip("<>").replace(" ", "%20")
    label = f"image: {alt}" if alt else "image"
    return f"[{label}]({url})" if url else label
