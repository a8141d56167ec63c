"""The held-out split: whole learners held out, each cut by time, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.catalogue.data import Catalogue, from_events
from recommender.catalogue.split import split_by_learner_then_time, training_only
from recommender.errors import InvalidParameterError, UnknownIdError

CAT = Catalogue(tuple("abcdef"), ("",) * 6, (("s",),) * 6)


def events(n: int = 10) -> list[tuple[str, str, float]]:
    rng = np.random.default_rng(1)
    out = []
    for u in range(n):
        for t, i in enumerate(rng.permutation(6)[:5].tolist()):
            out.append((f"u{u}", "abcdef"[i], float(100 - 10 * t)))  # newest listed first
    out.append(("u0", "abcdef"[0], 1000.0))  # a repeat counts once, at its first time
    return out


def test_repeats_count_once_at_their_first_time() -> None:
    data = from_events([("x", "b", 5.0), ("x", "b", 2.0), ("x", "a", 3.0)], CAT)
    assert data.cols.tolist() == [1, 0] and data.times.tolist() == [2.0, 3.0]
    with pytest.raises(UnknownIdError, match="'z'"):
        from_events([("x", "z", 1.0)], CAT)


def test_split_holds_out_learners_and_cuts_them_by_time() -> None:
    data = from_events(events(), CAT)
    split = split_by_learner_then_time(data, test_share=0.3, target_share=0.4, seed=4)
    assert len(split.test_learners) == 3
    assert not set(split.test_learners) & set(split.train_learners)
    assert split.train.shape == (7, 6)
    first = {(lr, it): t for lr, it, t in events()}
    for lr, hist, targ in zip(split.test_learners, split.histories, split.targets, strict=True):
        assert len(hist) == 3 and len(targ) == 2  # floor(0.6 * 5)
        times_h = [
            min(t for (l2, it), t in first.items() if l2 == lr and it == "abcdef"[i]) for i in hist
        ]
        times_t = [
            min(t for (l2, it), t in first.items() if l2 == lr and it == "abcdef"[i]) for i in targ
        ]
        assert max(times_h) < min(times_t)
    again = split_by_learner_then_time(data, test_share=0.3, target_share=0.4, seed=4)
    assert again.histories == split.histories and again.test_learners == split.test_learners


def test_split_refuses_bad_shares() -> None:
    with pytest.raises(InvalidParameterError, match="test_share=1.5"):
        split_by_learner_then_time(from_events(events(), CAT), test_share=1.5)


def test_training_only_drops_exactly_the_held_out_learners() -> None:
    data = from_events(events(), CAT)
    split = split_by_learner_then_time(data, test_share=0.3, seed=4)
    rest = training_only(data, split)
    assert rest.learner_ids == split.train_learners
    assert len(rest.rows) == 5 * 7
    assert (rest.matrix() > 0).toarray().tolist() == (split.train > 0).toarray().tolist()
