"""No dead code in the package: vulture finds nothing unused in r2l_viewer or trainers (uses in the tests count, and
tests/vulture_whitelist.py names the few it cannot see, such as Qt overrides), and every source file the package's
text names exists."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("r2l_viewer", "trainers")


def vulture_findings(*paths: str) -> list[str]:
    """vulture's report lines (minimum confidence 60%) on `paths`, run from the repository root."""
    done = subprocess.run([sys.executable, "-m", "vulture", *paths], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode in (0, 3), done.stderr  # 3: it found unused code; anything else: vulture failed
    return done.stdout.splitlines()


def test_vulture_finds_no_unused_code_in_the_package():
    pytest.importorskip("vulture")
    findings = vulture_findings(*PACKAGES, "tests")
    assert [line for line in findings if line.startswith(PACKAGES)] == []


def test_vulture_reports_planted_dead_code(tmp_path):
    pytest.importorskip("vulture")
    planted = tmp_path / "planted.py"
    planted.write_text("def used():\n    return 1\n\n\ndef never_called():\n    return 2\n\n\nused()\n")
    findings = vulture_findings(str(planted))
    assert len(findings) == 1 and "unused function 'never_called'" in findings[0]


def named_source_files() -> set[str]:
    """Paths like `trainers/video/job.py` or `core/fast_student.py` named in the package's code and docstrings."""
    named = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            named |= set(re.findall(r"\b((?:[a-z0-9_]+/)+[a-z0-9_]+\.py)\b", path.read_text()))
    return named


def test_every_source_file_the_package_names_exists():
    named = named_source_files()
    assert "r2l_viewer/core/fast_student.py" in named  # the bench's path labels name it
    missing = sorted(n for n in named if not any((ROOT / top / n).exists() for top in ("", "r2l_viewer", "tests")))
    assert missing == []
