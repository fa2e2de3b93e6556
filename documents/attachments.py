"""The appendix "Tài liệu kèm theo" of a unit's report: the files the unit sent with it (name,
size, the question each goes with), on a page of its own after the signature. Added to the
finished document, so that the report's own builder stays as it is."""

from __future__ import annotations

import io
from collections.abc import Sequence

from docx import Document as open_document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Mm, Pt

from documents.layout import clean
from documents.model import ListedFile

APPENDIX_TITLE = "TÀI LIỆU KÈM THEO"
HEADERS = ("STT", "Tên tệp", "Dung lượng", "Kèm theo")
WIDTHS_MM = (14, 95, 28, 28)
TABLE_PT = 12


def with_attachment_appendix(content: bytes, files: Sequence[ListedFile]) -> bytes:
    """The .docx with the appendix listing `files`; unchanged without files."""
    if not files:
        return content
    document = open_document(io.BytesIO(content))
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run(APPENDIX_TITLE).bold = True
    note = document.add_paragraph()
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    note.add_run(f"(gồm {len(files)} tệp, đơn vị gửi qua bot kèm theo báo cáo)").italic = True
    table = document.add_table(rows=1, cols=len(HEADERS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, HEADERS, strict=True):
        _write(cell, header, bold=True)
    for number, item in enumerate(files, start=1):
        row = table.add_row().cells
        for cell, text in zip(row, (str(number), item.filename, item.size, item.place), strict=True):
            _write(cell, text)
    for row in table.rows:
        for cell, width in zip(row.cells, WIDTHS_MM, strict=True):
            cell.width = Mm(width)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _write(cell: object, text: str, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]  # type: ignore[attr-defined]
    run = paragraph.add_run(clean(text))
    run.bold = bold
    run.font.size = Pt(TABLE_PT)
