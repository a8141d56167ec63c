"""Cold start: a learner from chosen items, a new item from its text and skills."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from recommender.catalogue.cold_start import learner_from_items, place_new_items
from recommender.catalogue.data import Catalogue, history_matrix
from recommender.catalogue.embedding import EmbeddingBPR
from recommender.errors import InvalidParameterError, UnknownIdError
from tests.recommender.catalogue.helpers import blocks


def test_a_new_learner_is_the_mean_of_the_chosen_items() -> None:
    m, cat = blocks()
    model = EmbeddingBPR(epochs=2, seed=1)
    model.fit(m, cat)
    assert model.context is not None
    got = learner_from_items(model, cat, ["i0", "i3"])
    np.testing.assert_allclose(got, (model.context[0] + model.context[3]) / 2)
    with pytest.raises(InvalidParameterError, match="item_ids"):
        learner_from_items(model, cat, [])
    with pytest.raises(UnknownIdError, match="'x'"):
        learner_from_items(model, cat, ["x"])


def test_a_new_item_is_placed_among_the_items_like_it() -> None:
    m, cat = blocks()
    # item 12 is new: no interactions, text and skill of the first community
    cat2 = Catalogue(
        (*cat.item_ids, "new"),
        (*cat.texts, "fractions halves item new"),
        (*cat.skills, ("frac",)),
    )
    train = sparse.csr_matrix(sparse.hstack([m, sparse.csr_matrix((m.shape[0], 1))]))
    model = EmbeddingBPR(epochs=30, seed=2)
    model.fit(train, cat2)
    before = model.score(history_matrix([[0, 1]], 13))[0]
    assert place_new_items(model, cat2, train) == [12]
    after = model.score(history_matrix([[0, 1], [6, 7]], 13))
    community = after[0, 2:6].min()
    assert after[0, 12] >= community > after[0, 6:12].max()  # ranks with its community
    assert after[1, 12] < after[1, 6:12].min()  # and not for the other one
    assert before[12] != after[0, 12]
