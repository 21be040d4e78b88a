"""Word-level difference between two answers, as HTML with the changed words marked."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from difflib import SequenceMatcher

TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Difference:
    left_html: str
    right_html: str
    similarity: float  # 0..1, share of matching words


def word_diff(left: str, right: str) -> Difference:
    a, b = TOKEN.findall(left or ""), TOKEN.findall(right or "")
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    out_a: list[str] = []
    out_b: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        chunk_a, chunk_b = html.escape("".join(a[i1:i2])), html.escape("".join(b[j1:j2]))
        if op == "equal":
            out_a.append(chunk_a)
            out_b.append(chunk_b)
            continue
        if chunk_a:
            out_a.append(f'<mark class="diff-removed">{chunk_a}</mark>')
        if chunk_b:
            out_b.append(f'<mark class="diff-added">{chunk_b}</mark>')
    return Difference("".join(out_a), "".join(out_b), matcher.ratio())
