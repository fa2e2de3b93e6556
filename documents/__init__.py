"""Documents built from reports: a unit's report and the city summary (.docx), the VP office's
workbook (.xlsx) and CSV, and charts (.png). Pure builders: plain data in, bytes out; no
database, no chat platform."""

from documents.charts import (
    ChartData,
    render_progress_chart,
    render_status_chart,
    status_chart_data,
    submissions_over_time_data,
)
from documents.city_summary import build_city_summary_docx
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
from documents.report_docx import build_report_docx
from documents.totals import Totals, recompute_rates, totals
from documents.workbook import answer_columns, build_csv, build_workbook

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
