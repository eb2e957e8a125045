"""Decision records (docs/decisions/): one header format, and an index that lists them all.

Every record starts with `# NNNN — Title` (NNNN its file's number), a blank line,
`Status: <status> · Date: YYYY-MM-DD`, a blank line; its first sections are Context, Decision and
Consequences, in that order. docs/decisions/README.md lists every record once, in order, with
its exact title and a one-line summary, and links to nothing that does not exist.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

DECISIONS = Path(__file__).resolve().parents[2] / "docs" / "decisions"
RECORDS = sorted(DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
INDEX = DECISIONS / "README.md"

TITLE = re.compile(r"^# (?P<number>\d{4}) — (?P<title>\S.*)$")
STATUS = re.compile(
    r"^Status: (?:proposed|accepted|deprecated|superseded by \d{4}) · Date: (?P<date>\d{4}-\d{2}-\d{2})$"
)
REQUIRED_SECTIONS = ["Context", "Decision", "Consequences"]
INDEX_ROW = re.compile(
    r"^\| \[(?P<title>[^\]]+)\]\((?P<file>[^)]+)\) \| (?P<summary>[^|]*\S[^|]*) \|$"
)


def record_problems(name: str, text: str) -> list[str]:
    """What is wrong with the header and sections of the record `name` (empty: nothing)."""
    lines = text.splitlines()
    problems: list[str] = []
    title = TITLE.match(lines[0]) if lines else None
    if not title:
        problems.append(f"{name}: line 1 must be '# NNNN — Title'")
    elif title.group("number") != name[:4]:
        problems.append(f"{name}: the title's number {title.group('number')} is not {name[:4]}")
    status = STATUS.match(lines[2]) if len(lines) > 2 else None
    if len(lines) < 4 or lines[1] != "" or lines[3] != "":
        problems.append(f"{name}: a blank line before and after the status line")
    if not status:
        problems.append(f"{name}: line 3 must be 'Status: <status> · Date: YYYY-MM-DD'")
    else:
        try:
            datetime.date.fromisoformat(status.group("date"))
        except ValueError:
            problems.append(f"{name}: {status.group('date')} is not a date")
    sections = [line[3:].strip() for line in lines if line.startswith("## ")]
    if sections[: len(REQUIRED_SECTIONS)] != REQUIRED_SECTIONS:
        problems.append(f"{name}: sections must begin with {REQUIRED_SECTIONS}, not {sections}")
    return problems


def record_title(text: str) -> str:
    return text.splitlines()[0].removeprefix("# ")


def index_problems(index: str, records: dict[str, str]) -> list[str]:
    """What is wrong with the index, given each record's file name and text."""
    rows = [found for line in index.splitlines() if (found := INDEX_ROW.match(line))]
    listed = [row.group("file") for row in rows]
    problems = [f"index: {name} is not listed" for name in records if name not in listed]
    problems += [
        f"index: {name} is listed {listed.count(name)} times"
        for name in set(listed)
        if listed.count(name) > 1
    ]
    problems += [f"index: {name} does not exist" for name in listed if name not in records]
    if listed != sorted(listed):
        problems.append("index: records are not in order")
    for row in rows:
        name = row.group("file")
        if name in records and row.group("title") != record_title(records[name]):
            problems.append(f"index: {name} is listed as {row.group('title')!r}, not its title")
    return problems


def test_there_are_records() -> None:
    assert len(RECORDS) >= 10


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.name)
def test_every_record_has_the_header_and_sections(path: Path) -> None:
    assert record_problems(path.name, path.read_text(encoding="utf-8")) == []


def test_record_numbers_are_unique() -> None:
    numbers = [path.name[:4] for path in RECORDS]
    assert len(numbers) == len(set(numbers))


def test_the_index_lists_every_record_with_its_title() -> None:
    records = {path.name: path.read_text(encoding="utf-8") for path in RECORDS}
    assert index_problems(INDEX.read_text(encoding="utf-8"), records) == []


GOOD_RECORD = """\
# 0042 — A decision

Status: accepted · Date: 2026-11-30

Scope: `somewhere/`

## Context
Why.

## Decision
What.

## Consequences
Then.

## Alternatives considered
Others.
"""
GOOD_INDEX = """\
| Record | Decision |
|---|---|
| [0042 — A decision](0042-a-decision.md) | What was decided. |
"""


def test_the_planted_record_and_index_pass() -> None:
    assert record_problems("0042-a-decision.md", GOOD_RECORD) == []
    assert index_problems(GOOD_INDEX, {"0042-a-decision.md": GOOD_RECORD}) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("# 0042 — A decision", "# 42. A decision", "line 1 must be"),
        ("# 0042 — A decision", "# 0043 — A decision", "is not 0042"),
        ("Status: accepted · Date: 2026-11-30\n", "", "line 3 must be"),
        ("Status: accepted · Date: 2026-11-30", "- Status: accepted", "line 3 must be"),
        ("Status: accepted · Date: 2026-11-30", "Status: done · Date: 2026-11-30", "line 3 must"),
        ("Date: 2026-11-30", "Date: 2026-13-30", "is not a date"),
        ("## Consequences\nThen.\n", "", "sections must begin with"),
        (
            "## Context\nWhy.\n\n## Decision\nWhat.\n",
            "## Decision\nWhat.\n\n## Context\nWhy.\n",
            "sections",
        ),
    ],
)
def test_a_record_without_the_header_or_sections_fails(old: str, new: str, expected: str) -> None:
    assert old in GOOD_RECORD
    problems = record_problems("0042-a-decision.md", GOOD_RECORD.replace(old, new, 1))
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        ("| Record | Decision |\n|---|---|\n", "0042-a-decision.md is not listed"),
        (GOOD_INDEX.replace("[0042 — A decision]", "[0042 — Another title]"), "not its title"),
        (GOOD_INDEX.replace("| What was decided. |", "|  |"), "is not listed"),
        (
            GOOD_INDEX + "| [0043 — Gone](0043-gone.md) | Removed. |\n",
            "0043-gone.md does not exist",
        ),
        (GOOD_INDEX + GOOD_INDEX.splitlines()[2] + "\n", "listed 2 times"),
    ],
)
def test_an_index_missing_a_record_fails(index: str, expected: str) -> None:
    problems = index_problems(index, {"0042-a-decision.md": GOOD_RECORD})
    assert any(expected in problem for problem in problems), problems
