"""What the Ask and Evaluate panes write around a model's answer (source lines, citation tips,
the sweep chart) is in the reader's language; English reads as before."""

from __future__ import annotations

from playground.rag.answering import answer_markdown, sources_markdown
from playground.rag.charts import sweep_figure

SOURCES = [
    {
        "filename": "politica.md",
        "page_number": 2,
        "text": "A loja abre às 9h.",
        "score": 0.8123,
        "keyword_score": 0.5,
        "bm25": 3.25,
        "vector_score": 0.9,
        "heading": "Horário",
    }
]
GRID = [{"chunk_size": 500, "top_k": k, "precision": 0.5, "recall": 0.5, "ndcg": 0.5} for k in (1, 3)]


def test_the_sources_pane_speaks_the_readers_language_with_its_number_format():
    shown = sources_markdown(SOURCES, [1], "pt-BR")
    assert "**[1] politica.md, página 2** · **citada**" in shown
    assert "pontuação 0,812 · palavras-chave 0,500 (BM25 3,25) · vetor 0,900 · seção “Horário”" in shown
    english = sources_markdown(SOURCES, [1])
    assert "**[1] politica.md, page 2** · **cited**" in english
    assert "score 0.812 · keyword 0.500 (BM25 3.25) · vector 0.900 · section “Horário”" in english
    assert sources_markdown([], language="pt-BR") == "_Nenhuma fonte._"


def test_citation_tips_name_the_page_and_a_missing_source_in_the_readers_language():
    html = answer_markdown("Abre às 9h [1] [4].", SOURCES, "pt-BR")
    assert 'title="politica.md, página 2: A loja abre' in html
    assert 'title="Nenhuma fonte 4 foi dada ao modelo">[4?]' in html
    assert 'title="No source 4 was given to the model">[4?]' in answer_markdown("[4]", SOURCES)


def test_the_sweep_chart_is_labelled_in_the_readers_language():
    layout = sweep_figure(GRID, "chars", "pt-BR").to_dict()
    assert layout["layout"]["title"]["text"] == "Qualidade da busca por tamanho de trecho e top-k"
    assert layout["data"][0]["name"] == "500 caracteres"
    english = sweep_figure(GRID).to_dict()
    assert english["layout"]["title"]["text"] == "Retrieval quality by chunk size and top-k"
    assert english["data"][0]["name"] == "500 chars" and english["layout"]["legend"]["title"]["text"] == "chunk size"
