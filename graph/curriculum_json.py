"""Curriculum objects as JSON values, for the change log's ``before`` / ``after``.

Every field of the dataclass is kept (fields added to ``Skill`` or ``Item`` later travel too),
so that undoing a change rebuilds the object exactly as it was.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from graph.models import Item, ItemKind, Prerequisite, Skill, SkillWeight


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def to_json(value: Skill | Item | Prerequisite) -> dict[str, Any]:
    """The object as a JSON object (enums by value, tuples as lists)."""
    plain: dict[str, Any] = _plain(value)
    return plain


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: _tuples(v) for k, v in data.items() if k in names}


def skill_from_json(data: dict[str, Any]) -> Skill:
    return Skill(**_fields(Skill, data))


def edge_from_json(data: dict[str, Any]) -> Prerequisite:
    return Prerequisite(**_fields(Prerequisite, data))


def item_from_json(data: dict[str, Any]) -> Item:
    fields = _fields(Item, data)
    fields["kind"] = ItemKind(fields["kind"])
    fields["skills"] = tuple(SkillWeight(**w) for w in data.get("skills", ()))
    return Item(**fields)
