"""A ruled table in an administrative document (python-docx): a bold header row repeated on
every page, Times New Roman, figures right-aligned. Used for the figures of the city summary
(chỉ tiêu / kỳ này / kỳ trước / tăng, giảm); any builder that holds a python-docx Document can
call it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell

FONT = "Times New Roman"
TABLE_PT = 12  # tables in the body: 12–13 pt, a size below the body text


def ruled_table(document: Document, headers: Sequence[str], rows: Sequence[Sequence[str]],
                widths_mm: Sequence[float], *, numeric_from: int = 1) -> Table:
    """A table of `headers` over `rows`; columns from `numeric_from` on hold figures and are
    right-aligned. The header row repeats at the top of each page the table runs onto, and no
    row is split across pages."""
    table: Table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for index, width in enumerate(widths_mm):
        table.columns[index].width = Mm(width)  # the grid, which LibreOffice lays out by
        for cell in table.columns[index].cells:
            cell.width = Mm(width)
    header = table.rows[0]
    header_properties = header._tr.get_or_add_trPr()
    header_properties.append(_on("w:tblHeader"))
    for cell, text in zip(header.cells, headers, strict=True):
        _write(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for row, values in zip(table.rows[1:], rows, strict=True):
        row._tr.get_or_add_trPr().append(_on("w:cantSplit"))
        for index, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            align = WD_ALIGN_PARAGRAPH.RIGHT if index >= numeric_from else WD_ALIGN_PARAGRAPH.LEFT
            _write(cell, text, align=align)
    return table


def _on(tag: str) -> Any:  # an lxml element: python-docx leaves it untyped
    element = OxmlElement(tag)
    element.set(qn("w:val"), "true")
    return element


def _write(cell: _Cell, text: str, *, bold: bool = False, align: WD_ALIGN_PARAGRAPH) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    paragraph.paragraph_format.space_before = Pt(2)
    paragraph.paragraph_format.space_after = Pt(2)
    run = paragraph.add_run(text)
    run.font.name = FONT
    run.font.size = Pt(TABLE_PT)
    run.font.bold = bold
    fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), FONT)
    fonts.set(qn("w:cs"), FONT)
