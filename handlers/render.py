"""Views as text, in the officer's language: shared by every channel; a channel that has
buttons passes `words=False` and draws the actions as buttons instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.answers import Answer, AnswerKind
from engine.i18n import N_, Translator
from engine.number_format import format_number
from engine.outline import Section
from engine.qtypes import QUESTION_TYPES
from engine.question import Question
from engine.views import (
    ClosedView,
    CompletedView,
    ConfirmSubmitView,
    ContentsView,
    HelpView,
    Notice,
    NoticeKind,
    Outcome,
    ProgressView,
    QuestionView,
    ReviewView,
    SectionProgress,
    SubmitBlockedView,
    SubmittedView,
    View,
)

NOTICE_MARKS = {
    NoticeKind.SAVED: "✅",
    NoticeKind.ERROR: "⚠️",
    NoticeKind.WARNING: "❗",
    NoticeKind.INFO: "ℹ️",
}

# The explicit answer "không có" as offered with every question: set apart from "Không" (no).
NONE_LABEL = N_("Không có nội dung để báo cáo")

# How an answered question reads in the chat's record: left for later is not done.
RECORD_MARKS = {AnswerKind.VALUE: "✅", AnswerKind.NONE: "✅", AnswerKind.SKIPPED: "⏭"}

# What each question type expects, said to the officer under the question.
EXPECTED_INPUT: dict[str, str] = {
    "text": N_("Gõ nội dung trả lời."),
    "integer": N_("Gõ một số nguyên, ví dụ: 25 hoặc 1.234."),
    "decimal": N_("Gõ một số, ví dụ: 12,5."),
    "percent": N_("Gõ tỷ lệ phần trăm, ví dụ: 12,5%."),
    "yes_no": N_("Gõ số thứ tự của phương án."),
    "select_one": N_("Gõ số thứ tự của phương án."),
    "date": N_("Gõ ngày theo dạng ngày/tháng/năm, ví dụ: 29/10/2021."),
    "calculate": "",
}
# Where the channel draws the choices as buttons, what differs from the words above.
BUTTON_INPUT: dict[str, str] = {
    "yes_no": N_("Bấm chọn một phương án."),
    "select_one": N_("Bấm chọn một phương án."),
}


def section_heading(section: Section, translator: Translator) -> str:
    _ = translator.gettext
    number = section.number.removeprefix("I.")
    return _("Mục {number} · {title}").format(number=number, title=section.short.get(translator.locale))


def show_answer(question: Question, answer: Answer | None, translator: Translator) -> str:
    _ = translator.gettext
    if answer is None:
        return _("(chưa trả lời)")
    if answer.kind is AnswerKind.NONE:
        return _("Không có")
    if answer.kind is AnswerKind.SKIPPED:
        return _("(để sau)")
    return QUESTION_TYPES[question.type].show(answer.value, question, translator)


def choice_lines(question: Question, translator: Translator) -> list[str]:
    """Numbered choices for yes/no and lists; 0, set apart from them, is always "nothing to report"
    (a commune officer reads "Có / Không / Không có" side by side as three answers to one question)."""
    _ = translator.gettext
    if question.type == "yes_no":
        labels = [_("Có"), _("Không")]
    elif question.type == "select_one":
        labels = [choice.label.get(translator.locale) for choice in question.choices]
    else:
        return []
    numbered = [f"{index}. {label}" for index, label in enumerate(labels, start=1)]
    return [*numbered, "", "0. " + _(NONE_LABEL)]


def question_text(view: QuestionView, translator: Translator, words: bool = True) -> str:
    _ = translator.gettext
    locale = translator.locale
    question = view.question
    lines = [
        _("{section} — câu {position}/{total}").format(
            section=section_heading(view.section, translator),
            position=view.position, total=view.total),
        "",
        f"{question.number}. {question.label.get(locale)}",
    ]
    if view.period is not None:
        start, end = view.period
        lines.append("📅 " + _("Kỳ báo cáo: từ ngày {start} đến ngày {end}").format(
            start=start.strftime("%d/%m/%Y"), end=end.strftime("%d/%m/%Y")))
    if view.previous is not None:
        lines.append("📊 " + _("Kỳ trước: {value}").format(
            value=QUESTION_TYPES[question.type].show(view.previous, question, translator)))
    if view.comparisons:
        lines.append("📝 " + _("Số liệu kỳ này so với kỳ trước, để anh/chị tham khảo khi viết:"))
        lines.extend(
            "  • " + _("{number}: {now} (kỳ trước: {before})").format(
                number=figure.number, now=QUESTION_TYPES[figure.type].show(now, figure, translator),
                before=QUESTION_TYPES[figure.type].show(before, figure, translator))
            for figure, now, before in view.comparisons)
    if question.hint:
        lines.append(f"💡 {question.hint.get(locale)}")
    if view.draft is not None:
        lines.extend(["📋 " + _("Dự thảo từ báo cáo khắc phục đơn vị đã nộp:"), view.draft,
                      _("Gõ “đồng ý” để dùng dự thảo này, hoặc gõ nội dung khác.")])
    lines.extend(choice_lines(question, translator))
    if question.type == "text":  # said up front, on every channel: a longer paste is refused
        lines.append(_("(Trả lời tối đa {limit} ký tự.)").format(
            limit=format_number(question.max_length, locale)))
    if view.current is not None and view.current.kind is not AnswerKind.SKIPPED:
        lines.append(_("Đã trả lời: {answer}").format(
            answer=show_answer(question, view.current, translator)))
    if words:
        lines.append("")
        lines.append(_(EXPECTED_INPUT[question.type]) + " " + _(
            "Hoặc gõ: “không có” · “lại” (câu trước) · “sau” (để sau) · “mục lục”."))
    elif expected := BUTTON_INPUT.get(question.type, EXPECTED_INPUT[question.type]):
        lines.extend(["", _(expected)])  # with buttons: what to type, or to press one
    return "\n".join(lines)


def progress_line(progress: SectionProgress, translator: Translator) -> str:
    heading = section_heading(progress.section, translator)
    if progress.total == 0:
        return "➖ " + translator.gettext("{section}: không áp dụng đối với đơn vị").format(
            section=heading)
    mark = "✅" if progress.complete else ("◻️" if progress.given == 0 else "✏️")
    return f"{mark} {heading}: {progress.given}/{progress.total}"


def contents_text(view: ContentsView, translator: Translator, words: bool = True) -> str:
    _ = translator.gettext
    if not words:  # the sections are the buttons: listed once
        return "\n".join([_("MỤC LỤC ĐỀ CƯƠNG BÁO CÁO"), _("Bấm vào mục cần chuyển đến (✅ đã xong · ✏️ đang "
                                                         "làm · ◻️ chưa làm).")])
    lines = [_("MỤC LỤC ĐỀ CƯƠNG BÁO CÁO"), ""]
    lines.extend(progress_line(p, translator) for p in view.sections)
    if words:
        lines.extend(["", _("Gõ số mục để chuyển đến (ví dụ: 4 hoặc II), hoặc số câu "
                            "(ví dụ: 4.3.a); gõ “tiếp” để quay lại câu đang trả lời.")])
    return "\n".join(lines)


def progress_text(view: ProgressView, translator: Translator, words: bool = True) -> str:
    _ = translator.gettext
    lines = [_("TIẾN ĐỘ BÁO CÁO: đã trả lời {given}/{total} câu").format(
        given=view.given, total=view.total), ""]
    lines.extend(progress_line(p, translator) for p in view.sections)
    lines.extend(render_notices(view.warnings, translator))
    return "\n".join(lines)


def review_summary(view: ReviewView, translator: Translator, words: bool = True) -> str:
    """/xem: a line per section (answered of asked), short enough for one message; each section
    in full by its number ("xem 4") or its button, the whole report as the .docx."""
    _ = translator.gettext
    lines = []
    given_in_all = asked_in_all = 0
    for section, items in view.sections:
        asked = [item for item in items if item.question.asked]
        if not asked:
            continue
        given = sum(1 for item in asked if item.answer is not None and item.answer.given)
        given_in_all, asked_in_all = given_in_all + given, asked_in_all + len(asked)
        mark = "✅" if given == len(asked) else ("◻️" if given == 0 else "✏️")
        lines.append(f"{mark} {section_heading(section, translator)}: {given}/{len(asked)}")
    lines.insert(0, _("XEM LẠI BÁO CÁO: đã trả lời {given}/{total} câu").format(
        given=given_in_all, total=asked_in_all))
    lines.extend(render_notices(view.warnings, translator))
    if view.closed:
        lines.append(_("Báo cáo đã nộp cho Văn phòng UBND thành phố nên không sửa được, trừ khi Văn phòng "
                       "trả lại để chỉnh sửa."))
    lines.append(_("Gõ “xem” kèm số mục để đọc đầy đủ mục đó, ví dụ: xem 4.") if words else
                 _("Toàn văn báo cáo ở tệp .docx gửi kèm; bấm ✏️ kèm số mục để sửa một câu của mục đó."))
    return "\n".join(lines)


def review_texts(view: ReviewView, translator: Translator, words: bool = True) -> list[str]:
    """One text per section, so a channel can split long reviews on section boundaries; a summary
    where the view asks for one."""
    if view.summary:
        return [review_summary(view, translator, words)]
    _ = translator.gettext
    locale = translator.locale
    parts = []
    for section, items in view.sections:
        lines = [f"{section.number}. {section.title.get(locale)}"]
        for item in items:
            if item.question.asked:
                shown = show_answer(item.question, item.answer, translator)
            else:
                shown = QUESTION_TYPES[item.question.type].show(item.calculated, item.question,
                                                                translator) + " " + _("(tự tính)")
            if item.previous is not None:
                shown += " · " + _("kỳ trước: {value}").format(
                    value=QUESTION_TYPES[item.question.type].show(item.previous, item.question, translator))
            lines.append(f"  {item.question.number}. {item.question.label.get(locale)}: {shown}")
        parts.append("\n".join(lines))
    notices = render_notices(view.warnings, translator)
    if notices:
        parts.append("\n".join(notices))
    if view.closed:
        parts.append(_("Báo cáo đã nộp cho Văn phòng UBND thành phố nên không sửa được, trừ khi Văn phòng "
                       "trả lại để chỉnh sửa."))
    elif words:
        parts.append(_("Để sửa một câu, gõ “mục lục” kèm số câu, ví dụ: mục lục 4.3.a. "
                       "Gõ “nộp” để nộp báo cáo."))
    return parts


def submit_blocked_text(view: SubmitBlockedView, translator: Translator,
                        words: bool = True) -> str:
    _ = translator.gettext
    locale = translator.locale
    lines = [_("Chưa thể nộp: còn {count} câu bắt buộc chưa trả lời:").format(
        count=len(view.missing))]
    lines.extend(f"  • {q.number}. {q.label.get(locale)}" for q in view.missing[:20])
    if len(view.missing) > 20:
        lines.append("  …")
    if words:
        lines.append(_("Gõ “mục lục” kèm số câu để trả lời, ví dụ: mục lục {number}.").format(
            number=view.missing[0].number))
    return "\n".join(lines)


def confirm_text(view: ConfirmSubmitView, translator: Translator, words: bool = True) -> str:
    _ = translator.gettext
    lines = [_("Đơn vị đã trả lời {given}/{total} câu (trong đó {none} câu “Không có”).").format(
        given=view.given, total=view.total, none=view.none_count)]
    lines.extend(render_notices(view.warnings, translator))
    lines.append(_("Sau khi nộp, báo cáo không thể sửa. Gõ “xác nhận” để nộp, "
                   "hoặc gõ bất kỳ lệnh nào khác để tiếp tục chỉnh sửa.") if words else
                 _("Sau khi nộp, báo cáo không thể sửa. Xác nhận nộp báo cáo?"))
    return "\n".join(lines)


def submitted_text(view: SubmittedView, translator: Translator, words: bool = True) -> str:
    _ = translator.gettext
    return _("Đã nộp báo cáo. Đơn vị đã trả lời {given}/{total} câu (trong đó {none} câu "
             "“Không có”). Văn phòng UBND thành phố đã được thông báo.").format(
        given=view.given, total=view.total, none=view.none_count)


def completed_text(view: CompletedView, translator: Translator, words: bool = True) -> str:
    _ = translator.gettext
    return _("Đơn vị đã trả lời đủ {total} câu của đề cương. Gõ “xem” để xem lại toàn bộ, "
             "“nộp” để nộp báo cáo.").format(total=view.total)


def help_text(view: HelpView, translator: Translator, words: bool = True) -> str:
    _ = translator.gettext
    return "\n".join([
        _("HƯỚNG DẪN"),
        _("Bot hỏi lần lượt từng câu của đề cương báo cáo; mỗi câu trả lời được lưu ngay."),
        _("• Trả lời: gõ nội dung, số liệu (ví dụ 1.234 hoặc 12,5%) hoặc số thứ tự phương án."),
        _("• “không có”: câu không có nội dung, số liệu để báo cáo."),
        _("• “lại”: quay lại câu trước · “sau”: để lại câu này, trả lời sau."),
        _("• “mục lục”: chuyển đến mục khác · “tiến độ”: xem tiến độ · “xem”: xem lại toàn bộ."),
        _("• “nộp”: nộp báo cáo khi đã trả lời đủ các câu bắt buộc."),
        _("• Đính kèm văn bản: gửi ảnh chụp hoặc tệp PDF, Word, Excel ngay tại câu đang hỏi (ghi chú "
          "“cả báo cáo” để đính kèm chung)."),
    ])


def closed_text(view: ClosedView, translator: Translator, words: bool = True) -> str:
    _ = translator.gettext
    return _("Báo cáo của đơn vị đã được nộp. Gõ “xem” để xem lại nội dung đã nộp.")


_TEXT_VIEWS: dict[type, Callable[[Any, Translator, bool], str]] = {
    QuestionView: question_text,
    ContentsView: contents_text,
    ProgressView: progress_text,
    SubmitBlockedView: submit_blocked_text,
    ConfirmSubmitView: confirm_text,
    SubmittedView: submitted_text,
    CompletedView: completed_text,
    HelpView: help_text,
    ClosedView: closed_text,
}


def render_notices(notices: tuple[Notice, ...], translator: Translator) -> list[str]:
    return [f"{NOTICE_MARKS[n.kind]} {n.message.render(translator)}" for n in notices]


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends, else at spaces, never mid-word
    unless a single word is longer than the limit."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        if len(line) > limit:
            line = line.strip()  # indentation of an over-long line would only cost a cut mid-word
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            pieces.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


def pack_texts(texts: list[str], limit: int) -> list[str]:
    """Join texts (e.g. a review's sections) into as few messages as fit the limit."""
    messages: list[str] = []
    for text in texts:
        for piece in split_text(text, limit):
            if messages and len(messages[-1]) + 2 + len(piece) <= limit:
                messages[-1] = f"{messages[-1]}\n\n{piece}"
            else:
                messages.append(piece)
    return messages


def recorded_text(question: Question, section: Section, answer: Answer | None,
                  translator: Translator) -> str:
    """A question as it reads once answered: the chat becomes a record of the report."""
    mark = RECORD_MARKS[answer.kind] if answer is not None else "◻️"
    return "\n".join([
        section_heading(section, translator),
        f"{question.number}. {question.label.get(translator.locale)}",
        f"{mark} " + show_answer(question, answer, translator),
    ])


def outcome_texts(outcome: Outcome, translator: Translator) -> list[str]:
    """A step's notices and view as text messages, for channels without buttons."""
    notices = render_notices(outcome.notices, translator)
    texts = render(outcome.view, translator, words=True)
    if notices:
        texts[0] = "\n".join([*notices, "", texts[0]])
    if outcome.then is not None:
        texts.append(question_text(outcome.then, translator))
    return texts


def render(view: View, translator: Translator, words: bool = True) -> list[str]:
    """The view as one or more texts (a review gives one per section)."""
    if isinstance(view, ReviewView):
        return review_texts(view, translator, words)
    return [_TEXT_VIEWS[type(view)](view, translator, words)]
