"""Choosing content from a large catalogue: the strategies a recommender practitioner compares.

Every strategy (one per module) follows :class:`.base.Strategy`: ``fit`` on a learners x items
matrix and the :class:`.data.Catalogue`, ``score`` histories. :func:`make_strategy` builds one
by name with a seed; :mod:`.split`, :mod:`.metrics` and :mod:`.evaluate` compare them;
:mod:`.cold_start` and :mod:`.explain` serve them; :mod:`.tagging` suggests skills for items.
"""

from __future__ import annotations

from recommender.catalogue.base import Strategy
from recommender.catalogue.clusters import LearnerClusters
from recommender.catalogue.content import ContentBased
from recommender.catalogue.embedding import EmbeddingBPR, ProgressFn
from recommender.catalogue.hybrid import Hybrid
from recommender.catalogue.knn import ItemKNN, UserKNN
from recommender.catalogue.mf import NMFStrategy
from recommender.catalogue.popularity import Popularity
from recommender.errors import InvalidParameterError

STRATEGIES = (
    "popularity",
    "content",
    "user-knn",
    "item-knn",
    "nmf",
    "embedding",
    "clusters",
    "hybrid",
)


def make_strategy(
    name: str, *, seed: int = 0, epochs: int = 30, progress: ProgressFn | None = None
) -> Strategy:
    """A fresh strategy by name (one of :data:`STRATEGIES`); ``epochs`` trains the embeddings."""
    if name == "popularity":
        return Popularity()
    if name == "content":
        return ContentBased()
    if name == "user-knn":
        return UserKNN()
    if name == "item-knn":
        return ItemKNN()
    if name == "nmf":
        return NMFStrategy(seed=seed)
    if name == "embedding":
        return EmbeddingBPR(epochs=epochs, seed=seed, progress=progress)
    if name == "clusters":
        return LearnerClusters(seed=seed)
    if name == "hybrid":
        return Hybrid(seed=seed, embedding_epochs=epochs, progress=progress)
    raise InvalidParameterError("strategy", name, "one of " + ", ".join(STRATEGIES))
