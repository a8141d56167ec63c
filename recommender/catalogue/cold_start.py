"""Cold start: a new learner from a few chosen items, a new item from its skills and text.

* A new learner: the chosen items are their history; every strategy scores a history, so no
  refit is needed. For :class:`.embedding.EmbeddingBPR` this is exactly the average of the
  chosen items' embeddings (:func:`learner_from_items`).
* A new item (no interactions yet, so collaborative signals know nothing of it): its
  embeddings and bias become the similarity-weighted mean of those of the ``k`` catalogue items
  most like it by text and skills (the content model's TF-IDF cosine) that do have
  interactions (:func:`place_new_items`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from recommender.catalogue.content import tfidf_items
from recommender.catalogue.data import Catalogue, history_matrix
from recommender.catalogue.embedding import EmbeddingBPR
from recommender.errors import InvalidParameterError


def learner_from_items(
    model: EmbeddingBPR, catalogue: Catalogue, item_ids: Sequence[str]
) -> np.ndarray:
    """The embedding of a learner who chose ``item_ids``: the mean of their embeddings."""
    if not item_ids:
        raise InvalidParameterError("item_ids", [], "at least one chosen item")
    h = history_matrix([catalogue.positions(item_ids).tolist()], catalogue.n_items)
    return np.asarray(model.learner_vectors(h)[0])


def place_new_items(
    model: EmbeddingBPR, catalogue: Catalogue, train: sparse.csr_matrix, k: int = 5
) -> list[int]:
    """Give items without training interactions the content-weighted mean embedding of their
    ``k`` most similar items with interactions; returns the positions placed."""
    if model.context is None or model.target is None or model.bias is None:
        raise InvalidParameterError("model", "unfitted", "fit() before place_new_items()")
    counts = np.asarray((train > 0).sum(axis=0)).ravel()
    new = np.flatnonzero(counts == 0)
    known = np.flatnonzero(counts > 0)
    if not len(new) or not len(known):
        return []
    x = tfidf_items(catalogue)
    sim = np.asarray((x[new] @ x[known].T).todense())
    for row, pos in enumerate(new.tolist()):
        near = np.argsort(-sim[row], kind="stable")[:k]
        w = np.clip(sim[row, near], 0.0, None)
        if w.sum() <= 0:
            continue
        w = w / w.sum()
        src = known[near]
        model.context[pos] = w @ model.context[src]
        model.target[pos] = w @ model.target[src]
        model.bias[pos] = float(w @ model.bias[src])
    return new.tolist()
