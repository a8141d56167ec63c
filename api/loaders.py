"""DataLoaders, built fresh for every request (and for every subscription event).

Each entity and edge lookup of the schema goes through one of these, so a page of N skills
with their prerequisites, items and a learner's mastery costs one store call per kind of
lookup instead of one per skill. The store's batch reads already return results in the order
asked with ``None`` for missing ids, which is exactly a DataLoader's contract.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from strawberry.dataloader import DataLoader

from graph.models import Group, GroupGoal, Item, Learner, Mastery, Prerequisite, Skill, User
from graph.store import GraphStore
from recommender.gains import counts_in_order

K = TypeVar("K")
V = TypeVar("V")


class ShieldedLoader(DataLoader[K, V]):
    """strawberry's ``DataLoader`` whose ``load`` hands each caller a shield of the batch's
    future, not the future itself.

    Why: a caller cancelled while awaiting (graphql-core cancels a request's other pending
    fields when one of them fails) would otherwise cancel the shared future; when every future
    of a batch not yet dispatched is cancelled, strawberry cancels the batch's dispatch task
    (``Batch._on_future_done``), yet the batch stays the loader's current one, so a later
    ``load`` in the same request joins a batch that will never run and waits forever (seen as
    a request hanging until its timeout in ``tests/api/test_fuzz.py``). With the shield a
    cancelled caller stops waiting and the batch, its future and the cache stay intact.
    """

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


def _loader(fetch: Callable[[Sequence[str]], Awaitable[list[V]]]) -> DataLoader[str, V]:
    async def load(keys: list[str]) -> list[V]:
        return list(await fetch(keys))

    return ShieldedLoader(load_fn=load)


@dataclass(frozen=True, slots=True)
class Loaders:
    skill: DataLoader[str, Skill | None]
    item: DataLoader[str, Item | None]
    learner: DataLoader[str, Learner | None]
    user: DataLoader[str, User | None]
    group: DataLoader[str, Group | None]
    prerequisites: DataLoader[str, list[Prerequisite]]
    dependents: DataLoader[str, list[Prerequisite]]
    items_of_skill: DataLoader[str, list[Item]]
    mastery: DataLoader[str, list[Mastery]]
    group_learners: DataLoader[str, list[Learner]]
    groups_of_learner: DataLoader[str, list[Group]]
    groups_of_teacher: DataLoader[str, list[Group]]
    #: item id -> (successes, failures) of its observed learning gain
    item_gains: DataLoader[str, tuple[int, int]]
    #: group id -> its learners' mastery rows (the dashboard's heatmap, goals and segments
    #: share one read of the class)
    group_mastery: DataLoader[str, Mapping[str, list[Mastery]]]
    group_goals: DataLoader[str, tuple[GroupGoal, ...]]

    @classmethod
    def for_store(cls, store: GraphStore) -> Loaders:
        async def teacher_groups(teacher_ids: Sequence[str]) -> list[list[Group]]:
            # no batch form in the store; a request only ever asks for its own caller
            return [await store.groups_of_teacher(t) for t in teacher_ids]

        async def group_mastery(group_ids: Sequence[str]) -> list[Mapping[str, list[Mastery]]]:
            # no batch form in the store; a request reads one class, or a few
            return [await store.mastery_of_group(g) for g in group_ids]

        async def item_gains(item_ids: Sequence[str]) -> list[tuple[int, int]]:
            return counts_in_order(await store.item_gain_counts(item_ids), item_ids)

        return cls(
            skill=_loader(store.get_skills),
            item=_loader(store.get_items),
            learner=_loader(store.get_learners),
            user=_loader(store.get_users),
            group=_loader(store.get_groups),
            prerequisites=_loader(store.prerequisites_of),
            dependents=_loader(store.dependents_of),
            items_of_skill=_loader(store.items_for_skills),
            mastery=_loader(store.mastery_of),
            group_learners=_loader(store.learners_of_groups),
            groups_of_learner=_loader(store.groups_of_learners),
            groups_of_teacher=_loader(teacher_groups),
            item_gains=_loader(item_gains),
            group_mastery=_loader(group_mastery),
            group_goals=_loader(store.group_goals),
        )

    def prime_skills(self, skills: Sequence[Skill]) -> None:
        for skill in skills:
            self.skill.prime(skill.id, skill)

    def prime_items(self, items: Sequence[Item]) -> None:
        for item in items:
            self.item.prime(item.id, item)
