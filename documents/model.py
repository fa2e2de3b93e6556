"""What the document builders need, as plain data: one unit's report and a document's particulars.

Nothing here reads a database: whoever calls the builders loads units, submissions and answers
and hands them over in these shapes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from deadlines.periods import Period
from engine.answers import Answer
from engine.figures import CalculatedValue

# Việt Nam keeps one offset all year (no daylight saving): UTC+7.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
CITY_COMMITTEE = "UBND THÀNH PHỐ CẦN THƠ"
CITY_PLACE = "Cần Thơ"
Day = date  # for annotations inside ReportDocumentInfo, whose field `date` hides the type


class ReportStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    ACCEPTED = "accepted"


STATUS_LABELS: dict[str, str] = {
    ReportStatus.NOT_STARTED: "Chưa bắt đầu",
    ReportStatus.IN_PROGRESS: "Đang thực hiện",
    ReportStatus.SUBMITTED: "Đã nộp",
    ReportStatus.RETURNED: "Trả lại để chỉnh sửa",
    ReportStatus.RESUBMITTED: "Đã nộp lại",
    ReportStatus.ACCEPTED: "Đã tiếp nhận",
}
# The reports whose figures the city totals count by default: those the unit has handed in and
# that were not sent back for correction.
SUBMITTED_STATUSES: frozenset[str] = frozenset(
    {ReportStatus.SUBMITTED, ReportStatus.RESUBMITTED, ReportStatus.ACCEPTED}
)

LEVEL_LABELS: dict[str, str] = {
    "department": "Sở, ban, ngành",
    "district": "Cấp huyện",
    "commune": "Cấp xã",
    "city": "Cấp thành phố",
}

# Prefixes of administrative unit names, dropped for the place in the date line
# ("Phường Ninh Kiều" → "Ninh Kiều, ngày ...").
_UNIT_KIND_PREFIX = re.compile(r"^(Thành phố|Thị xã|Thị trấn|Quận|Huyện|Phường|Xã)\s+", re.IGNORECASE)
_YEAR = re.compile(r"\b(19|20)\d\d\b")


def status_label(status: str) -> str:
    """The Vietnamese name of a report status ("submitted" → "Đã nộp")."""
    try:
        return STATUS_LABELS[status]
    except KeyError:
        raise ValueError(f"unknown report status {status!r}; known: {', '.join(STATUS_LABELS)}") from None


def local_datetime(moment: datetime) -> datetime:
    """A moment as Việt Nam wall-clock time without tzinfo (naive moments are taken as local)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(VIETNAM_TIME).replace(tzinfo=None)


@dataclass(frozen=True)
class UnitReport:
    """One unit's report in one campaign, as the builders see it.

    `answers` maps question names to answers (value, "không có" or skipped); `calculated` maps
    calculated question names to their values as the engine computed them
    (`ReportEngine.calculated`: a Decimal, or NOT_ARISING where a rate's denominator is 0).
    `submitted_at` is the last submission; aware datetimes are read in Việt Nam time, naive
    ones are taken as Việt Nam time already."""

    unit_code: str
    unit_name: str
    unit_level: str
    parent_name: str | None
    status: str
    submitted_at: datetime | None
    deadline: date
    answers: Mapping[str, Answer] = field(default_factory=dict)
    calculated: Mapping[str, CalculatedValue] = field(default_factory=dict)
    # The unit's answers in the previous campaign of the same kind (cùng kỳ năm trước), if any.
    previous: Mapping[str, Answer] = field(default_factory=dict)
    # What each item of the unit's inspection conclusion required, item 1 first (a report of a
    # campaign of kind after_conclusion; engine.conclusion_items asks about each).
    conclusion_items: tuple[str, ...] = ()

    @property
    def submitted(self) -> bool:
        """Handed in and not sent back: its figures count in the city totals."""
        return self.status in SUBMITTED_STATUSES

    @property
    def submitted_on(self) -> date | None:
        return local_datetime(self.submitted_at).date() if self.submitted_at is not None else None

    def late_as_of(self, today: date) -> bool:
        """Submitted after the deadline, or not submitted yet and the deadline has passed."""
        submitted_on = self.submitted_on
        if submitted_on is not None:
            return submitted_on > self.deadline
        return today > self.deadline

    @property
    def late(self) -> bool:
        """`late_as_of` today (Việt Nam date); builders pass their own `today` instead."""
        return self.late_as_of(datetime.now(VIETNAM_TIME).date())


@dataclass(frozen=True)
class ReportDocumentInfo:
    """The particulars of one administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I).

    - `unit_name`: the issuing body as written in the text ("Ủy ban nhân dân phường Ninh Kiều",
      "Sở Tư pháp"); the header prints it in upper case.
    - `superior`: the body it reports to, printed above it ("UBND THÀNH PHỐ CẦN THƠ"); None for
      a body printed without one (the City People's Committee itself).
    - `place`: the place in the date line ("Cần Thơ", "Ninh Kiều").
    - `number` / `number_suffix`: "Số: {number}/{number_suffix}"; the number is left blank for
      the clerk (văn thư) to fill in when the document is registered.
    - `campaign_title`: the reporting round ("Kiểm soát thủ tục hành chính năm 2021"); the
      subject line (trích yếu) is derived from it unless `subject` is given.
    - `recipients`: printed under "Nơi nhận:" each as "- X;", followed by "- Lưu: VT.".
    - `signing_authority` / `signer_title` / `signer_name`: the signature block (the authority
      may hold several lines, "TL. CHỦ TỊCH\nKT. CHÁNH VĂN PHÒNG"); by default "TM. ỦY BAN NHÂN
      DÂN" / "CHỦ TỊCH" for People's Committees and the head's title for a department ("GIÁM
      ĐỐC" of a Sở; see `signature_lines`); without a name the block leaves a line to write it on.
    - `draft`: printed "DỰ THẢO" on the first page; None: a unit's report is a draft until it
      is handed in.
    - `basis`: the document being implemented, for the opening sentence ("Thực hiện ..."); by
      default derived from the outline's `source`.
    - `period`: the reporting period the figures cover (kỳ báo cáo), printed under the subject
      ("Kỳ báo cáo: từ ngày … đến ngày …") and named in the opening sentence; its year is the
      reporting year.
    - `due`: the campaign's due date as every message words it (handlers.due), for the city
      summary's opening."""

    unit_name: str
    date: date
    campaign_title: str
    superior: str | None = CITY_COMMITTEE
    place: str = CITY_PLACE
    number: str = ""
    number_suffix: str = "BC-UBND"
    subject: str | None = None
    recipients: tuple[str, ...] = ("Văn phòng UBND thành phố",)
    unit_level: str = "commune"
    signing_authority: str | None = None
    signer_title: str | None = None
    signer_name: str = ""
    basis: str | None = None
    period: Period | None = None
    due: str | None = None
    draft: bool | None = None

    @property
    def year(self) -> int:
        """The reporting year: the year the period ends in, else the first year named in the
        campaign title, else the date's."""
        if self.period is not None:
            return self.period.year
        match = _YEAR.search(self.campaign_title)
        return int(match.group(0)) if match else self.date.year

    def period_line(self) -> str | None:
        """"Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027", or None without a period."""
        return None if self.period is None else "Kỳ báo cáo: " + self.period.text()

    def report_subject(self, topic: str) -> str:
        """The subject line (trích yếu) of a unit's report on `topic`, the outline's subject
        (documents.subject.report_subject), unless `subject` is set."""
        if self.subject:
            return self.subject
        if self.period is not None:  # the period line under it says which days: no year to contradict it
            return topic
        return f"{topic} năm {self.year}"

    def span(self) -> str:
        """The days or the year the report covers, as the opening sentence names them."""
        return self.period.text() if self.period else f"năm {self.year}"

    def signature_lines(self) -> tuple[str | None, str]:
        """(authority line or None, title line) of the signature block."""
        if self.signer_title is not None:
            return self.signing_authority, self.signer_title
        if self.unit_level == "department":
            return self.signing_authority, head_title(self.unit_name)
        return self.signing_authority or "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"

    def with_signer(self, lines: Sequence[str], name: str | None) -> ReportDocumentInfo:
        """The signature block as set for the unit (`kstthc-bot units signer`): its title lines,
        the last being the signer's own title, and the name; nothing set keeps the defaults."""
        kept = [" ".join(line.split()) for line in lines if line.strip()]
        if not kept and not name:
            return self
        fields: dict[str, Any] = {"signer_name": (name or "").strip()}
        if kept:
            fields |= {"signing_authority": "\n".join(kept[:-1]) or None, "signer_title": kept[-1]}
        return replace(self, **fields)

    @classmethod
    def for_unit(
        cls, report: UnitReport, *, on: Day, campaign_title: str, **overrides: Any
    ) -> ReportDocumentInfo:
        """The usual particulars of a unit's report: a department reports under the City
        People's Committee as itself; a district or commune as its People's Committee, under its
        parent's (or the city's) committee, dated at its own place. Any field can be overridden."""
        if report.unit_level == "department":
            unit_name, place = report.unit_name, CITY_PLACE
            superior: str | None = CITY_COMMITTEE
        else:
            unit_name = "Ủy ban nhân dân " + _lower_first(report.unit_name)
            place = _place_of(report.unit_name)
            superior = ("UBND " + report.parent_name.upper()) if report.parent_name else CITY_COMMITTEE
        info = cls(unit_name=unit_name, superior=superior, place=place, date=on,
                   campaign_title=campaign_title, unit_level=report.unit_level)
        return replace(info, **overrides)


# The head of a department by the kind of body (the first words of its name); "GIÁM ĐỐC" else.
HEAD_TITLES: tuple[tuple[str, str], ...] = (
    ("chi cục", "CHI CỤC TRƯỞNG"), ("cục", "CỤC TRƯỞNG"), ("ban", "TRƯỞNG BAN"),
    ("thanh tra", "CHÁNH THANH TRA"), ("văn phòng", "CHÁNH VĂN PHÒNG"),
    ("bộ chỉ huy", "CHỈ HUY TRƯỞNG"), ("ủy ban", "CHỦ TỊCH"), ("hội đồng", "CHỦ TỊCH"),
)


def head_title(unit_name: str) -> str:
    """The title of the head of a department, from its name: "Sở Tư pháp" → "GIÁM ĐỐC",
    "Văn phòng Ủy ban nhân dân thành phố" → "CHÁNH VĂN PHÒNG"."""
    name = " ".join(unit_name.split()).lower()
    for prefix, title in HEAD_TITLES:
        if name == prefix or name.startswith(prefix + " "):
            return title
    return "GIÁM ĐỐC"


def _lower_first(name: str) -> str:
    """"Phường Ninh Kiều" → "phường Ninh Kiều" (the kind of unit is a common noun mid-sentence)."""
    match = _UNIT_KIND_PREFIX.match(name)
    if not match:
        return name
    return match.group(1).lower() + name[len(match.group(1)):]


def _place_of(name: str) -> str:
    """The place in a date line: the unit's proper name ("Phường Ninh Kiều" → "Ninh Kiều"), but
    the whole name when the rest is only a number ("Phường 1")."""
    bare = _UNIT_KIND_PREFIX.sub("", name).strip()
    return name if not bare or bare.isdigit() else bare


def vietnamese_date(day: date) -> str:
    """"ngày 05 tháng 01 năm 2021": days under 10 and months 1 and 2 take a leading zero
    (Nghị định 30/2020/NĐ-CP, Phụ lục I)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


@dataclass(frozen=True)
class ListedFile:
    """A file in the report's appendix "Tài liệu kèm theo"."""

    filename: str
    size: str  # as people read it: "1,5 MB"
    place: str  # "Câu 1.1", "Cả báo cáo"
