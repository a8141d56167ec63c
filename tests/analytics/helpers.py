"""A tiny curriculum by hand: skills a -> b -> c (a is the most basic), two exercises each,
served by BKT with population defaults (prior 0.3, learn 0.15, guess 0.2, slip 0.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graph.models import (
    Attempt,
    Item,
    ItemKind,
    Prerequisite,
    PrerequisiteGraph,
    Skill,
    SkillWeight,
)
from recommender.index import index_from_domain
from tracing.serving import MasteryService

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SKILLS = tuple(Skill(s, s.upper()) for s in "abc")
EDGES = (Prerequisite("a", "b"), Prerequisite("b", "c"))
GRAPH = PrerequisiteGraph(SKILLS, EDGES)
ITEMS = tuple(
    Item(f"{s}{k}", ItemKind.EXERCISE, f"{s} {k}", (SkillWeight(s),)) for s in "abc" for k in (1, 2)
)


def service() -> MasteryService:
    return MasteryService.for_curriculum(GRAPH, ITEMS)


def index():  # type: ignore[no-untyped-def]
    return index_from_domain(GRAPH, list(ITEMS))


def answers(
    learner: str, spec: str, *, start: datetime = T0, gap_s: float = 60.0, item: str | None = None
) -> list[Attempt]:
    """``spec`` like ``"a1 a0 b1"``: skill letter then 1 (right) or 0 (wrong), one per answer,
    ``gap_s`` apart (the item ``<skill>1`` unless ``item`` is given)."""
    out = []
    for k, tok in enumerate(spec.split()):
        out.append(
            Attempt(
                f"{learner}-{k:04d}",
                learner,
                item or f"{tok[0]}1",
                float(tok[1]),
                start + timedelta(seconds=gap_s * k),
            )
        )
    return out
