"""Reading a score or a verdict out of a judge's reply — strictly.

Small judges answer in many shapes ("Score: 2", "**Score:** 2/3", "2", {"score": 2},
"The score is 3."), so those are all read. But a reply that names two different scores, a
score off the 0–3 scale (7, 2/5), a fraction (2.5), a list of choices copied from the
prompt ("0, 1, 2 or 3") or no score at all is refused: the caller retries once and then
records it as unparsed. A refused reply is never turned into 0.

Every language's prompt asks for the same English labels ("Reason:", "Score:", "Winner: A, B or
tie"), so this one parser reads them all; a judge that writes the labels in Portuguese anyway
("Nota: 2 de 3", "Vencedor: resposta B", "empate") is read too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

SCALE_MAX = 3

_MARKUP = re.compile(r"[*_`#]+")
# A number: a sign, digits, and a decimal part only when a digit follows the point ("3." ends a sentence).
_NUMBER = r"(?P<num>[-+]?\d+(?:[.,]\d+)?)"
_OUT_OF = r"(?:\s*(?:/|out\s+of|of|de)\s*(?P<den>\d+))?"
# What may follow a score without making it a list of choices (", 1", " or 2", "-3") or
# arithmetic the judge copied from the answer ("Score: 2+2 equals 4").
_NOT_A_LIST = r"(?!\s*(?:,|or\b|ou\b|-|–|to\b|a\b|até\b|\+|\*|×|x\b)\s*\d)"
_KEYWORD = r"\b(?:(?:final\s+)?(?:score|rating|grade)|nota(?:\s+final)?|pontua[çc][ãa]o)\b"
_LABELLED_SCORE = re.compile(
    _KEYWORD
    + r"(?:\s*\([^)\n]*\))?(?:\s+(?:is|of|would\s+be|é|seria|=))?\s*[:=]?\s*(?:\(\s*)?"
    + _NUMBER
    + _OUT_OF
    + _NOT_A_LIST,
    re.IGNORECASE,
)
# "Score: 0, 1, 2 or 3" / "Score: <0-3>": the choices copied from the prompt, not a choice.
_SCORE_LIST = re.compile(_KEYWORD + r"\s*[:=]?\s*[<\[(]?\s*\d\s*(?:,|or\b|ou\b|-|–|to\b|a\b|até\b)\s*\d", re.IGNORECASE)
_BARE_SCORE = re.compile(r"^\s*" + _NUMBER + _OUT_OF + r"\s*[.!]?\s*$", re.IGNORECASE)
_REASON = re.compile(
    r"\b(?:reason|reasoning|explanation|justification|raz[ãa]o|motivo|justificativa|explica[çc][ãa]o)\s*[:=]\s*(?P<text>.+)",
    re.IGNORECASE,
)
_JSON_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)

_SIDES = {
    "a": "a",
    "b": "b",
    "tie": "tie",
    "equal": "tie",
    "both": "tie",
    "neither": "tie",
    "draw": "tie",
    "same": "tie",
    "empate": "tie",
    "ambas": "tie",
    "nenhuma": "tie",
}
# A capital A or B anywhere; a lowercase one only at the end of its line ("winner: a"), so
# "the better answer is a long one" is not read as a verdict.
_SIDE = (
    r"(?:answer\s+|(?:a\s+)?resposta\s+)?"
    r"(?P<side>(?-i:A|B)|[ab](?=[ \t]*[.!)]?[ \t]*(?:\n|$))|tie|equal|both|neither|draw|empate|ambas|nenhuma)\b"
)
_LABELLED_VERDICT = re.compile(
    r"\b(?:winner|verdict|better\s+answer|choice|preferred|vencedora?|veredito|melhor\s+resposta|escolha)"
    r"\s*(?:is|é)?\s*[:=]?\s*" + _SIDE,
    re.IGNORECASE,
)
_SENTENCE_VERDICTS = (
    re.compile(r"\banswer\s+(?P<side>[ab])\s+is\s+(?:the\s+)?(?:better|best)\b", re.IGNORECASE),
    re.compile(r"\bresposta\s+(?P<side>[ab])\s+é\s+(?:a\s+)?melhor\b", re.IGNORECASE),
)
_BARE_VERDICT = re.compile(r"^\s*" + _SIDE + r"\s*[.!]?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Parsed:
    """A score (0–3) or a verdict ("a", "b", "tie"), or ``value=None`` with the reason it was refused."""

    value: int | str | None
    reason: str = ""
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.value is not None


def _clean(reply: str) -> str:
    return _MARKUP.sub("", reply or "").replace("\r", "")


def _reason(text: str, skip: re.Pattern) -> str:
    match = _REASON.search(text)
    if match:
        line = match.group("text").split("\n")[0]
        line = re.split(r"\b(?:score|winner|verdict|nota|vencedora?)\s*[:=]", line, flags=re.IGNORECASE)[0]
        return line.strip()[:500]
    for line in text.split("\n"):
        line = line.strip()
        if line and not skip.search(line) and not _BARE_SCORE.match(line) and not _BARE_VERDICT.match(line):
            return line[:500]
    return ""


def _json_field(text: str, names: tuple[str, ...]) -> tuple[list[object], str]:
    values, reason = [], ""
    for block in _JSON_OBJECT.findall(text):
        try:
            data = json.loads(block)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        lowered = {str(k).lower(): v for k, v in data.items()}
        values += [lowered[n] for n in names if n in lowered]
        reason = reason or str(lowered.get("reason") or lowered.get("reasoning") or lowered.get("motivo") or "")
    return values, reason


def _score_value(number: str, denominator: str | None) -> tuple[int | None, str]:
    if denominator is not None and int(denominator) != SCALE_MAX:
        return None, f"the score {number}/{denominator} is on another scale than 0–{SCALE_MAX}"
    if re.search(r"[.,]", number):
        return None, f"the score {number} is not a whole number"
    value = int(number)
    if not 0 <= value <= SCALE_MAX:
        return None, f"the score {value} is outside 0–{SCALE_MAX}"
    return value, ""


def _collect(result: tuple[int | None, str], values: list, problems: list[str]) -> None:
    value, problem = result
    if value is None:
        problems.append(problem)
    else:
        values.append(value)


def _end_lines(text: str) -> list[str]:
    """The first and the last non-empty line: where a bare score or winner may stand alone."""
    lines = [line for line in text.strip().split("\n") if line.strip()]
    return list(dict.fromkeys([lines[0], lines[-1]])) if lines else []


def _decide(values: list, problems: list[str], reason: str, what: str) -> Parsed:
    if problems:
        return Parsed(None, reason, problems[0])
    distinct = list(dict.fromkeys(values))
    if not distinct:
        return Parsed(None, reason, f"no {what} found")
    if len(distinct) > 1:
        return Parsed(None, reason, f"two different {what}s ({', '.join(map(str, distinct))})")
    return Parsed(distinct[0], reason)


def parse_score(reply: str) -> Parsed:
    """The 0–3 score in a judge's reply, or why there is none."""
    text = _clean(reply)
    json_values, json_reason = _json_field(reply or "", ("score", "rating", "grade", "nota"))
    values: list[int] = []
    problems: list[str] = []
    for raw in json_values:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            problems.append(f"the score {raw!r} is not a number")
            continue
        _collect(_score_value(str(raw).strip(), None), values, problems)
    if not json_values:
        for match in _LABELLED_SCORE.finditer(text):
            _collect(_score_value(match.group("num"), match.group("den")), values, problems)
        if not values and _SCORE_LIST.search(text):
            problems.append("the reply lists several scores instead of choosing one")
        if not values and not problems:
            for line in _end_lines(text):
                bare = _BARE_SCORE.match(line)
                if bare:
                    _collect(_score_value(bare.group("num"), bare.group("den")), values, problems)
    reason = json_reason or _reason(text, _LABELLED_SCORE)
    return _decide(values, problems, reason, "score")


def parse_verdict(reply: str) -> Parsed:
    """ "a", "b" or "tie" from a pairwise judge's reply, or why there is none."""
    text = _clean(reply)
    json_values, json_reason = _json_field(reply or "", ("winner", "verdict", "better", "vencedor"))
    values: list[str] = []
    problems: list[str] = []
    for raw in json_values:
        side = _SIDES.get(re.sub(r"^(?:answer|resposta)\s+", "", str(raw).strip().lower()))
        if side is None:
            problems.append(f"the winner {raw!r} is not A, B or tie")
        else:
            values.append(side)
    if not json_values:
        values += [_SIDES[m.group("side").lower()] for m in _LABELLED_VERDICT.finditer(text)]
        values += [_SIDES[m.group("side").lower()] for pattern in _SENTENCE_VERDICTS for m in pattern.finditer(text)]
        if not values:
            for line in _end_lines(text):
                match = _BARE_VERDICT.match(line)
                if match:
                    values.append(_SIDES[match.group("side").lower()])
    reason = json_reason or _reason(text, _LABELLED_VERDICT)
    return _decide(values, problems, reason, "winner")
