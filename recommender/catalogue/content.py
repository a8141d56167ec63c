"""Content-based: items like the ones the learner took up, by their text and skills.

Each item is a TF-IDF vector (scikit-learn ``TfidfVectorizer``, sublinear tf, L2 norm) of its
title and body plus one token per skill it assesses (``skill:<id>``, repeated ``skill_weight``
times so that shared skills outweigh shared filler words). A learner's profile is the mean of
their items' vectors; score(u, i) = cos(profile_u, x_i).
"""

from __future__ import annotations

import re

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from recommender.catalogue.base import check_history, check_shapes, row_normalise
from recommender.catalogue.data import Catalogue


def skill_token(skill_id: str) -> str:
    return "skill_" + re.sub(r"\W", "_", skill_id)


def item_documents(catalogue: Catalogue, skill_weight: int = 3) -> list[str]:
    """One document per item: its text and its skill tokens."""
    return [
        " ".join([text, *(skill_token(s) for s in skills for _ in range(skill_weight))])
        for text, skills in zip(catalogue.texts, catalogue.skills, strict=True)
    ]


def tfidf_items(catalogue: Catalogue, skill_weight: int = 3) -> sparse.csr_matrix:
    """Items x terms TF-IDF matrix (rows L2-normalised)."""
    vec = TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
    docs = item_documents(catalogue, skill_weight)
    if not any(d.strip() for d in docs):
        return sparse.csr_matrix((catalogue.n_items, 1))
    return sparse.csr_matrix(vec.fit_transform(docs))


class ContentBased:
    """Args: skill_weight: repeats of each skill token in an item's document (default 3)."""

    name = "content"

    def __init__(self, skill_weight: int = 3) -> None:
        self.skill_weight = skill_weight
        self.items: sparse.csr_matrix | None = None

    def fit(self, train: sparse.csr_matrix, catalogue: Catalogue) -> None:
        check_shapes(train, catalogue)
        self.items = tfidf_items(catalogue, self.skill_weight)

    def similarity(self) -> sparse.csr_matrix:
        """Item x item cosine similarity of the item vectors."""
        assert self.items is not None
        return sparse.csr_matrix(self.items @ self.items.T)

    def score(self, history: sparse.csr_matrix) -> np.ndarray:
        check_history(history, None if self.items is None else self.items.shape[0])
        assert self.items is not None
        profiles = row_normalise(sparse.csr_matrix(history @ self.items))
        return np.asarray((profiles @ self.items.T).todense())
