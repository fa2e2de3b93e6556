"""The console chat end to end, as a newcomer runs it: `kstthc-bot chat` as a subprocess on a
SQLite file, answers piped or typed line by line, killed and restarted."""

from __future__ import annotations

import os
import queue
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.conversation import ReportEngine
from tests.commands import command
from tests.scripted_officer import script_for

TIMEOUT = 60


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KSTTHC_")}
    env["KSTTHC_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'chat.sqlite3'}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_chat(workdir: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command(), "chat", *args], input="".join(line + "\n" for line in lines),
        capture_output=True, text=True, encoding="utf-8", cwd=workdir,
        env=environment(workdir), timeout=TIMEOUT,
    )


def query(workdir: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(workdir / "chat.sqlite3") as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def script(engine: ReportEngine) -> list[str]:
    return script_for(engine, "commune")


def test_a_scripted_officer_completes_the_whole_outline_and_submits(
    workdir: Path, script: list[str]
) -> None:
    result = run_chat(workdir, [*script, "nộp", "xác nhận"])

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Anh/chị đang dùng thử" in out and "kstthc-bot chat --unit" in out
    assert re.search(r"Mục 1 · .+ — câu 1/\d+", out)
    assert f"câu {len(script)}/{len(script)}" in out
    assert out.count("✅ Đã lưu") == len(script)
    assert "Đã nộp báo cáo" in out
    assert query(workdir, "select status from submissions") == [("submitted",)]
    nones = script.count("không có")
    kinds = dict(query(workdir, "select kind, count(*) from answers group by kind"))
    assert nones > 0
    assert kinds == {"value": len(script) - nones, "none": nones}
    # Text round-trips unchanged, markup and emoji included.
    texts = {row[0] for row in query(workdir, "select value from answers where kind = 'value'")}
    assert "Đã thực hiện đầy đủ theo kế hoạch <số 15/KH-UBND> & đúng tiến độ 👍" in texts
    # Figures typed the Vietnamese way are stored as numbers.
    assert ("1234",) in query(workdir, "select value from answers where question = 'procedures_total'")
    assert ("2500",) in query(workdir, "select value from answers where question = 'dossiers_total'")


def test_end_of_input_saves_everything_and_the_next_chat_resumes_where_it_stopped(
    workdir: Path, script: list[str]
) -> None:
    first = run_chat(workdir, script[:10])
    assert first.returncode == 0, first.stderr
    assert query(workdir, "select count(*) from answers") == [(10,)]

    second = run_chat(workdir, [])
    assert second.returncode == 0, second.stderr
    assert f"câu 11/{len(script)}" in second.stdout


def test_a_wrong_figure_is_explained_and_loses_nothing(workdir: Path, script: list[str]) -> None:
    total_at = script.index("2.500")
    lines = [*script[: total_at + 1], "2.300", "abc", "-5", "300"]
    result = run_chat(workdir, lines)

    assert result.returncode == 0, result.stderr
    assert "Vui lòng nhập một số nguyên" in result.stdout
    assert "không được âm" in result.stdout
    # 2.300 new + 300 carried over ≠ 2.500: refused, naming the figures the Vietnamese way.
    assert "2.300" in result.stdout and "2.500" in result.stdout
    stored = dict(query(workdir, "select question, value from answers"))
    assert stored["dossiers_total"] == "2500" and stored["dossiers_new"] == "2300"
    assert "dossiers_carried_over" not in stored


def test_the_same_procedures_asked_twice_must_agree_or_the_officer_is_told(
    workdir: Path, script: list[str]
) -> None:
    """3.1.d and 8.3.a count the same procedures: a different figure at 8.3.a is saved, and the
    officer is told which other item it contradicts, when typing it and again before submitting."""
    desk = script.index("1.100")  # 8.3.a (3.1.d was typed "1 100")
    lines = [*script[:desk], "1.000", *script[desk + 1:], "nộp", "xác nhận"]
    result = run_chat(workdir, lines)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    told = ("Số thủ tục tiếp nhận và trả kết quả tại Bộ phận Một cửa (mục 8.3.a: 1.000) khác số thủ "
            "tục giải quyết qua cơ chế một cửa, một cửa liên thông đã báo cáo tại mục 3.1.d (1.100)")
    typed = out.index("Đã lưu: 1.000")
    assert told in out[typed:out.index("câu", typed)]  # saved, then told, before the next question
    asked = out.rindex("Sau khi nộp, báo cáo không thể sửa")
    confirmation = out[out.rindex("Đơn vị đã trả lời", 0, asked):asked]
    assert told in confirmation  # and again before submitting
    stored = dict(query(workdir, "select question, value from answers"))
    assert stored["procedures_at_one_stop_desk"] == "1000" and stored["procedures_one_stop"] == "1100"
    assert query(workdir, "select status from submissions") == [("submitted",)]


class LiveChat:
    """A chat process fed one line at a time, its output read as it comes."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [*command(), "chat", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=workdir,
            env=environment(workdir),
        )
        self.output: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.put(line)

    def wait_for(self, needle: str, count: int = 1) -> None:
        deadline = time.monotonic() + TIMEOUT
        while sum(needle in line for line in self.seen) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"never saw {needle!r} x{count}; got:\n{''.join(self.seen)}")
            try:
                self.seen.append(self.output.get(timeout=remaining))
            except queue.Empty:
                continue

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def kill(self, sig: int = signal.SIGKILL) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=TIMEOUT)

    def close(self) -> Iterator[str]:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=TIMEOUT)
        return iter(self.seen)


def test_killed_mid_report_restarts_at_the_right_question_with_nothing_lost(
    workdir: Path, script: list[str]
) -> None:
    answered = 31
    chat = LiveChat(workdir)
    for index, line in enumerate(script[:answered], start=1):
        chat.send(line)
        chat.wait_for("✅ Đã lưu", count=index)  # said only after the commit
    assert chat.kill(signal.SIGKILL) == -signal.SIGKILL

    assert query(workdir, "select count(*) from answers") == [(answered,)]
    resumed = LiveChat(workdir)
    resumed.wait_for(f"câu {answered + 1}/{len(script)}")
    for line in [*script[answered:], "nộp", "xác nhận"]:
        resumed.send(line)
    resumed.wait_for("Đã nộp báo cáo")
    resumed.close()
    assert resumed.process.returncode == 0

    assert query(workdir, "select count(*) from answers") == [(len(script),)]
    # No answer was applied twice: one history entry per answer, plus the submission.
    assert query(workdir, "select count(*) from history where event = 'answer'") == [(len(script),)]
    assert query(workdir, "select status from submissions") == [("submitted",)]


def test_ctrl_c_quits_cleanly_with_every_answer_kept(workdir: Path, script: list[str]) -> None:
    chat = LiveChat(workdir)
    for index, line in enumerate(script[:3], start=1):
        chat.send(line)
        chat.wait_for("✅ Đã lưu", count=index)
    assert chat.kill(signal.SIGINT) == 0
    assert query(workdir, "select count(*) from answers") == [(3,)]


def test_choosing_a_unit_and_an_unknown_unit(workdir: Path) -> None:
    chosen = run_chat(workdir, ["không có"], "--unit", "31135")
    assert chosen.returncode == 0, chosen.stderr
    assert "Phường Ninh Kiều" in chosen.stdout
    assert "đang dùng thử" not in chosen.stdout

    unknown = run_chat(workdir, [], "--unit", "99999")
    assert unknown.returncode == 2
    assert "Không tìm thấy đơn vị có mã 99999" in unknown.stdout
