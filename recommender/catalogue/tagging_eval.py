"""Evaluate :mod:`.tagging` by hiding the tags of a fraction of the items.

A seeded share ``hide`` of the tagged items loses its tags; the tagger is fitted on the others
(and every skill and edge) and suggests ``k`` skills for each hidden item from its title and
body. Reported: precision@k (|suggested ∩ true| / k), recall@k, hit@1 (the first suggestion is a
true tag) and the ceiling of precision@k (mean min(|true|, k) / k: items have one or two tags).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graph.models import Item, Prerequisite, Skill
from recommender.catalogue.tagging import SkillTagger, item_document
from recommender.errors import InvalidParameterError

VARIANTS: dict[str, dict[str, float]] = {
    "neighbours only": {"text_weight": 0.0, "graph_weight": 0.0},
    "+ skill text": {"text_weight": 0.5, "graph_weight": 0.0},
    "+ graph prior": {"text_weight": 0.5, "graph_weight": 0.3},
}


def evaluate_tagging(
    items: Sequence[Item],
    skills: Sequence[Skill],
    edges: Sequence[Prerequisite],
    *,
    hide: float = 0.2,
    k: int = 3,
    seed: int = 0,
    variants: dict[str, dict[str, float]] | None = None,
) -> list[dict[str, object]]:
    if not 0 < hide < 1:
        raise InvalidParameterError("hide", hide, "a share in (0, 1)")
    tagged = sorted((i for i in items if i.skills), key=lambda i: i.id)
    rng = np.random.default_rng(seed)
    n_hide = max(1, round(hide * len(tagged)))
    hidden_pos = set(rng.permutation(len(tagged))[:n_hide].tolist())
    hidden = [tagged[p] for p in sorted(hidden_pos)]
    known = [tagged[p] for p in range(len(tagged)) if p not in hidden_pos]
    texts = [item_document(i) for i in hidden]
    truth = [set(i.skill_ids) for i in hidden]
    counts: dict[str, int] = {}
    for i in known:
        for sid in i.skill_ids:
            counts[sid] = counts.get(sid, 0) + 1
    frequent = sorted(counts, key=lambda sid: (-counts[sid], sid))[:k]
    rows = [_row("most frequent tags", [frequent] * len(hidden), truth, k)]
    for name, params in (variants or VARIANTS).items():
        tagger = SkillTagger(**params).fit(known, skills, edges)  # type: ignore[arg-type]
        scores, _ = tagger.scores(texts)
        ids = tagger.skill_ids
        tops = [
            [ids[j] for j in sorted(range(len(s)), key=lambda j: (-s[j], ids[j]))[:k]]
            for s in scores
        ]
        rows.append(_row(name, tops, truth, k))
    return rows


def _row(name: str, tops: list[list[str]], truth: list[set[str]], k: int) -> dict[str, object]:
    p, r, h = [], [], []
    for top, t in zip(tops, truth, strict=True):
        hits = len(set(top) & t)
        p.append(hits / k)
        r.append(hits / len(t))
        h.append(1.0 if top and top[0] in t else 0.0)
    return {
        "variant": name,
        "hidden_items": len(truth),
        f"precision@{k}": float(np.mean(p)),
        f"recall@{k}": float(np.mean(r)),
        "hit@1": float(np.mean(h)),
        f"ceiling_precision@{k}": float(np.mean([min(len(t), k) / k for t in truth])),
    }
