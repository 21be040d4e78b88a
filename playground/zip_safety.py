"""The one check every reader of a ZIP-based upload (DOCX, XLSX) runs before parsing it.

A .docx or .xlsx is a ZIP package, and a ZIP can declare that a few kilobytes unpack to
gigabytes (a "zip bomb"). Before python-docx or openpyxl opens a package, its central
directory is read (a few bytes per entry, nothing is decompressed) and the package is
refused when it has too many entries, would unpack to more than the limit in total, or
compresses one large entry far better than real documents do.

Why the directory is enough: both libraries read entries through Python's ``zipfile``, and
``zipfile`` never returns more bytes for an entry than that entry's size in the central
directory (it cuts the output there and raises ``BadZipFile`` for the CRC). A directory
that understates its sizes therefore cannot make them inflate more than it declares, and
the declared sizes are what is checked here.

The limits follow Apache POI's ``ZipSecureFile``, which guards the same formats: an entry
may shrink at most 100:1 once it is larger than 100 KB, and a package may hold at most
1000 entries.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from playground.errors import InvalidInput
from playground.formatting import bytes_text
from playground.i18n import Text, t

log = logging.getLogger(__name__)

UNZIPPED_ENV = "PLAYGROUND_MAX_UNZIPPED_MB"
DEFAULT_MAX_UNZIPPED_MB = 200
MAX_ENTRIES = 1000
MAX_RATIO = 100
RATIO_GRACE_BYTES = 100 * 1024  # small entries (a few repeated XML tags) may shrink a lot


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int = DEFAULT_MAX_UNZIPPED_MB * 1024 * 1024
    max_entries: int = MAX_ENTRIES
    max_ratio: float = MAX_RATIO

    @classmethod
    def from_settings(cls, settings: Any) -> ArchiveLimits:
        """From ``Settings.max_unzipped_mb`` (the defaults where a settings object lacks it)."""
        megabytes = getattr(settings, "max_unzipped_mb", DEFAULT_MAX_UNZIPPED_MB)
        return cls(max_total_bytes=int(float(megabytes) * 1024 * 1024))


# The formats that are ZIP packages, named in a refusal in the reader's language. A caller may
# still pass the English name as a plain string: it is shown in the reader's language too.
WORD_DOCUMENT = t("zip.word_document")
EXCEL_WORKBOOK = t("zip.excel_workbook")
_FORMATS = {str(WORD_DOCUMENT): WORD_DOCUMENT, str(EXCEL_WORKBOOK): EXCEL_WORKBOOK}


def check_archive(source: str | Path | IO[bytes], filename: str, what: str | Text, limits: ArchiveLimits) -> None:
    """Refuse (``InvalidInput``) a ZIP package that would unpack to too much. ``what`` names
    the format for the message (``WORD_DOCUMENT``). A file that is not a ZIP at all passes:
    the reader that opens it next says what is wrong with it in its own words."""
    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    finally:
        if not isinstance(source, (str, Path)):
            source.seek(0)
    refusal = archive_refusal(entries, filename, what, limits)
    if refusal is not None:
        log.warning("Refused ZIP package %s: %s", filename, refusal)
        raise InvalidInput(refusal)


def archive_refusal(
    entries: list[zipfile.ZipInfo], filename: str, what: str | Text, limits: ArchiveLimits
) -> Text | None:
    """Why a package with these directory entries is refused, or None when it may be opened."""
    kind = _FORMATS.get(what, what) if isinstance(what, str) else what
    if len(entries) > limits.max_entries:
        return t("zip.too_many_entries", filename=filename, count=len(entries), what=kind, limit=limits.max_entries)
    total = sum(max(0, e.file_size) for e in entries)
    if total > limits.max_total_bytes:
        return t(
            "zip.too_large",
            filename=filename,
            size=bytes_text(total),
            limit=bytes_text(limits.max_total_bytes),
            variable=UNZIPPED_ENV,
            what=kind,
        )
    for entry in entries:
        if entry.file_size <= RATIO_GRACE_BYTES:
            continue
        ratio = entry.file_size / max(1, entry.compress_size)
        if ratio > limits.max_ratio:
            return t(
                "zip.too_compressed",
                filename=filename,
                ratio=ratio,
                entry=entry.filename,
                what=kind,
                limit=float(limits.max_ratio),
            )
    return None
