"""A JSON Lines file's wrong line is named in the reader's language; the English is as before."""

from __future__ import annotations

import pytest

from playground.arena.exchange import read_records
from playground.arena.prompts import parse_jsonl
from playground.errors import InvalidInput
from playground.jsonl import json_objects


def refusal(lines: str, name: object, after: object = "") -> InvalidInput:
    with pytest.raises(InvalidInput) as err:
        list(json_objects(lines, name, '{"a": 1}', after))  # type: ignore[arg-type]
    return err.value


def test_a_line_that_is_not_json_names_its_number_in_either_language():
    err = refusal('{"a": 1}\n{oops\n', "notes.jsonl")
    assert str(err).startswith("Line 2 of notes.jsonl is not valid JSON (Expecting property name enclosed")
    assert str(err).endswith('Each line must be one object like {"a": 1}.')
    portuguese = err.message_in("pt-BR")
    assert portuguese.startswith("notes.jsonl, linha 2: não é um JSON válido (")
    assert portuguese.endswith('Cada linha deve ser um objeto como {"a": 1}.')


def test_a_line_that_is_not_an_object_says_what_it_is():
    assert str(refusal("[1, 2]\n", "x.jsonl")) == 'Line 1 of x.jsonl is a list, not an object like {"a": 1}.'
    assert refusal("[1, 2]\n", "x.jsonl").message_in("pt-BR") == (
        'x.jsonl, linha 1: contém uma lista, não um objeto como {"a": 1}.'
    )
    assert "contém um número" in refusal("3\n", "x.jsonl").message_in("pt-BR")
    assert str(refusal("true\n", "x.jsonl")).startswith("Line 1 of x.jsonl is a true/false value, not an object")
    assert str(refusal("[1]\n", "x.jsonl", " Nothing was saved.")).endswith('like {"a": 1}. Nothing was saved.')


def test_the_arena_files_are_named_in_the_readers_language(tmp_path):
    votes = tmp_path / "votes.jsonl"
    votes.write_text('{"model_a": "x", "model_b": "y", "winner": "model_a"}\nnot json\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        read_records(votes)
    assert str(err.value).startswith("Line 2 of the vote file is not valid JSON")
    assert err.value.message_in("pt-BR").startswith("Arquivo de votos, linha 2: não é um JSON válido")
    with pytest.raises(InvalidInput) as err:
        parse_jsonl("[1]\n")
    assert str(err.value).startswith("Line 1 of the JSONL file is a list")
    assert err.value.message_in("pt-BR").startswith("Arquivo JSONL, linha 1: contém uma lista")
