from pathlib import Path

import pytest

from playground.cancellation import CancelTokens
from playground.formatting import format_bytes, format_cost, format_usage
from playground.models.types import Usage
from playground.settings import Settings


def test_cost_never_shows_zero_for_unknown():
    assert format_cost(None) == "cost unknown"
    assert format_cost(0.0123) == "$0.0123"
    assert format_cost(0.000123) == "$0.000123"


def test_format_usage_mentions_every_figure():
    text = format_usage(
        Usage(prompt_tokens=12, completion_tokens=30, ttft_s=0.25, total_s=1.25, finish_reason="length")
    )
    for part in (
        "first token 0.25 s",
        "total 1.25 s",
        "29.0 tokens/s",
        "12 prompt + 30 completion tokens",
        "cost unknown",
        "max tokens",
    ):
        assert part in text


def test_format_usage_marks_counted_tokens_and_unknown_prompt():
    text = format_usage(Usage(prompt_tokens=None, completion_tokens=4, ttft_s=0.1, total_s=0.4, tokens_estimated=True))
    assert "? prompt + 4 completion tokens (counted by Playground)" in text


def test_format_bytes():
    assert format_bytes(None) == "—"
    assert format_bytes(98_000_000) == "98.0 MB"
    assert format_bytes(2_500_000_000) == "2.5 GB"


def test_settings_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PLAYGROUND_MEMORY_BUDGET_MB", "123")
    settings = Settings.from_env()
    assert settings.home == (tmp_path / "home").resolve()
    assert settings.database_url == f"sqlite:///{settings.home / 'playground.db'}"
    assert settings.memory_budget_mb == 123
    assert Settings.from_env(tmp_path / "other").home == (tmp_path / "other").resolve()


def test_settings_rejects_non_numeric_budget(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MEMORY_BUDGET_MB", "lots")
    with pytest.raises(ValueError, match="PLAYGROUND_MEMORY_BUDGET_MB"):
        Settings.from_env(Path("/tmp/x"))


def test_cancel_tokens():
    tokens = CancelTokens()
    token = tokens.new()
    event = tokens.event(token)
    assert not event.is_set()
    assert tokens.cancel(token) and event.is_set()
    tokens.release(token)
    assert not tokens.cancel(token)
    assert not tokens.cancel(None)


def test_tokens_named_by_callers_are_capped_too(monkeypatch):
    import playground.cancellation as cancellation

    monkeypatch.setattr(cancellation, "MAX_TOKENS", 3)
    tokens = CancelTokens()
    for n in range(10):  # an API caller inventing a token per call
        tokens.event(f"made-up-{n}")
    assert len(tokens._events) == 3 and tokens.cancel("made-up-9") and not tokens.cancel("made-up-0")


def test_csv_cells_keep_unknown_empty_and_neutralise_formulas():
    from playground.formatting import csv_cell

    assert csv_cell(None) == ""
    assert csv_cell(0.0000012) == "1.2e-06"
    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert csv_cell("-1 is bad") == "'-1 is bad" and csv_cell("fine") == "fine"
    assert csv_cell({"a": 1}) == '{"a": 1}' and csv_cell(True) == "true" and csv_cell(3) == 3


def test_figures_take_the_readers_decimal_separator():
    assert format_bytes(98_000_000, "pt-BR") == "98,0 MB" and format_bytes(1_500_000, "pt-BR") == "1,5 MB"
    assert format_bytes(640, "pt-BR") == "640 B" and format_bytes(None, "pt-BR") == "—"
    assert format_bytes(1_500_000) == "1.5 MB"  # English, as before
    assert format_cost(0.0123, "pt-BR") == "US$ 0,0123" and format_cost(0.000123, "pt-BR") == "US$ 0,000123"
    assert format_cost(0, "pt-BR") == "US$ 0" and format_cost(0) == "$0"
    usage = Usage(prompt_tokens=12, completion_tokens=30, ttft_s=0.25, total_s=1.25, cost_usd=0.0123)
    portuguese = format_usage(usage, "pt-BR")
    for part in ("primeiro token em 0,25 s", "total 1,25 s", "29,0 tokens/s", "US$ 0,0123"):
        assert part in portuguese, portuguese
    assert "0.25" not in portuguese and "total 1.25 s · 29.0 tokens/s" in format_usage(usage)
