"""The procedure trace (``docs/procedure-trace.md``) stays true: every item of the two seeds has a row, and every
reference in it points at code and tests that exist.

Each check is a function from the document's text to a list of problems, so the tests below can also show that a
check fails when the document is wrong (a typo in a reference, a missing number, a summary that no longer adds up).
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from tests.paths import REPO

DOC = REPO / "docs" / "procedure-trace.md"
SEED_DIR = Path(os.environ.get("THUISZITTERS_SEEDS", REPO.parent / "shared" / "seeds"))
"""The source texts, in ``shared/`` beside the project's root (as in CI), unless ``THUISZITTERS_SEEDS`` names them."""
SEEDS = {"S0": "000_b99ea10c2e44aef5.txt", "S4": "004_e0d50d89a428133b.txt"}
"""The item prefix of each seed, and its file (the seeds are the authority; they live outside the repository)."""

REF = re.compile(r"`([A-Za-z0-9_./-]+\.py)::([A-Za-z_][A-Za-z0-9_.]*)(\[[^\]`]*\])?`")
NUMBER = re.compile(r"^(S[04])-(\d{2,3})$")

WITH_TEST = "carried, with test"
WITHOUT_TEST = "carried, without test"
NOT_TO_BUILD = "not to be built"
NOT_BUILT = "niet gebouwd"
CATEGORIES = (WITH_TEST, WITHOUT_TEST, NOT_TO_BUILD, NOT_BUILT)

NOT_TO_BUILD_REASONS = ("context:", "outside the system:")
"""How a row says that nothing is to be built for its item."""
NO_TEST = "no test:"
NOT_BUILT_MARK = "niet gebouwd:"
MAX_QUOTE_WORDS = 16


@dataclass(frozen=True)
class Row:
    line: int
    number: str
    quote: str = ""
    software: str = ""
    proof: str = ""
    columns: int = 4

    @property
    def module_refs(self) -> list[tuple[str, str]]:
        return [(path, name) for path, name, _ in REF.findall(self.software) if not path.startswith("tests/")]

    @property
    def test_refs(self) -> list[tuple[str, str]]:
        return [(path, name) for path, name, _ in REF.findall(self.proof)]

    @property
    def category(self) -> str:
        if self.software.startswith(NOT_BUILT_MARK) or self.proof.startswith(NOT_BUILT_MARK):
            return NOT_BUILT
        if not self.module_refs:
            return NOT_TO_BUILD
        return WITH_TEST if self.test_refs else WITHOUT_TEST


def rows_of(text: str) -> list[Row]:
    """The item rows of the trace table: lines ``| S0-01 | quote | software | test or reason |``."""
    rows = []
    for index, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("| S"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4:
            rows.append(Row(index, cells[0], columns=len(cells)))
            continue
        number, quote, software, proof = cells
        rows.append(Row(index, number, quote, software, proof))
    return rows


def summary_of(text: str) -> dict[str, int]:
    """The counts the summary at the top of the document states: ``| carried, with test | 41 |``."""
    found = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] in (*CATEGORIES, "total") and cells[1].isdigit():
            found[cells[0]] = int(cells[1])
    return found


# ------------------------------------------------------------------------------------------------------ checks


def numbering_problems(text: str) -> list[str]:
    problems = []
    seen: dict[str, list[int]] = {prefix: [] for prefix in SEEDS}
    for row in rows_of(text):
        match = NUMBER.match(row.number)
        if match is None:
            problems.append(f"line {row.line}: number '{row.number}' is not S0-NN or S4-NN")
            continue
        seen[match[1]].append(int(match[2]))
    for prefix, numbers in seen.items():
        if not numbers:
            problems.append(f"{prefix}: no item at all")
        if len(set(numbers)) != len(numbers):
            twice = sorted({n for n in numbers if numbers.count(n) > 1})
            problems.append(f"{prefix}: numbers used twice: {twice}")
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"{prefix}: numbers not consecutive from 01, in order: {numbers}")
    return problems


def row_problems(text: str) -> list[str]:
    """Every row has a quote, says where the software carries it or why nothing is built, and proves it with a
    test or gives a reason."""
    problems = []
    for row in rows_of(text):
        where = f"{row.number} (line {row.line})"
        if row.columns != 4:
            problems.append(f"{where}: expected 4 columns, found {row.columns}")
            continue
        if not row.quote:
            problems.append(f"{where}: no quote from the seed")
        elif len(row.quote.replace("…", " ").split()) > MAX_QUOTE_WORDS:
            problems.append(f"{where}: quote longer than {MAX_QUOTE_WORDS} words")
        if not row.software or not row.proof:
            problems.append(f"{where}: empty column")
            continue
        if any(path.startswith("tests/") for path, _, _ in REF.findall(row.software)):
            problems.append(f"{where}: a test belongs in the last column, not with the software")
        if any(not path.startswith("tests/") for path, _ in row.test_refs):
            problems.append(f"{where}: the last column names tests only (tests/...)")
        category = row.category
        if category == NOT_BUILT:
            if row.test_refs:
                problems.append(f"{where}: 'niet gebouwd' and yet a test")
            if len(_reason(row, NOT_BUILT_MARK)) < 10:
                problems.append(f"{where}: 'niet gebouwd:' without why")
        elif category == NOT_TO_BUILD:
            if row.test_refs:
                problems.append(f"{where}: a test but no place in the software")
            if not row.proof.startswith(NOT_TO_BUILD_REASONS):
                problems.append(
                    f"{where}: no software, so a reason that starts with "
                    + " or ".join(f"'{r}'" for r in NOT_TO_BUILD_REASONS)
                )
        elif category == WITHOUT_TEST and not row.proof.startswith(NO_TEST):
            problems.append(f"{where}: carried without a test: the last column starts with '{NO_TEST}' and says why")
    return problems


def _reason(row: Row, mark: str) -> str:
    cell = row.software if row.software.startswith(mark) else row.proof
    return cell.removeprefix(mark).strip()


def problems_in_test_refs(text: str, repo: Path = REPO) -> list[str]:
    """Every test named exists: its file, and ``def name(`` or ``async def name(`` in it."""
    problems = []
    for row in rows_of(text):
        for path, name in row.test_refs:
            file = repo / path
            if not file.is_file():
                problems.append(f"{row.number}: test file {path} does not exist")
            elif not re.search(rf"^\s*(async\s+)?def {re.escape(name)}\(", file.read_text(), re.MULTILINE):
                problems.append(f"{row.number}: {path} has no test {name}")
    return problems


def problems_in_module_refs(text: str, repo: Path = REPO) -> list[str]:
    """Every module named exists, and the function, class, constant or member named is defined in it."""
    problems = []
    for row in rows_of(text):
        for path, name in row.module_refs:
            file = repo / path
            if not file.is_file():
                problems.append(f"{row.number}: module {path} does not exist")
            elif not _defines(file, name):
                problems.append(f"{row.number}: {path} does not define {name}")
    return problems


def _defines(file: Path, dotted: str) -> bool:
    names = _definitions(file)
    parts = dotted.split(".")
    return all(".".join(parts[: i + 1]) in names for i in range(len(parts)))


@cache
def _definitions(file: Path) -> frozenset[str]:
    """Top-level functions, classes and assigned names, and the members of each class as ``Class.member``."""
    found: set[str] = set()

    def names_in(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.add(prefix + node.name)
                if isinstance(node, ast.ClassDef):
                    names_in(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.Assign):
                found.update(prefix + t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                found.add(prefix + node.target.id)

    names_in(ast.parse(file.read_text()).body, "")
    return frozenset(found)


def summary_problems(text: str) -> list[str]:
    counted = {category: 0 for category in CATEGORIES}
    rows = rows_of(text)
    for row in rows:
        counted[row.category] += 1
    stated = summary_of(text)
    problems = [
        f"summary: {category} says {stated.get(category)}, the table counts {counted[category]}"
        for category in CATEGORIES
        if stated.get(category) != counted[category]
    ]
    if stated.get("total") != len(rows):
        problems.append(f"summary: total says {stated.get('total')}, the table counts {len(rows)}")
    return problems


def quote_problems(text: str, seeds: dict[str, str]) -> list[str]:
    """Each quote, cut at its "…", is the seed's own words (markup and line breaks aside)."""
    problems = []
    for row in rows_of(text):
        seed = seeds.get(row.number[:2])
        if seed is None:
            continue
        for part in row.quote.split("…"):
            fragment = _normal(part)
            if fragment and fragment not in seed:
                problems.append(f"{row.number}: '{part.strip()}' is not in the seed")
    return problems


def _normal(text: str) -> str:
    text = re.sub(r"<[^>]+>|\*\*|\[|\]\(#\)", " ", text)
    return " ".join(text.replace("“", '"').replace("”", '"').split()).lower().strip(" .,;:'\"")


# ------------------------------------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def trace() -> str:
    return DOC.read_text()


def test_the_items_are_numbered_uniquely_and_consecutively_per_seed(trace: str) -> None:
    assert numbering_problems(trace) == []


def test_every_row_has_a_quote_and_a_test_or_a_reason(trace: str) -> None:
    assert row_problems(trace) == []


def test_every_test_named_exists(trace: str) -> None:
    assert problems_in_test_refs(trace) == []


def test_every_module_member_named_exists(trace: str) -> None:
    assert problems_in_module_refs(trace) == []


def test_the_summary_counts_the_table(trace: str) -> None:
    assert summary_problems(trace) == []


def test_the_quotes_are_the_seeds_own_words(trace: str) -> None:
    if not all((SEED_DIR / name).is_file() for name in SEEDS.values()):
        pytest.skip(f"the seeds are not in {SEED_DIR} (THUISZITTERS_SEEDS)")
    seeds = {prefix: _normal((SEED_DIR / name).read_text()) for prefix, name in SEEDS.items()}
    assert quote_problems(trace, seeds) == []


def test_the_table_holds_both_seeds(trace: str) -> None:
    rows = rows_of(trace)
    assert {row.number[:2] for row in rows} == set(SEEDS)
    assert len(rows) >= 80


# ------------------------------------------------------------------------------------- the checks can fail


def _first_ref(trace: str, kind: str) -> str:
    for row in rows_of(trace):
        refs = row.test_refs if kind == "test" else row.module_refs
        if refs:
            path, name = refs[0]
            return f"`{path}::{name}`"
    raise AssertionError(f"no {kind} reference in the table")


@pytest.mark.parametrize("kind", ["test", "module"])
def test_a_typo_in_a_name_fails(trace: str, kind: str) -> None:
    ref = _first_ref(trace, kind)
    broken = trace.replace(ref, ref[:-1] + "x`", 1)
    check = problems_in_test_refs if kind == "test" else problems_in_module_refs
    assert check(broken) != []


@pytest.mark.parametrize("kind", ["test", "module"])
def test_a_typo_in_a_path_fails(trace: str, kind: str) -> None:
    ref = _first_ref(trace, kind)
    broken = trace.replace(ref, ref.replace(".py::", "s.py::"), 1)
    check = problems_in_test_refs if kind == "test" else problems_in_module_refs
    assert check(broken) != []


def test_a_missing_or_doubled_number_fails(trace: str) -> None:
    assert numbering_problems(trace.replace("| S0-02 |", "| S0-03 |", 1)) != []
    assert numbering_problems(trace.replace("| S4-01 |", "| S4-02 |", 1)) != []


def test_a_row_without_test_or_reason_fails(trace: str) -> None:
    row = next(r for r in rows_of(trace) if r.category == WITH_TEST)
    lines = trace.splitlines()
    lines[row.line - 1] = f"| {row.number} | {row.quote} | {row.software} | to be tested |"
    assert row_problems("\n".join(lines)) != []


def test_a_summary_that_no_longer_adds_up_fails(trace: str) -> None:
    row = next(r for r in rows_of(trace) if r.category == WITH_TEST)
    lines = trace.splitlines()
    lines[row.line - 1] = f"| {row.number} | {row.quote} | niet gebouwd: taken out to test the count | - |"
    assert summary_problems("\n".join(lines)) != []


def test_a_quote_that_is_not_in_the_seed_fails() -> None:
    text = "| S0-01 | PPO streeft naar zoveel mogelijk thuiszitters | — | context: x |"
    assert quote_problems(text, {"S0": _normal("PPO Rotterdam streeft naar zo min mogelijk kinderen")}) != []
