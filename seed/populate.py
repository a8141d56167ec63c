"""Write the demo curriculum and a simulated population into a store, idempotently.

Everything is written only where it differs from what the store already holds: a second run
with the same seed reads, compares, and writes nothing (the curriculum change log does not
grow, and every attempt comes back as a duplicate of the one already stored).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from graph.models import Attempt, Prerequisite
from graph.store import AttemptConflictError, GraphStore
from seed.curriculum import Curriculum
from seed.errors import SeedError
from seed.population import Population

ProgressFn = Callable[[str, float], None]
T = TypeVar("T")
DEFAULT_ACTOR = "designer-01"


class MasteryUpdater(Protocol):
    """What traces newly stored attempts into mastery (``tracing.serving.MasteryService``)."""

    async def apply(self, store: GraphStore, attempts: Sequence[Attempt],
                    fresh: Collection[str] | None = None) -> Any: ...


class SeedConflictError(SeedError):
    """The store holds different answers under this seed's attempt ids."""


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What :func:`populate` wrote (``*_written``: new or changed records)."""

    skills_written: int
    edges_written: int
    items_written: int
    users_written: int
    learners_written: int
    groups_written: int
    attempts_stored: int
    attempts_already: int
    seconds: float
    mastery_learners: int = 0

    @property
    def wrote_anything(self) -> bool:
        return any(
            (
                self.skills_written,
                self.edges_written,
                self.items_written,
                self.users_written,
                self.learners_written,
                self.groups_written,
                self.attempts_stored,
            )
        )


def _changed(wanted: Sequence[T], stored: Sequence[T | None]) -> list[T]:
    return [w for w, s in zip(wanted, stored, strict=True) if w != s]


def _chunks(rows: Sequence[T], size: int) -> list[Sequence[T]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


async def populate(
    store: GraphStore,
    curriculum: Curriculum,
    population: Population,
    *,
    batch_size: int = 1000,
    actor: str = DEFAULT_ACTOR,
    progress: ProgressFn | None = None,
    mastery: MasteryUpdater | None = None,
) -> SeedReport:
    """Write the curriculum, people, classes and attempts into a migrated ``store``.

    Reads are batched by ``batch_size`` ids, attempts recorded ``batch_size`` at a time (each
    batch atomic; an interrupted run is completed by running it again). ``progress`` gets
    ``(message, fraction)`` as attempt batches are written. With ``mastery``, each batch's
    attempts are traced into the learners' mastery right after it is written: the newly stored
    ones, and duplicates that an interrupted run stored but did not trace (a plain re-run
    traces nothing twice).

    Raises:
        graph.store.MigrationError: the store has pending migrations.
        SeedConflictError: the store holds other answers under these attempt ids (it was
            seeded with the same seed by other simulator settings or code); attempt batches
            before the conflicting one stay written.
    """
    from migrations.runner import ensure_migrated

    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}: must be >= 1")
    await ensure_migrated(store)
    started = time.perf_counter()

    async def sync_users() -> int:
        users = population.users
        changed = []
        for part in _chunks(users, batch_size):
            changed += _changed(part, await store.get_users([u.id for u in part]))
        if changed:
            await store.upsert_users(changed)
        return len(changed)

    users_written = await sync_users()

    skills = list(curriculum.skills)
    new_skills = _changed(skills, await store.get_skills([s.id for s in skills]))
    if new_skills:
        await store.upsert_skills(new_skills, actor=actor)

    stored_edges = {(e.source, e.target): e for e in (await store.prerequisite_graph()).edges}
    new_edges: list[Prerequisite] = [
        e for e in curriculum.edges if stored_edges.get((e.source, e.target)) != e
    ]
    if new_edges:
        await store.upsert_prerequisites(new_edges, actor=actor)

    items = list(curriculum.items)
    new_items = _changed(items, await store.get_items([i.id for i in items]))
    if new_items:
        await store.upsert_items(new_items, actor=actor)

    learners = population.learners
    new_learners = []
    for part in _chunks(learners, batch_size):
        new_learners += _changed(part, await store.get_learners([x.id for x in part]))
    if new_learners:
        await store.upsert_learners(new_learners)

    groups = population.groups
    new_groups = _changed(groups, await store.get_groups([g.id for g in groups]))
    if new_groups:
        await store.upsert_groups(new_groups)

    stored = already = 0
    mastery_learners: set[str] = set()
    attempts = population.attempts
    batches = _chunks(attempts, batch_size)
    for n, batch in enumerate(batches, start=1):
        try:
            result = await store.record_attempts(batch)
        except AttemptConflictError as exc:
            raise SeedConflictError(
                f"the store already holds different answers under this seed's attempt ids "
                f"(e.g. {exc.attempt_ids[0]!r}): it was seeded with other simulator settings "
                "or code; seed a fresh database, or pick another --seed"
            ) from exc
        stored += len(result.stored)
        already += len(result.duplicates)
        if mastery is not None:
            # duplicates too: a run interrupted between storing a batch and tracing it is
            # completed here (the states' watermarks keep anything from being traced twice)
            traced = await mastery.apply(store, batch, frozenset(result.stored))
            mastery_learners.update(traced)
        if progress is not None:
            progress(f"recorded {stored + already}/{len(attempts)} attempts", n / len(batches))

    return SeedReport(
        skills_written=len(new_skills),
        edges_written=len(new_edges),
        items_written=len(new_items),
        users_written=users_written,
        learners_written=len(new_learners),
        groups_written=len(new_groups),
        attempts_stored=stored,
        attempts_already=already,
        seconds=time.perf_counter() - started,
        mastery_learners=len(mastery_learners),
    )
