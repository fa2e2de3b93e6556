"""The outline file covers every item of the seed's Đề cương báo cáo (Kế hoạch số 20/KH-UBND).

`tests/seed_coverage.yaml` maps each bullet ("- "), sub-bullet ("+ ") and paragraph item of the
outline attached to the plan to the questions of `outlines/ke-hoach-20-2021.yaml` that answer it.
These tests keep the three in step: the seed text, the map and the outline.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.outline import Outline, load_outline

HERE = Path(__file__).resolve().parent
OUTLINE_FILE = HERE.parent / "outlines" / "ke-hoach-20-2021.yaml"
COVERAGE_FILE = HERE / "seed_coverage.yaml"
SEED_NAME = "ke-hoach-20-KH-UBND-2021.txt"
SEED_ENV = "KSTTHC_SEED_FILE"

OUTLINE_START = "ĐỀ CƯƠNG BÁO CÁO"
EXPECTED_SECTIONS = [f"I.{n}" for n in range(1, 12)] + ["II", "III", "IV"]
# Sections whose items are plain paragraphs rather than bullets.
PARAGRAPH_SECTIONS = frozenset({"I.2", "III"})
BULLETS = ("- ", "+ ")
HEADING = re.compile(r"^(?P<number>[IVX]+|\d+)\.\s+(?P<text>\S.*)$")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V"}


def _seed_file() -> Path | None:
    default = Path(__file__).resolve().parents[2] / "shared" / "seed" / SEED_NAME
    if default.is_file():
        return default
    configured = os.environ.get(SEED_ENV)
    if configured and Path(configured).is_file():
        return Path(configured)
    return None


def seed_items(text: str) -> Iterator[tuple[str, str]]:
    """(section, item text) for every bullet, sub-bullet and paragraph item of the outline.

    Headings are "I. TITLE" / "II. TITLE" (parts, upper case) and "4. Title" (sections of part
    I). The seed numbers part I "1. TÌNH HÌNH, ..." by mistake: an Arabic number on an upper-case
    heading is read as that part's Roman numeral. Parts II–IV have no sub-sections, so their
    items belong to the part itself.
    """
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == OUTLINE_START]
    assert starts, f"the seed has no line {OUTLINE_START!r}"
    part: str | None = None
    section: str | None = None
    for raw in lines[starts[0] + 1 :]:
        line = raw.strip()
        if not line:
            continue
        heading = HEADING.match(line)
        if heading:
            number, title = heading["number"], heading["text"]
            if number.isdigit() and title != title.upper():
                section = f"{part}.{number}"
            else:
                part = ROMAN[int(number)] if number.isdigit() else number
                section = part
            continue
        if section is None:  # the outline's own title lines
            continue
        if line.startswith(BULLETS):
            yield section, line[2:].strip()
        elif section in PARAGRAPH_SECTIONS:
            yield section, line


@pytest.fixture(scope="module")
def seed() -> list[tuple[str, str]]:
    path = _seed_file()
    if path is None:
        pytest.skip(
            f"seed file {SEED_NAME} not found in ../shared/seed beside the checkout "
            f"and ${SEED_ENV} is not set"
        )
    return list(seed_items(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def coverage() -> list[dict[str, Any]]:
    entries = yaml.safe_load(COVERAGE_FILE.read_text(encoding="utf-8"))
    assert isinstance(entries, list) and entries, "seed_coverage.yaml must be a non-empty list"
    for entry in entries:
        assert set(entry) == {"section", "seed", "questions"}, entry
        assert isinstance(entry["seed"], str) and entry["seed"].strip(), entry
        assert isinstance(entry["questions"], list) and entry["questions"], (
            f"{entry['section']}: {entry['seed'][:60]!r} is answered by no question"
        )
    return entries


@pytest.fixture(scope="module")
def outline() -> Outline:
    return load_outline(OUTLINE_FILE)


def _section_of(outline: Outline) -> dict[str, str]:
    return {q.name: s.number for s in outline.sections for q in s.questions}


def test_seed_parser_finds_items_in_every_section(seed: list[tuple[str, str]]) -> None:
    found = {section for section, _ in seed}
    assert found == set(EXPECTED_SECTIONS)
    assert len(seed) >= 50


def test_every_seed_item_is_in_the_coverage_map(
    seed: list[tuple[str, str]], coverage: list[dict[str, Any]]
) -> None:
    mapped = {(entry["section"], entry["seed"].strip()) for entry in coverage}
    missing = [f"{section}: {text}" for section, text in seed if (section, text) not in mapped]
    assert not missing, "seed items with no entry in seed_coverage.yaml:\n" + "\n".join(missing)


def test_every_coverage_entry_is_a_seed_item(
    seed: list[tuple[str, str]], coverage: list[dict[str, Any]]
) -> None:
    items = set(seed)
    stale = [
        f"{entry['section']}: {entry['seed']}"
        for entry in coverage
        if (entry["section"], entry["seed"].strip()) not in items
    ]
    assert not stale, "coverage entries that match no seed item:\n" + "\n".join(stale)


def test_mapped_questions_exist_in_their_section(
    outline: Outline, coverage: list[dict[str, Any]]
) -> None:
    section_of = _section_of(outline)
    problems = []
    for entry in coverage:
        for name in entry["questions"]:
            if name not in section_of:
                problems.append(f"{entry['section']}: no question named {name!r}")
            elif section_of[name] != entry["section"]:
                problems.append(f"{entry['section']}: {name!r} is in section {section_of[name]}")
    assert not problems, "\n".join(problems)


def test_every_question_answers_some_seed_item(
    outline: Outline, coverage: list[dict[str, Any]]
) -> None:
    mapped = {name for entry in coverage for name in entry["questions"]}
    orphans = [name for name in _section_of(outline) if name not in mapped]
    assert not orphans, f"questions that answer no seed item: {orphans}"


def test_all_sections_exist_with_questions(outline: Outline) -> None:
    numbers = [section.number for section in outline.sections]
    assert numbers == EXPECTED_SECTIONS
    empty = [section.number for section in outline.sections if not section.questions]
    assert not empty, f"sections without questions: {empty}"
