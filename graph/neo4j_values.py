"""Checks and conversions between domain objects and the Neo4j store's property maps.

The rules match the embedded store's (``graph.sqlite_store`` and its schema's CHECKs) so the
two stores refuse the same input with the same :class:`~graph.store.ValidationError` field.
Timestamps are stored as Neo4j ``DateTime`` values normalised to UTC and come back as
timezone-aware UTC ``datetime`` objects. Reads return them as integer microseconds since the
epoch (:func:`graph.cypher.epoch_us`), which the driver decodes far faster than ``DateTime``
values; :func:`to_datetime` converts them back exactly.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from neo4j.time import DateTime

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
    retention_problem,
)
from graph.store import ValidationError

Props = Mapping[str, Any]


# -- checks ---------------------------------------------------------------------------------


def in_range(value: object, lo: float, hi: float) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and not math.isnan(value) and lo <= value <= hi)


def check_id(field: str, value: object, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError(field, f"{value!r}: {what} needs a non-empty string id")


def check_limit(limit: object) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError("limit", f"{limit!r} must be a positive integer")


def check_depth(depth: object) -> None:
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
        raise ValidationError("depth", f"{depth!r} must be None (unbounded) or an integer >= 0")


def utc(moment: datetime, field: str) -> datetime:
    """``moment`` in UTC; naive datetimes are refused."""
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        shown = moment.isoformat() if isinstance(moment, datetime) else repr(moment)
        raise ValidationError(field, f"{shown} has no timezone; pass an aware datetime (UTC)")
    return moment.astimezone(UTC)


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
    check_id("skill.id", s.id, "a skill")
    # name_lower is Python's own lower(), so search matches exactly as on the embedded store.
    return {"id": s.id, "name": s.name, "name_lower": s.name.lower(),
            "description": s.description, "topic": s.topic, "area": s.area,
            "tags": list(s.tags)}


def item_row(item: Item) -> dict[str, Any]:
    check_id("item.id", item.id, "an item")
    try:
        kind = ItemKind(item.kind).value
    except ValueError:
        raise ValidationError("item.kind", f"{item.kind!r} of {item.id!r} is not one of "
                              f"{', '.join(k.value for k in ItemKind)}") from None
    if not in_range(item.difficulty, 0.0, 1.0):
        raise ValidationError("item.difficulty", f"{item.difficulty!r} of {item.id!r} is "
                              "outside [0, 1] (0 easiest, 1 hardest)")
    if (isinstance(item.expected_seconds, bool) or not isinstance(item.expected_seconds, int)
            or item.expected_seconds < 0):
        raise ValidationError("item.expected_seconds", f"{item.expected_seconds!r} of "
                              f"{item.id!r} must be a whole number of seconds >= 0")
    seen: set[str] = set()
    for w in item.skills:
        if not in_range(w.weight, 0.0, 1.0) or w.weight == 0:
            raise ValidationError("item.skills.weight", f"{w.weight!r} for skill "
                                  f"{w.skill_id!r} of {item.id!r} must be in (0, 1]")
        if w.skill_id in seen:
            raise ValidationError("item.skills", f"{item.id!r} lists skill {w.skill_id!r} "
                                  "twice; give each skill once with one weight")
        seen.add(w.skill_id)
    props = {"id": item.id, "kind": kind, "title": item.title, "body": item.body,
             "url": item.url, "difficulty": float(item.difficulty),
             "expected_seconds": item.expected_seconds}
    skills = [{"skill_id": w.skill_id, "weight": float(w.weight), "pos": pos}
              for pos, w in enumerate(item.skills)]
    return {"id": item.id, "props": props, "skills": skills}


def prerequisite_row(e: Prerequisite) -> dict[str, Any]:
    if e.source == e.target:
        raise ValidationError(
            "prerequisite", f"self-loop {e.source!r} -> {e.target!r}: a skill cannot "
            "be its own prerequisite; remove this edge")
    if not in_range(e.strength, 0.0, 1.0):
        raise ValidationError(
            "strength", f"{e.strength!r} on {e.source!r} -> {e.target!r} is outside "
            "[0, 1]; use 1 for a strict prerequisite, less for a weaker one")
    return {"source": e.source, "target": e.target, "strength": float(e.strength)}


def learner_row(learner: Learner) -> dict[str, Any]:
    check_id("learner.id", learner.id, "a learner")
    if len(set(learner.goals)) != len(learner.goals):
        raise ValidationError(
            "learner.goals", f"{learner.goals!r} of {learner.id!r} repeats a skill")
    retention = learner.target_retention
    why = None if retention is None else retention_problem(retention)
    if why is not None:
        raise ValidationError("learner.target_retention",
                              f"{retention!r} of {learner.id!r} {why} (or None for the default)")
    return {"id": learner.id, "display_name": learner.display_name, "goals": list(learner.goals),
            "target_retention": None if retention is None else float(retention)}


def user_props(u: User) -> dict[str, Any]:
    check_id("user.id", u.id, "a user")
    try:
        role = Role(u.role).value
    except ValueError:
        raise ValidationError("user.role", f"{u.role!r} of {u.id!r} is not one of "
                              f"{', '.join(r.value for r in Role)}") from None
    return {"id": u.id, "display_name": u.display_name, "role": role}


def group_row(g: Group) -> dict[str, Any]:
    check_id("group.id", g.id, "a group")
    for field, members in (("learner_ids", g.learner_ids), ("teacher_ids", g.teacher_ids)):
        if len(set(members)) != len(members):
            raise ValidationError(f"group.{field}", f"{members!r} of {g.id!r} repeats "
                                  "an id; list each member once")
    return {"id": g.id, "name": g.name, "teacher_ids": list(g.teacher_ids),
            "learner_ids": list(g.learner_ids)}


def attempt_row(a: Attempt) -> dict[str, Any]:
    if not isinstance(a.attempt_id, str) or not a.attempt_id:
        raise ValidationError("attempt_id", "an attempt needs a non-empty, client-chosen id")
    if not in_range(a.score, 0.0, 1.0):
        raise ValidationError("score", f"{a.score!r} of attempt {a.attempt_id!r} is outside "
                              "[0, 1]; use 1.0 for right, 0.0 for wrong")
    if a.response_time_ms is not None and (
            isinstance(a.response_time_ms, bool) or not isinstance(a.response_time_ms, int)
            or a.response_time_ms < 0):
        raise ValidationError("response_time_ms", f"{a.response_time_ms!r} of attempt "
                              f"{a.attempt_id!r} must be None or an integer >= 0")
    if isinstance(a.hints_used, bool) or not isinstance(a.hints_used, int) or a.hints_used < 0:
        raise ValidationError("hints_used", f"{a.hints_used!r} of attempt {a.attempt_id!r} "
                              "must be an integer >= 0")
    return {"id": a.attempt_id, "learner_id": a.learner_id, "item_id": a.item_id,
            "score": float(a.score), "timestamp": utc(a.timestamp, "timestamp"),
            "response_time_ms": a.response_time_ms, "hints_used": a.hints_used}


def mastery_row(m: Mastery) -> dict[str, Any]:
    if not in_range(m.probability, 0.0, 1.0):
        raise ValidationError("probability", f"{m.probability!r} for "
                              f"({m.learner_id!r}, {m.skill_id!r}) is outside [0, 1]")
    if not in_range(m.uncertainty, 0.0, math.inf):
        raise ValidationError("uncertainty", f"{m.uncertainty!r} for "
                              f"({m.learner_id!r}, {m.skill_id!r}) must be >= 0")
    return {"learner_id": m.learner_id, "skill_id": m.skill_id,
            "probability": float(m.probability), "uncertainty": float(m.uncertainty),
            "updated_at": utc(m.updated_at, "updated_at"), "model_version": m.model_version}


def change_row(
    action: str, entity: str, entity_id: str, detail: Mapping[str, Any]
) -> dict[str, Any]:
    return {"action": action, "entity": entity, "entity_id": entity_id,
            "detail": json.dumps(detail, sort_keys=True)}


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
                difficulty=float(p["difficulty"]), expected_seconds=int(p["expected_seconds"]))


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
                            detail=json.loads(p["detail"]))


# -- the opaque attempts cursor -------------------------------------------------------------


def encode_cursor(timestamp: datetime, attempt_id: str) -> str:
    raw = json.dumps([timestamp.isoformat(), attempt_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, attempt_id = json.loads(raw)
        moment = datetime.fromisoformat(stamp)
        if isinstance(attempt_id, str) and moment.tzinfo is not None:
            return moment.astimezone(UTC), attempt_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        pass
    raise ValidationError("cursor", f"{cursor!r} is not a cursor this store issued; pass "
                          "the next_cursor of a previous page, or None for the first page")
