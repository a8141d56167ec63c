"""The ``strategy`` argument of ``recommendations`` (kept apart from the resolvers, which import
the recommender types, so that ``Learner`` can name it without an import cycle)."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="How recommendations are chosen.")
class RecommendStrategy(Enum):
    NEXT_ITEM = "next-item"
    POPULARITY = "popularity"
    CONTENT = "content"
    USER_KNN = "user-knn"
    ITEM_KNN = "item-knn"
    NMF = "nmf"
    EMBEDDING = "embedding"
    CLUSTERS = "clusters"
    HYBRID = "hybrid"


STRATEGY_HELP = (
    "NEXT_ITEM (default): the graph-aware next-item policy. The others rank the whole catalogue "
    "from the learner's attempted items (plus `seedItemIds`, a new learner's chosen items): "
    "POPULARITY, CONTENT (TF-IDF of text and skills), USER_KNN, ITEM_KNN, NMF, EMBEDDING (a "
    "learned embedding model), CLUSTERS (k-means of learners), HYBRID (a tree ensemble over "
    "those scores and the prerequisite graph); their kind is CATALOGUE. EMBEDDING and HYBRID "
    "train in torch: a server installed without the `neural` extra answers them with an error "
    "naming it."
)
