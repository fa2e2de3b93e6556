"""Hostile and odd input, as officers and strangers really type it: figures out of all reason,
pastes too long for an answer, bytes that are not text, buttons forged by a modified client.
Nothing crashes, nothing is stored cut or wrong, and the officer is told why."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.answers import NONE_ANSWER, Answer
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.outline import Outline, OutlineError, load_outline
from engine.views import Action, Mode, NoticeKind, Outcome, QuestionView, State, Turn
from handlers.render import question_text
from locales.translation import translator
from tests.commands import command
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import Officer as TelegramOfficer
from tests.telegram_harness import cli, running_bot
from tests.telegram_harness import query as bot_query

VI = translator("vi")
EN = translator("en")

TIMEOUT = 60


def environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KSTTHC_")}
    env["KSTTHC_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'chat.sqlite3'}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_chat(workdir: Path, data: bytes) -> subprocess.CompletedProcess[bytes]:
    """`kstthc-bot chat < file`: the bytes as a file piped to the console."""
    return subprocess.run([*command(), "chat"], input=data, capture_output=True, cwd=workdir,
                          env=environment(workdir), timeout=TIMEOUT)


def lines(*typed: str) -> bytes:
    return "".join(line + "\n" for line in typed).encode()


def query(workdir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(workdir / "chat.sqlite3") as connection:
        return connection.execute(sql).fetchall()


def test_a_count_with_thirty_digits_is_refused_and_review_still_works(tmp_path: Path) -> None:
    result = run_chat(tmp_path, lines("mục lục 4.3.a", "9" * 30, "xem 4"))
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "Số liệu quá lớn" in out and "10.000.000" in out
    assert query(tmp_path, "select value from answers where question = 'dossiers_total'") == []
    assert re.search(r"  4\.3\.a\. .+: \(chưa trả lời\)", out)  # section 4 of the review printed


def test_a_huge_figure_saved_before_the_bounds_existed_still_shows(tmp_path: Path) -> None:
    first = run_chat(tmp_path, lines("mục lục 4.3.a", "12"))
    assert first.returncode == 0, first.stderr.decode()
    with sqlite3.connect(tmp_path / "chat.sqlite3") as connection:
        connection.execute("update answers set value = ? where question = 'dossiers_total'",
                           ("9" * 5000,))
    again = run_chat(tmp_path, lines("xem", "mục lục 4.3.a"))
    assert again.returncode == 0, again.stderr.decode()
    assert "999.999.999" in again.stdout.decode()


def test_bytes_that_are_not_text_on_the_console_are_shown_and_stored_readable(tmp_path: Path) -> None:
    typed = (
        "mục lục 1.1\n".encode()
        # Latin-1 bytes, a NUL, a surrogate's bytes, a zero-width space:
        + b"K\xe1\xba\xbf ho\xe1\xba\xa1ch s\xff\xfe 12\x00/KH\xed\xa0\x80 \xe2\x80\x8bxong\n"
        + b"\xc3\n"  # a line cut mid-character
    )
    result = run_chat(tmp_path, typed)
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    stored = [row[0] for row in query(tmp_path, "select value from answers order by id")]
    assert stored[0] == "Kế hoạch s�� 12/KH��� xong"
    assert "Đã lưu: Kế hoạch s�� 12/KH��� xong" in out
    assert "\x00" not in out and "Traceback" not in result.stderr.decode()


# ----- the engine, as every channel drives it -------------------------------------------------

SMALL = """\
outline:
  id: hostile
  version: "1"
  title: {vi: "Đề cương thử", en: "Test outline"}
parts:
  - {number: "I", title: {vi: "Phần I", en: "Part I"}}
sections:
  - number: "I.1"
    part: "I"
    title: {vi: "Mục một", en: "Section one"}
    short: {vi: "Mục một", en: "One"}
    questions:
      - {name: inspections, number: "1.1", type: integer, max: 50,
         label: {vi: "Số cuộc kiểm tra", en: "Inspections"}}
      - {name: dossiers, number: "1.2", type: integer, label: {vi: "Số hồ sơ", en: "Dossiers"}}
      - {name: share, number: "1.3", type: percent, label: {vi: "Tỷ lệ", en: "Share"}}
      - {name: budget, number: "1.4", type: decimal, min: 1, label: {vi: "Kinh phí", en: "Budget"}}
      - {name: issued_on, number: "1.5", type: date, label: {vi: "Ngày ban hành", en: "Issued on"}}
      - {name: visit_on, number: "1.6", type: date, min: 2021-01-01, max: 2021-12-31,
         label: {vi: "Ngày kiểm tra", en: "Visit date"}}
      - {name: notes, number: "1.7", type: text, max_length: 100, label: {vi: "Ghi chú", en: "Notes"}}
      - {name: has_plan, number: "1.8", type: yes_no, label: {vi: "Có kế hoạch", en: "Has a plan"}}
      - name: level
        number: "1.9"
        type: select_one
        label: {vi: "Cấp", en: "Level"}
        choices:
          - {value: city, label: {vi: "Thành phố", en: "City"}}
          - {value: commune, label: {vi: "Xã", en: "Commune"}}
"""
DEADLINE = date(2026, 10, 31)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> ReportEngine:
    path = tmp_path_factory.mktemp("outline") / "hostile.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return ReportEngine(load_outline(path))


def at_question(name: str, **extra: Any) -> State:
    return State(answers={}, cursor=name, deadline=DEADLINE, **extra)


def step(engine: ReportEngine, name: str, typed: str | Turn, **extra: Any) -> Outcome:
    turn = parse_text(typed) if isinstance(typed, str) else typed
    return engine.step(at_question(name, **extra), turn)


def refusal(outcome: Outcome, translator_: Any = VI) -> str:
    assert not outcome.saved, outcome.saved
    errors = [n.message.render(translator_) for n in outcome.notices if n.kind is NoticeKind.ERROR]
    assert len(errors) == 1, outcome.notices
    return errors[0]


@pytest.mark.parametrize(("name", "typed", "vi", "en"), [
    ("inspections", "51", "Số liệu quá lớn: câu này nhận số liệu tối đa là 50.",
     "The figure is too large: this question takes at most 50."),
    ("dossiers", "10.000.001", "tối đa là 10.000.000.", "at most 10,000,000."),
    ("dossiers", "9" * 30, "tối đa là 10.000.000.", "at most 10,000,000."),
    ("dossiers", "1" + "0" * 10_000, "tối đa là 10.000.000.", "at most 10,000,000."),
    ("share", "100,5%", "Tỷ lệ phải từ 0 đến 100%.", "between 0 and 100%"),
    ("budget", "0,5", "Số liệu quá nhỏ: câu này nhận số liệu từ 1 trở lên.",
     "The figure is too small: this question takes 1 or more."),
    ("budget", "1,123456", "tối đa 4 chữ số sau dấu phẩy", "at most 4 digits after the decimal"),
])
def test_figures_beyond_their_bounds_are_refused_in_the_officers_language(
    small: ReportEngine, name: str, typed: str, vi: str, en: str,
) -> None:
    outcome = step(small, name, typed)
    assert isinstance(outcome.view, QuestionView) and outcome.view.question.name == name  # asked again
    assert vi in refusal(outcome, VI)
    assert en in refusal(outcome, EN)


def test_figures_within_bounds_are_kept(small: ReportEngine) -> None:
    assert step(small, "inspections", "50").saved == {"inspections": Answer.of(50)}
    assert step(small, "dossiers", "10.000.000 hồ sơ").saved == {"dossiers": Answer.of(10_000_000)}


@pytest.mark.parametrize(("name", "typed", "vi"), [
    ("issued_on", "31/12/1999", "vui lòng nhập ngày từ 01/01/2000 đến 31/12/2026."),
    ("issued_on", "01/01/2027", "vui lòng nhập ngày từ 01/01/2000 đến 31/12/2026."),
    ("issued_on", "15/03/2999", "Ngày 15/03/2999 nằm ngoài thời gian hợp lý của báo cáo"),
    ("visit_on", "15/03/2022", "vui lòng nhập ngày từ 01/01/2021 đến 31/12/2021."),
])
def test_dates_outside_a_plausible_window_are_refused(small: ReportEngine, name: str, typed: str,
                                                      vi: str) -> None:
    outcome = step(small, name, typed)
    assert vi in refusal(outcome)
    assert "date" in refusal(outcome, EN).lower()


def test_dates_inside_the_window_are_kept(small: ReportEngine) -> None:
    assert step(small, "issued_on", "01/01/2000").saved == {"issued_on": Answer.of(date(2000, 1, 1))}
    assert step(small, "issued_on", "31/12/2026").saved == {"issued_on": Answer.of(date(2026, 12, 31))}


@pytest.mark.parametrize("typed", ["Không có.", "ko có", "khong co", "0 (không)", "KHÔNG CÓ!",
                                   "\u200bkhông có", "0 (không có)"])
@pytest.mark.parametrize("name", ["dossiers", "notes", "has_plan", "level", "issued_on"])
def test_none_as_officers_type_it(small: ReportEngine, typed: str, name: str) -> None:
    assert step(small, name, typed).saved == {name: NONE_ANSWER}


@pytest.mark.parametrize(("typed", "stored"), [
    ("Đã\x00 ban hành\u200b kế\ufeff hoạch", "Đã ban hành kế hoạch"),
    ("dòng 1\r\ndòng 2\rdòng 3", "dòng 1\ndòng 2\ndòng 3"),
    ("nửa cặp \ud800 thay bằng dấu", "nửa cặp \ufffd thay bằng dấu"),
    ("gia đình 👨\u200d👩\u200d👧", "gia đình 👨\u200d👩\u200d👧"),  # the joiner holds the emoji together
])
def test_text_is_stored_without_what_cannot_be_stored(small: ReportEngine, typed: str, stored: str) -> None:
    assert step(small, "notes", typed).saved == {"notes": Answer.of(stored)}


@pytest.mark.parametrize("typed", ["\u200b\u200b", "\x00", "\ufeff \u200d "])
def test_invisible_text_is_no_answer(small: ReportEngine, typed: str) -> None:
    assert "Vui lòng nhập nội dung trả lời." in refusal(step(small, "notes", typed))


def test_a_paste_over_the_limit_is_refused_whole_with_the_limit_stated_up_front(small: ReportEngine) -> None:
    prompt = question_text(step(small, "notes", Turn(Action.CONTINUE)).view, VI)  # type: ignore[arg-type]
    assert "(Trả lời tối đa 100 ký tự.)" in prompt
    outcome = step(small, "notes", "chữ " * 2500)
    assert refusal(outcome) == ("Nội dung quá dài (9.999 ký tự); câu này nhận tối đa 100 ký tự. Câu trả "
                                "lời chưa được lưu: vui lòng rút gọn rồi gửi lại.")
    assert "9,999 characters" in refusal(outcome, EN)


def test_the_outline_caps_a_text_answer_at_what_one_telegram_message_holds(tmp_path: Path) -> None:
    path = tmp_path / "too-long.yaml"
    path.write_text(SMALL.replace("max_length: 100", "max_length: 5000"), encoding="utf-8")
    with pytest.raises(OutlineError) as caught:
        load_outline(path)
    assert "max_length" in str(caught.value) and "4000" in str(caught.value)


@pytest.mark.parametrize(("bounds", "fault"), [
    ("max: 2021-01-01", "max of a integer question must be a number"),
    ("max: 10000000000000000", "max must be from 0 to"),
    ("min: 60, max: 50", "min must not exceed max"),
])
def test_bounds_are_checked_when_the_outline_loads(tmp_path: Path, bounds: str, fault: str) -> None:
    path = tmp_path / "bounds.yaml"
    path.write_text(SMALL.replace("max: 50,", bounds + ","), encoding="utf-8")
    with pytest.raises(OutlineError) as caught:
        load_outline(path)
    assert fault in str(caught.value) and "'inspections'" in str(caught.value)


def test_bounds_on_a_text_question_are_refused_when_the_outline_loads(tmp_path: Path) -> None:
    path = tmp_path / "bounds.yaml"
    path.write_text(SMALL.replace("max_length: 100,", "max_length: 100, max: 3,"), encoding="utf-8")
    with pytest.raises(OutlineError) as caught:
        load_outline(path)
    assert "min and max apply only to" in str(caught.value)


# ----- forged buttons -------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "choice"), [
    ("notes", 1), ("dossiers", 2), ("issued_on", 1),  # a choice on a question without choices
    ("has_plan", 3), ("level", 3), ("level", -1), ("level", 10**30),  # a choice not in the list
])
def test_a_forged_choice_is_refused_and_never_stored(small: ReportEngine, name: str, choice: int) -> None:
    outcome = step(small, name, Turn(Action.ANSWER, text=str(choice), choice=choice))
    assert "không có trong câu hỏi đang trả lời" in refusal(outcome)
    assert "not one of this question's" in refusal(outcome, EN)
    assert outcome.state.answers == {}


def test_a_genuine_choice_is_kept(small: ReportEngine) -> None:
    chosen = step(small, "level", Turn(Action.ANSWER, text="2", choice=2))
    assert chosen.saved == {"level": Answer.of("commune")}
    assert step(small, "has_plan", Turn(Action.ANSWER, text="0", choice=0)).saved == {"has_plan": NONE_ANSWER}


# ----- a paste Telegram split in several messages --------------------------------------------

SENT = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)


def sent(typed: str, seconds: float) -> Turn:
    return replace(parse_text(typed), sent_at=SENT + timedelta(seconds=seconds))


def test_the_rest_of_a_refused_paste_is_refused_too(small: ReportEngine) -> None:
    first = small.step(at_question("notes"), sent("chữ " * 1024, 0))  # 4,096 characters
    assert "quá dài" in refusal(first) and first.state.mode is Mode.OVERLONG
    second = small.step(first.state, sent("phần còn lại của đoạn văn", 1))
    assert "phần tiếp theo của đoạn văn bản dài vừa gửi" in refusal(second)
    assert "tối đa 100 ký tự" in refusal(second)
    third = small.step(second.state, sent("và phần thứ ba", 1.5))
    assert "phần tiếp theo" in refusal(third)
    # The officer reads the refusal and answers again: that is kept.
    retry = small.step(third.state, sent("Bản rút gọn", 40))
    assert retry.saved == {"notes": Answer.of("Bản rút gọn")}


def test_the_rest_of_a_saved_long_paste_is_not_saved_under_the_next_question(
    outline: Outline, engine: ReportEngine,
) -> None:
    long_question = next(q for q in outline.asked_questions if q.type == "text" and q.max_length >= 4000)
    first = engine.step(at_question(long_question.name), sent("chữ " * 900, 0))  # 3,600: fits
    assert first.saved and first.state.mode is Mode.LONG_SAVED
    second = engine.step(first.state, sent("đoạn cuối", 1))
    assert not second.saved
    assert "gõ “lại”" in refusal(second) and "4.096" in refusal(second)
    assert second.state.cursor == first.state.cursor


def test_a_short_message_is_never_taken_for_the_rest_of_a_paste(small: ReportEngine) -> None:
    first = small.step(at_question("notes"), sent("quá dài " * 20, 0))  # 160 > 100, but not a split
    assert first.state.mode is Mode.ANSWERING
    assert small.step(first.state, sent("Ngắn gọn", 1)).saved == {"notes": Answer.of("Ngắn gọn")}


# ----- the same through the real bot on Telegram ------------------------------------------------

OFFICER = 2002


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def test_forged_choices_split_pastes_and_odd_text_on_telegram(
    tg: FakeTelegram, tmp_path: Path, outline: Outline,
) -> None:
    code = cli(tmp_path, tg, "invite", "31135")
    async with running_bot(tmp_path, tg):
        officer = TelegramOfficer(tg, OFFICER, outline)
        await officer.says(f"/start {code}", expect="câu 1/")
        first = officer.current_question()
        assert "(Trả lời tối đa 2.000 ký tự.)" in first.plain_text  # the limit, up front

        # A choice button forged onto a text question, and one beyond a yes/no question's two.
        refused = "không có trong câu hỏi đang trả lời"
        since = len(officer.messages())
        tg.user_presses_button(OFFICER, first.message_id, "p:guidance_documents:1", strict=False)
        await officer.next_message(since, refused, 15)
        # NUL, an escape and a zero-width space: stored clean, shown as stored. (An unpaired
        # surrogate is covered on the console and in the engine: polling stores the raw update
        # first, which is the inbox's business.)
        await officer.says("Kế hoạch\x00 số 12\u200b/KH\x1b đã ban hành", expect="câu 2/")
        await officer.says("mục lục 1.4.b", expect="1.4.b.")
        yes_no = officer.current_question()
        since = len(officer.messages())
        tg.user_presses_button(OFFICER, yes_no.message_id, "p:implementation_difficulties_any:3",
                               strict=False)
        await officer.next_message(since, refused, 15)

        # A paste of 4,095 characters, as Telegram clients send it: two messages at once.
        await officer.says("mục lục 1.2", expect="1.2.")
        since = len(officer.messages())
        tg.user_sends_text(OFFICER, "Nội dung " * 455)  # 4,095 characters, 4,094 once trimmed
        tg.user_sends_text(OFFICER, "đoạn cuối của bản dán.")
        await officer.next_message(since, "Nội dung quá dài (4.094 ký tự)", 15)
        await officer.next_message(since, "phần tiếp theo của đoạn văn bản dài vừa gửi", 15)
    assert bot_query(tmp_path, "select question, value from answers") == [
        ("guidance_documents", "Kế hoạch số 12/KH đã ban hành")]


@pytest.mark.parametrize("typed", ["²", "①", "9" * 4301, "0" * 5000 + "1"])
@pytest.mark.parametrize("name", ["level", "has_plan", "dossiers", "share", "issued_on"])
def test_digits_that_are_not_0_to_9_and_endless_digits_are_refused(small: ReportEngine, typed: str,
                                                                   name: str) -> None:
    outcome = step(small, name, typed)
    if outcome.saved:  # "0…01" is a figure of 1
        assert typed.startswith("0") and name in ("dossiers", "share")
    else:
        assert refusal(outcome)
