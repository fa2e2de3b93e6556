"""The report outline as data: sections of questions (engine.question), and a loader that
names the line at fault."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.expressions import Expression
from engine.qtypes import QUESTION_TYPES
from engine.question import Question, Text, question_json

LANGUAGES = ("vi", "en")
LINE_KEY = "__line__"


@dataclass(frozen=True)
class Fault:
    """One fault of an outline, as the loader found it: the line of the mapping at fault (or
    whatever a reader other than YAML put there to find its place again), the key at fault when
    it is known ("label.en", "choices.1.value", "constraint"), and the question's name."""

    line: int
    message: str
    question: str | None = None
    field: str | None = None

    def text(self) -> str:
        """What follows "FILE:LINE: " in the loader's report."""
        subject = f"question {self.question!r}: " if self.question else ""
        return subject + self.message


class OutlineError(Exception):
    """The outline file is not valid; `problems` lists every fault with its line (and `faults`
    the same faults as data, for a reader that names places its own way)."""

    def __init__(self, path: Path, problems: list[str], faults: tuple[Fault, ...] = ()) -> None:
        self.path = path
        self.problems = problems
        self.faults = faults
        super().__init__("\n".join(problems))


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    number: str = Field(min_length=1)
    part: str = Field(min_length=1)
    title: Text
    short: Text
    questions: tuple[Question, ...]
    line: int = 0


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    number: str = Field(min_length=1)
    title: Text


class OutlineMeta(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    version: str = Field(min_length=1)
    title: Text
    source: str = ""
    # The report's subject line (trích yếu) and the words of its opening sentence after the
    # unit's name; empty: derived from the title (documents.subject).
    subject: str = ""
    opening: str = ""


@dataclass(frozen=True)
class Outline:
    """A validated outline: parts → sections → questions, with lookups by name."""

    meta: OutlineMeta
    parts: tuple[Part, ...]
    sections: tuple[Section, ...]
    path: Path | None = None
    # The text it was read from: what a campaign stores to keep this very outline (storage
    # .outline_versions), whatever becomes of the file.
    text: str = field(default="", repr=False, compare=False)
    _by_name: dict[str, Question] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for question in self.questions:
            self._by_name[question.name] = question

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for section in self.sections for q in section.questions)

    @cached_property
    def checksum(self) -> str:
        """SHA-256 of the text it was read from: one outline version, whichever file held it."""
        return text_checksum(self.text)

    @cached_property
    def asked_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.asked)

    def question(self, name: str) -> Question:
        return self._by_name[name]

    def has_question(self, name: str) -> bool:
        return name in self._by_name

    def section(self, number: str) -> Section:
        for section in self.sections:
            if section.number == number:
                return section
        raise KeyError(number)

    def section_of(self, name: str) -> Section:
        return self.section(self.question(name).section_number)

    def part(self, number: str) -> Part:
        for part in self.parts:
            if part.number == number:
                return part
        raise KeyError(number)

    def as_json(self) -> dict[str, Any]:
        """The normalised outline, for `kstthc-bot outline show --json`."""
        return {
            "id": self.meta.id,
            "version": self.meta.version,
            "title": self.meta.title.model_dump(),
            "source": self.meta.source,
            "subject": self.meta.subject,
            "opening": self.meta.opening,
            "parts": [part.model_dump() for part in self.parts],
            "sections": [
                {
                    "number": section.number,
                    "part": section.part,
                    "title": section.title.model_dump(),
                    "short": section.short.model_dump(),
                    "questions": [question_json(q) for q in section.questions],
                }
                for section in self.sections
            ],
        }


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records the line of every mapping, so errors can name it."""


class _FastLineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same on libyaml where PyYAML has it: a fifth of the time (a restart reads the
    outline). A file it refuses is read again by _LineLoader, whose messages are clearer."""


def _construct_mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    mapping[LINE_KEY] = node.start_mark.line + 1
    return mapping


for _loader in (_LineLoader, _FastLineLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_with_line)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _line_of(value: Any, default: int = 0) -> int:
    return int(value.get(LINE_KEY, default)) if isinstance(value, dict) else default


def _describe(error: ValidationError) -> list[tuple[str | None, str]]:
    """Each fault pydantic found: the key at fault (dotted) and the message naming it."""
    messages: list[tuple[str | None, str]] = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        messages.append((where or None, f"{where}: {item['msg']}" if where else item["msg"]))
    return messages


def text_checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_outline(path: Path) -> Outline:
    """Read and validate an outline file; raise OutlineError naming every fault's line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise OutlineError(path, [f"{path}: cannot read: {error.strerror}"]) from error
    return parse_outline(text, path)


def parse_outline(text: str, path: Path) -> Outline:
    """Validate an outline's text (`path` names it in the faults); raise OutlineError."""
    try:
        try:
            raw = yaml.load(text, Loader=_FastLineLoader)
        except yaml.YAMLError:  # libyaml's messages are terser: the pure reader names the fault
            raw = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        message = f"{path}:{line}: not valid YAML: {error.problem}"
        if error.context and error.context_mark and error.context_mark.line + 1 != line:
            # An unclosed bracket or quote is only noticed lines later, often at the end of the
            # file: name the line where the construct began too.
            message += f" ({error.context} on line {error.context_mark.line + 1})"
        raise OutlineError(path, [message]) from error
    return build_outline(path, raw, text)


def build_outline(path: Path, raw: Any, text: str) -> Outline:
    """The outline of `raw`, the mappings its text reads as (each with its LINE_KEY), checked;
    raise OutlineError naming every fault. Readers of other forms (a workbook) build the same
    mappings and so share every check."""
    faults: list[Fault] = []

    def fault(line: int, message: str, question: str | None = None, field: str | None = None) -> None:
        faults.append(Fault(line, message, question, field))

    if not isinstance(raw, dict):
        raise OutlineError(path, [f"{path}:1: the file must be a mapping with outline, parts, sections"])
    for key in sorted(set(raw) - {"outline", "parts", "sections", LINE_KEY}):
        fault(_line_of(raw, 1), f"unknown top-level key {key!r}")

    meta: OutlineMeta | None = None
    try:
        meta = OutlineMeta.model_validate(_strip_lines(raw.get("outline")))
    except ValidationError as error:
        for where, message in _describe(error):
            fault(_line_of(raw.get("outline"), 1), f"outline.{message}", field=where)

    parts: list[Part] = []
    for raw_part in raw.get("parts") or []:
        try:
            parts.append(Part.model_validate(_strip_lines(raw_part)))
        except ValidationError as error:
            for where, message in _describe(error):
                fault(_line_of(raw_part), f"part: {message}", field=where)
    if not parts:
        fault(_line_of(raw, 1), "the outline has no parts")
    part_numbers = {part.number for part in parts}

    sections: list[Section] = []
    seen_names: dict[str, int] = {}
    for raw_section in raw.get("sections") or []:
        section_line = _line_of(raw_section)
        if not isinstance(raw_section, dict):
            fault(section_line, "a section must be a mapping")
            continue
        questions: list[Question] = []
        for raw_question in raw_section.get("questions") or []:
            line = _line_of(raw_question, section_line)
            name = raw_question.get("name") if isinstance(raw_question, dict) else None
            if not isinstance(raw_question, dict):
                fault(line, "a question must be a mapping")
                continue
            data = _strip_lines(raw_question)
            data["line"] = line
            data["section_number"] = raw_section.get("number", "")
            try:
                question = Question.model_validate(data)
            except ValidationError as error:
                for where, message in _describe(error):
                    fault(line, message, name, where)
                continue
            if question.name in seen_names:
                fault(line, f"duplicate name (first used on line {seen_names[question.name]})",
                      question.name, "name")
                continue
            seen_names[question.name] = line
            for message in QUESTION_TYPES[question.type].check_definition(question):
                fault(line, message, question.name)
            questions.append(question)
        section_data = {k: v for k, v in _strip_lines(raw_section).items() if k != "questions"}
        try:
            section = Section.model_validate(
                {**section_data, "questions": questions, "line": section_line}
            )
        except ValidationError as error:
            for where, message in _describe(error):
                fault(section_line, f"section {raw_section.get('number', '?')}: {message}",
                      field=where)
            continue
        if section.part not in part_numbers:
            fault(section_line, f"section {section.number}: unknown part {section.part!r}",
                  field="part")
        if not section.questions:
            fault(section_line, f"section {section.number}: has no questions")
        sections.append(section)
    if not sections:
        fault(_line_of(raw, 1), "the outline has no sections")

    _check_references(sections, seen_names, fault)
    if faults or meta is None:
        raise OutlineError(path, [f"{path}:{f.line}: {f.text()}" for f in faults], tuple(faults))
    return Outline(meta=meta, parts=tuple(parts), sections=tuple(sections), path=path, text=text)


def _check_references(
    sections: list[Section], names: dict[str, int], fault: Callable[..., None]
) -> None:
    """Every `${name}` must exist; `.` only where a current value exists."""
    for section in sections:
        for question in section.questions:
            for attribute in ("constraint", "relevant", "calculate", "warning"):
                expression: Expression | None = getattr(question, attribute)
                if expression is None:
                    continue
                for reference in sorted(expression.references - set(names)):
                    fault(question.line, f"{attribute} refers to unknown question ${{{reference}}}",
                          question.name, attribute)
                if question.name in expression.references:
                    fault(question.line, f"{attribute} refers to the question itself; use '.'",
                          question.name, attribute)
                if expression.uses_current_value and attribute in ("relevant", "calculate"):
                    fault(question.line, f"{attribute} cannot use '.'", question.name, attribute)
            for attribute, message in (("constraint", "constraint_message"),
                                       ("warning", "warning_message")):
                if getattr(question, attribute) is not None and getattr(question, message) is None:
                    fault(question.line, f"{attribute} needs a {message}", question.name, message)
            for message_attr, expression_attr in (("constraint_message", "constraint"),
                                                  ("warning_message", "warning")):
                text: Text | None = getattr(question, message_attr)
                expression = getattr(question, expression_attr)
                if text is None or expression is None:
                    continue
                allowed = expression.references | {"value"}
                for language in LANGUAGES:
                    for placeholder in re.findall(r"\{(\w+)\}", getattr(text, language)):
                        if placeholder not in allowed:
                            fault(question.line,
                                  f"{message_attr}.{language} names {{{placeholder}}}, "
                                  f"which its {expression_attr} does not use",
                                  question.name, f"{message_attr}.{language}")


def default_outline_path() -> Path:
    """The outline shipped with the package (Kế hoạch 20/KH-UBND, 2021)."""
    return Path(__file__).resolve().parent.parent / "outlines" / "ke-hoach-20-2021.yaml"


OutlineLanguage = Literal["vi", "en"]
