"""Reasons for catalogue recommendations: "because you completed X", "unlocks Y".

* ``completed``: the item of the learner's history most similar to the recommended one, by
  co-occurrence (item-kNN cosine) when the two were ever taken up together, else by content
  (TF-IDF cosine of text and skills).
* ``unlocks``: skills that have one of the item's skills as a direct prerequisite and that the
  learner has not practised yet.
* ``strategy``: which strategy ranked it, and its score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from recommender.explain import Reason


def completed(
    item: int,
    history: Sequence[int],
    co_sim: np.ndarray,
    content_sim: np.ndarray,
    item_ids: Sequence[str],
    titles: Mapping[str, str],
) -> Reason | None:
    if not history:
        return None
    h = list(history)
    co = co_sim[h, item]
    by = "co-occurrence"
    if co.max() <= 0:
        co, by = content_sim[h, item], "content"
        if co.max() <= 0:
            return None
    best = h[int(np.argmax(co))]
    key = item_ids[best]
    return Reason(
        "completed",
        f"because you completed {titles.get(key, key)}",
        {"item": key, "similarity": float(co.max()), "by": by},
    )


def unlocks(
    skills: Sequence[str],
    dependents: Mapping[str, Sequence[str]],
    practised: set[str],
    names: Mapping[str, str],
) -> Reason | None:
    opened = sorted({d for s in skills for d in dependents.get(s, ()) if d not in practised})
    if not opened:
        return None
    shown = [names.get(s, s) for s in opened[:3]]
    more = f" and {len(opened) - 3} more" if len(opened) > 3 else ""
    return Reason("unlocks", f"unlocks {', '.join(shown)}{more}", {"skills": opened})


def ranked_by(strategy: str, score: float) -> Reason:
    return Reason(
        "strategy", f"ranked by the {strategy} strategy", {"strategy": strategy, "score": score}
    )
