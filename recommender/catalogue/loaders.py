"""Catalogue and interactions from a store, or from a public interaction log.

Store: every item (``list_items`` pages; text = title + body), the prerequisite edges, and
every learner's attempts (``list_learners`` then ``attempts_of`` pages), timed by their
timestamps. Log: one or more files ``tracing.data.read_log`` reads (``pid4``, ``dkt3``,
``csv``); a learner's answers are timed by their position in the file's time-ordered sequence,
items carry their skill ids and no text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from graph.models import Item
from graph.store import GraphStore
from recommender.catalogue.data import Catalogue, Interactions, from_events

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


def read_logs(
    paths: Sequence[str | Path], format: str | None = None
) -> tuple[Catalogue, Interactions]:
    """Interaction logs (one vocabulary across the files) as a catalogue and interactions."""
    from tracing.data import read_log

    datas = []
    vocab = None
    for p in paths:
        d = read_log(p, format, vocab=vocab)
        vocab = d.vocab
        datas.append(d)
    assert vocab is not None
    skills = tuple(
        tuple(vocab.skill_ids[s] for s in vocab.item_skills[i]) for i in range(vocab.n_items)
    )
    catalogue = Catalogue(
        item_ids=vocab.item_ids,
        texts=("",) * vocab.n_items,
        skills=skills,
        prerequisites=tuple(
            (vocab.skill_ids[a], vocab.skill_ids[b]) for a, b in vocab.prerequisites
        ),
    )
    events: list[tuple[str, str, float]] = []
    learners: list[str] = []
    for f, d in enumerate(datas):
        for lid, seq in zip(d.learner_ids, d.sequences, strict=True):
            key = f"{f}:{lid}"
            learners.append(key)
            events += [(key, vocab.item_ids[x.item], float(t)) for t, x in enumerate(seq)]
    return catalogue, from_events(events, catalogue, learners)
