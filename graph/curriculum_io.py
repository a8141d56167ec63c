"""Curriculum files: read CSV or JSON into a :class:`~graph.curriculum.Bundle`, write them back.

Formats (the same fields in both; see ``docs/curriculum-format.md``):

* JSON: ``{"skills": [...], "prerequisites": [...], "items": [...]}``.
* CSV: a directory holding any of ``skills.csv``, ``prerequisites.csv``, ``items.csv``, or one
  such file on its own (its kind is told by its columns). A skills table may carry a
  ``prerequisites`` column listing prerequisite ids separated by ``,`` or ``;``, so a one-file
  curriculum is possible. Columns can be renamed on the way in (``{"id": "name"}`` reads our
  ``id`` from the file's ``name`` column), which imports tables such as Junyi's exercise table.

Every record keeps where it came from (``skills.csv line 12``, ``curriculum.json items[3]``) so
that problems name the line to fix.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from graph.checks import check_item_content
from graph.curriculum import Bundle, Problem, Sourced
from graph.models import Item, ItemKind, Prerequisite, PrerequisiteGraph, Skill, SkillWeight
from graph.store import ValidationError

SKILL_FIELDS = ("id", "name", "description", "topic", "area", "tags")
EDGE_FIELDS = ("source", "target", "strength")
ITEM_FIELDS = ("id", "kind", "title", "body", "url", "difficulty", "expected_seconds", "skills",
               "prompt", "choices", "answers", "hints", "explanation")
#: item fields holding a list of strings (in CSV: a JSON array, or entries separated by ``|``)
LIST_FIELDS = ("choices", "answers", "hints")
TABLES = ("skills", "prerequisites", "items")
_SPLIT = re.compile(r"[;,]")


class RowError(ValueError):
    """A field of one row is malformed; the message names the field and the value."""


def _text(row: Mapping[str, Any], key: str, default: str = "") -> str:
    value = row.get(key)
    return default if value is None else str(value).strip() or default


def _required(row: Mapping[str, Any], key: str) -> str:
    value = _text(row, key)
    if not value:
        raise RowError(f"{key!r} is empty")
    return value


def _number(row: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    raw = _text(row, key)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise RowError(f"{key} {raw!r} is not a number") from None
    if not low <= value <= high:
        raise RowError(f"{key} {raw} is outside [{low:g}, {high:g}]")
    return value


def _ids(raw: str) -> list[str]:
    return [p.strip() for p in _SPLIT.split(raw) if p.strip()]


def parse_skill(row: Mapping[str, Any]) -> tuple[Skill, list[str]]:
    """A skill and the prerequisite ids listed in its row (if the table has that column)."""
    skill_id = _required(row, "id")
    tags = row.get("tags")
    skill = Skill(
        id=skill_id,
        name=_text(row, "name", skill_id),
        description=_text(row, "description"),
        topic=_text(row, "topic"),
        area=_text(row, "area"),
        tags=tuple(_ids(tags)) if isinstance(tags, str) else tuple(tags or ()),
    )
    prereqs = row.get("prerequisites")
    return skill, (_ids(prereqs) if isinstance(prereqs, str) else list(prereqs or []))


def parse_edge(row: Mapping[str, Any]) -> Prerequisite:
    return Prerequisite(
        source=_required(row, "source"),
        target=_required(row, "target"),
        strength=_number(row, "strength", 1.0, 0.0, 1.0),
    )


def parse_weights(raw: Any) -> tuple[SkillWeight, ...]:
    """``"a:0.7;b"`` or a JSON list of ``{"skill_id", "weight"}`` -> Q-matrix row."""
    if isinstance(raw, list):
        pairs = [(str(w["skill_id"]), str(w.get("weight", 1.0))) for w in raw]
    else:
        pairs = [(p.partition(":")[0], p.partition(":")[2] or "1") for p in _ids(str(raw or ""))]
    weights = []
    for skill_id, weight in pairs:
        try:
            value = float(weight)
        except ValueError:
            raise RowError(f"weight {weight!r} of skill {skill_id!r} is not a number") from None
        if not 0.0 < value <= 1.0:
            raise RowError(f"weight {weight} of skill {skill_id!r} is outside (0, 1]")
        weights.append(SkillWeight(skill_id.strip(), value))
    return tuple(weights)


def _strings(row: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A list of strings: a JSON list, or (a CSV cell) a JSON array or ``a | b | c``."""
    raw = row.get(key)
    if raw is None or (isinstance(raw, float) and raw != raw):  # absent, or an empty CSV cell
        return ()
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RowError(f"{key} {text!r} is not a JSON array: {exc.msg}") from None
        else:
            return tuple(p.strip() for p in text.split("|") if p.strip())
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise RowError(f"{key} {raw!r} must be a list of strings")
    return tuple(raw)


def parse_item(row: Mapping[str, Any]) -> Item:
    item_id = _required(row, "id")
    kind = _text(row, "kind", ItemKind.EXERCISE.value).lower()
    if kind not in {k.value for k in ItemKind}:
        raise RowError(f"kind {kind!r} is not one of {', '.join(k.value for k in ItemKind)}")
    seconds = _number(row, "expected_seconds", 60, 1, 86_400)
    if seconds != int(seconds):
        raise RowError(f"expected_seconds {seconds:g} is not a whole number")
    item = Item(
        id=item_id,
        kind=ItemKind(kind),
        title=_text(row, "title", item_id),
        body=_text(row, "body"),
        url=_text(row, "url"),
        difficulty=_number(row, "difficulty", 0.5, 0.0, 1.0),
        expected_seconds=int(seconds),
        skills=parse_weights(row.get("skills")),
        prompt=_text(row, "prompt"),
        choices=_strings(row, "choices"),
        answers=_strings(row, "answers"),
        hints=_strings(row, "hints"),
        explanation=_text(row, "explanation"),
    )
    try:
        check_item_content(item)
    except ValidationError as exc:
        raise RowError(exc.message) from None
    return item


def _add_rows(bundle: Bundle, table: str, rows: list[tuple[str, Mapping[str, Any]]]) -> None:
    for where, row in rows:
        try:
            if table == "skills":
                skill, prereqs = parse_skill(row)
                bundle.skills.append(Sourced(skill, where))
                bundle.edges.extend(Sourced(Prerequisite(p, skill.id), where) for p in prereqs)
            elif table == "prerequisites":
                bundle.edges.append(Sourced(parse_edge(row), where))
            else:
                bundle.items.append(Sourced(parse_item(row), where))
        except (RowError, KeyError, TypeError) as exc:
            bundle.problems.append(Problem(where, "malformed", str(exc)))


def _table_of(columns: set[str]) -> str:
    if {"source", "target"} <= columns:
        return "prerequisites"
    if "kind" in columns or "skills" in columns:
        return "items"
    return "skills"


def _read_csv(path: Path, rename: Mapping[str, str], bundle: Bundle) -> None:
    """Read one CSV table; rows with too many fields are reported with their line number."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            bundle.problems.append(Problem(path.name, "malformed", "the file is empty"))
            return
        for fields in reader:
            if len(fields) > len(header):
                bundle.problems.append(
                    Problem(f"{path.name} line {reader.line_num}", "malformed",
                            f"{len(fields)} fields where the header has {len(header)}")
                )
    frame = pd.read_csv(
        path, dtype=str, keep_default_na=False, encoding="utf-8-sig", on_bad_lines="skip"
    )
    source_of = {ours: rename.get(ours, ours) for ours in
                 {*SKILL_FIELDS, *EDGE_FIELDS, *ITEM_FIELDS, "prerequisites"}}
    frame = frame.rename(columns={theirs: ours for ours, theirs in source_of.items()
                                  if theirs in frame.columns and theirs != ours})
    table = path.stem if path.stem in TABLES else _table_of(set(frame.columns))
    if "id" not in frame.columns and table != "prerequisites":
        bundle.problems.append(Problem(path.name, "malformed", "no 'id' column (map one with "
                                       "--column id=THEIR_COLUMN)"))
        return
    records = frame.to_dict(orient="records")
    # line numbers: header is line 1; multi-line quoted fields would shift them, rarely used
    _add_rows(bundle, table, [(f"{path.name} line {i + 2}", r) for i, r in enumerate(records)])


def read_curriculum(path: Path, rename: Mapping[str, str] | None = None) -> Bundle:
    """Read a curriculum from a JSON file, a CSV file or a directory of CSV files."""
    bundle = Bundle()
    rename = rename or {}
    if path.is_dir():
        found = [path / f"{t}.csv" for t in TABLES if (path / f"{t}.csv").exists()]
        if not found:
            raise FileNotFoundError(f"{path} holds none of {', '.join(t + '.csv' for t in TABLES)}")
        for table_path in found:
            _read_csv(table_path, rename, bundle)
    elif path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected an object with {', '.join(TABLES)}")
        for table in TABLES:
            rows = data.get(table, [])
            _add_rows(bundle, table, [(f"{path.name} {table}[{i}]", r) for i, r in enumerate(rows)])
    elif path.suffix.lower() == ".csv":
        _read_csv(path, rename, bundle)
    else:
        raise ValueError(f"{path}: use a .json file, a .csv file or a directory of CSV files")
    return bundle


def _skill_row(skill: Skill) -> dict[str, Any]:
    return {"id": skill.id, "name": skill.name, "description": skill.description,
            "topic": skill.topic, "area": skill.area, "tags": list(skill.tags)}


def _edge_row(edge: Prerequisite) -> dict[str, Any]:
    return {"source": edge.source, "target": edge.target, "strength": edge.strength}


def _item_row(item: Item) -> dict[str, Any]:
    return {"id": item.id, "kind": item.kind.value, "title": item.title, "body": item.body,
            "url": item.url, "difficulty": item.difficulty,
            "expected_seconds": item.expected_seconds,
            "skills": [{"skill_id": w.skill_id, "weight": w.weight} for w in item.skills],
            "prompt": item.prompt, "choices": list(item.choices), "answers": list(item.answers),
            "hints": list(item.hints), "explanation": item.explanation}


def write_curriculum(path: Path, graph: PrerequisiteGraph, items: list[Item]) -> list[Path]:
    """Write to ``x.json``, or as ``skills.csv``/``prerequisites.csv``/``items.csv`` into the
    directory ``path`` (created). Returns the files written."""
    tables: dict[str, tuple[list[dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]]
    tables = {
        "skills": ([_skill_row(s) for s in graph.skills],
                   lambda r: {**r, "tags": ";".join(r["tags"])}),
        "prerequisites": ([_edge_row(e) for e in graph.edges], lambda r: r),
        "items": ([_item_row(i) for i in items],
                  lambda r: {**r, "skills": ";".join(f"{w['skill_id']}:{w['weight']:g}"
                                                      for w in r["skills"]),
                             **{k: json.dumps(r[k], ensure_ascii=False) if r[k] else ""
                                for k in LIST_FIELDS}}),
    }
    if path.suffix.lower() == ".json":
        payload = {name: rows for name, (rows, _) in tables.items()}
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", "utf-8")
        return [path]
    path.mkdir(parents=True, exist_ok=True)
    columns = {"skills": SKILL_FIELDS, "prerequisites": EDGE_FIELDS, "items": ITEM_FIELDS}
    written = []
    for name, (rows, flatten) in tables.items():
        out = path / f"{name}.csv"
        pd.DataFrame([flatten(r) for r in rows], columns=list(columns[name])).to_csv(
            out, index=False
        )
        written.append(out)
    return written
