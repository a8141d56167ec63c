"""Automated content tagging: suggest the skills a new or untagged item assesses.

Three signals, all over one TF-IDF space (scikit-learn ``TfidfVectorizer``, words and word
pairs, sublinear tf) fitted on the tagged items' title + body and the skills' name +
description:

* neighbours: the ``neighbours`` tagged items most like the text (cosine); skill s gets
  knn(s) = sum_j cos(x, j) [s tags j] / sum_j cos(x, j);
* skill text: st(s) = cos(x, skill s's name and description);
* the prerequisite graph as a prior: skills tagged together on one item are usually one step
  apart in the graph (a challenge exercise also assesses a prerequisite), so
  score(s) = base(s) + graph_weight * max over s's graph neighbours t of base(t), with
  base = knn + text_weight * st. ``graph_weight=0`` turns the prior off.

Args: neighbours (10), text_weight (0.5), graph_weight (0.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from graph.models import Item, Prerequisite, Skill
from recommender.errors import InvalidParameterError


@dataclass(frozen=True, slots=True)
class SkillSuggestion:
    """A suggested skill, its score, and the most similar tagged items that carry it."""

    skill_id: str
    score: float
    evidence: tuple[str, ...]


def item_document(item: Item) -> str:
    return f"{item.title}. {item.body}"


def skill_document(skill: Skill) -> str:
    return f"{skill.name}. {skill.description}"


class SkillTagger:
    def __init__(
        self, neighbours: int = 10, text_weight: float = 0.5, graph_weight: float = 0.3
    ) -> None:
        if neighbours < 1:
            raise InvalidParameterError("neighbours", neighbours, "at least 1")
        self.neighbours = neighbours
        self.text_weight = text_weight
        self.graph_weight = graph_weight
        self._fitted = False

    def fit(
        self, items: Sequence[Item], skills: Sequence[Skill], edges: Sequence[Prerequisite] = ()
    ) -> SkillTagger:
        """Learn from the tagged ``items`` (untagged ones are ignored) and every skill."""
        if not skills:
            raise InvalidParameterError("skills", 0, "a curriculum with skills")
        self.skill_ids = tuple(s.id for s in skills)
        pos = {s: k for k, s in enumerate(self.skill_ids)}
        tagged = [i for i in items if any(w.skill_id in pos for w in i.skills)]
        self.item_ids = tuple(i.id for i in tagged)
        docs = [item_document(i) for i in tagged] + [skill_document(s) for s in skills]
        self.vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))
        x = sparse.csr_matrix(self.vectorizer.fit_transform(docs))
        self.items_x = x[: len(tagged)]
        self.skills_x = x[len(tagged) :]
        rows = [k for k, i in enumerate(tagged) for w in i.skills if w.skill_id in pos]
        cols = [pos[w.skill_id] for i in tagged for w in i.skills if w.skill_id in pos]
        self.tags = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(tagged), len(self.skill_ids))
        )
        self.tags.data[:] = 1.0
        adj = [(pos[e.source], pos[e.target]) for e in edges if e.source in pos and e.target in pos]
        self.adjacent: list[list[int]] = [[] for _ in self.skill_ids]
        for a, b in adj:
            self.adjacent[a].append(b)
            self.adjacent[b].append(a)
        self._fitted = True
        return self

    def scores(
        self, texts: Sequence[str], exclude_items: Sequence[str | None] = ()
    ) -> tuple[np.ndarray, np.ndarray]:
        """(skill scores, item similarities) per text; an ``exclude_items`` id (the item
        being tagged, when it is in the store) never counts as its own neighbour."""
        if not self._fitted:
            raise InvalidParameterError("tagger", "unfitted", "fit() before suggest()")
        q = sparse.csr_matrix(self.vectorizer.transform(list(texts)))
        sim = np.asarray((q @ self.items_x.T).todense())
        index = {k: n for n, k in enumerate(self.item_ids)}
        for r, ex in enumerate(exclude_items):
            if ex is not None and ex in index:
                sim[r, index[ex]] = 0.0
        k = min(self.neighbours, sim.shape[1])
        near = np.argsort(-sim, axis=1, kind="stable")[:, :k]
        keep = np.zeros_like(sim)
        rows = np.arange(sim.shape[0])[:, None]
        keep[rows, near] = sim[rows, near]
        total = keep.sum(axis=1, keepdims=True)
        knn = np.asarray(self.tags.T.dot(keep.T)).T / np.where(total > 0, total, 1.0)
        text = np.asarray((q @ self.skills_x.T).todense())
        base = knn + self.text_weight * text
        if self.graph_weight == 0:
            return base, sim
        prior = np.zeros_like(base)
        for s, nbrs in enumerate(self.adjacent):
            if nbrs:
                prior[:, s] = base[:, nbrs].max(axis=1)
        return base + self.graph_weight * prior, sim

    def suggest(
        self, text: str, first: int = 3, exclude_item: str | None = None
    ) -> list[SkillSuggestion]:
        """The ``first`` best skills for ``text``, best first (ties by skill id)."""
        if first < 1:
            raise InvalidParameterError("first", first, "at least 1")
        if not text.strip():
            raise InvalidParameterError("text", text, "some words to tag")
        scores, sim = self.scores([text], [exclude_item])
        s, near = scores[0], np.argsort(-sim[0], kind="stable")
        order = sorted(range(len(s)), key=lambda j: (-s[j], self.skill_ids[j]))[:first]
        out = []
        for j in order:
            if s[j] <= 0:
                break
            carriers = [
                self.item_ids[n]
                for n in near[: self.neighbours].tolist()
                if sim[0, n] > 0 and self.tags[n, j] > 0
            ]
            out.append(SkillSuggestion(self.skill_ids[j], float(s[j]), tuple(carriers[:3])))
        return out
