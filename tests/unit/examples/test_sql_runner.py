"""The statement splitting of the SQL runner example (examples/sql-runner/sql_runner.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "sql-runner" / "sql_runner.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sql_runner_example", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load()


def test_statements_split_at_semicolons() -> None:
    text = "CREATE TABLE a (x INT);\n\nINSERT INTO b SELECT * FROM a;\n"
    assert runner.split_statements(text) == ["CREATE TABLE a (x INT)", "INSERT INTO b SELECT * FROM a"]


def test_semicolons_in_strings_identifiers_and_comments_do_not_split() -> None:
    text = (
        "-- setup; not a statement\n"
        "CREATE TABLE `odd;name` (s STRING) WITH ('format' = 'a;b', 'q' = 'it''s; fine');\n"
        "/* block; comment */ INSERT INTO t SELECT \"x;y\" FROM s"
    )
    assert runner.split_statements(text) == [
        "CREATE TABLE `odd;name` (s STRING) WITH ('format' = 'a;b', 'q' = 'it''s; fine')",
        'INSERT INTO t SELECT "x;y" FROM s',
    ]


def test_empty_statements_and_comments_only_are_dropped() -> None:
    assert runner.split_statements(";;\n-- nothing\n/* at all */;") == []


def test_inserts_are_recognised() -> None:
    assert runner.is_insert("insert into t select 1")
    assert not runner.is_insert("CREATE TABLE t (x INT)")


def test_the_example_sql_splits_into_two_tables_and_one_insert() -> None:
    import yaml

    documents = list(yaml.safe_load_all((SCRIPT.parent / "sql-runner.yaml").read_text(encoding="utf-8")))
    sql = documents[0]["data"]["statements.sql"]
    statements = runner.split_statements(sql)
    assert [s.split()[0].upper() for s in statements] == ["CREATE", "CREATE", "INSERT"]


def test_a_script_without_insert_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "ddl.sql"
    script.write_text("CREATE TABLE t (x INT);", encoding="utf-8")
    with pytest.raises(SystemExit, match="no INSERT statement"):
        runner.main([str(script)])
