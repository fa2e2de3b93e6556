"""Lint and types are part of the suite: ruff, and mypy --strict on the package and on the tests,
each run as its own process with this environment's python, failing with what the tool said.

Here rather than before the suite in .ci/run, they run on one worker while the others run the
end-to-end tests (mypy's 15 s were otherwise 15 s more before the first test started). Both mypy
targets run in one test, one after the other, so that the second reuses what the first put in
the cache and no two mypy processes write the same cache at once."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def run(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}{result.stderr}"


def test_ruff_finds_nothing() -> None:
    run("ruff", "check", ".")


def test_mypy_strict_finds_nothing_in_the_package_or_the_tests() -> None:
    run("mypy")  # the packages listed in pyproject.toml
    run("mypy", "tests")


def test_ci_runs_the_quick_starts_test_command() -> None:
    """What .ci/run runs is what a newcomer types: the test line of README.md's quick start."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    test_line = next(line for line in quick_start.splitlines() if "pytest" in line)
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [line for line in ci if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == test_line
