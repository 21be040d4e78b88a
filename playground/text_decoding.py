"""The one way uploaded bytes become text: a UTF-16 byte-order mark, else UTF-8, else a guess.

Documents (RAG), fine-tune datasets and batch tables all accept text files saved by office
machines, which are often not UTF-8. The steps are the same for all of them; what differs is
how the guess is made (detect the encoding, or assume one code page), how many stray control
characters a guess may contain, and the sentences the user reads. So this module decodes and
says *why* it could not; each caller turns that into its own message and its own note about
the encoding it assumed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

UTF8 = "utf_8"
UTF16 = "utf_16"
# Several single-byte code pages decode the same bytes equally "cleanly"; among the cleanest,
# detection prefers the encodings text files on office machines usually have.
COMMON_ENCODINGS = (
    "utf_16",
    "utf_16_le",
    "utf_16_be",
    "cp1252",
    "latin_1",
    "iso8859_15",
    "cp1250",
    "cp1251",
    "shift_jis",
    "gb18030",
    "big5",
    "euc_kr",
)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # not tab, newlines or form feed
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class UndecodableText(Exception):
    """The bytes are not text in any encoding this decoder would assume."""


class BinaryData(UndecodableText):
    """NUL bytes near the start: an image, an archive or another binary file."""


class UnknownEncoding(UndecodableText):
    """Not UTF-8, and no fallback encoding reads it."""


class ControlCharacters(UndecodableText):
    """A fallback encoding reads it, but the result is full of control characters."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # UTF8, UTF16 (from its byte-order mark) or the fallback that was assumed

    @property
    def is_utf8(self) -> bool:
        return self.encoding == UTF8


def decode_text(
    data: bytes,
    *,
    fallbacks: Sequence[str] | None = None,
    scan_bytes: int = 8192,
    stray_controls: bool = False,
) -> DecodedText:
    """Decode uploaded bytes, or raise an ``UndecodableText`` that says why not.

    ``fallbacks``: the encodings to try in turn when the bytes are not UTF-8; None detects the
    encoding instead. ``scan_bytes``: how far to look for NUL bytes. ``stray_controls``: let a
    guessed decoding keep a few control characters (up to 1 %, at least 5), as long documents
    converted by other tools often do; otherwise a single one means the guess was wrong.
    """
    if data.startswith(_UTF16_BOMS):
        try:  # a byte-order mark declares the encoding, so nothing needs guessing
            return DecodedText(data.decode("utf-16"), UTF16)
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:scan_bytes]:
        raise BinaryData()
    try:
        return DecodedText(data.decode("utf-8-sig"), UTF8)
    except UnicodeDecodeError:
        pass
    guessed = _first_fitting(data, fallbacks) if fallbacks is not None else _detected(data)
    if guessed is None:
        raise UnknownEncoding()
    controls = len(CONTROL_CHARACTERS.findall(guessed.text))
    if controls > (max(5, len(guessed.text) // 100) if stray_controls else 0):
        raise ControlCharacters()
    return guessed


def _first_fitting(data: bytes, encodings: Sequence[str]) -> DecodedText | None:
    for encoding in encodings:
        try:
            return DecodedText(data.decode(encoding), encoding)
        except UnicodeDecodeError:
            continue
    return None


def _detected(data: bytes) -> DecodedText | None:
    from charset_normalizer import from_bytes  # only non-UTF-8 uploads need it

    matches = list(from_bytes(data))
    cleanest = min((m.chaos for m in matches), default=0.0)
    near = [m for m in matches if m.chaos <= cleanest + 0.05]
    best = min(
        near,
        key=lambda m: (COMMON_ENCODINGS.index(m.encoding) if m.encoding in COMMON_ENCODINGS else 99, m.chaos),
        default=None,
    )
    if best is None or best.encoding is None:
        return None
    return DecodedText(str(best), best.encoding)
