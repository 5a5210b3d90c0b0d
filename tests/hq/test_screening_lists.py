"""`hotpot-hq lists import` against PostgreSQL: each format's fixture imported, a re-import replacing the list whole,
a file that is not such a list refused with nothing changed, every import recorded and audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hq.conftest import sql
from tests.hqkit import hq as hq_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "screening"


@pytest.mark.parametrize("fmt, name, count", [("ofac", "sdn.xml", 2), ("un", "consolidated.xml", 2),
                                              ("eu", "eu.xml", 1), ("ftm", "ftm.jsonl", 2)])
def test_each_list_imports_from_its_published_format(hq_db: str, fmt: str, name: str, count: int) -> None:
    out = hq_cli(hq_db, "lists", "import", "--format", fmt, str(FIXTURES / name)).stdout
    assert f"Imported {count} listed people" in out, out
    assert sql(hq_db, "SELECT count(*) FROM screening_entries WHERE list_format = %s", (fmt,)) == [(count,)]
    again = hq_cli(hq_db, "lists", "import", "--format", fmt, str(FIXTURES / name)).stdout
    assert f"Imported {count}" in again  # replaced, not added to
    assert sql(hq_db, "SELECT count(*) FROM screening_entries WHERE list_format = %s", (fmt,)) == [(count,)]
    assert sql(hq_db, "SELECT count(*) FROM screening_imports WHERE list_format = %s", (fmt,)) == [(2,)]
    assert sql(hq_db, "SELECT count(*) FROM audit_log WHERE action = 'import_screening_list' AND target = %s",
               (fmt,)) == [(2,)]


def test_a_wrong_file_changes_nothing(hq_db: str, tmp_path: Path) -> None:
    hq_cli(hq_db, "lists", "import", "--format", "un", str(FIXTURES / "consolidated.xml"))
    before = sql(hq_db, "SELECT ref, name FROM screening_entries WHERE list_format = 'un' ORDER BY ref")
    wrong = hq_cli(hq_db, "lists", "import", "--format", "un", str(FIXTURES / "sdn.xml"), check=False)
    assert wrong.returncode != 0 and "not a un list" in (wrong.stdout + wrong.stderr)
    assert "Traceback" not in wrong.stderr
    missing = hq_cli(hq_db, "lists", "import", "--format", "un", str(tmp_path / "nope.xml"), check=False)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert sql(hq_db, "SELECT ref, name FROM screening_entries WHERE list_format = 'un' ORDER BY ref") == before
