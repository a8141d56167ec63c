"""schema.graphql at the repository root must match the code."""

from __future__ import annotations

from pathlib import Path

from api.schema import schema_sdl
from api.schema_export import SCHEMA_FILE, main


def test_schema_graphql_is_current() -> None:
    assert SCHEMA_FILE.read_text() == schema_sdl(), (
        "schema.graphql is stale: run `python -m api.schema_export`"
    )


def test_check_mode_detects_staleness(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"
    out.write_text("type Query { old: Int }\n")
    assert main(["--check", "--out", str(out)]) == 1
    assert main(["--out", str(out)]) == 0
    assert main(["--check", "--out", str(out)]) == 0
    assert "type Query" in out.read_text() and "skillGraph" in out.read_text()
