"""Charts for the VP office: reports per status, and cumulative submissions against the deadline.

The `*_data` functions compute the numbers (pure, tested); the `render_*` functions draw them
as PNG with matplotlib's Agg canvas (no display, no pyplot global state)."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from documents.model import STATUS_LABELS, local_datetime, status_label

STATUS_COLOURS = {
    "not_started": "#9e9e9e",
    "in_progress": "#f5a623",
    "submitted": "#4a90d9",
    "returned": "#d0021b",
    "resubmitted": "#7b61ff",
    "accepted": "#2e7d32",
}
WIDTH_IN, HEIGHT_IN, DPI = 9.0, 5.0, 100


@dataclass(frozen=True)
class ChartData:
    """What a chart shows: one value per label (a status, or a day as "dd/mm").

    For submissions over time `days` holds the dates behind the labels, `values` the number of
    units that had submitted by the end of each day, `deadline` the due date, `today` the day the
    line stops at (nothing is known of the days after it); `total`, when known, is the number of
    units expected to submit."""

    title: str
    labels: tuple[str, ...]
    values: tuple[int, ...]
    keys: tuple[str, ...] = ()
    days: tuple[date, ...] = ()
    deadline: date | None = None
    total: int | None = None
    today: date | None = None


def date_labels(days: Sequence[date]) -> list[str]:
    """"dd/mm" per day, with the year on the first and wherever it changes ("30/12/2026",
    "31/12", "01/01/2027"): a chart across New Year says which year each day is in."""
    labels, year = [], None
    for day in days:
        labels.append(f"{day:%d/%m}" if day.year == year else f"{day:%d/%m/%Y}")
        year = day.year
    return labels


def status_chart_data(counts: Mapping[str, int]) -> ChartData:
    """Units per report status, every status in its usual order (absent ones as 0)."""
    for status in counts:
        status_label(status)  # an unknown status is a mistake upstream: say so
    keys = tuple(STATUS_LABELS)
    return ChartData(
        title="Tình hình nộp báo cáo của các cơ quan, đơn vị",
        labels=tuple(STATUS_LABELS[key] for key in keys),
        values=tuple(int(counts.get(key, 0)) for key in keys),
        keys=keys,
        total=sum(counts.values()),
    )


def submissions_over_time_data(
    submitted_at: Iterable[datetime | None],
    deadline: date,
    start: date,
    *,
    end: date | None = None,
    total: int | None = None,
    today: date | None = None,
) -> ChartData:
    """Cumulative submissions per day from `start` to `end`: by default `today` where given (the
    line stops there, whether the deadline is past or still ahead), else the later of the
    deadline and the last submission. Times are read in Việt Nam time; a submission before
    `start` counts from the first day, one after `end` is not shown; None (not submitted) is
    skipped."""
    submitted_days = sorted(local_datetime(moment).date() for moment in submitted_at if moment)
    last = end or today or max([deadline, start, *submitted_days[-1:]])
    if last < start:
        raise ValueError(f"the chart ends ({last}) before it starts ({start})")
    days = tuple(start + timedelta(days=offset) for offset in range((last - start).days + 1))
    values, index, count = [], 0, 0
    for day in days:
        while index < len(submitted_days) and submitted_days[index] <= day:
            index += 1
            count += 1
        values.append(count)
    return ChartData(
        title="Số cơ quan, đơn vị đã nộp báo cáo (lũy kế theo ngày)",
        labels=tuple(date_labels(days)),
        values=tuple(values),
        days=days,
        deadline=deadline,
        total=total,
        today=today,
    )


def render_status_chart(data: ChartData) -> bytes:
    """A bar per status with its count on top; PNG."""
    figure, axes = _figure()
    positions = range(len(data.values))
    colours = [STATUS_COLOURS.get(key, "#4a90d9") for key in data.keys] or None
    bars = axes.bar(positions, data.values, color=colours, width=0.6)
    axes.bar_label(bars, labels=[str(value) for value in data.values], padding=3, fontsize=11)
    axes.set_xticks(list(positions), [textwrap.fill(label, 14) for label in data.labels], fontsize=10)
    axes.set_ylabel("Số cơ quan, đơn vị")
    axes.set_ylim(0, max([*data.values, 1]) * 1.15)
    title = data.title + (f" (tổng số: {data.total})" if data.total is not None else "")
    axes.set_title(title, fontsize=13, fontweight="bold")
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def render_progress_chart(data: ChartData) -> bytes:
    """Cumulative submissions per day up to today, today and the deadline as vertical lines
    (the axis runs on to the deadline when it is still ahead); dates with the year where it
    changes; PNG."""
    figure, axes = _figure()
    # Each day's value: the units that had submitted by its end.
    days = [datetime.combine(day, time()) for day in data.days]
    axes.plot(days, data.values, color="#2e7d32", linewidth=2, marker="o", markersize=4)
    axes.fill_between(days, data.values, color="#2e7d32", alpha=0.15)
    span = [*data.days, *(d for d in (data.deadline, data.today) if d is not None)]
    if span:
        axes.set_xlim(datetime.combine(min(span), time()) - timedelta(hours=12),
                      datetime.combine(max(span), time()) + timedelta(hours=12))
    if data.deadline is not None:
        axes.axvline(datetime.combine(data.deadline, time()), color="#d0021b", linestyle="--", linewidth=1.5,
                     label=f"Hạn nộp: {data.deadline:%d/%m/%Y}")
    if data.today is not None:
        axes.axvline(datetime.combine(data.today, time()), color="#1f4e9e", linestyle=":", linewidth=1.5,
                     label=f"Hôm nay: {data.today:%d/%m/%Y}")
    if data.total is not None:
        axes.axhline(data.total, color="#555555", linestyle=":", linewidth=1,
                     label=f"Tổng số cơ quan, đơn vị: {data.total}")
    if data.values:
        axes.annotate(str(data.values[-1]), (days[-1], data.values[-1]), textcoords="offset points",
                      xytext=(4, 4), fontsize=11)
    _date_ticks(axes)
    axes.set_ylabel("Số cơ quan, đơn vị đã nộp")
    axes.set_ylim(0, max([*data.values, data.total or 0, 1]) * 1.15)
    axes.set_title(data.title, fontsize=13, fontweight="bold")
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    if data.deadline is not None or data.total is not None or data.today is not None:
        axes.legend(loc="upper left", frameon=False)
    figure.autofmt_xdate()
    return _png(figure)


def _date_ticks(axes: Any) -> None:
    """Whole days as ticks, labelled by `date_labels` (the year where it changes)."""
    from matplotlib.dates import AutoDateLocator, num2date

    locator = AutoDateLocator(minticks=4, maxticks=12)  # type: ignore[no-untyped-call]
    locator.set_axis(axes.xaxis)
    low, high = axes.get_xlim()
    values = locator.tick_values(num2date(low), num2date(high))  # type: ignore[no-untyped-call]
    ticks = sorted({num2date(value).date() for value in values  # type: ignore[no-untyped-call]
                    if low <= value <= high})
    axes.set_xticks([datetime.combine(day, time()) for day in ticks], date_labels(ticks))


def _figure() -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
