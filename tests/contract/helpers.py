"""Small hand-built curricula shared by the contract tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from graph.models import Attempt, Item, ItemKind, Learner, Prerequisite, Skill, SkillWeight

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ACTOR = "designer-1"


def skill(sid: str, **kw: Any) -> Skill:
    return Skill(id=sid, name=kw.pop("name", f"Skill {sid}"), **kw)


def item(iid: str, *skill_ids: str, **kw: Any) -> Item:
    return Item(id=iid, kind=kw.pop("kind", ItemKind.EXERCISE), title=kw.pop("title", iid),
                skills=tuple(SkillWeight(s, 1.0) for s in skill_ids), **kw)


def attempt(aid: str, learner: str = "l1", item_id: str = "i1", score: float = 1.0,
            minute: int = 0, **kw: Any) -> Attempt:
    return Attempt(attempt_id=aid, learner_id=learner, item_id=item_id, score=score,
                   timestamp=T0 + timedelta(minutes=minute), **kw)


async def chain(store: Any, ids: str = "abcd") -> None:
    """Skills a, b, c, d with the chain a -> b -> c -> d (a is the most basic)."""
    await store.upsert_skills([skill(s) for s in ids], actor=ACTOR)
    await store.upsert_prerequisites(
        [Prerequisite(s, t) for s, t in zip(ids, ids[1:], strict=False)], actor=ACTOR)


async def learner_with_items(store: Any, learners: tuple[str, ...] = ("l1",),
                             items: tuple[str, ...] = ("i1",)) -> None:
    """Skill s1, the given exercise items on it, the given learners."""
    await store.upsert_skills([skill("s1")], actor=ACTOR)
    await store.upsert_items([item(i, "s1") for i in items], actor=ACTOR)
    await store.upsert_learners([Learner(lid, f"Learner {lid}") for lid in learners])


def edge_set(graph: Any) -> set[tuple[str, str]]:
    return {(e.source, e.target) for e in graph.edges}


def skill_ids(graph: Any) -> list[str]:
    return [s.id for s in graph.skills]
