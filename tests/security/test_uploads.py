"""Issue 12, uploads, tried as a hostile participant would. No upload may sink the server.

- A DOCX and an XLSX whose ZIP directory declares 10 GiB (files of a few KB), and packages
  of real zeros that deflate 1000 to 1: refused by Documents, Compare batch and Fine-tune
  datasets before any parser opens them, in little time and memory.
- A workbook whose sheet claims to be 1,048,576 rows by 16,384 columns, with a row at the
  bottom: only its real cells are read (not a million blank rows of 16,384 cells).
- Batch and dataset files with millions of rows: refused at the row limit, having read
  only the first few megabytes of the file.
- A PDF over the page cap, and one whose page tree claims a billion pages.
- An upload over ``PLAYGROUND_MAX_UPLOAD_MB`` sent to the real app over HTTP: 413 after the
  limit, nothing of it left on disk. (A 1 GB body is offered by a generator; the server
  stops reading after the limit, so the test never sends the gigabyte over loopback.)
- Nothing is lost: with the real app running a real ingest and a real fine-tune job, every
  refused upload above is sent; afterwards ``PRAGMA integrity_check`` is "ok" and both finish.

The fast tests use ``Services.create`` with the fake model backend; the slow ones start the
real launcher in a subprocess.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from playground.errors import InvalidInput
from playground.models.fake import fake_backends
from playground.rag.chunking import ChunkSettings
from playground.services import Services
from playground.settings import Settings
from tests.security.upload_files import (
    docx_bomb,
    docx_bytes,
    many_rows_csv,
    pdf_with_pages,
    sheet_xml,
    xlsx_bomb,
    xlsx_bytes,
    xlsx_with_sheet,
    zeros_bomb,
)

MB = 1024 * 1024
DATASET_LIMIT = 100


@dataclass
class Cost:
    cpu_seconds: float  # CPU time of this process: other work on a shared machine does not inflate it
    peak_bytes: int  # Python allocations, traced
    bytes_read: int  # read from files by this process (Linux /proc/self/io), or -1


def _bytes_read() -> int:
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def refused(action: Callable[[], Any]) -> tuple[str, Cost]:
    """The plain message ``action`` is refused with, and what refusing it cost."""
    tracemalloc.start()
    read_before, started = _bytes_read(), time.process_time()
    try:
        with pytest.raises(InvalidInput) as err:
            action()
    finally:
        cpu_seconds = time.process_time() - started
        read = _bytes_read() - read_before if read_before >= 0 else -1
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return str(err.value), Cost(cpu_seconds, peak, read)


@pytest.fixture
def services(tmp_path: Path):
    home = tmp_path / "home"
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'playground.db'}",
        rag_max_pdf_pages=5,
        finetune_row_limit=DATASET_LIMIT,
    )
    made = Services.create(settings, backends=fake_backends())
    yield made
    made.close()


def _ingest(services: Services, path: Path) -> tuple[str, str]:
    collection = services.documents.create_collection(f"c-{path.stem}", ChunkSettings(400, 40, "chars"))
    outcome = services.documents.ingest(collection.id, [str(path)])[0]
    assert services.documents.list_documents(collection.id) == []  # no half-ingested document
    return outcome.status, outcome.message


def _ingest_refused(services: Services, path: Path) -> None:
    status, message = _ingest(services, path)
    assert status == "failed"
    raise InvalidInput(message)


def _dataset_refused(services: Services, path: Path) -> None:
    try:
        services.finetune_datasets.import_dataset(path, "attempt")
    finally:
        assert services.finetune_datasets.list_datasets() == []  # nothing saved


def _assert_cheap(cost: Cost, cpu_seconds: float = 3.0, peak_mb: float = 20, read_mb: float = 8) -> None:
    """A refusal stays cheap: bounded reads and memory, and CPU time far below what parsing the
    whole of the hostile file would take (the bound is loose: it catches unbounded work, not speed)."""
    assert cost.cpu_seconds < cpu_seconds, cost
    assert cost.peak_bytes < peak_mb * MB, cost
    assert cost.bytes_read < read_mb * MB, cost


# ---- zip bombs -------------------------------------------------------------------------------


def test_a_ten_gib_docx_bomb_is_refused_by_documents(services, tmp_path):
    bomb = docx_bomb(tmp_path / "bomb.docx")
    assert bomb.stat().st_size < 50_000
    message, cost = refused(lambda: _ingest_refused(services, bomb))
    assert message.startswith("bomb.docx would unpack to 10.7 GB; the limit is 209.7 MB (PLAYGROUND_MAX_UNZIPPED_MB).")
    _assert_cheap(cost)
    preview = services.documents.preview(None, [str(bomb)])
    assert "would unpack to 10.7 GB" in preview[0]["notes"]


@pytest.mark.parametrize("reader", ["compare batch", "fine-tune dataset"])
def test_a_ten_gib_xlsx_bomb_is_refused_by_batch_and_dataset_readers(services, tmp_path, reader):
    bomb = xlsx_bomb(tmp_path / "bomb.xlsx")
    assert bomb.stat().st_size < 50_000
    action = (
        (lambda: services.batch.load(bomb)) if reader == "compare batch" else (lambda: _dataset_refused(services, bomb))
    )
    message, cost = refused(action)
    assert message.startswith("bomb.xlsx would unpack to 10.7 GB") and "zip bomb" in message
    _assert_cheap(cost)


def test_packages_of_real_zeros_are_refused_for_their_ratio(services, tmp_path):
    docx = tmp_path / "zeros.docx"
    docx.write_bytes(zeros_bomb(docx_bytes(), megabytes=16))
    message, cost = refused(lambda: _ingest_refused(services, docx))
    assert "compressed" in message and "to 1 inside" in message
    _assert_cheap(cost, peak_mb=40)  # the 16 KB upload itself is read; its 16 MB of zeros never are
    xlsx = tmp_path / "zeros.xlsx"
    xlsx.write_bytes(zeros_bomb(xlsx_bytes(), megabytes=16))
    message, cost = refused(lambda: services.batch.load(xlsx))
    assert "compressed" in message
    _assert_cheap(cost)


def test_a_lower_unzipped_limit_from_the_settings_refuses_an_ordinary_workbook(tmp_path):
    home = tmp_path / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'db.sqlite'}", max_unzipped_mb=0.001)
    services = Services.create(settings, backends=fake_backends())
    try:
        path = tmp_path / "ordinary.xlsx"
        path.write_bytes(xlsx_bytes())
        with pytest.raises(InvalidInput, match=r"would unpack to .* the limit is 1 KB"):
            services.batch.load(path)
    finally:
        services.close()


def test_a_sheet_that_claims_a_million_rows_by_16384_columns_reads_only_its_cells(services, tmp_path):
    """openpyxl fills the rows a sheet skips with blank rows as wide as its declared size: here
    a million rows of 16,384 cells each, from a file of a few KB, unless the size is ignored."""
    xml = sheet_xml(2, dimension="A1:XFD1048576", last_row=50_000)
    path = xlsx_with_sheet(tmp_path / "wide.xlsx", xml)
    assert path.stat().st_size < 20_000
    started = time.process_time()
    table = services.batch.load(path)
    assert time.process_time() - started < 5.0
    assert table.columns == ["instruction", "output"]
    assert [r["instruction"] for r in table.rows] == ["q2", "q3", "last"]


def test_a_row_number_in_the_billions_ends_the_sheet_after_a_blank_run(services, tmp_path):
    path = xlsx_with_sheet(tmp_path / "far.xlsx", sheet_xml(2, last_row=10**12))
    started = time.process_time()
    table = services.batch.load(path)
    assert time.process_time() - started < 5.0
    assert [r["instruction"] for r in table.rows] == ["q2", "q3"]
    assert any("Stopped reading at row 100,003" in note for note in table.notes)


def test_styled_empty_rows_as_wide_as_excel_allows_cost_little(services, tmp_path):
    tail = "".join(f'<row r="{i}" s="1" customFormat="1"><c r="XFD{i}" s="1"/></row>' for i in range(4, 400_000))
    path = xlsx_with_sheet(tmp_path / "styled.xlsx", sheet_xml(2, dimension="A1:XFD400000", tail=tail))
    message, cost = refused(lambda: _raise_after(lambda: services.batch.load(path)))
    assert message == "read 2 rows"
    _assert_cheap(cost, cpu_seconds=15, peak_mb=100)  # openpyxl keeps each styled row's attributes while it parses
    wide = xlsx_with_sheet(
        tmp_path / "wider.xlsx", sheet_xml(2, tail='<row r="4"><c r="ALM4" t="inlineStr"><is><t>x</t></is></c></row>')
    )
    with pytest.raises(InvalidInput, match="Row 4 of wider.xlsx has values beyond column 1000"):
        services.batch.load(wide)


def _raise_after(action: Callable[[], Any]) -> None:
    table = action()
    raise InvalidInput(f"read {table.row_count} rows")


# ---- row limits --------------------------------------------------------------------------------


def test_a_three_million_row_batch_file_is_refused_after_reading_a_few_megabytes(services, tmp_path):
    path = many_rows_csv(tmp_path / "huge.csv", 3_000_000)
    assert path.stat().st_size > 40 * MB
    message, cost = refused(lambda: services.batch.load(path))
    assert message == (
        "This file has more than 5000 rows; the limit is 500 (PLAYGROUND_BATCH_ROW_LIMIT). Nothing was run."
    )
    _assert_cheap(cost, read_mb=4)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".xlsx"])
def test_a_dataset_file_far_over_the_row_limit_is_refused_without_reading_it_all(services, tmp_path, suffix):
    path = tmp_path / f"huge{suffix}"
    if suffix == ".csv":
        many_rows_csv(path, 3_000_000)
    elif suffix == ".jsonl":
        path.write_bytes(b'{"instruction": "Say hi", "output": "Hi!"}\n' * 1_000_000)
    else:
        # Excel always writes the sheet's <dimension>; without one openpyxl parses the whole
        # sheet once when it opens it (bounded by PLAYGROUND_MAX_UNZIPPED_MB).
        xlsx_with_sheet(path, sheet_xml(200_000, dimension="A1:B200001"))
    message, cost = refused(lambda: _dataset_refused(services, path))
    assert message.startswith(
        f"This file has more than {DATASET_LIMIT * 10} rows; the limit is {DATASET_LIMIT} (PLAYGROUND_FINETUNE_ROW_LIMIT)."
    )
    assert message.endswith("Nothing was saved.")
    _assert_cheap(cost, read_mb=4)


def test_a_file_just_over_the_limit_still_says_how_many_rows(services, tmp_path):
    path = many_rows_csv(tmp_path / "some.csv", DATASET_LIMIT + 7)
    message, _ = refused(lambda: _dataset_refused(services, path))
    assert message.startswith(f"This file has {DATASET_LIMIT + 7} rows; the limit is {DATASET_LIMIT} ")
    ok = many_rows_csv(tmp_path / "ok.csv", DATASET_LIMIT)
    assert services.finetune_datasets.inspect_file(ok).row_count == DATASET_LIMIT


# ---- PDF pages ---------------------------------------------------------------------------------


def test_a_pdf_over_the_page_cap_is_refused(services, tmp_path):
    over = pdf_with_pages(tmp_path / "long.pdf", 6)
    message, cost = refused(lambda: _ingest_refused(services, over))
    assert message == (
        "long.pdf has 6 pages; the limit is 5 (PLAYGROUND_RAG_MAX_PDF_PAGES). Split the PDF into smaller parts, or raise the limit."
    )
    _assert_cheap(cost)
    status, message = _ingest(services, pdf_with_pages(tmp_path / "five.pdf", 5))
    assert status == "failed" and "no extractable text" in message  # past the cap: its pages were read


def test_a_pdf_that_claims_a_billion_pages_is_refused_before_its_page_tree_is_walked(services, tmp_path):
    liar = pdf_with_pages(tmp_path / "liar.pdf", 1, declared=1_000_000_000)
    message, cost = refused(lambda: _ingest_refused(services, liar))
    assert message.startswith("liar.pdf has 1,000,000,000 pages; the limit is 5")
    _assert_cheap(cost)


# ---- the real app: request size, and nothing lost -------------------------------------------------
SMOL = "embedded/smollm2-135m-instruct"
# name, preset, r, alpha, dropout, target, epochs, learning rate, batch, accumulation, max length, eval every, 4-bit
JOB_FORM = ["lost nothing", "Quick test", 8, 8, 0.05, "all_linear", 1.0, 3e-3, 4, 1, 128, 5, False]
BOUNDARY = "playground-test-boundary"


def _multipart(size: int, chunk: int = MB):
    """A one-file multipart body of ``size`` bytes of zeros, made as it is sent (never in memory)."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="huge.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    block = b"\0" * chunk
    for _ in range(size // chunk):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _upload(url: str, size: int):
    import httpx

    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    return httpx.post(f"{url}gradio_api/upload", content=_multipart(size), headers=headers, timeout=120)


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _files_over(folder: Path, size: int) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.stat().st_size > size]


@pytest.fixture
def small_upload_app(tmp_path):
    from tests.e2e.app_process import start_app

    uploads = tmp_path / "gradio-uploads"
    app = start_app(tmp_path / "home", env={"PLAYGROUND_MAX_UPLOAD_MB": "2", "GRADIO_TEMP_DIR": str(uploads)})
    yield app, uploads
    app.stop()


@pytest.mark.slow
def test_an_upload_over_the_request_limit_is_refused_by_the_real_app(small_upload_app, tmp_path):
    import httpx
    from gradio_client import Client, handle_file

    app, uploads = small_upload_app
    assert httpx.get(f"{app.url}config").json()["max_file_size"] == 2 * MB  # the browser checks it before sending
    refused_5mb = _upload(app.url, 5 * MB)
    assert refused_5mb.status_code == 413
    assert refused_5mb.text == f"File size exceeded maximum allowed size of {2 * MB} bytes."
    rss_before = _peak_rss(app.process.pid)
    started = time.perf_counter()
    refused_1gb = _upload(app.url, 1024 * MB)  # streamed from a generator: cheap on loopback
    assert refused_1gb.status_code == 413 and time.perf_counter() - started < 60
    assert _peak_rss(app.process.pid) - rss_before < 100 * MB  # the gigabyte went nowhere
    assert _upload(app.url, MB).status_code == 200  # under the limit is fine
    assert _files_over(uploads, MB) == [] and _files_over(app.data_dir, 2 * MB) == []  # nothing of them landed
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * (MB * 3 // 5))
    with pytest.raises(
        ValueError, match=f"exceeds the maximum file size of {2 * MB} bytes"
    ):  # gradio_client checks too
        Client(app.url, verbose=False).predict(None, [handle_file(str(big))], api_name="/rag_preview")
    assert app.process.poll() is None and "Traceback" not in app.log_tail(20_000)


def _handbook(path: Path, paragraphs: int) -> Path:
    """A long Markdown document (varied sentences, so every chunk is its own)."""
    lines = ["# The bakery handbook", ""]
    for i in range(paragraphs):
        if i % 40 == 0:
            lines += [f"## Section {i // 40 + 1}", ""]
        lines += [f"Rule {i}: the loaf of type {i * 7 % 101} rests {i % 13 + 2} minutes at {150 + i % 90} degrees.", ""]
    path.write_text("\n".join(lines))
    return path


def _wait(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _query(db: Path, sql: str, *args: Any) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(db, timeout=30) as connection:
        return connection.execute(sql, args).fetchall()


@pytest.fixture
def busy_app(tmp_path):
    from tests.e2e.app_process import start_app
    from tests.integration.models_fixtures import TEST_CACHE

    home = tmp_path / "home"
    (home / "cache").mkdir(parents=True)
    TEST_CACHE.joinpath("converted").mkdir(parents=True, exist_ok=True)
    (home / "cache" / "converted").symlink_to(TEST_CACHE / "converted")  # reuse the converted SmolLM2
    env = {
        "PLAYGROUND_MAX_UPLOAD_MB": "5",
        "PLAYGROUND_RAG_MAX_PDF_PAGES": "5",
        "PLAYGROUND_FINETUNE_ROW_LIMIT": str(DATASET_LIMIT),
        "PLAYGROUND_RAG_EMBED_BATCH": "16",  # a longer ingest, so the refusals surely overlap it
        "GRADIO_TEMP_DIR": str(tmp_path / "gradio-uploads"),
    }
    app = start_app(home, env=env)
    yield app
    app.stop()


def _dataset_form(path: Path, name: str) -> tuple:
    """The Fine-tune tab's "check and save" inputs: file, name, format, five roles (detected),
    base model, prompt format, max length."""
    from gradio_client import handle_file

    return (handle_file(str(path)), name, "alpaca", "", "", "", "", "", SMOL, "alpaca", 128)


def _send_refused_uploads(client, app, cid: int, files: dict[str, Path]) -> list[str]:
    """Every refused upload of this module, through the app's API and raw HTTP; their messages."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    messages = []
    preview = client.predict(
        cid, [handle_file(str(files["docx"])), handle_file(str(files["pdf"]))], api_name="/rag_preview"
    )
    messages += [row[-1] for row in preview["data"]]
    for path, api in [
        (files["xlsx"], "/batch_preview"),
        (files["csv"], "/batch_preview"),
        (files["xlsx"], "/ft_data_inspect"),
        (files["csv"], "/ft_data_inspect"),
    ]:
        args = (handle_file(str(path)), "{{review}}", 1) if api == "/batch_preview" else (handle_file(str(path)),)
        with pytest.raises(AppError) as err:
            client.predict(*args, api_name=api)
        messages.append(str(err.value))
    with pytest.raises(AppError) as err:
        client.predict(*_dataset_form(files["xlsx"], "bomb"), api_name="/ft_data_check")
    messages.append(str(err.value))
    messages.append(_upload(app.url, 64 * MB).text)
    return messages


@pytest.mark.slow
def test_refused_uploads_lose_nothing_while_an_ingest_and_a_fine_tune_run(busy_app, tmp_path):
    """The issue's "nothing is lost": every refusal above, sent while the real app indexes a long
    document and trains a real (tiny) fine-tune job in its worker; both finish, the database is whole."""
    from gradio_client import Client, handle_file

    app, db = busy_app, busy_app.data_dir / "playground.db"
    client = Client(app.url, verbose=False)
    picker, _ = client.predict("Handbook", 400, 40, "chars", "all-MiniLM-L6-v2", 256, api_name="/rag_create")
    cid = picker["value"]
    data = tmp_path / "zorp.csv"
    data.write_text("instruction,output\n" + "".join(f"Tell me fact {i}.,ZORP! fact {i}. ZORP!\n" for i in range(20)))
    *_, saved = client.predict(*_dataset_form(data, "zorp"), api_name="/ft_data_check")
    job_id = client.predict(saved["value"], SMOL, "alpaca", *JOB_FORM, api_name="/ft_start")[0]["value"]
    handbook = _handbook(tmp_path / "handbook.md", 4000)
    ingest = client.submit(cid, [handle_file(str(handbook))], "skip", "", api_name="/rag_upload")
    _wait(lambda: _query(db, "SELECT 1 FROM rag_documents WHERE status = 'indexing'"), 120, "the ingest to start")
    _wait(
        lambda: _query(db, "SELECT 1 FROM finetune_jobs WHERE id = ? AND status = 'running'", job_id), 300, "training"
    )

    files = {
        "docx": docx_bomb(tmp_path / "bomb.docx"),
        "pdf": pdf_with_pages(tmp_path / "long.pdf", 6),
        "xlsx": xlsx_bomb(tmp_path / "bomb.xlsx"),
        "csv": many_rows_csv(tmp_path / "huge.csv", 300_000),  # 4 MB: under the request limit
    }
    messages = _send_refused_uploads(client, app, cid, files)
    queued = client.submit(
        cid, [handle_file(str(files["docx"])), handle_file(str(files["pdf"]))], "skip", "", api_name="/rag_upload"
    )
    assert not ingest.done(), "the refusals should have overlapped the ingest; make the handbook longer"
    assert _query(db, "SELECT status FROM finetune_jobs WHERE id = ?", job_id) == [("running",)]
    expected = [
        "would unpack to 10.7 GB",
        "has 6 pages; the limit is 5",
        "would unpack to 10.7 GB",
        "more than 5000 rows",
        "would unpack to 10.7 GB",
        f"more than {DATASET_LIMIT * 10} rows",
        "would unpack to 10.7 GB",
        f"maximum allowed size of {5 * MB} bytes",
    ]
    assert len(messages) == len(expected) and all(e in m for e, m in zip(expected, messages)), messages

    result, table, _ = ingest.result(timeout=600)
    assert "✅" in result and "handbook.md" in result, result
    refused_result, _, _ = queued.result(timeout=120)
    assert "❌ **bomb.docx**" in refused_result and "❌ **long.pdf**" in refused_result, refused_result

    def finished():
        status = client.predict(job_id, api_name="/ft_job_view")[1]
        return status if ("— done" in status or "— failed" in status) else None

    assert "— done" in _wait(finished, 900, "the fine-tune job")
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
    assert _query(db, "SELECT filename, status FROM rag_documents") == [("handbook.md", "ready")]
    ((chunks,),) = _query(db, "SELECT chunk_count FROM rag_documents")
    assert chunks >= 500 and _query(db, "SELECT count(*) FROM rag_chunks") == [(chunks,)]
    assert _query(db, "SELECT name FROM finetune_datasets") == [("zorp",)]
    assert _query(db, "SELECT status FROM finetune_jobs") == [("done",)]
    left = [p.name for p in app.data_dir.rglob("*") if p.stem in {"bomb", "long", "huge"}]
    assert left == []  # no copy of a refused upload in the data folder
    assert "Traceback" not in app.log_tail(200_000)
