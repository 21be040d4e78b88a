"""Fine-tune datasets: reading every format, recognising the three shapes, the row check,
the holdout split, and a plain message for every unusable file."""

import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from playground.errors import InvalidInput
from playground.finetune.charts import token_length_histogram
from playground.finetune.dataset_check import (
    FEW_ROWS,
    MIN_ROWS,
    DatasetReport,
    check_dataset,
    histogram_bins,
    holdout_size,
    split_holdout,
)
from playground.finetune.datasets import (
    ALPACA_KIND,
    CHAT_KIND,
    PROMPT_COMPLETION_KIND,
    ColumnMapping,
    convert_table,
    detect_mapping,
    read_dataset_table,
    to_examples,
)
from playground.models.prompt_formats import Example

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo" / "finetune_support_replies.csv"


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def words(text: str) -> int:
    return len(text.split())


def alpaca_rows(n: int) -> list[dict[str, str]]:
    return [{"instruction": f"Question {i}", "input": "", "output": f"Answer {i}"} for i in range(n)]


# ---- recognising the shape ----------------------------------------------------------------
@pytest.mark.parametrize(
    "columns, expected",
    [
        (
            ["instruction", "input", "output"],
            ColumnMapping(ALPACA_KIND, instruction="instruction", output="output", input="input"),
        ),
        (["Question", "Answer"], ColumnMapping(ALPACA_KIND, instruction="Question", output="Answer")),
        (
            ["id", "Query", "Context", "Response", "System Prompt"],
            ColumnMapping(ALPACA_KIND, instruction="Query", output="Response", input="Context", system="System Prompt"),
        ),
        (["input", "output"], ColumnMapping(ALPACA_KIND, instruction="input", output="output")),
        (["prompt", "completion"], ColumnMapping(PROMPT_COMPLETION_KIND, instruction="prompt", output="completion")),
        (["PROMPT", "target"], ColumnMapping(PROMPT_COMPLETION_KIND, instruction="PROMPT", output="target")),
        (["messages"], ColumnMapping(CHAT_KIND, messages="messages")),
        (["id", "Conversations", "system"], ColumnMapping(CHAT_KIND, messages="Conversations", system="system")),
        (["text", "label"], None),
        (["instruction"], None),
    ],
)
def test_detect_mapping(columns, expected):
    assert detect_mapping(columns) == expected


def test_alpaca_csv_becomes_examples(tmp_path):
    path = write(tmp_path, "d.csv", "instruction,input,output\nTranslate,Bonjour,Hello\nGreet, ,Hi there\n")
    table = read_dataset_table(path)
    assert (table.columns, table.numbers, table.unit) == (["instruction", "input", "output"], [1, 2], "row")
    examples = to_examples(table.rows, detect_mapping(table.columns))
    assert examples == [Example("Translate", "Hello", input="Bonjour"), Example("Greet", "Hi there")]


def test_prompt_completion_jsonl_and_user_mapping(tmp_path):
    lines = [{"q": "2+2?", "a": "4", "note": "x"}, {"q": "Capital of France?", "a": "Paris"}]
    path = write(tmp_path, "d.jsonl", "\n".join(json.dumps(x) for x in lines))
    table = read_dataset_table(path)
    assert detect_mapping(table.columns) is None
    mapping = ColumnMapping(PROMPT_COMPLETION_KIND, instruction="q", output="a")
    assert [r.example for r in convert_table(table, mapping)] == [
        Example("2+2?", "4"),
        Example("Capital of France?", "Paris"),
    ]
    with pytest.raises(InvalidInput, match="no column named 'answer'"):
        convert_table(table, ColumnMapping(ALPACA_KIND, instruction="q", output="answer"))
    with pytest.raises(InvalidInput, match="which column holds the completion"):
        convert_table(table, ColumnMapping(PROMPT_COMPLETION_KIND, instruction="q"))
    assert ColumnMapping.from_dict(mapping.to_dict()) == mapping


def test_chat_rows_openai_and_sharegpt(tmp_path):
    openai = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Opening hours?"},
            {"role": "assistant", "content": "9 to 5."},
        ]
    }
    sharegpt = {"messages": [{"from": "human", "value": "Price?"}, {"from": "gpt", "value": "£4."}]}
    path = write(tmp_path, "chat.jsonl", json.dumps(openai) + "\n\n" + json.dumps(sharegpt) + "\n")
    table = read_dataset_table(path)
    assert table.numbers == [1, 3] and table.unit == "line"
    rows = convert_table(table, detect_mapping(table.columns))
    assert rows[0].example == Example("Opening hours?", "9 to 5.", system="Be brief.", history=(("Hi", "Hello!"),))
    assert rows[1].example == Example("Price?", "£4.")


def test_chat_rows_that_cannot_be_trained_on(tmp_path):
    bad = [
        {"messages": [{"role": "user", "content": "Hi"}]},  # no answer
        {"messages": "just text"},
        {"messages": [{"role": "narrator", "content": "x"}, {"role": "assistant", "content": "y"}]},
        {"messages": []},
    ]
    path = write(tmp_path, "chat.jsonl", "\n".join(json.dumps(x) for x in bad))
    table = read_dataset_table(path)
    rows = convert_table(table, ColumnMapping(CHAT_KIND, messages="messages"))
    assert all(r.example is None for r in rows)
    kinds = [r.problems[0][0] for r in rows]
    assert kinds == ["empty", "not_text", "not_text", "empty"]
    assert "assistant answer" in rows[0].problems[0][1] and "no known role" in rows[2].problems[0][1]


# ---- the check ------------------------------------------------------------------------------
def test_check_lists_empty_non_text_duplicates_and_too_long_by_file_line(tmp_path):
    lines = [json.dumps(r) for r in alpaca_rows(8)]
    lines[1] = json.dumps({"instruction": "Question 0", "input": "", "output": "Answer 0"})  # duplicate of line 1
    lines[2] = json.dumps({"instruction": "", "output": "Answer"})
    lines[3] = json.dumps({"instruction": "Count", "output": 42})
    lines[4] = json.dumps({"instruction": ["a", "list"], "output": "x"})
    lines[5] = json.dumps({"instruction": "Tell a long story " * 10, "output": "Once upon a time"})
    path = write(tmp_path, "d.jsonl", "\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:]))
    table = read_dataset_table(path)
    rows = convert_table(table, detect_mapping(table.columns))
    report = check_dataset(rows, words, 30, unit=table.unit, min_rows=2)
    by_row = {(i.row, i.kind) for i in report.issues}
    # line 4 is blank, so later rows keep their file line numbers
    assert by_row == {(2, "duplicate"), (3, "empty"), (5, "not_text"), (6, "not_text"), (7, "too_long")}
    messages = {i.row: str(i.message) for i in report.issues}  # the English sentences
    assert messages[2].startswith("Same as line 1")
    assert "is a number, not text: 42" in messages[5]
    assert "is a list" in messages[6]
    assert messages[7].startswith("44 tokens > cut-off 30")  # 40 words of instruction + 4 of output
    assert report.excluded == [2, 3, 5, 6]
    assert (report.total_rows, report.usable_rows) == (8, 4)
    assert report.counts() == {"empty": 1, "not_text": 2, "duplicate": 1, "too_long": 1}
    assert any(f"at least {FEW_ROWS}" in w for w in report.warnings)
    assert any("longer than the cut-off of 30" in w for w in report.warnings)
    assert DatasetReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    assert "**4 of 8 rows**" in report.summary_markdown()


def test_too_few_rows_are_refused_in_plain_words():
    with pytest.raises(InvalidInput, match="A single row is not enough to fine-tune on: add at least 4 more"):
        check_dataset([Example("Q", "A")], words, 64)
    with pytest.raises(InvalidInput, match=f"3 rows are not enough.*{MIN_ROWS} in all"):
        check_dataset([Example(f"Q{i}", "A") for i in range(3)], words, 64)
    report = check_dataset([Example(f"Q{i}", "A") for i in range(MIN_ROWS)], words, 64)
    assert report.usable_rows == MIN_ROWS and report.warnings


def test_all_rows_empty_is_refused(tmp_path):
    path = write(tmp_path, "d.csv", "instruction,output,notes\n,,a\n , ,b\n")
    table = read_dataset_table(path)
    with pytest.raises(InvalidInput, match="No usable rows.*row 1: The instruction .* is empty"):
        check_dataset(convert_table(table, detect_mapping(table.columns)), words, 64)


def test_no_warning_from_fifty_rows_and_histogram_counts_every_row():
    examples = [Example(f"Q{i}", "word " * (i % 7)) for i in range(FEW_ROWS)]
    report = check_dataset(examples, words, 16)
    assert report.warnings == [] and report.issues == []
    assert sum(report.histogram["counts"]) == FEW_ROWS == len(report.lengths)
    assert report.histogram == histogram_bins(report.lengths, 16)


def test_histogram_bins_have_round_widths_and_cover_cutoff():
    bins = histogram_bins([3, 40, 512, 513, 700], 512)
    assert bins["edges"][:3] == [0, 50, 100] and bins["edges"][-1] >= 701
    assert 513 in bins["edges"]  # a bin starts just past the cut-off: rows in it are all too long
    counts = dict(zip(bins["edges"], bins["counts"]))
    assert (counts[0], counts[500], counts[513], counts[700]) == (2, 1, 1, 1) and sum(bins["counts"]) == 5


def test_histogram_figure_has_the_cutoff_line_and_colours_long_rows():
    fig = token_length_histogram([10, 20, 600], 512).to_dict()
    shape = fig["layout"]["shapes"][0]
    assert (shape["x0"], shape["x1"], shape["line"]["dash"]) == (512, 512, "dash")
    bar = fig["data"][0]
    assert sum(bar["y"]) == 3
    beyond = [c for x, c in zip(bar["x"], bar["marker"]["color"]) if x > 512]
    assert beyond and set(beyond) == {"#f97316"}
    assert "1 of 3 longer" in fig["layout"]["title"]["text"]


# ---- holdout ---------------------------------------------------------------------------------
@pytest.mark.parametrize("total, held", [(2, 1), (5, 2), (6, 3), (10, 3), (40, 4), (60, 6), (1000, 100)])
def test_holdout_sizes(total, held):
    examples = [Example(f"Q{i}", "A") for i in range(total)]
    train, holdout = split_holdout(examples)
    assert (len(train), len(holdout)) == (total - held, held)
    assert sorted(train + holdout, key=lambda e: int(e.instruction[1:])) == examples
    assert split_holdout(examples) == (train, holdout)  # deterministic
    note = holdout_size(total)[1]
    assert ("instead of" in note) == (total < 6)


def test_holdout_differs_by_seed_and_refuses_bad_fraction():
    examples = [Example(f"Q{i}", "A") for i in range(30)]
    assert split_holdout(examples, seed=1)[1] != split_holdout(examples, seed=2)[1]
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        split_holdout(examples, fraction=1.5)


# ---- bad files ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.csv", b"", "is empty"),
        ("blank.jsonl", b"\n\n  \n", "is empty"),
        ("header.csv", b"instruction,output\n", "no rows of values"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" * 20, "binary"),
        (
            "broken.jsonl",
            b'{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": \n',
            "Line 2 of broken.jsonl is not valid JSON",
        ),
        ("array.jsonl", b'{"instruction": "a", "output": "b"}\n["x"]\n', "Line 2 of array.jsonl is a list"),
        ("corrupt.xlsx", b"PK\x03\x04 this is not really a workbook", "not a readable Excel workbook"),
        ("notes.docx", b"whatever", "Upload a .csv, .tsv, .xlsx or .jsonl"),
    ],
)
def test_bad_files_get_plain_messages(tmp_path, name, data, message):
    with pytest.raises(InvalidInput, match=message):
        read_dataset_table(write(tmp_path, name, data))


def test_non_utf8_csv_is_read_by_its_detected_encoding(tmp_path):
    text = "instruction,output\nCafé crème?,Oui, très bien\nÀ bientôt,Merci beaucoup\n".replace(
        "Oui, très", '"Oui, très'
    ).replace("bien\n", 'bien"\n', 1)
    table = read_dataset_table(write(tmp_path, "latin.csv", text.encode("cp1252")))
    assert table.rows[0] == {"instruction": "Café crème?", "output": "Oui, très bien"}
    assert table.rows[1]["instruction"] == "À bientôt"
    assert any("Not UTF-8" in n for n in table.notes)


def test_non_utf8_jsonl_is_read_by_its_detected_encoding(tmp_path):
    data = '{"instruction": "Déjà vu?", "output": "Très étrange, n\'est-ce pas"}\n'.encode("cp1252")
    table = read_dataset_table(write(tmp_path, "latin.jsonl", data))
    assert table.rows[0]["instruction"] == "Déjà vu?" and table.notes


def test_xlsx_and_tsv(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Prompt", "Completion"])
    sheet.append(["Say hi", "Hi!"])
    sheet.append(["Count to 3", 123])
    workbook.save(tmp_path / "d.xlsx")
    table = read_dataset_table(tmp_path / "d.xlsx")
    assert to_examples(table.rows, detect_mapping(table.columns)) == [
        Example("Say hi", "Hi!"),
        Example("Count to 3", "123"),
    ]
    tsv = read_dataset_table(write(tmp_path, "d.tsv", "question\tanswer\nA, b?\tC\n"))
    assert to_examples(tsv.rows, detect_mapping(tsv.columns)) == [Example("A, b?", "C")]


def test_demo_dataset_is_clean_alpaca():
    table = read_dataset_table(DEMO)
    mapping = detect_mapping(table.columns)
    assert mapping.kind == ALPACA_KIND and len(table.rows) >= FEW_ROWS
    report = check_dataset(convert_table(table, mapping), words, 256)
    assert report.issues == [] and report.usable_rows == len(table.rows) and report.warnings == []
