"""Real documents made at test time (fpdf2, python-docx) and a Documents service on real SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_DOCS = sorted((ROOT / "assets" / "demo_docs").glob("*"))


def make_pdf(path: Path, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Travel policy", level=1)
    document.add_paragraph("Employees book trains in standard class for journeys under four hours.")
    document.add_page_break()
    document.add_heading("Meals", level=2)
    document.add_paragraph("The daily meal allowance abroad is 45 euros, paid with the monthly salary.")
    document.save(str(path))
    return path


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    from playground.services import Services
    from playground.settings import Settings

    services = Services.create(Settings.from_env(tmp_path_factory.mktemp("rag") / "home"))
    yield services
    services.close()
