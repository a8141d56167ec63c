"""Catalogue and interactions from a store, or from a public interaction log.

Store: every item (``list_items`` pages; text = title + body), the prerequisite edges, and
every learner's attempts (``list_learners`` then ``attempts_of`` pages), timed by their
timestamps. Log: one or more AKT "pid" files (:func:`read_pid4`); a learner's answers are
timed by their position in the file's time-ordered sequence; items carry skills, no text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from graph.models import Item
from graph.store import GraphStore
from recommender.catalogue.data import Catalogue, Interactions, from_events
from recommender.errors import InvalidParameterError

PAGE = 500
ProgressFn = Callable[[str, float], None]


def item_text(item: Item) -> str:
    return f"{item.title}. {item.body}".strip()


def catalogue_from_items(items: Sequence[Item], edges: Sequence[tuple[str, str]] = ()) -> Catalogue:
    ordered = sorted(items, key=lambda i: i.id)
    return Catalogue(
        item_ids=tuple(i.id for i in ordered),
        texts=tuple(item_text(i) for i in ordered),
        skills=tuple(i.skill_ids for i in ordered),
        prerequisites=tuple(edges),
    )


async def read_items(store: GraphStore) -> list[Item]:
    """Every item (``list_items`` pages)."""
    items: list[Item] = []
    after: str | None = None
    while True:
        part = await store.list_items(after=after, limit=PAGE)
        items += part
        if len(part) < PAGE:
            return items
        after = part[-1].id


async def read_catalogue(store: GraphStore) -> Catalogue:
    graph = await store.prerequisite_graph()
    items = await read_items(store)
    return catalogue_from_items(items, [(e.source, e.target) for e in graph.edges])


async def learner_events(
    store: GraphStore, learner_id: str, catalogue: Catalogue, *, most: int = 100_000
) -> list[tuple[str, str, float]]:
    """(learner, item, time) of one learner's attempts at catalogue items, newest ``most``."""
    out: list[tuple[str, str, float]] = []
    cursor: str | None = None
    while len(out) < most:
        page = await store.attempts_of(learner_id, limit=PAGE, cursor=cursor)
        out += [
            (learner_id, a.item_id, a.timestamp.timestamp())
            for a in page.attempts
            if a.item_id in catalogue.item_pos
        ]
        cursor = page.next_cursor
        if cursor is None:
            break
    return out


async def read_store(
    store: GraphStore, *, progress: ProgressFn | None = None
) -> tuple[Catalogue, Interactions]:
    catalogue = await read_catalogue(store)
    learners: list[str] = []
    after: str | None = None
    while True:
        part = await store.list_learners(after=after, limit=PAGE)
        learners += [lr.id for lr in part]
        if len(part) < PAGE:
            break
        after = part[-1].id
    events: list[tuple[str, str, float]] = []
    for n, lid in enumerate(learners):
        events += await learner_events(store, lid, catalogue)
        if progress is not None and (n + 1) % 50 == 0:
            progress(f"read the attempts of {n + 1}/{len(learners)} learners", n / len(learners))
    return catalogue, from_events(events, catalogue, learners)


def read_pid4(paths: Sequence[str | Path]) -> tuple[Catalogue, Interactions]:
    """AKT "pid" logs (4-line blocks: ``index,learner`` / problem ids / skill ids / labels) as a
    catalogue of problems and their interactions. A problem's skills are every skill it is
    written with anywhere (multi-skill problems come as consecutive rows, and a few problems
    carry different skills in different places); answers are timed by their position."""
    events: list[tuple[str, str, float]] = []
    skills: dict[str, set[str]] = {}
    learners: list[str] = []
    for f, path in enumerate(paths):
        lines = [ln.strip() for ln in Path(path).read_text().splitlines() if ln.strip()]
        if len(lines) % 4:
            raise InvalidParameterError(
                "log", str(path), "4-line blocks (index,learner / problems / skills / labels)"
            )
        for b in range(0, len(lines), 4):
            head = lines[b].split(",")
            key = f"{f}:{head[-1]}"
            problems = [x for x in lines[b + 1].split(",") if x]
            tags = [x for x in lines[b + 2].split(",") if x]
            if len(problems) != len(tags):
                raise InvalidParameterError(
                    f"{path}:{b + 2}", len(tags), f"{len(problems)} skill ids, one per problem"
                )
            learners.append(key)
            for t, (pid, sid) in enumerate(zip(problems, tags, strict=True)):
                skills.setdefault(pid, set()).add(sid)
                events.append((key, pid, float(t)))
    ids = tuple(sorted(skills, key=lambda x: (len(x), x)))
    catalogue = Catalogue(
        item_ids=ids,
        texts=("",) * len(ids),
        skills=tuple(tuple(sorted(skills[i])) for i in ids),
    )
    return catalogue, from_events(events, catalogue, learners)
