"""The frame of a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I) in
python-docx: page, fonts, the header with the national motto, title and subject, body paragraphs,
and the closing with recipients and signature. The builders fill in the body."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from docx import Document as new_document
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from documents.model import ReportDocumentInfo, vietnamese_date
from documents.text_width import break_lines

FONT = "Times New Roman"
BODY_PT = 14  # body text: 13–14 pt
HEADER_PT = 12  # agency names and the national title: 12–13 pt
NUMBER_PT = 13  # "Số: .../BC-UBND": 13 pt
MOTTO_PT = 13  # "Độc lập - Tự do - Hạnh phúc": 13–14 pt
RECIPIENTS_HEADING_PT = 12  # "Nơi nhận:": 12 pt, bold italic
RECIPIENTS_PT = 11  # the recipients: 11 pt
TABLE_PT = 13  # tables of figures in the body
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
TEXT_WIDTH_MM = PAGE_WIDTH_MM - MARGINS_MM["left"] - MARGINS_MM["right"]
LEFT_COLUMN_MM = 66  # the issuing body's column of the header table
FIRST_LINE_INDENT_MM = 10
NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
DRAFT_MARK = "DỰ THẢO"
NAME_LINE = "." * 40  # where no signer is set: the line the name is written on
FILED = "Lưu: VT"  # the last recipient: the office's own file (văn thư)
HEADER_ROOM_MM = LEFT_COLUMN_MM - 5  # the column less its cell padding and a margin for rounding
REGULAR_TO_BOLD = 0.92  # regular capitals are this much narrower than bold ones

# Characters XML 1.0 cannot hold (a pasted control character would make python-docx fail).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PPR_AFTER_BORDER = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                     "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
                     "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
                     "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                     "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                     "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
_TBLPR_AFTER_BORDERS = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
                        "w:tblDescription", "w:tblPrChange")


_YEAR_PHRASE = re.compile(r"năm (\d{4})")
COMMITTEE = "ỦY BAN NHÂN DÂN"


def issuer_lines(unit_name: str) -> list[str]:
    """The issuing body in upper case, in lines that fit the header's column, broken only
    between words chosen here (documents/text_width.py): a People's Committee's title on a line
    of its own as is the custom ("ỦY BAN NHÂN DÂN" over "PHƯỜNG NINH KIỀU"), never inside it."""
    name = " ".join(unit_name.split()).upper()
    return break_lines(name, HEADER_PT, HEADER_ROOM_MM, first=COMMITTEE)


def clean(text: str) -> str:
    """Text safe for a document: characters XML cannot carry are dropped, line ends unified."""
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


@dataclass(frozen=True)
class Span:
    """A piece of a paragraph with its own emphasis."""

    text: str
    bold: bool = False
    italic: bool = False


class AdministrativeDocument:
    """A document being built: the frame is laid when it is created, `closing` ends it."""

    def __init__(self, info: ReportDocumentInfo, kind: str, subject: str) -> None:
        self.info = info
        self.document: Document = new_document()
        self._set_up_page()
        self._set_up_styles()
        self._add_page_numbers()
        self._add_draft_mark()
        self._add_header()
        self._add_title(kind, subject)

    # ----- the frame -------------------------------------------------------------------------

    def _set_up_page(self) -> None:
        section = self.document.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
        section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
        section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
        section.header_distance, section.footer_distance = Mm(10), Mm(10)

    def _set_up_styles(self) -> None:
        style = self.document.styles["Normal"]
        style.font.name = FONT
        style.font.size = Pt(BODY_PT)
        r_pr = style.element.get_or_add_rPr()
        fonts = r_pr.get_or_add_rFonts()
        for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attribute), FONT)
        language = OxmlElement("w:lang")
        language.set(qn("w:val"), "vi-VN")
        language.set(qn("w:eastAsia"), "vi-VN")
        r_pr.append(language)
        paragraph_format = style.paragraph_format
        paragraph_format.space_before = Pt(0)
        paragraph_format.space_after = Pt(0)
        paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE

    def _add_page_numbers(self) -> None:
        """Page numbers centred in the top margin, from the second page on."""
        section = self.document.sections[0]
        section.different_first_page_header_footer = True
        paragraph = section.header.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        run = self._run(paragraph, "2", size=BODY_PT)
        paragraph._p.remove(run._r)
        field.append(run._r)
        paragraph._p.append(field)

    def _add_draft_mark(self) -> None:
        """"DỰ THẢO" framed at the top right of the first page (in its own header, so the layout
        below is the one the signed copy will have) while the report is not handed in."""
        if not self.info.draft:
            return
        paragraph = self.document.sections[0].first_page_header.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        self._run(paragraph, DRAFT_MARK, size=BODY_PT, bold=True)
        borders = OxmlElement("w:pBdr")
        for edge in ("top", "left", "bottom", "right"):
            element = OxmlElement(f"w:{edge}")
            for key, value in (("w:val", "single"), ("w:sz", "8"), ("w:space", "2"), ("w:color", "000000")):
                element.set(qn(key), value)
            borders.append(element)
        paragraph._p.get_or_add_pPr().insert_element_before(borders, *_PPR_AFTER_BORDER)
        paragraph.paragraph_format.left_indent = Mm(TEXT_WIDTH_MM - 32)  # a box round the words only

    def _add_header(self) -> None:
        info = self.info
        table = self._borderless_table(2, (LEFT_COLUMN_MM, TEXT_WIDTH_MM - LEFT_COLUMN_MM))
        left, right = table.cell(0, 0), table.cell(0, 1)
        lines: list[Span] = []
        if info.superior:
            superior = " ".join(info.superior.split()).upper()
            lines.extend(Span(line) for line in break_lines(superior, HEADER_PT * REGULAR_TO_BOLD,
                                                            HEADER_ROOM_MM))
        lines.extend(Span(line, bold=True) for line in issuer_lines(info.unit_name))
        self._cell_lines(left, lines, HEADER_PT)
        self._rule(left, LEFT_COLUMN_MM, 22)
        self._cell_lines(right, [Span(NATIONAL_TITLE, bold=True)], HEADER_PT)
        self._cell_lines(right, [Span(MOTTO, bold=True)], MOTTO_PT, append=True)
        self._rule(right, TEXT_WIDTH_MM - LEFT_COLUMN_MM, 56)  # as long as the motto

        number, dated = table.cell(1, 0), table.cell(1, 1)
        self._cell_lines(number, [Span(f"Số: {info.number or ' ' * 8}/{info.number_suffix}")], NUMBER_PT)
        self._cell_lines(dated, [Span(f"{info.place}, {vietnamese_date(info.date)}", italic=True)], BODY_PT)
        for cell in (number, dated):
            cell.paragraphs[0].paragraph_format.space_before = Pt(6)

    def _add_title(self, kind: str, subject: str) -> None:
        title = self.document.add_paragraph()
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.space_before = Pt(18)
        self._run(title, kind.upper(), size=BODY_PT, bold=True)
        line = self.document.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        # "năm 2021" stays on one line.
        self._run(line, _YEAR_PHRASE.sub("năm\u00a0\\1", clean(subject)), size=BODY_PT, bold=True)
        period = self.info.period_line()
        if period:  # the span the figures cover, under the subject
            covered = self.document.add_paragraph()
            covered.alignment = WD_ALIGN_PARAGRAPH.CENTER
            covered.paragraph_format.space_after = Pt(4)  # clear of the rule below
            self._run(covered, f"({period})", size=BODY_PT, italic=True)
        self._rule_paragraph(self.document.add_paragraph(), TEXT_WIDTH_MM, 40)
        self.document.add_paragraph().paragraph_format.space_after = Pt(6)

    # ----- the body --------------------------------------------------------------------------

    def heading(self, text: str) -> Paragraph:
        """A part ("I. TÌNH HÌNH, ...") or section ("1. Công tác chỉ đạo, ...") heading: bold."""
        paragraph = self._body_paragraph()
        paragraph.paragraph_format.keep_with_next = True
        self._run(paragraph, clean(text), size=BODY_PT, bold=True)
        return paragraph

    def paragraph(self, spans: Sequence[Span] | str) -> Paragraph:
        """A body paragraph: justified, first line indented; line breaks in the text are kept."""
        paragraph = self._body_paragraph()
        for span in [Span(spans)] if isinstance(spans, str) else spans:
            self._run(paragraph, clean(span.text), size=BODY_PT, bold=span.bold, italic=span.italic)
        return paragraph

    def grid(self, columns: Sequence[str], rows: Sequence[Sequence[str]],
             widths_mm: Sequence[float], words: bool = False) -> Table:
        """A ruled table of figures: the column titles bold and centred (repeated on every page
        the table runs onto), the first column left, the figures right; 13 pt. With `words`, a
        table of sentences: the first column (STT) centred, the others left."""
        self.document.add_paragraph().paragraph_format.space_after = Pt(0)
        table: Table = self.document.add_table(rows=1 + len(rows), cols=len(columns))
        table.style = self.document.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        for column, width in zip(table.columns, widths_mm, strict=True):
            column.width = Mm(width)  # the grid LibreOffice lays out by; the cells' for Word
        for index, (row, texts) in enumerate(zip(table.rows, [columns, *rows], strict=True)):
            for column, (cell, text) in enumerate(zip(row.cells, texts, strict=True)):
                cell.width = Mm(widths_mm[column])
                paragraph = cell.paragraphs[0]
                paragraph.alignment = (WD_ALIGN_PARAGRAPH.CENTER if index == 0 or (words and column == 0) else
                                       WD_ALIGN_PARAGRAPH.LEFT if column == 0 or words else
                                       WD_ALIGN_PARAGRAPH.RIGHT)
                self._run(paragraph, clean(text), size=TABLE_PT, bold=index == 0)
        return table

    def _body_paragraph(self) -> Paragraph:
        paragraph = self.document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        paragraph_format = paragraph.paragraph_format
        paragraph_format.first_line_indent = Mm(FIRST_LINE_INDENT_MM)
        paragraph_format.space_before = Pt(6)
        paragraph_format.line_spacing = 1.15
        return paragraph

    # ----- the closing -----------------------------------------------------------------------

    def closing(self) -> bytes:
        """Recipients on the left, the signature block on the right; the finished .docx."""
        info = self.info
        self.document.add_paragraph()
        table = self._borderless_table(1, (TEXT_WIDTH_MM / 2 - 5, TEXT_WIDTH_MM / 2 + 5))
        table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # kept on one page
        recipients, signature = table.cell(0, 0), table.cell(0, 1)
        first = recipients.paragraphs[0]
        first.paragraph_format.space_before = Pt(6)
        self._run(first, "Nơi nhận:", size=RECIPIENTS_HEADING_PT, bold=True, italic=True)
        names = [clean(" ".join(name.split())).rstrip(";.") for name in info.recipients if name.strip()]
        if not any(name.startswith(FILED) for name in names):
            names.append(FILED)
        for index, name in enumerate(names):
            end = "." if index == len(names) - 1 else ";"
            self._run(recipients.add_paragraph(), f"- {name}{end}", size=RECIPIENTS_PT)

        authority, title = info.signature_lines()
        lines = [Span(line.upper(), bold=True)
                 for line in [*(authority or "").split("\n"), title] if line.strip()]
        self._cell_lines(signature, lines, BODY_PT)
        signature.paragraphs[0].paragraph_format.space_before = Pt(6)
        for _ in range(4):  # room to sign and seal
            signature.add_paragraph()
        name = clean(info.signer_name).strip()
        self._cell_lines(signature, [Span(name, bold=True) if name else Span(NAME_LINE)], BODY_PT,
                         append=True)
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()

    # ----- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _run(paragraph: Paragraph, text: str, *, size: float, bold: bool = False,
             italic: bool = False) -> Run:
        run = paragraph.add_run(text)
        run.font.name = FONT
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.italic = italic
        fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), FONT)
        fonts.set(qn("w:cs"), FONT)
        return run

    def _cell_lines(self, cell: _Cell, lines: Iterable[Span], size: float, append: bool = False) -> None:
        """Centred lines in a table cell, one paragraph each."""
        for index, line in enumerate(lines):
            paragraph = cell.add_paragraph() if append or index else cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            self._run(paragraph, line.text, size=size, bold=line.bold, italic=line.italic)

    def _rule(self, cell: _Cell, width_mm: float, rule_mm: float) -> None:
        self._rule_paragraph(cell.add_paragraph(), width_mm, rule_mm)

    @staticmethod
    def _rule_paragraph(paragraph: Paragraph, width_mm: float, rule_mm: float) -> None:
        """A short horizontal rule, centred: a tiny empty paragraph with a bottom border,
        narrowed by its indents to `rule_mm`."""
        side = max((width_mm - rule_mm) / 2 - 2, 0)  # less the cell's own padding
        paragraph_format = paragraph.paragraph_format
        paragraph_format.left_indent = paragraph_format.right_indent = Mm(side)
        paragraph_format.space_before = paragraph_format.space_after = Pt(0)
        paragraph_format.line_spacing = Pt(3)
        p_pr = paragraph._p.get_or_add_pPr()
        border = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
            bottom.set(qn(key), value)
        border.append(bottom)
        p_pr.insert_element_before(border, *_PPR_AFTER_BORDER)

    def _borderless_table(self, rows: int, widths_mm: Sequence[float]) -> Table:
        table: Table = self.document.add_table(rows=rows, cols=len(widths_mm))
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        tbl_pr = table._tbl.tblPr
        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            element = OxmlElement(f"w:{edge}")
            element.set(qn("w:val"), "nil")
            borders.append(element)
        tbl_pr.insert_element_before(borders, *_TBLPR_AFTER_BORDERS)
        for column, width in zip(table.columns, widths_mm, strict=True):
            column.width = Mm(width)
            for cell in column.cells:
                cell.width = Mm(width)
        return table


_SOURCE_PREFIX = re.compile(r"^\s*Đề cương(\s+báo cáo)?\s+kèm theo\s+", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"ngày (\d{1,2})/(\d{1,2})/(\d{4})")


def basis(source: str) -> str:
    """The document a report implements, as the opening sentence names it: the outline's
    `source` without "Đề cương kèm theo", dates spelled out ("ngày 21 tháng 01 năm 2021")."""
    text = _SOURCE_PREFIX.sub("", source.strip())

    def spelled(match: re.Match[str]) -> str:
        day, month, year = (int(group) for group in match.groups())
        try:
            return vietnamese_date(date(year, month, day))
        except ValueError:
            return match.group(0)

    return _NUMERIC_DATE.sub(spelled, text)
