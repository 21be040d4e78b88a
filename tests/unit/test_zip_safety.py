"""The ZIP check every DOCX/XLSX reader runs first, on packages built in memory."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest

from playground.errors import InvalidInput
from playground.zip_safety import WORD_DOCUMENT, ArchiveLimits, archive_refusal, check_archive
from tests.security.upload_files import TEN_GIB, declared_bomb, docx_bytes, rezip, xlsx_bytes, zeros_bomb

LIMITS = ArchiveLimits()


def infos(data: bytes) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.infolist()


def test_real_documents_and_workbooks_pass():
    for data in (docx_bytes(), xlsx_bytes()):
        assert archive_refusal(infos(data), "real", "Word document", LIMITS) is None
        check_archive(io.BytesIO(data), "real", "Word document", LIMITS)


def test_a_declared_ten_gib_entry_is_refused_from_the_directory_alone():
    bomb = declared_bomb(docx_bytes(), "word/document.xml")
    assert len(bomb) < 50_000 and sum(i.file_size for i in infos(bomb)) > TEN_GIB
    with pytest.raises(InvalidInput) as err:
        check_archive(io.BytesIO(bomb), "bomb.docx", "Word document", LIMITS)
    message = str(err.value)
    assert message.startswith("bomb.docx would unpack to 10.7 GB; the limit is 209.7 MB (PLAYGROUND_MAX_UNZIPPED_MB).")
    assert "zip bomb" in message and "nothing was read" in message


def test_an_entry_of_zeros_is_refused_for_its_ratio_under_the_size_limit():
    bomb = zeros_bomb(docx_bytes(), megabytes=8)
    assert sum(i.file_size for i in infos(bomb)) < LIMITS.max_total_bytes
    message = archive_refusal(infos(bomb), "zeros.docx", "Word document", LIMITS)
    assert "compressed" in message and "word/media/zeros.bin" in message and "at most 100 to 1" in message


def test_a_refusal_reads_in_the_readers_language_with_its_decimals():
    bomb = declared_bomb(docx_bytes(), "word/document.xml")
    with pytest.raises(InvalidInput) as err:
        check_archive(io.BytesIO(bomb), "bomb.docx", WORD_DOCUMENT, LIMITS)
    portuguese = err.value.message_in("pt-BR")
    assert portuguese.startswith("bomb.docx se descompactaria em 10,7 GB; o limite é 209,7 MB")
    assert "(documento do Word)" in portuguese and "zip bomb" in portuguese and "Word document" not in portuguese
    assert str(err.value).startswith("bomb.docx would unpack to 10.7 GB")  # logs and API callers: English
    crowded = rezip([(f"xl/{i}.xml", b"x") for i in range(1001)])
    refusal = archive_refusal(infos(crowded), "c.xlsx", "Excel workbook", LIMITS)  # the English name, as a plain str
    assert refusal is not None and "(planilha do Excel)" in refusal.render("pt-BR")
    assert str(refusal).startswith("c.xlsx holds 1001 files inside it; an ordinary Excel workbook has far fewer")
    zeros = archive_refusal(infos(zeros_bomb(docx_bytes(), megabytes=8)), "z.docx", WORD_DOCUMENT, LIMITS)
    assert zeros is not None and "real Word documents shrink far less" in str(zeros)
    assert "no máximo 100 para 1" in zeros.render("pt-BR")


def test_small_entries_may_shrink_a_lot_but_not_past_the_grace_size():
    tiny = rezip([("a.xml", b"<r/>" * 20_000)])  # 80 KB of one tag: far over 100:1, but small
    assert archive_refusal(infos(tiny), "tiny.xlsx", "Excel workbook", LIMITS) is None


def test_too_many_entries_and_a_lower_limit():
    crowded = rezip([(f"xl/{i}.xml", b"x") for i in range(1001)])
    assert "holds 1001 files" in archive_refusal(infos(crowded), "c.xlsx", "Excel workbook", LIMITS)
    small = ArchiveLimits(max_total_bytes=1000)
    assert "would unpack to" in archive_refusal(infos(xlsx_bytes()), "w.xlsx", "Excel workbook", small)


def test_settings_give_the_limit_and_a_non_zip_passes_to_its_reader():
    class Settings:
        max_unzipped_mb = 1.5

    assert ArchiveLimits.from_settings(Settings()).max_total_bytes == int(1.5 * 1024 * 1024)
    assert ArchiveLimits.from_settings(object()) == ArchiveLimits()
    source = io.BytesIO(b"not a zip at all")
    check_archive(source, "x.docx", "Word document", LIMITS)
    assert source.tell() == 0  # rewound for the reader that opens it next


def test_zipfile_never_inflates_an_entry_past_its_declared_size():
    """Why checking the directory is enough: a directory that understates an entry's size
    cannot make Python's zipfile (which python-docx and openpyxl read through) inflate more."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as out:
            out.write(b"\0" * (4 << 20))  # 4 MB really deflated here...
        info.file_size, info.CRC = 1000, zlib.crc32(b"\0" * 1000)  # ...but 1000 bytes declared
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        assert archive.read("word/document.xml") == b"\0" * 1000  # cut at the declared size
    liar = rezip([("word/document.xml", b"\0" * (4 << 20))], {"word/document.xml": 1000})
    with zipfile.ZipFile(io.BytesIO(liar)) as archive, pytest.raises(zipfile.BadZipFile, match="CRC"):
        archive.read("word/document.xml")  # and with the real CRC, the cut is an error
