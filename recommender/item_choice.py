"""Which items of a skill may be offered, and which of them to offer (see
:mod:`recommender.next_item` for the policy around it).

Candidates (:func:`candidates`), for one skill:

* the skill's **own** items (their main skill, the first in the Q-matrix row, is this skill);
  another skill's item only when the skill has none of its own, and only if every other skill
  it assesses is mastered or ready (all its prerequisites mastered): practising skill ``s``
  never goes through an item of a skill the learner is not ready for;
* never the item answered last, when there is another one;
* none of the last ``recent_window`` items when possible, else the item whose **latest** use is
  the oldest (a window of 0 turns both rules off).

Choice (:func:`near_set`): the predicted P(success) closest to the target band; for an
"easier" choice the highest. Where even the best candidate is predicted below the band (a skill
new to the learner: a tracer that has seen nothing of it predicts about the guess rate for
every item) or for an "easier" choice, the near-equal set keeps the lowest difficulty only, so
a new skill starts with its warm-up, never its challenge. Near-equal items (within
``near_equal`` of the best distance) are drawn by Thompson sampling over the gains.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recommender.index import CurriculumIndex, FloatArray


def band_distance(p: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """0 inside ``band``, else the distance to its nearest edge."""
    return np.maximum(0.0, np.maximum(band[0] - p, p - band[1]))


def harder_items(index: CurriculumIndex) -> np.ndarray:
    """``(n_items,)`` booleans: the items at least as hard as the median difficulty of their
    main skill's own items (every item of a skill whose items are equally hard, or that has
    one). Built once per curriculum index.

    Why they could confirm a skill better: a right answer is evidence of mastery as far as a
    learner without the skill would not give it. In the binary-state models (BKT, knowledge
    spaces) that chance is the item's guess rate, whatever its difficulty; in graded and
    IRT-style ones (additive factors; a guess scaled down by difficulty) it falls as the item
    gets harder, while mastery is defined at the skill's typical item. No such model makes
    an easier item's right answer the stronger evidence
    (``RecommenderConfig.confirm_harder``)."""

    def build() -> np.ndarray:
        main = index.item_main_skill
        out = np.ones(index.n_items, dtype=np.bool_)
        for s in range(index.n_skills):
            own = index.items_of(s)
            own = own[main[own] == s]
            if own.size > 1:
                d = index.item_difficulty[own]
                out[own] = d >= np.median(d) - 1e-9
        return out

    return index.memo("item_choice.harder_items", build)


def _ready_or_mastered(
    index: CurriculumIndex, mastery: FloatArray, skill: int, threshold: float
) -> bool:
    return bool(mastery[skill] >= threshold or (mastery[index.parents(skill)] >= threshold).all())


def own_items(
    index: CurriculumIndex, skill: int, mastery: FloatArray, threshold: float
) -> list[int]:
    """The items that may teach ``skill``: its own, else other skills' items whose every
    other skill is mastered or ready."""
    items = index.items_of(skill).tolist()
    own = [i for i in items if index.item_main_skill[i] == skill]
    if own:
        return own
    return [
        i
        for i in items
        if all(
            s == skill or _ready_or_mastered(index, mastery, s, threshold)
            for s in index.skills_of_item(i).tolist()
        )
    ]


def candidates(
    index: CurriculumIndex, items: list[int], recent: Sequence[str], recent_window: int
) -> list[int]:
    """``items`` not used in the last ``recent_window`` items; if every one was, the one whose
    latest use is the oldest. The item answered last is left out whenever another exists
    (``recent_window`` 0 turns both rules off: experiments where repeating is the point)."""
    if not items or recent_window == 0:
        return items
    last = recent[0] if recent else None
    pool = [i for i in items if index.item_ids[i] != last] or items
    window = set(recent[:recent_window])
    fresh = [i for i in pool if index.item_ids[i] not in window]
    if fresh:
        return fresh
    latest: dict[str, int] = {}
    for k, item in enumerate(recent):
        latest.setdefault(item, k)  # newest first: the first position is the latest use
    return [max(pool, key=lambda i: latest.get(index.item_ids[i], len(recent)))]


def near_set(
    index: CurriculumIndex,
    items: list[int],
    p: np.ndarray,
    *,
    easier: bool,
    band: tuple[float, float],
    near_equal: float,
) -> np.ndarray:
    """Positions in ``items`` that are near-equal best choices (Thompson sampling draws one)."""
    dist = -p if easier else band_distance(p, band)
    near = np.flatnonzero(dist <= dist.min() + near_equal)
    if easier or float(p.max()) < band[0]:
        diff = index.item_difficulty[np.asarray(items, dtype=np.int64)[near]]
        near = near[diff <= diff.min() + 1e-9]
    return near
