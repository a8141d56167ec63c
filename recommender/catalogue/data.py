"""Interactions and the item catalogue as arrays: what every catalogue strategy is fitted on.

An *interaction* is a learner working on an item (any score): the catalogue recommender
predicts which items a learner will take up next, not whether they will answer correctly
(the tracers do that). Repeated attempts at one item count once, at their first time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from recommender.errors import InvalidParameterError, UnknownIdError


@dataclass(frozen=True)
class Catalogue:
    """The items a strategy may recommend, with what content-based strategies read.

    Args:
        item_ids: the catalogue, in column order of every interaction matrix.
        texts: title and body per item ("" when there is none).
        skills: the skill ids each item assesses.
        prerequisites: ``(source, target)`` skill edges (source before target).
    """

    item_ids: tuple[str, ...]
    texts: tuple[str, ...]
    skills: tuple[tuple[str, ...], ...]
    prerequisites: tuple[tuple[str, str], ...] = ()
    item_pos: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.item_ids)
        if len(self.texts) != n or len(self.skills) != n:
            raise InvalidParameterError(
                "texts/skills", (len(self.texts), len(self.skills)), f"one of each per item ({n})"
            )
        object.__setattr__(self, "item_pos", {k: i for i, k in enumerate(self.item_ids)})

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def positions(self, item_ids: Sequence[str]) -> np.ndarray:
        """Column positions of ``item_ids``; unknown ids raise, naming them."""
        missing = [i for i in item_ids if i not in self.item_pos]
        if missing:
            raise UnknownIdError("item", missing, "use items of the catalogue")
        return np.array([self.item_pos[i] for i in item_ids], dtype=np.int64)


@dataclass(frozen=True)
class Interactions:
    """Distinct (learner, item) interactions with the time each item was first taken up.

    ``rows[k]`` indexes ``learner_ids``, ``cols[k]`` the catalogue, ``times[k]`` is seconds.
    """

    learner_ids: tuple[str, ...]
    n_items: int
    rows: np.ndarray
    cols: np.ndarray
    times: np.ndarray

    @property
    def n_learners(self) -> int:
        return len(self.learner_ids)

    def matrix(self) -> sparse.csr_matrix:
        """Learners x items, 1.0 where the learner took the item up."""
        data = np.ones(len(self.rows), dtype=np.float64)
        m = sparse.csr_matrix((data, (self.rows, self.cols)), shape=(self.n_learners, self.n_items))
        m.data[:] = 1.0  # duplicates (if any) count once
        return m


def from_events(
    events: Sequence[tuple[str, str, float]],
    catalogue: Catalogue,
    learner_ids: Sequence[str] | None = None,
) -> Interactions:
    """Build :class:`Interactions` from ``(learner, item, time)`` events (any order, repeats
    allowed; an item's first time is kept). Items outside the catalogue raise."""
    first: dict[tuple[str, str], float] = {}
    for learner, item, t in events:
        key = (learner, item)
        if key not in first or t < first[key]:
            first[key] = t
    order = list(learner_ids) if learner_ids is not None else sorted({e[0] for e in events})
    lpos = {k: i for i, k in enumerate(order)}
    unknown = sorted({lr for lr, _ in first} - lpos.keys())
    if unknown:
        raise UnknownIdError("learner", unknown, "list every learner that has events")
    keys = sorted(first, key=lambda k: (lpos[k[0]], first[k], k[1]))
    cols = catalogue.positions([k[1] for k in keys]) if keys else np.zeros(0, np.int64)
    return Interactions(
        learner_ids=tuple(order),
        n_items=catalogue.n_items,
        rows=np.array([lpos[k[0]] for k in keys], dtype=np.int64),
        cols=cols,
        times=np.array([first[k] for k in keys], dtype=np.float64),
    )


def history_matrix(histories: Sequence[Sequence[int]], n_items: int) -> sparse.csr_matrix:
    """Rows of item positions -> a binary learners x items matrix (what ``score`` takes)."""
    indptr = np.zeros(len(histories) + 1, dtype=np.int64)
    cols: list[int] = []
    for k, h in enumerate(histories):
        distinct = sorted(set(int(i) for i in h))
        if distinct and not 0 <= distinct[0] <= distinct[-1] < n_items:
            raise InvalidParameterError("history", distinct, f"item positions in 0..{n_items - 1}")
        cols.extend(distinct)
        indptr[k + 1] = len(cols)
    data = np.ones(len(cols), dtype=np.float64)
    return sparse.csr_matrix(
        (data, np.array(cols, dtype=np.int64), indptr), shape=(len(histories), n_items)
    )


def skill_sets(catalogue: Catalogue, history: sparse.csr_matrix) -> list[set[str]]:
    """Per row of ``history``: the skills of the items taken up."""
    out: list[set[str]] = []
    for r in range(history.shape[0]):
        cols = history.indices[history.indptr[r] : history.indptr[r + 1]]
        out.append({s for c in cols.tolist() for s in catalogue.skills[c]})
    return out


def prerequisite_map(catalogue: Catalogue) -> Mapping[str, set[str]]:
    """Skill -> its direct prerequisites."""
    pre: dict[str, set[str]] = {}
    for source, target in catalogue.prerequisites:
        pre.setdefault(target, set()).add(source)
    return pre
