"""Reading documents from YAML: multi-document files, lists, field lines, YAML faults, and file discovery."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flink_operator.api import format_path
from flink_operator.validation.sources import parse_path, read_documents, read_file, yaml_files

pytestmark = pytest.mark.unit

TEXT = textwrap.dedent(
    """\
    # a comment
    apiVersion: flink.apache.org/v1beta1
    kind: FlinkDeployment
    metadata:
      name: a
    spec:
      flinkConfiguration:
        state.savepoints.dir: file:///sp
      podTemplate:
        spec:
          containers:
            - name: main
              ports:
                - containerPort: 80
    ---
    ---
    apiVersion: v1
    kind: List
    items:
      - kind: FlinkSessionJob
        metadata: {name: b}
      - kind: FlinkStateSnapshot
        metadata:
          name: c
    """
)


def test_documents_and_their_lines() -> None:
    documents, errors = read_documents("f.yaml", TEXT)
    assert errors == []
    assert [(d.line, d.data["kind"]) for d in documents] == [
        (2, "FlinkDeployment"),
        (20, "FlinkSessionJob"),
        (22, "FlinkStateSnapshot"),
    ]


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("metadata.name", 5),
        ('spec.flinkConfiguration["state.savepoints.dir"]', 8),
        ("spec.podTemplate.spec.containers[0].ports[0].containerPort", 14),
        ("spec.podTemplate.spec.containers[0].image", 12),
        ("spec.job.parallelism", 6),
        ("spec.podTemplate.spec.containers[3]", 11),
        ("", 2),
    ],
)
def test_line_of_a_field_or_its_nearest_parent(path: str, line: int) -> None:
    document = read_documents("f.yaml", TEXT)[0][0]
    assert document.line_of(path) == line


def test_list_items_know_their_lines() -> None:
    documents = read_documents("f.yaml", TEXT)[0]
    assert documents[2].line_of("metadata.name") == 24


@pytest.mark.parametrize(
    "parts",
    [["spec", "job", "parallelism"], ["spec", "flinkConfiguration", 'we"ird.key'], ["spec", "a", 0, "b c"]],
)
def test_paths_round_trip(parts: list[str | int]) -> None:
    assert parse_path(format_path(parts)) == parts


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    _, errors = read_documents("f.yaml", "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert [str(e) for e in errors] == [
        "f.yaml:4: duplicate key 'c' (first at line 3)",
        "f.yaml:5: duplicate key 'a' (first at line 1)",
    ]


def test_merge_keys_are_not_duplicates() -> None:
    documents, errors = read_documents("f.yaml", "base: &b {x: 1}\nuse:\n  <<: *b\n  <<: *b\n  y: 2\n")
    assert errors == []
    assert documents[0].data["use"] == {"x": 1, "y": 2}


def test_a_recursive_alias_is_a_fault_not_a_crash() -> None:
    documents, errors = read_documents("f.yaml", "a: &x [1, *x]\n---\nkind: Next\n")
    assert [str(e) for e in errors] == ["f.yaml:1: a YAML alias refers to itself"]
    assert [d.data for d in documents] == [{"kind": "Next"}]


def test_shared_aliases_are_checked_once() -> None:
    text = "a: &a [1, 2]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n"
    documents, errors = read_documents("f.yaml", text)
    assert errors == [] and len(documents) == 1


def test_documents_before_a_syntax_error_are_kept() -> None:
    documents, errors = read_documents("f.yaml", "kind: A\n---\nkind: [B\n")
    assert [d.data for d in documents] == [{"kind": "A"}]
    assert len(errors) == 1 and errors[0].message.startswith("malformed YAML: ")


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    binary = tmp_path / "x.yaml"
    binary.write_bytes(b"kind: \xff\xfe\n")
    assert read_file(binary, "x.yaml")[1][0].message.startswith("not UTF-8 text")
    assert "cannot be read" in read_file(tmp_path / "none.yaml", "none.yaml")[1][0].message


def test_yaml_files_walks_directories(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yml", "sub/c.yaml", "sub/.hidden/d.yaml", ".git/e.yaml", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("kind: X\n", encoding="utf-8")
    explicit = tmp_path / "notes.txt"
    files, problems = yaml_files([tmp_path, explicit, tmp_path / "b.yaml"])
    assert problems == []
    found = [f.relative_to(tmp_path).as_posix() for f in files]
    assert found == ["a.yml", "b.yaml", "sub/c.yaml", "notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    _, problems = yaml_files([empty, tmp_path / "missing"])
    assert [p.split(": ", 1)[1] for p in problems] == [
        "no *.yaml or *.yml files in this directory",
        "no such file or directory",
    ]
