"""Pure helpers of the SQLite store: timestamp and cursor encodings, and the
conversions between table rows and domain objects (the input checks are in
``graph.checks``). Nothing here touches a connection."""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import networkx as nx

from graph.checks import check_aware
from graph.models import Attempt, CurriculumChange, Mastery, Skill
from graph.store import ValidationError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
SKILL_COLS = "id, name, description, topic, area, tags"
ITEM_COLS = ("id, kind, title, body, url, difficulty, expected_seconds, prompt, choices,"
             " answers, hints, explanation")
ATTEMPT_COLS = "attempt_id, learner_id, item_id, score, ts_us, response_time_ms, hints_used"
CHANGE_COLS = ("seq, actor, at_us, action, entity, entity_id, detail, batch, before_json,"
               " after_json")
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


def to_us(moment: datetime, field: str) -> int:
    """Microseconds since the epoch of a timezone-aware datetime (naive ones are refused)."""
    return (check_aware(moment, field) - EPOCH) // MICROSECOND


def from_us(us: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch (:func:`to_us` inverted): plain
    integer arithmetic, half the cost of ``fromtimestamp(...).replace(...)`` (every attempt
    and view read converts one)."""
    return EPOCH + timedelta(microseconds=us)


def ids_json(ids: Iterable[str]) -> str:
    return json.dumps(list(ids))


def encode_cursor(ts_us: int, attempt_id: str) -> str:
    raw = json.dumps([ts_us, attempt_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "cursor") -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts_us, attempt_id = json.loads(raw)
        # SQLite integers are 64-bit; the id must encode to UTF-8 (no lone surrogates)
        if (
            isinstance(ts_us, int)
            and -(2**63) <= ts_us < 2**63
            and isinstance(attempt_id, str)
            and attempt_id.encode("utf-8")
        ):
            return ts_us, attempt_id
    except (binascii.Error, ValueError, TypeError, RecursionError):
        pass
    raise ValidationError(field, f"{cursor!r} is not a cursor this store issued; pass "
                          "the cursor of a row or page it listed, or None for no bound")


def skill_row(row: sqlite3.Row) -> Skill:
    return Skill(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        topic=row["topic"],
        area=row["area"],
        tags=() if row["tags"] == "[]" else tuple(json.loads(row["tags"])),
    )


def attempt_row(row: Sequence[Any]) -> Attempt:
    """An attempt from a row of :data:`ATTEMPT_COLS` (by position: a recommendation reads up
    to 200 of them, and ``sqlite3.Row`` look-ups by name cost more than the rest)."""
    aid, learner_id, item_id, score, ts_us, response_time_ms, hints_used = row
    return Attempt(aid, learner_id, item_id, score, from_us(ts_us), response_time_ms, hints_used)


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


def attempt_values(a: Attempt) -> tuple[Any, ...]:
    """The table row of an attempt that passed :func:`graph.checks.check_attempt`."""
    return (a.attempt_id, a.learner_id, a.item_id, float(a.score),
            to_us(a.timestamp, "timestamp"),
            None if a.response_time_ms is None else int(a.response_time_ms), int(a.hints_used))


def change_row(r: sqlite3.Row) -> CurriculumChange:
    """A change-log row read with :data:`CHANGE_COLS`."""
    return CurriculumChange(
        seq=r[0], actor=r[1], at=from_us(r[2]), action=r[3], entity=r[4], entity_id=r[5],
        detail=json.loads(r[6]), batch=r[0] if r[7] is None else r[7],
        before=None if r[8] is None else json.loads(r[8]),
        after=None if r[9] is None else json.loads(r[9]))
