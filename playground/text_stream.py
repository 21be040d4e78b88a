"""Reading an uploaded text file line by line, decoded as it is read.

Batch tables and fine-tune datasets stop at their row limit, so the rest of a long file is
never decoded or held in memory. The encoding is chosen as ``text_decoding`` chooses it for
whole files: a UTF-16 byte-order mark, else UTF-8, else a fallback the caller gives (an
assumed code page, or one detected from the first megabyte). A fallback is tried only when
UTF-8 fails somewhere in the file, and reading then starts again from the first line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from playground import text_decoding
from playground.i18n import Text

log = logging.getLogger(__name__)
T = TypeVar("T")
HEAD_BYTES = 65536  # how far to look for NUL bytes and control characters
SAMPLE_BYTES = 1024 * 1024  # what an encoding is detected from
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class WrongEncoding(Exception):
    """No candidate encoding reads the whole file."""


@dataclass(frozen=True)
class Encoding:
    codec: str
    note: Text | str = ""  # what the reader tells the user about it ("" for UTF-8)
    strict_controls: bool = False  # an assumed code page: one control character means the guess is wrong


UTF8 = Encoding("utf-8-sig")


def head(path: Path, size: int = HEAD_BYTES) -> bytes:
    with path.open("rb") as file:
        return file.read(size)


def is_blank(path: Path, chunk: int = 1024 * 1024) -> bool:
    """True when the file holds only white space (read in chunks, stopping at the first text)."""
    with path.open("rb") as file:
        while block := file.read(chunk):
            if block.strip():
                return False
    return True


def candidates(
    start: bytes, fallback: Callable[[], Encoding | None] | None, utf16_note: Text | str
) -> Iterator[Encoding]:
    """The encodings to try, best first; the fallback is worked out only if it is reached.
    Raises ``text_decoding.BinaryData`` for NUL bytes near the start of a file without a BOM."""
    if start.startswith(_UTF16_BOMS):
        yield Encoding("utf-16", utf16_note)
        return
    if b"\x00" in start:
        raise text_decoding.BinaryData()
    yield UTF8
    guess = fallback() if fallback is not None else None
    if guess is not None:
        yield guess


def detected(path: Path, note: Callable[[str], Text | str]) -> Encoding | None:
    """The encoding detected from the file's first megabyte (cut after its last line break)."""
    with path.open("rb") as file:
        sample = file.read(SAMPLE_BYTES + 1)
    if len(sample) > SAMPLE_BYTES:
        sample = sample[: sample.rfind(b"\n", 0, SAMPLE_BYTES) + 1 or SAMPLE_BYTES]
    try:
        decoded = text_decoding.decode_text(sample, stray_controls=True)
    except text_decoding.UndecodableText:
        return None
    return Encoding(decoded.encoding, note(decoded.encoding))


def lines(path: Path, encoding: Encoding, scan_chars: int = HEAD_BYTES) -> Iterator[str]:
    """The file's lines with their endings. Raises ``text_decoding.ControlCharacters`` for a
    control character in the first ``scan_chars`` characters (a binary file), and
    ``WrongEncoding`` (or ``UnicodeDecodeError``) when ``encoding`` does not read the file."""
    seen = 0
    with path.open(encoding=encoding.codec, newline="") as file:
        for line in file:
            if encoding.strict_controls and text_decoding.CONTROL_CHARACTERS.search(line):
                raise WrongEncoding()
            if seen < scan_chars:
                if text_decoding.CONTROL_CHARACTERS.search(line[: scan_chars - seen]):
                    raise text_decoding.ControlCharacters()
                seen += len(line)
            yield line


def read_with(path: Path, encodings: Iterable[Encoding], read: Callable[[Iterator[str], Encoding], T]) -> T:
    """``read(lines, encoding)`` with each encoding in turn until one reads the file through;
    raises ``WrongEncoding`` when none does. Errors of ``read`` itself pass through."""
    for encoding in encodings:
        try:
            return read(lines(path, encoding), encoding)
        except (UnicodeDecodeError, WrongEncoding):
            log.info("%s is not %s; trying the next encoding", path.name, encoding.codec)
    raise WrongEncoding()
