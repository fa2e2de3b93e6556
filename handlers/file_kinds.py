"""What files an officer may attach, told by their content (never by the name or the type the
phone claims), and how sizes are written for people."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

# Telegram's Bot API lets a bot download files of up to 20 MB (getFile); a scanned report of
# a few dozen pages in PDF, or a phone photo, is well under that. One limit for every channel.
MAX_BYTES = PLATFORM_MAX_BYTES = 20 * 1024 * 1024
# A unit's appendix is a handful of decisions, plans and scans; more than this is a mistake
# (the same album sent again), and the limit keeps one unit from filling the disk.
MAX_FILES_PER_REPORT = 50
NAME_LIMIT = 120
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*]")


@dataclass(frozen=True)
class FileKind:
    media_type: str
    extension: str
    label: str  # as officers call it


KINDS = {
    "pdf": FileKind("application/pdf", ".pdf", "PDF"),
    "jpeg": FileKind("image/jpeg", ".jpg", "ảnh JPG"),
    "png": FileKind("image/png", ".png", "ảnh PNG"),
    "docx": FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx",
                     "Word (.docx)"),
    "xlsx": FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx",
                     "Excel (.xlsx)"),
}
EXTENSIONS = {".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx"}
# The part of an Office Open XML package that says which application's file it is.
_OOXML_MAIN = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx"}


def sniff(content: bytes) -> FileKind | None:
    """The kind of file these bytes are, if one we accept."""
    if content.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if content.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as package:
                names = set(package.namelist())  # the directory only: nothing is unpacked
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        for main, kind in _OOXML_MAIN.items():
            if main in names and "[Content_Types].xml" in names:
                return KINDS[kind]
    return None


def plausible_name(filename: str) -> bool:
    """Whether the name promises a kind we take (checked before downloading, to save the
    officer a wait for a file that would be refused); a name without extension may be anything."""
    suffix = PurePosixPath(safe_name(filename, "")).suffix.lower()
    return not suffix or suffix in EXTENSIONS


def safe_name(filename: str, fallback: str = "tep") -> str:
    """The name shown and stored: no folders, no control or reserved characters, not too long."""
    base = PureWindowsPath(PurePosixPath(filename).name).name
    base = _UNSAFE.sub("_", unicodedata.normalize("NFC", base)).strip(" .")
    if len(base) > NAME_LIMIT:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[: NAME_LIMIT - len(suffix) - 1] + dot + suffix) if dot and len(suffix) <= 5 \
            else base[:NAME_LIMIT]
    return base or fallback


def named_for(filename: str, kind: FileKind) -> str:
    """The name with the extension of what the file is (a PDF sent as "QĐ 12" is "QĐ 12.pdf")."""
    name = safe_name(filename)
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == kind.extension or (kind.extension == ".jpg" and suffix == ".jpeg"):
        return name
    return name + kind.extension


def human_size(size: int) -> str:
    """"820 KB", "1,5 MB" (Vietnamese decimal comma)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    megabytes = size / (1024 * 1024)
    shown = f"{megabytes:.1f}".rstrip("0").rstrip(".")
    return f"{shown.replace('.', ',')} MB"
