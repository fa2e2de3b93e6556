"""Benchmark: the VP office's workbook of 10,000 units with complete answers.

    python3 bench/export.py [--units 10000] [--repeat 3] [--csv]

The answers are those of the scripted officer (tests/scripted_officer.py) walked through the
real engine once per unit level, then varied per unit: whole-number figures multiplied by a
factor (every cross-field rule of the outline is linear, so all still hold), every text answer
made unique to its unit, a few units "không có" for figures, a few late. Times `build_workbook`
(and `build_csv` with --csv) and reports the peak memory of the process (ru_maxrss), which
includes the input: `rss_before_mb` is the peak once the input is built. `seconds` is the
fastest of --repeat builds (the machine may be shared: `seconds_median` and `cpu_seconds` say
how much that mattered). The last line printed is one JSON object."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from documents import UnitReport, build_csv, build_workbook  # noqa: E402
from engine.answers import NONE_ANSWER, Answer, AnswerKind  # noqa: E402
from engine.commands import parse_text  # noqa: E402
from engine.conversation import ReportEngine  # noqa: E402
from engine.outline import Outline, default_outline_path, load_outline  # noqa: E402
from engine.views import State  # noqa: E402
from tests.scripted_officer import script_for  # noqa: E402

LEVELS = ("commune", "commune", "commune", "district", "department")
FACTORS = 40
DEADLINE = date(2021, 10, 29)
TODAY = date(2021, 11, 2)
FIGURES_NONE = ("dossiers_postal", "results_postal")


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def scripted_answers(engine: ReportEngine, unit_level: str) -> dict[str, Answer]:
    state = engine.resume(State(answers={}, unit_level=unit_level)).state
    for line in script_for(engine, unit_level):
        state = engine.step(state, parse_text(line)).state
    return dict(state.answers)


Template = tuple[dict[str, Answer], dict[str, Decimal]]


def templates(engine: ReportEngine) -> dict[tuple[str, int, bool], Template]:
    """(level, factor, none for postal figures) → (answers, calculated), computed once each."""
    outline = engine.outline
    result = {}
    for level in set(LEVELS):
        base = scripted_answers(engine, level)
        for factor in range(1, FACTORS + 1):
            for nothing_by_post in (False, True):
                answers = {
                    name: Answer.of(answer.value * factor) if answer.kind is AnswerKind.VALUE
                    and outline.question(name).type == "integer" else answer
                    for name, answer in base.items()
                }
                if nothing_by_post:
                    for name in FIGURES_NONE:
                        answers[name] = NONE_ANSWER
                calculated = engine.calculated(State(answers=answers, unit_level=level))
                result[(level, factor, nothing_by_post)] = (answers, dict(calculated))
    return result


def synthesise(outline: Outline, units: int) -> list[UnitReport]:
    engine = ReportEngine(outline)
    made = templates(engine)
    text_names = {q.name for q in outline.asked_questions if q.type == "text"}
    reports = []
    for index in range(units):
        level = LEVELS[index % len(LEVELS)]
        code = f"{10000 + index}"
        answers, calculated = made[(level, 1 + index % FACTORS, index % 9 == 0)]
        unique = dict(answers)
        for name in text_names & unique.keys():
            answer = unique[name]
            if answer.kind is AnswerKind.VALUE:
                unique[name] = Answer.of(f"{answer.value} Đơn vị {code} đã triển khai trong năm 2021.")
        submitted_at = datetime(2021, 10, 18, 2, 0, tzinfo=UTC) + timedelta(hours=index % 300)
        reports.append(UnitReport(
            unit_code=code, unit_name=f"Đơn vị thử nghiệm số {index + 1}", unit_level=level,
            parent_name="Thành phố Cần Thơ", status="accepted" if index % 3 else "submitted",
            submitted_at=submitted_at, deadline=DEADLINE, answers=unique,
            calculated=calculated,
        ))
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="builds to time; `seconds` is the fastest, as timeit reports (default 3)")
    parser.add_argument("--csv", action="store_true", help="time build_csv too")
    args = parser.parse_args()

    outline = load_outline(default_outline_path())
    started = time.perf_counter()
    reports = synthesise(outline, args.units)
    synthesised = time.perf_counter() - started
    rss_before = peak_rss_mb()
    print(f"synthesised {len(reports)} units in {synthesised:.2f} s (peak RSS so far {rss_before:.0f} MB)")

    walls, cpus = [], []
    workbook = b""
    for run in range(1, max(args.repeat, 1) + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        workbook = build_workbook(outline, reports, TODAY)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
        print(f"build_workbook run {run}: {walls[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU, "
              f"load average {os.getloadavg()[0]:.1f}")
    peak = peak_rss_mb()
    columns = 3 + len(outline.questions)
    seconds = min(walls)
    print(f"build_workbook: {seconds:.2f} s (median {statistics.median(walls):.2f} s) for {len(reports)} "
          f"units × {columns} answer columns, {len(workbook) / 2**20:.1f} MB xlsx, peak RSS {peak:.0f} MB")
    result: dict[str, object] = {
        "units": len(reports), "seconds": round(seconds, 3),
        "seconds_median": round(statistics.median(walls), 3), "cpu_seconds": round(min(cpus), 3),
        "peak_rss_mb": round(peak, 1), "rss_before_mb": round(rss_before, 1),
        "xlsx_mb": round(len(workbook) / 2**20, 2), "columns": columns, "runs": len(walls),
    }
    if args.csv:
        started = time.perf_counter()
        data = build_csv(outline, reports)
        result["csv_seconds"] = round(time.perf_counter() - started, 3)
        result["csv_mb"] = round(len(data) / 2**20, 2)
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)
        print(f"build_csv: {result['csv_seconds']} s, {result['csv_mb']} MB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
