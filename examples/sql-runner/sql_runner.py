"""Runs the SQL statements of a file as one Flink job, with PyFlink's Table API.

Usage (as the program of Flink's PythonDriver): ``-py sql_runner.py STATEMENTS.sql``

Statements end with ``;``. A ``;`` inside a quoted string, a quoted identifier or a comment does not end a
statement; ``--`` and ``/* */`` comments are dropped. DDL and other statements run one after another; all
``INSERT`` statements are submitted together as one statement set (one job), so they share their sources.
"""

from __future__ import annotations

import sys
from pathlib import Path


def split_statements(text: str) -> list[str]:
    """The statements of a SQL script, without comments and the final ``;``, in order."""
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in ("'", "`", '"'):
            end = i + 1
            while end < n:
                if text[end] == char:
                    if end + 1 < n and text[end + 1] == char:  # a doubled quote escapes itself
                        end += 2
                        continue
                    break
                end += 1
            current.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("--", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
            current.append(" ")
        elif char == ";":
            statements.append("".join(current).strip())
            current = []
            i += 1
        else:
            current.append(char)
            i += 1
    statements.append("".join(current).strip())
    return [statement for statement in statements if statement]


def is_insert(statement: str) -> bool:
    return statement.split(None, 1)[0].upper() == "INSERT"


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: sql_runner.py STATEMENTS.sql")
    statements = split_statements(Path(argv[0]).read_text(encoding="utf-8"))
    if not any(is_insert(statement) for statement in statements):
        raise SystemExit(f"{argv[0]}: no INSERT statement, so there is no job to run")

    from pyflink.table import EnvironmentSettings, TableEnvironment

    tables = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    inserts = tables.create_statement_set()
    for statement in statements:
        if is_insert(statement):
            inserts.add_insert_sql(statement)
        else:
            tables.execute_sql(statement)
    inserts.execute()


if __name__ == "__main__":
    main(sys.argv[1:])
