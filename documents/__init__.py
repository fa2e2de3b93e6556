"""Documents built from reports: a unit's report and the city summary (.docx), the VP office's
workbook (.xlsx) and CSV, and charts (.png). Pure builders: plain data in, bytes out; no
database, no chat platform.

The .docx and .xlsx builders bring python-docx and XlsxWriter along, up to a second of CPU:
their modules are imported when one of their names is first used, not when the bot
starts; the light ones (model, totals, charts, whose matplotlib loads inside) as usual."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from documents.charts import (
    ChartData,
    render_progress_chart,
    render_status_chart,
    status_chart_data,
    submissions_over_time_data,
)
from documents.model import (
    LEVEL_LABELS,
    STATUS_LABELS,
    SUBMITTED_STATUSES,
    ReportDocumentInfo,
    ReportStatus,
    UnitReport,
    status_label,
    vietnamese_date,
)
from documents.totals import Totals, recompute_rates, totals

if TYPE_CHECKING:
    from documents.city_summary import build_city_summary_docx
    from documents.report_docx import build_report_docx
    from documents.workbook import answer_columns, build_csv, build_workbook

_HEAVY = {
    "build_city_summary_docx": "city_summary",
    "build_report_docx": "report_docx",
    "answer_columns": "workbook", "build_csv": "workbook", "build_workbook": "workbook",
}


def __getattr__(name: str) -> Any:
    home = _HEAVY.get(name)
    if home is None:
        raise AttributeError(f"module 'documents' has no attribute {name!r}")
    return getattr(importlib.import_module(f"documents.{home}"), name)


__all__ = [
    "LEVEL_LABELS",
    "STATUS_LABELS",
    "SUBMITTED_STATUSES",
    "ChartData",
    "ReportDocumentInfo",
    "ReportStatus",
    "Totals",
    "UnitReport",
    "answer_columns",
    "build_city_summary_docx",
    "build_csv",
    "build_report_docx",
    "build_workbook",
    "recompute_rates",
    "render_progress_chart",
    "render_status_chart",
    "status_chart_data",
    "status_label",
    "submissions_over_time_data",
    "totals",
    "vietnamese_date",
]
