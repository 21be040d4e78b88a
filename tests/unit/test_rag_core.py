"""Pure parts of the Documents tab: metrics, chunking, citations, blending, parsing refusals."""

import math

import pytest

from playground.errors import InvalidInput
from playground.rag.answering import answer_markdown, parse_citations, rag_messages
from playground.rag.chunking import ChunkSettings, chunk_pages
from playground.rag.metrics import Expected, ndcg_at_k, precision_at_k, question_metrics, recall_at_k
from playground.rag.parsing import ParsedPage, parse_bytes
from playground.rag.retrieval import RetrievalSettings, blend, query_terms


def test_metrics_match_hand_computed_values():
    retrieved = [("a.pdf", 1), ("b.pdf", 2), ("a.pdf", 3), ("c.pdf", 1)]
    expected = [Expected("a.pdf")]
    # relevance 1,0,1,0; 5 chunks of a.pdf exist in the collection
    assert precision_at_k([1, 0, 1, 0], 4) == 0.5
    assert precision_at_k([1, 0, 1, 0], 1) == 1.0
    assert recall_at_k(retrieved, expected, 1) == 1.0
    assert recall_at_k(retrieved, [Expected("a.pdf"), Expected("c.pdf")], 3) == 0.5
    dcg = 1 / math.log2(2) + 1 / math.log2(4)  # hits at ranks 1 and 3
    ideal = sum(1 / math.log2(i + 2) for i in range(4))  # min(k=4, 5 relevant) hits first
    assert ndcg_at_k([1, 0, 1, 0], 4, 5) == pytest.approx(dcg / ideal)
    assert ndcg_at_k([0, 1], 2, 1) == pytest.approx((1 / math.log2(3)) / 1.0)
    metrics = question_metrics(retrieved, [Expected("A.PDF", 3)], 3, 1)  # file names match ignoring case
    assert metrics == {"precision": pytest.approx(1 / 3), "recall": 1.0, "ndcg": pytest.approx(0.5)}
    assert question_metrics(retrieved, [Expected("z.pdf")], 3, 0) == {"precision": 0.0, "recall": 0.0, "ndcg": 0.0}


def test_chunks_split_at_headings_and_keep_exact_offsets():
    text = "# Intro\n\nShort intro paragraph.\n\n# Pay\n\n" + "Wages are paid monthly. " * 30 + "\n\nOvertime is extra."
    pages = [ParsedPage(1, text), ParsedPage(2, "Second page text about holidays.")]
    chunks = chunk_pages(pages, ["Intro", "Pay"], ChunkSettings(200, 40, "chars"))
    assert chunks[0].heading == "Intro" and "Pay" not in chunks[0].text  # a heading starts a new chunk
    assert all(len(c.text) <= 200 for c in chunks)
    for c in chunks:
        assert pages[c.page_number - 1].text[c.start_char : c.end_char] == c.text
    assert chunks[-1].page_number == 2 and chunks[-1].heading == "Pay"  # the heading carries over pages
    pay = [c for c in chunks if c.heading == "Pay" and c.page_number == 1]
    assert len(pay) >= 3
    assert any(pay[i + 1].start_char < pay[i].end_char for i in range(len(pay) - 1))  # overlap
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_chunk_settings_are_checked():
    with pytest.raises(InvalidInput, match="Overlap"):
        ChunkSettings(100, 90, "chars").validated()
    with pytest.raises(InvalidInput, match="between"):
        ChunkSettings(10, 0, "chars").validated()


def test_citations_map_to_the_numbered_sources():
    sources = [
        {"filename": "a.pdf", "page_number": 2, "text": "Alpha text"},
        {"filename": "b.md", "page_number": 1, "text": "Beta text"},
    ]
    prompt = rag_messages("What?", sources)[1].content
    assert "[1] (a.pdf, page 2)\nAlpha text" in prompt and "[2] (b.md, page 1)\nBeta text" in prompt
    assert parse_citations("Alpha [1]. Beta [2][1]. Both [1, 2]. Bad [7].", 2) == ([1, 2], [7])
    html = answer_markdown("Fact [2] and [9].", sources)
    assert 'title="b.md, page 1: Beta text"' in html and "[9?]" in html


def test_blend_weights_keyword_and_vector_and_applies_threshold():
    vector = {1: 0.9, 2: 0.5, 3: 0.1}
    keyword = {2: 4.0, 3: 2.0}
    ranked = blend(vector, keyword, RetrievalSettings(top_k=3, keyword_weight=0.5, threshold=0.0))
    assert [r.chunk_id for r in ranked] == [2, 1, 3]
    assert ranked[0].score == pytest.approx(0.5 * 1.0 + 0.5 * 0.5)
    assert ranked[2].keyword_score == pytest.approx(0.5)
    only_vector = blend(vector, keyword, RetrievalSettings(top_k=2, keyword_weight=0.0, threshold=0.4))
    assert [r.chunk_id for r in only_vector] == [1, 2]
    assert query_terms("What is the refund policy for cakes?") == ["refund", "policy", "cakes"]


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.txt", b"", "empty"),
        ("binary.txt", b"\x00\x01\x02\x03PK\x00" * 50, "binary"),
        ("fake.docx", b"just some text, not a zip", "not a Word document"),
        (
            "scripts.html",
            b"<html><script>" + b"var x=1;" * 500 + b"</script><body><script>go()</script></body></html>",
            "no readable text",
        ),
        ("notes.xyz", b"hello", "not supported"),
        ("old.doc", b"hello", "old Word"),
        ("fake.pdf", b"hello this is not a pdf", "not a PDF"),
        ("broken.pdf", b"%PDF-1.4\n garbage garbage", "damaged"),
    ],
)
def test_bad_files_are_refused_plainly(name, data, message):
    with pytest.raises(InvalidInput, match=message):
        parse_bytes(name, data)


def test_zip_that_is_not_a_word_file_is_refused():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/cat.txt", "meow")
    with pytest.raises(InvalidInput, match="ZIP archive but not a Word document"):
        parse_bytes("report.docx", buffer.getvalue())


def test_non_utf8_text_is_decoded_and_flagged():
    text = "Crème brûlée et café: la pâtisserie française à côté de la gare. " * 5
    doc = parse_bytes("menu.txt", text.encode("cp1252"))
    assert "Crème brûlée" in doc.pages[0].text
    assert any("Not UTF-8" in w for w in doc.warnings)


def test_html_drops_scripts_and_finds_headings():
    html = b"<html><head><script>evil()</script><style>p{}</style></head><body><h1>Returns</h1><p>Refund within 14 days.</p><script>track()</script></body></html>"
    doc = parse_bytes("p.html", html)
    assert doc.headings == ["Returns"]
    assert "evil" not in doc.pages[0].text and "track" not in doc.pages[0].text
    assert "Refund within 14 days." in doc.pages[0].text


def test_password_protected_pdf_is_refused_plainly():
    import io

    from fpdf import FPDF
    from pypdf import PdfWriter

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, "Confidential salary table")
    writer = PdfWriter(clone_from=io.BytesIO(bytes(pdf.output())))
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(InvalidInput, match="password-protected"):
        parse_bytes("salaries.pdf", buffer.getvalue())
