"""Pure helpers of the SQLite store: value checks, timestamp and cursor encodings, and the
conversions between table rows and domain objects. Nothing here touches a connection."""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import networkx as nx

from graph.models import Attempt, Item, ItemKind, Learner, Mastery, Skill, retention_problem
from graph.store import ValidationError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
SKILL_COLS = "id, name, description, topic, area, tags"
ITEM_COLS = "id, kind, title, body, url, difficulty, expected_seconds"
ATTEMPT_COLS = "attempt_id, learner_id, item_id, score, ts_us, response_time_ms, hints_used"
MASTERY_COLS = "learner_id, skill_id, probability, uncertainty, updated_us, model_version"


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


H = TypeVar("H", bound=_HasId)


def last_per_id(values: Sequence[H]) -> list[H]:
    """``values`` with repeated ids collapsed: the last one given wins (as if upserted one by
    one), in the order each id first appears."""
    if len({v.id for v in values}) == len(values):
        return list(values)
    return list({v.id: v for v in values}.values())


def in_order(ids: Sequence[str], found: Iterable[H]) -> list[H | None]:
    """For each of ``ids`` in turn, the value of ``found`` with that id, or None."""
    by_id = {v.id: v for v in found}
    return [by_id.get(i) for i in ids]


def check_id(field: str, value: str, what: str) -> None:
    """ValidationError unless ``value`` (the id of ``what``, e.g. "a skill") is non-empty."""
    if not value:
        raise ValidationError(field, f"{what} needs a non-empty id")


def to_us(moment: datetime, field: str) -> int:
    """Microseconds since the epoch of a timezone-aware datetime (naive ones are refused)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(
            field, f"{moment.isoformat()} has no timezone; pass an aware datetime (UTC)"
        )
    return (moment - EPOCH) // MICROSECOND


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


def ids_json(ids: Iterable[str]) -> str:
    return json.dumps(list(ids))


def in_range(value: float, lo: float, hi: float) -> bool:
    """``lo <= value <= hi`` for a real number (NaN and non-numbers are out of range)."""
    try:
        return lo <= value <= hi and not isinstance(value, bool)
    except TypeError:
        return False


def encode_cursor(ts_us: int, attempt_id: str) -> str:
    raw = json.dumps([ts_us, attempt_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts_us, attempt_id = json.loads(raw)
        if isinstance(ts_us, int) and isinstance(attempt_id, str):
            return ts_us, attempt_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        pass
    raise ValidationError("cursor", f"{cursor!r} is not a cursor this store issued; pass "
                          "the next_cursor of a previous page, or None for the first page")


def check_limit(limit: int) -> None:
    if not isinstance(limit, int) or limit < 1:
        raise ValidationError("limit", f"{limit!r} must be a positive integer")


def check_depth(depth: int | None) -> None:
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise ValidationError("depth", f"{depth!r} must be None (unbounded) or an integer >= 0")


def check_learner_retention(learner: Learner) -> None:
    """A learner's ``target_retention`` is None (the default) or in the allowed range."""
    value = learner.target_retention
    why = None if value is None else retention_problem(value)
    if why is not None:
        raise ValidationError("learner.target_retention",
                              f"{value!r} of {learner.id!r} {why} (or None for the default)")


def skill_row(row: sqlite3.Row) -> Skill:
    return Skill(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        topic=row["topic"],
        area=row["area"],
        tags=() if row["tags"] == "[]" else tuple(json.loads(row["tags"])),
    )


def attempt_row(row: sqlite3.Row) -> Attempt:
    return Attempt(
        attempt_id=row["attempt_id"],
        learner_id=row["learner_id"],
        item_id=row["item_id"],
        score=row["score"],
        timestamp=from_us(row["ts_us"]),
        response_time_ms=row["response_time_ms"],
        hints_used=row["hints_used"],
    )


def mastery_row(row: sqlite3.Row) -> Mastery:
    return Mastery(
        learner_id=row["learner_id"],
        skill_id=row["skill_id"],
        probability=row["probability"],
        uncertainty=row["uncertainty"],
        updated_at=from_us(row["updated_us"]),
        model_version=row["model_version"],
    )


def find_cycle(edges: Iterable[tuple[str, str]], new: Sequence[tuple[str, str]]) -> list[str]:
    """A shortest cycle (first id repeated last) through a new edge of ``edges``, starting at
    that edge's source; [] when the graph is acyclic. Linear in the graph's size: one cycle
    search, then one shortest path back along the first new edge on it."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_edges_from(edges)
    try:
        found = [(u, v) for u, v, *_ in nx.find_cycle(graph)]
    except nx.NetworkXNoCycle:
        return []
    fresh = set(new)
    source, target = next((e for e in found if e in fresh), found[0])
    path: list[str] = nx.shortest_path(graph, target, source)
    return [source, *path]


def item_kind(kind: ItemKind | str, field: str = "kind") -> ItemKind:
    """``kind`` as an ``ItemKind``; ValidationError naming the allowed kinds otherwise."""
    try:
        return ItemKind(kind)
    except ValueError:
        raise ValidationError(field, f"{kind!r} is not one of "
                              f"{', '.join(k.value for k in ItemKind)}") from None


def validate_item(item: Item) -> None:
    check_id("item.id", item.id, "an item")
    try:
        item_kind(item.kind)
    except ValidationError as exc:
        raise ValidationError("item.kind", f"{exc.message} (item {item.id!r})") from None
    if not in_range(item.difficulty, 0.0, 1.0):
        raise ValidationError("item.difficulty", f"{item.difficulty!r} of {item.id!r} is "
                              "outside [0, 1] (0 easiest, 1 hardest)")
    if not isinstance(item.expected_seconds, int) or item.expected_seconds < 0:
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


def attempt_values(a: Attempt) -> tuple[Any, ...]:
    if not a.attempt_id:
        raise ValidationError("attempt_id", "an attempt needs a non-empty, client-chosen id")
    if not in_range(a.score, 0.0, 1.0):
        raise ValidationError("score", f"{a.score!r} of attempt {a.attempt_id!r} is outside "
                              "[0, 1]; use 1.0 for right, 0.0 for wrong")
    if a.response_time_ms is not None and (
            not isinstance(a.response_time_ms, int) or a.response_time_ms < 0):
        raise ValidationError("response_time_ms", f"{a.response_time_ms!r} of attempt "
                              f"{a.attempt_id!r} must be None or an integer >= 0")
    if not isinstance(a.hints_used, int) or a.hints_used < 0:
        raise ValidationError("hints_used", f"{a.hints_used!r} of attempt {a.attempt_id!r} "
                              "must be an integer >= 0")
    return (a.attempt_id, a.learner_id, a.item_id, float(a.score),
            to_us(a.timestamp, "timestamp"), a.response_time_ms, a.hints_used)
