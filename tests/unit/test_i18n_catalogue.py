"""Every UI text exists in every language, with the same placeholders; every key the code
uses exists; the catalogue's language negotiation and fallbacks."""

import json
import re
from pathlib import Path

import pytest

from playground.errors import InvalidInput
from playground.i18n import Catalogue, Text, catalogue, placeholders, t

ROOT = Path(__file__).resolve().parents[2]
KEY_USE = re.compile(r"""\b(?:L|t|text)\(\s*["']([a-z][a-z0-9_]*\.[a-z0-9_.]+)["']""")


def keys_used_in_code() -> dict[str, str]:
    used = {}
    for folder in ("components", "playground"):
        for path in (ROOT / folder).rglob("*.py"):
            for key in KEY_USE.findall(path.read_text(encoding="utf-8")):
                used.setdefault(key, str(path.relative_to(ROOT)))
    return used


def test_every_language_has_every_key_and_no_other():
    languages = catalogue().languages
    assert {"en", "pt-BR"} <= set(languages)
    english = set(languages["en"])
    for language, texts in languages.items():
        assert set(texts) - english == set(), f"{language} has keys English lacks"
        assert english - set(texts) == set(), f"{language} lacks these keys"


def test_placeholders_agree_across_languages():
    english = catalogue().english
    for language, texts in catalogue().languages.items():
        for key, text in texts.items():
            assert placeholders(text) == placeholders(english[key]), (language, key)


def test_no_text_is_empty_and_every_file_is_a_flat_map():
    for path in sorted((ROOT / "playground" / "locales").rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict), path
        for key, value in data.items():
            assert isinstance(value, str) and value.strip(), (path.name, key)


def test_every_key_the_code_uses_is_in_the_catalogue():
    missing = {key: where for key, where in keys_used_in_code().items() if not catalogue().has(key)}
    assert missing == {}


def test_a_missing_key_fails_where_it_is_written():
    with pytest.raises(KeyError, match="no.such_key"):
        t("no.such_key")


def test_the_browser_language_is_negotiated_and_the_switch_wins():
    c = catalogue()
    assert c.negotiate("pt-BR,pt;q=0.9,en;q=0.8") == "pt-BR"
    assert c.negotiate("pt-PT") == "pt-BR"  # the nearest Portuguese the app has
    assert c.negotiate("de-DE,en;q=0.5") == "en"
    assert c.negotiate("de-DE,pt;q=0.5") == "pt-BR"  # German is not spoken here; Portuguese is
    assert c.negotiate("en-US,pt;q=0.9") == "en"
    assert c.negotiate(None) == "en" and c.negotiate("garbage;;;,q=") == "en"
    assert c.negotiate("en-US", chosen="pt-BR") == "pt-BR"
    assert c.negotiate("pt-BR", chosen="auto") == "pt-BR"
    assert c.negotiate("pt-BR", chosen="<script>") == "pt-BR"  # a forged cookie is ignored


def test_a_refusal_reads_english_in_logs_and_the_readers_language_in_the_ui():
    err = InvalidInput(t("errors.unexpected", kind="ValueError"))
    assert str(err).startswith("Something went wrong on our side (ValueError)")
    assert err.message_in("pt-BR").startswith("Algo deu errado do nosso lado (ValueError)")
    assert InvalidInput("plain text").message_in("pt-BR") == "plain text"


def test_a_text_inside_a_text_is_rendered_in_the_same_language():
    inner = Text("app.tab_compare")
    assert (
        Text("errors.unexpected", {"kind": inner})
        .render("pt-BR")
        .startswith("Algo deu errado do nosso lado (Comparar)")
    )


def test_a_third_language_is_one_file(tmp_path):
    for name in ("en", "es"):
        (tmp_path / f"{name}.json").write_text(json.dumps({"app.title": "Playground", "_comment": "x"}))
    assert set(Catalogue(tmp_path).languages) == {"en", "es"}
    assert Catalogue(tmp_path).negotiate("es-MX") == "es"


def test_numbers_are_written_with_each_languages_separators(tmp_path):
    (tmp_path / "en.json").write_text(
        json.dumps(
            {
                "format.decimal_separator": ".",
                "format.thousands_separator": ",",
                "x.took": "{seconds:.1f} s for {count:,} rows ({name}, run {run})",
            }
        )
    )
    (tmp_path / "pt-BR.json").write_text(
        json.dumps(
            {
                "format.decimal_separator": ",",
                "format.thousands_separator": ".",
                "x.took": "{seconds:.1f} s para {count:,} linhas ({name}, execução {run})",
            }
        )
    )
    texts = Catalogue(tmp_path)
    values = {"seconds": 2.5, "count": 12345, "name": "v1.2, final", "run": 7}
    assert texts.text("x.took", "en", **values) == "2.5 s for 12,345 rows (v1.2, final, run 7)"
    # A string value is left as it is: only numbers take the language's separators.
    assert texts.text("x.took", "pt-BR", **values) == "2,5 s para 12.345 linhas (v1.2, final, execução 7)"


def test_a_text_reads_like_the_english_string_it_replaced():
    refusal = t("errors.unexpected", kind="Compare")
    assert "Compare" in refusal and "Compare" in str(refusal)
