"""Issue #50: the README is a front door whose every path, suite, make target and number is current."""

import re
from pathlib import Path

import pytest

from fer_bench.report.index import HEADLINE_END, HEADLINE_START, headline, results_index, suite_descriptions
from fer_bench.runner.suite import BENCHMARKS

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", REPO / "benchmarks" / "README.md", REPO / "docs" / "GUIDE.md"]
# Paths a reader may open in the repository (data/ and results/<suite>/models/ are not committed).
COMMITTED = ("benchmarks/", "fer_bench/", "examples/", "docs/", "tests/", "results/", ".ci/")


def _named_paths(doc: Path) -> set[str]:
    text = doc.read_text()
    links = {m for m in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text) if not m.startswith("http")}
    ticks = {m for m in re.findall(r"`([^`\s]+)`", text) if m.startswith(COMMITTED)}
    return {p for p in links | ticks if not any(c in p for c in "<>*{}$")}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_path_the_docs_name_exists(doc):
    missing = [p for p in sorted(_named_paths(doc))
               if not (doc.parent / p).exists() and not (REPO / p).exists()]
    assert not missing, f"{doc.name} names paths that do not exist: {missing}"


def test_every_suite_file_is_listed_and_every_listed_suite_exists():
    listed = set(re.findall(r"`([\w.-]+\.yaml)`", (REPO / "benchmarks" / "README.md").read_text()))
    shipped = {p.name for p in BENCHMARKS.glob("*.yaml")}
    assert shipped <= listed, f"suites missing from benchmarks/README.md: {sorted(shipped - listed)}"
    assert listed <= shipped | {"s.yaml"}, f"listed but absent: {sorted(listed - shipped)}"


def test_every_make_target_the_readme_names_exists():
    targets = set(re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(), re.M))
    named = set(re.findall(r"`make ([\w-]+)`|^make ([\w-]+)", (REPO / "README.md").read_text(), re.M))
    named = {a or b for a, b in named}
    assert named and named <= targets, sorted(named - targets)


def test_the_readme_is_a_front_door_of_about_150_lines():
    assert len((REPO / "README.md").read_text().splitlines()) <= 170


def test_the_headline_and_results_index_are_what_the_records_give():
    """Neither may be hand-edited: both are regenerated from the committed records and compared."""
    readme = (REPO / "README.md").read_text()
    block = readme.split(HEADLINE_START, 1)[1].split(HEADLINE_END, 1)[0].strip()
    results = REPO / "results"
    assert block == headline(results).strip()
    assert (results / "README.md").read_text() == results_index(results, suite_descriptions())
