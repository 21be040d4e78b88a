"""The Arena's evaluation picker and the Judge's Arena leaderboard in Portuguese (issue 14):
the picker, built once in English, is filled on page load in the reader's language, and the
Judge's leaderboard table has the reader's headers and decimals. English readers read the English
of before. Real SQLite, the scripted fake backend and the tabs' own handlers, run as for a browser
sending Accept-Language."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import SimpleNamespace

import gradio as gr
import pytest
from gradio.context import LocalContext

from components.arena_tab import ArenaController, build_arena_tab
from components.judge_layout import empty_headers
from components.judge_tab import JudgeController, build_judge_tab
from components.widgets import StoppableRun
from playground.arena import report
from playground.arena.prompts import parse_typed
from playground.errors import InvalidInput
from playground.judge.rubric import EDITOR_HEADERS, criteria_from_rows
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.types import GenerationParams
from tests.service.arena_votes import PARAMS, voted_evaluation
from tests.service.readers import reader


def test_the_evaluation_picker_is_filled_on_page_load_in_the_readers_language(services):
    info = services.arena.create_evaluation("Oficina", parse_typed("Name a fruit."), [SMOLLM2_KEY, GEMMA3_KEY], PARAMS)
    with gr.Blocks():
        handle = build_arena_tab(services)
    load = next(event for event in handle.on_load if event.fn.__name__ == "load_page")
    with reader("pt-BR"):
        portuguese = load.fn()
    assert portuguese["choices"] == [(f"Oficina · código {info.join_code}", info.id)]
    assert "value" not in portuguese  # the pick the page holds is kept
    with reader("en-US"):
        assert load.fn()["choices"] == [(f"Oficina · code {info.join_code}", info.id)]


def test_the_judges_arena_leaderboard_has_the_readers_headers_and_decimals(services):
    info = voted_evaluation(services)
    judge = JudgeController(services, StoppableRun(services.cancel_tokens))
    with reader("pt-BR"):
        _text, _figure, board = judge.agreement(None, "arena", info.id)
    assert board["headers"] == report.headers(report.LEADERBOARD_HEADER_KEYS, "pt-BR")
    assert board["headers"] != report.LEADERBOARD_HEADERS and len(board["data"]) == 2
    latency = report.LEADERBOARD_HEADER_KEYS.index("arena.head_latency")
    assert all("," in row[latency] and "." not in row[latency] for row in board["data"]), board["data"]
    with reader("en-US"):
        _text, _figure, english = judge.agreement(None, "arena", info.id)
    assert english["headers"] == report.LEADERBOARD_HEADERS
    assert all("." in row[latency] for row in english["data"]), english["data"]


def test_the_arena_controller_still_lists_evaluations_for_api_callers(services):
    info = services.arena.create_evaluation("Oficina", parse_typed("Name a fruit."), [SMOLLM2_KEY, GEMMA3_KEY], PARAMS)
    assert ArenaController(services).evaluation_choices()["choices"] == [(f"Oficina · code {info.join_code}", info.id)]


def test_the_rubric_editor_and_its_refusals_read_in_the_readers_language(services):
    judge = JudgeController(services, StoppableRun(services.cancel_tokens))
    rubric_id = services.judge.rubric_choices(None)[1]
    with reader("pt-BR"):
        _name, editor, _criteria = judge.load_rubric(rubric_id)
    assert editor["headers"][:3] == ["critério", "peso %", "descrição"] and editor["headers"][-1] == "exemplo para 3"
    with reader("en-US"):
        assert judge.load_rubric(rubric_id)[1]["headers"] == EDITOR_HEADERS
    rows = [row[:] for row in editor["data"]]
    rows[0][1] = 50  # the weights now add up to 90
    with pytest.raises(InvalidInput) as err:
        services.judge.save_rubric("Minha rubrica", criteria_from_rows(rows))
    assert str(err.value).startswith("The weights add up to 90%, not 100%.")
    assert err.value.message_in("pt-BR") == "Os pesos somam 90%, não 100%. Ajuste-os para que somem 100."


def test_the_empty_results_tables_get_the_readers_headers_on_page_load(services):
    with gr.Blocks():
        handle = build_judge_tab(services)
    load = next(event for event in handle.on_load if event.fn.__name__ == "empty_results")
    with reader("pt-BR"):
        summary, grid, items, verdicts = load.fn()
    assert grid["headers"][-1] == "uma coluna por modelo" and grid["data"] == []
    assert "modelo" in summary["headers"] and "correctness" in summary["headers"]  # criterion names are data
    with reader("en-US"):
        assert [table["headers"] for table in load.fn()] == empty_headers()
    assert empty_headers()[1][-1] == "one column per model"
