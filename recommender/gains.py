"""Items' observed learning gains in the product: the definition, a pure reference
implementation of it, and the per-app cache that feeds :func:`recommender.next_item.recommend`.

**Definition** (that of :class:`~recommender.next_item.GainStats`, "did the learner's next
answer on the item's skill succeed after practising it?", exactly as
:mod:`seed.simulation.harness` applies it through ``AdaptivePolicy.observe``):

* an item's *main skill* is the first skill of its Q-matrix row
  (``CurriculumIndex.item_main_skill``); its other skills are ignored here, so an attempt is
  observed at most once and no answer is counted twice;
* each learner's attempts on items with main skill ``s`` form one sequence, ordered by
  ``(timestamp, attempt_id)`` (the order the stores page a history in);
* every attempt on item ``X`` followed by another attempt in its sequence gives ``X`` one
  observation: a *success* when that next attempt is correct (``score >= 0.5``), else a
  *failure*. A learner's last attempt on a skill gives none (yet); other learners' attempts
  never enter the sequence;
* the main skill is read from the curriculum as it is now, so an item removed (or left
  without skills) drops out of every sequence, and editing a Q-matrix re-sorts its history.

The stores compute this from the attempts they hold (``GraphStore.item_gain_counts``: a
window query on SQLite, Cypher on Neo4j), so nothing extra is written with an attempt and
nothing is lost on restart. :func:`reference_gain_counts` is the same definition in plain
Python, the oracle of the contract tests.

**Staleness** (:class:`GainCache`): the counts serving recommendations are at most
``max_age`` (default 60 s) plus one refresh's duration behind the store. When that age is
reached, the next call is still answered from memory and starts one background refresh: a
cheap probe (the attempt count and the curriculum version) decides whether to re-read the
aggregate. Population statistics move slowly, so a minute's lag changes no decision that
matters, while a busy server runs at most one aggregate query per ``max_age`` and no request
waits for one (except the very first after start).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

from graph.models import Attempt, Item
from graph.store import GraphStore, GraphStoreError
from recommender.errors import InvalidParameterError
from recommender.next_item import GainStats

log = logging.getLogger(__name__)

Counts = dict[str, tuple[int, int]]
"""Item id -> (successes, failures)."""


def main_skills(items: Iterable[Item]) -> dict[str, str]:
    """Item id -> main skill id (the first of its Q-matrix row), for items with a skill."""
    return {it.id: it.skills[0].skill_id for it in items if it.skills}


def reference_gain_counts(attempts: Iterable[Attempt], main_skill: Mapping[str, str]) -> Counts:
    """The learning-gain counts of the module's definition, from a full attempt log.

    Args:
        attempts: every attempt, in any order.
        main_skill: item id -> its main skill; attempts on other items are left out.
    """
    sequences: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
    for a in attempts:
        skill = main_skill.get(a.item_id)
        if skill is not None:
            sequences[(a.learner_id, skill)].append(a)
    wins: dict[str, int] = defaultdict(int)
    seen: dict[str, int] = defaultdict(int)
    for seq in sequences.values():
        seq.sort(key=lambda a: (a.timestamp, a.attempt_id))
        for practised, nxt in zip(seq, seq[1:], strict=False):
            seen[practised.item_id] += 1
            wins[practised.item_id] += int(nxt.correct)
    return {i: (wins[i], n - wins[i]) for i, n in seen.items()}


def stats_from_counts(counts: Mapping[str, tuple[int, int]]) -> GainStats:
    """The :class:`GainStats` the recommender samples from, holding ``counts``."""
    return GainStats(
        successes={i: s for i, (s, _) in counts.items() if s},
        failures={i: f for i, (_, f) in counts.items() if f},
    )


def posterior_mean(successes: int, failures: int) -> float:
    """Mean of the Beta(1 + successes, 1 + failures) posterior (uniform prior)."""
    return (1 + successes) / (2 + successes + failures)


class GainCache:
    """The population's :class:`GainStats`, shared by an app's requests, read from the store
    at most every ``max_age`` seconds (then only when attempts or the curriculum changed).

    Only the first call waits for the store. Later, a call finding the statistics older than
    ``max_age`` still gets them at once and starts one background refresh (stale while
    revalidating), so no recommendation waits for the aggregate. A failed background refresh
    is logged and retried after another ``max_age``.

    Args:
        max_age: seconds a read is served before the store is probed again [60.0]; 0 probes
            on every call.
        clock: monotonic seconds [``time.monotonic``].
    """

    def __init__(self, max_age: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        if not max_age >= 0:
            raise InvalidParameterError("max_age", max_age, "seconds >= 0, e.g. 60.0")
        self.max_age = max_age
        self._clock = clock
        self._stats: GainStats | None = None
        self._key: tuple[int, str] | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def invalidate(self) -> None:
        """Re-read the counts on the next call (which waits for them)."""
        self._stats = None

    async def get(self, store: GraphStore, curriculum_version: str) -> GainStats:
        """The current statistics; ``curriculum_version`` is the recommender index's version
        (a Q-matrix edit changes main skills, hence the counts)."""
        stats = self._stats
        if stats is None:
            async with self._lock:
                if self._stats is None:
                    await self._refresh(store, curriculum_version)
                assert self._stats is not None
                return self._stats
        if self._clock() - self._read_at >= self.max_age and (
            self._task is None or self._task.done()
        ):
            self._task = asyncio.ensure_future(self._refresh_logged(store, curriculum_version))
        return stats

    async def settled(self) -> None:
        """Wait for a background refresh in flight, if any (tests, shutdown)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _refresh(self, store: GraphStore, curriculum_version: str) -> None:
        key = (await store.attempt_count(), curriculum_version)
        if self._stats is None or key != self._key:
            self._stats = stats_from_counts(await store.item_gain_counts())
            self._key = key
        self._read_at = self._clock()

    async def _refresh_logged(self, store: GraphStore, curriculum_version: str) -> None:
        async with self._lock:
            try:
                await self._refresh(store, curriculum_version)
            except GraphStoreError as exc:
                self._read_at = self._clock()
                log.warning("learning-gain refresh failed, serving the previous counts: %s", exc)


def counts_in_order(counts: Mapping[str, tuple[int, int]], ids: Sequence[str]
                    ) -> list[tuple[int, int]]:
    """``counts`` for each id in order, (0, 0) for ids without observations."""
    return [counts.get(i, (0, 0)) for i in ids]
