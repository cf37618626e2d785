"""The configuration reference is generated from the registry and must match the checked-in file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from flink_operator.config import DURATION, INTEGER, OptionRegistry, Scope, declare, declare_optional
from flink_operator.config.docs import main, render_markdown

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[3]
CHECKED_IN = REPO_ROOT / "docs" / "configuration.md"


def test_checked_in_reference_is_current() -> None:
    expected = render_markdown()
    actual = CHECKED_IN.read_text(encoding="utf-8") if CHECKED_IN.exists() else ""
    assert actual == expected, (
        "docs/configuration.md is stale; regenerate it with "
        "`python -m flink_operator.config.docs --write docs/configuration.md`"
    )


def test_every_declared_option_is_documented() -> None:
    text = render_markdown()
    for key in (
        "kubernetes.operator.reconcile.interval",
        "kubernetes.operator.periodic.savepoint.interval",
        "job.autoscaler.metrics.window",
        "kubernetes.operator.metrics.reporter.<name>.factory.class",
    ):
        assert f"| `{key}` |" in text


def test_rows_show_default_type_scope_and_history() -> None:
    registry = OptionRegistry()
    declare("a.interval", DURATION, timedelta(seconds=90), "How | often.",
            deprecated_keys=("a.old",), upstream_default="5 min", registry=registry)
    declare_optional("a.<name>.limit", INTEGER, "Per <name> limit.", scope=Scope.DYNAMIC, registry=registry)
    text = render_markdown(registry)
    assert (
        "| `a.interval` | `90 s` | Duration | system | How \\| often. Upstream default: `5 min`. "
        "Deprecated keys: `a.old`. |" in text
    )
    assert "| `a.<name>.limit` | (none) | Integer | dynamic | Per &lt;name&gt; limit. |" in text


def test_check_mode_reports_staleness(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "configuration.md"
    assert main(["--write", str(target)]) == 0
    assert main(["--check", str(target)]) == 0
    target.write_text("old\n")
    assert main(["--check", str(target)]) == 1
    assert "is stale" in capsys.readouterr().err
