"""Conversions between domain objects and the Neo4j store's property maps.

The store runs the input checks of ``graph.checks`` (shared with the embedded store) before
it builds write parameters here, so the builders assume valid objects.
Timestamps are stored as Neo4j ``DateTime`` values normalised to UTC and come back as
timezone-aware UTC ``datetime`` objects. Reads return them as integer microseconds since the
epoch (:func:`graph.cypher.epoch_us`), which the driver decodes far faster than ``DateTime``
values; :func:`to_datetime` converts them back exactly.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from neo4j.time import DateTime

from graph.checks import check_aware
from graph.models import (
    Attempt,
    CurriculumChange,
    Group,
    Item,
    ItemKind,
    Learner,
    Mastery,
    Prerequisite,
    Role,
    Skill,
    SkillWeight,
    User,
)
from graph.store import ValidationError

Props = Mapping[str, Any]


# -- timestamps -----------------------------------------------------------------------------


def utc(moment: datetime, field: str) -> datetime:
    """``moment`` in UTC; naive datetimes are refused."""
    return check_aware(moment, field).astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_datetime(value: Any) -> datetime:
    """A timestamp read back as an aware UTC ``datetime``: integer microseconds since the epoch
    (what the queries return, :func:`graph.cypher.epoch_us`), a stored ``DateTime``, or an
    already native ``datetime``."""
    if type(value) is int:
        return _EPOCH + timedelta(microseconds=value)  # exact: integer microseconds
    native = value.to_native() if isinstance(value, DateTime) else value
    if not isinstance(native, datetime) or native.tzinfo is None:
        raise ValidationError("timestamp", f"stored value {value!r} is not an aware datetime")
    return native.astimezone(UTC)


# -- domain -> property maps ----------------------------------------------------------------


def skill_props(s: Skill) -> dict[str, Any]:
    # name_lower is Python's own lower(), so search matches exactly as on the embedded store.
    return {"id": s.id, "name": s.name, "name_lower": s.name.lower(),
            "description": s.description, "topic": s.topic, "area": s.area,
            "tags": list(s.tags)}


def item_row(item: Item) -> dict[str, Any]:
    """The write parameters of an item that passed :func:`graph.checks.check_item`."""
    kind = ItemKind(item.kind).value
    props = {"id": item.id, "kind": kind, "title": item.title, "body": item.body,
             "url": item.url, "difficulty": float(item.difficulty),
             "expected_seconds": int(item.expected_seconds), "prompt": item.prompt,
             "choices": list(item.choices), "answers": list(item.answers),
             "hints": list(item.hints), "explanation": item.explanation}
    skills = [{"skill_id": w.skill_id, "weight": float(w.weight), "pos": pos}
              for pos, w in enumerate(item.skills)]
    return {"id": item.id, "props": props, "skills": skills}


def prerequisite_row(e: Prerequisite) -> dict[str, Any]:
    return {"source": e.source, "target": e.target, "strength": float(e.strength)}


def learner_row(learner: Learner) -> dict[str, Any]:
    retention = learner.target_retention
    return {"id": learner.id, "display_name": learner.display_name, "goals": list(learner.goals),
            "target_retention": None if retention is None else float(retention)}


def user_props(u: User) -> dict[str, Any]:
    role = Role(u.role).value
    return {"id": u.id, "display_name": u.display_name, "role": role}


def group_row(g: Group) -> dict[str, Any]:
    return {"id": g.id, "name": g.name, "teacher_ids": list(g.teacher_ids),
            "learner_ids": list(g.learner_ids)}


def attempt_row(a: Attempt) -> dict[str, Any]:
    """The write parameters of an attempt that passed :func:`graph.checks.check_attempt`."""
    return {"id": a.attempt_id, "learner_id": a.learner_id, "item_id": a.item_id,
            "score": float(a.score), "timestamp": utc(a.timestamp, "timestamp"),
            "response_time_ms": None if a.response_time_ms is None else int(a.response_time_ms),
            "hints_used": int(a.hints_used)}


def mastery_row(m: Mastery) -> dict[str, Any]:
    return {"learner_id": m.learner_id, "skill_id": m.skill_id,
            "probability": float(m.probability), "uncertainty": float(m.uncertainty),
            "updated_at": utc(m.updated_at, "updated_at"), "model_version": m.model_version}


def change_row(
    action: str, entity: str, entity_id: str, detail: Mapping[str, Any],
    before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {"action": action, "entity": entity, "entity_id": entity_id,
            "detail": json.dumps(detail, sort_keys=True),
            "before": None if before is None else json.dumps(before, sort_keys=True),
            "after": None if after is None else json.dumps(after, sort_keys=True)}


# -- property maps -> domain ----------------------------------------------------------------


def skill(p: Props) -> Skill:
    return Skill(id=p["id"], name=p["name"], description=p.get("description", ""),
                 topic=p.get("topic", ""), area=p.get("area", ""),
                 tags=tuple(p.get("tags") or ()))


def item(p: Props) -> Item:
    links = sorted(p.get("skills") or (), key=lambda w: w["pos"])
    return Item(id=p["id"], kind=ItemKind(p["kind"]), title=p["title"],
                skills=tuple(SkillWeight(w["skill_id"], float(w["weight"])) for w in links),
                body=p.get("body", ""), url=p.get("url", ""),
                difficulty=float(p["difficulty"]), expected_seconds=int(p["expected_seconds"]),
                prompt=p.get("prompt") or "", choices=tuple(p.get("choices") or ()),
                answers=tuple(p.get("answers") or ()), hints=tuple(p.get("hints") or ()),
                explanation=p.get("explanation") or "")


def edges_into(target: str, incoming: list[list[Any]]) -> list[Prerequisite]:
    return [Prerequisite(source, target, float(strength)) for source, strength in incoming]


def learner(p: Props) -> Learner:
    goals = tuple(sid for _, sid in sorted(p.get("goals") or ()))
    retention = p.get("target_retention")
    return Learner(id=p["id"], display_name=p["display_name"], goals=goals,
                   target_retention=None if retention is None else float(retention))


def user(p: Props) -> User:
    return User(id=p["id"], display_name=p["display_name"], role=Role(p["role"]))


def group(p: Props) -> Group:
    members = tuple(lid for _, lid in sorted(p.get("learners") or ()))
    return Group(id=p["id"], name=p["name"], teacher_ids=tuple(p.get("teacher_ids") or ()),
                 learner_ids=members)


def attempt(p: Props) -> Attempt:
    return Attempt(attempt_id=p["id"], learner_id=p["learner_id"], item_id=p["item_id"],
                   score=float(p["score"]), timestamp=to_datetime(p["timestamp"]),
                   response_time_ms=p.get("response_time_ms"),
                   hints_used=int(p.get("hints_used", 0)))


def mastery(learner_id: str, p: Props) -> Mastery:
    return Mastery(learner_id=learner_id, skill_id=p["skill_id"],
                   probability=float(p["probability"]), uncertainty=float(p["uncertainty"]),
                   updated_at=to_datetime(p["updated_at"]), model_version=p["model_version"])


def change(p: Props) -> CurriculumChange:
    return CurriculumChange(seq=int(p["seq"]), actor=p["actor"], at=to_datetime(p["at"]),
                            action=p["action"], entity=p["entity"], entity_id=p["entity_id"],
                            detail=json.loads(p["detail"]), batch=int(p.get("batch", p["seq"])),
                            before=json.loads(p["before"]) if p.get("before") else None,
                            after=json.loads(p["after"]) if p.get("after") else None)


# -- the opaque attempts cursor -------------------------------------------------------------


def encode_cursor(timestamp: datetime, attempt_id: str) -> str:
    raw = json.dumps([timestamp.isoformat(), attempt_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "cursor") -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, attempt_id = json.loads(raw)
        moment = datetime.fromisoformat(stamp)
        # the id must encode to UTF-8 (no lone surrogates) for the driver
        if isinstance(attempt_id, str) and moment.tzinfo is not None and attempt_id.encode():
            return moment.astimezone(UTC), attempt_id
    except (binascii.Error, ValueError, TypeError, RecursionError, OverflowError):
        pass
    raise ValidationError(field, f"{cursor!r} is not a cursor this store issued; pass "
                          "the cursor of a row or page it listed, or None for no bound")
