"""Reading batch tables: every format, and a plain message for every bad file."""

import json
import zipfile

import pytest
from openpyxl import Workbook

from playground.compare.batch import demo_files
from playground.compare.batch_read import check_table, load_table, match_variables, read_table
from playground.compare.batch_view import format_duration, format_progress, grid_table
from playground.compare.templates import template_variables
from playground.errors import InvalidInput

REVIEWS = [
    {"product": "Kettle", "review": "Boils fast, a bit loud."},
    {"product": "Toaster", "review": "Burns one side, “meh”."},
]


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_csv_utf8_with_bom_quotes_and_blank_rows(tmp_path):
    text = '\ufeff product , review \n"Kettle","Boils fast, a bit loud."\n,\n\n"Toaster","Burns one side, “meh”."\n'
    assert read_table(write(tmp_path, "r.csv", text)) == REVIEWS


def test_extension_is_case_insensitive_and_filename_wins_over_the_path(tmp_path):
    path = write(tmp_path, "upload-1234", "product,review\nKettle,Boils\n")
    assert read_table(path, "Reviews.CSV") == [{"product": "Kettle", "review": "Boils"}]


def test_semicolon_csv_and_tsv(tmp_path):
    table = load_table(write(tmp_path, "r.csv", "product;review\nKettle;Boils, loudly\n"))
    assert table.rows == [{"product": "Kettle", "review": "Boils, loudly"}]
    assert any("separated by “;”" in n for n in table.notes)
    assert read_table(write(tmp_path, "r.tsv", "product\treview\nKettle\tBoils, loudly\n")) == table.rows


def test_windows_1252_file_is_read_and_the_encoding_is_said(tmp_path):
    path = write(tmp_path, "latin.csv", "product,review\nCafé crème,Très bon – 5 €\n".encode("cp1252"))
    table = load_table(path)
    assert table.rows == [{"product": "Café crème", "review": "Très bon – 5 €"}]
    assert any("Windows-1252" in note for note in table.notes)


def test_utf16_file_from_excel_unicode_text(tmp_path):
    path = write(tmp_path, "u16.tsv", "product\treview\nCafé\tGood\n".encode("utf-16"))
    assert read_table(path) == [{"product": "Café", "review": "Good"}]


def test_text_in_no_usable_encoding_is_refused(tmp_path):
    path = write(tmp_path, "bad.csv", b"product,review\nKettle,\x81\x8d\x90 odd bytes\n")
    with pytest.raises(InvalidInput, match=r"is not UTF-8 text.*save it as UTF-8"):
        read_table(path)


def test_binary_file_named_csv_is_refused(tmp_path):
    path = write(tmp_path, "photo.csv", bytes(range(256)) * 8)
    with pytest.raises(InvalidInput, match="binary data"):
        read_table(path)


def test_workbook_named_csv_is_explained(tmp_path):
    book = Workbook()
    book.active.append(["product", "review"])
    book.save(tmp_path / "book.xlsx")
    path = write(tmp_path, "book.csv", (tmp_path / "book.xlsx").read_bytes())
    with pytest.raises(InvalidInput, match="name it .xlsx"):
        read_table(path)


def test_xlsx_first_sheet_numbers_and_blank_rows(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "Reviews"
    sheet.append([" product ", "rating", "review", None])
    sheet.append(["Kettle", 4, "Boils fast", None])
    sheet.append([None, None, None, None])
    sheet.append(["Toaster", 2.0, None, None])
    book.create_sheet("Notes").append(["ignored"])
    book.save(tmp_path / "reviews.xlsx")
    table = load_table(tmp_path / "reviews.xlsx")
    assert table.columns == ["product", "rating", "review"]
    assert table.rows == [
        {"product": "Kettle", "rating": "4", "review": "Boils fast"},
        {"product": "Toaster", "rating": "2", "review": ""},
    ]
    assert any("first sheet, “Reviews”" in n for n in table.notes)


def test_corrupt_xlsx_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="not a readable Excel workbook"):
        read_table(write(tmp_path, "broken.xlsx", b"PK\x03\x04 this is not really a zip"))
    with zipfile.ZipFile(tmp_path / "empty.xlsx", "w") as archive:  # a zip, but not a workbook
        archive.writestr("hello.txt", "hi")
    with pytest.raises(InvalidInput, match="not a readable Excel workbook"):
        read_table(tmp_path / "empty.xlsx")


def test_old_xls_and_unknown_extensions_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match=r"old-style Excel file \(.xls\)"):
        read_table(write(tmp_path, "old.xls", "x"))
    with pytest.raises(InvalidInput, match=r"Upload a .csv, .tsv, .xlsx or .jsonl file"):
        read_table(write(tmp_path, "notes.txt", "product,review\n"))


def test_jsonl_values_become_strings(tmp_path):
    lines = [
        json.dumps({"product": "Kettle", "rating": 4, "review": "Boils"}),
        "",
        json.dumps({"product": "Toaster", "extra": True, "review": None}),
    ]
    table = load_table(write(tmp_path, "r.jsonl", "\n".join(lines) + "\n"))
    assert table.columns == ["product", "rating", "review", "extra"]
    assert table.rows == [
        {"product": "Kettle", "rating": "4", "review": "Boils", "extra": ""},
        {"product": "Toaster", "rating": "", "review": "", "extra": "true"},
    ]


def test_bad_json_line_is_named(tmp_path):
    path = write(tmp_path, "r.jsonl", '{"product": "Kettle"}\n\n{"product": "Toaster",}\n')
    with pytest.raises(InvalidInput, match="Line 3 of r.jsonl is not valid JSON"):
        read_table(path)
    with pytest.raises(InvalidInput, match="Line 1 of s.jsonl is a list, not an object"):
        read_table(write(tmp_path, "s.jsonl", '["Kettle", "Boils"]\n'))


@pytest.mark.parametrize("name, data", [("e.csv", ""), ("e.csv", "\n \n"), ("e.jsonl", "\n"), ("e.tsv", b"")])
def test_empty_files(tmp_path, name, data):
    with pytest.raises(InvalidInput, match="is empty"):
        read_table(write(tmp_path, name, data))


def test_header_only_has_no_rows(tmp_path):
    with pytest.raises(InvalidInput, match="header row but no rows"):
        read_table(write(tmp_path, "h.csv", "product,review\n,\n"))
    book = Workbook()
    book.active.append(["product", "review"])
    book.save(tmp_path / "h.xlsx")
    with pytest.raises(InvalidInput, match="header row but no rows"):
        read_table(tmp_path / "h.xlsx")


def test_row_with_more_values_than_the_header_is_explained(tmp_path):
    with pytest.raises(
        InvalidInput, match=r"Line 3 of r.csv has 3 values but the header names 2 columns.*double quotes"
    ):
        read_table(write(tmp_path, "r.csv", "product,review\nKettle,Boils\nToaster,Burns, badly\n"))


def test_duplicate_column_names_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match="“review” appears twice"):
        read_table(write(tmp_path, "r.csv", "review,review\na,b\n"))


def test_more_rows_than_the_limit_says_how_many(tmp_path):
    path = write(tmp_path, "big.csv", "review\n" + "".join(f"text {i}\n" for i in range(812)))
    with pytest.raises(InvalidInput) as err:
        read_table(path, row_limit=500)
    assert str(err.value) == "This file has 812 rows; the limit is 500 (PLAYGROUND_BATCH_ROW_LIMIT). Nothing was run."
    assert len(read_table(path, row_limit=812)) == 812


def test_missing_template_variables_name_the_columns(tmp_path):
    path = write(tmp_path, "r.csv", "product,rating,text\nKettle,4,Boils\n")
    with pytest.raises(InvalidInput) as err:
        read_table(path, variables=["product", "price", "review"])
    assert str(err.value) == "The file has no column for: price, review. Its columns are: product, rating, text."


def test_variables_match_columns_loosely_when_unambiguous():
    assert match_variables(["Product Name", "Review"], ["product_name", "review"]) == {
        "product_name": "Product Name",
        "review": "Review",
    }
    assert match_variables(["review", "Review"], ["review"]) == {"review": "review"}
    assert match_variables(["Review", "REVIEW"], ["review"]) == {}  # ambiguous: not guessed


def test_the_demo_table_fits_the_demo_template():
    path, body, name = demo_files()
    table = load_table(path)
    assert check_table(table, variables=template_variables(body)) == {"product": "product", "review": "review"}
    assert 10 <= table.row_count <= 15 and name
    for topic in ("complaints", "features", "Value for money", "Abusive language"):
        assert topic in body


def test_durations_read_plainly():
    assert [format_duration(s) for s in (0.4, 59, 80, 3725)] == ["0 s", "59 s", "1 min 20 s", "1 h 2 min"]


def test_grid_and_progress_text():
    from playground.compare.batch import BatchCell, BatchGrid, BatchProgress
    from playground.compare.columns import ColumnConfig

    cells = [
        [BatchCell("ok", "Fine."), BatchCell("error", error="Endpoint died")],
        [BatchCell("running", "Hal"), BatchCell()],
    ]
    grid = BatchGrid(
        1,
        ["product", "review"],
        REVIEWS,
        {"review": "review"},
        [ColumnConfig("a"), ColumnConfig("b")],
        ["A", "B"],
        cells,
    )
    headers, rows = grid_table(grid)
    assert headers == ["#", "review", "1 · A", "2 · B"]
    assert rows[0][2:] == ["Fine.", "❌ Endpoint died"] and rows[1][2:] == ["Hal ▍", "— not run"]
    assert format_progress(BatchProgress(1, 12, 40, 30.0, 80.0, grid)) == "12/40 cells · ETA 1 min 20 s"
