"""``CurriculumIndex.mastery_array``: the dense vector every recommendation builds."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from recommender.index import CurriculumIndex

SKILLS = [f"s{i}" for i in range(8)]


def reference(index: CurriculumIndex, mastery: dict[str, float], default: float) -> np.ndarray:
    out = np.full(index.n_skills, default)
    for s, p in mastery.items():
        if s in index.skill_pos:
            out[index.skill_pos[s]] = p
    return out


@given(
    st.dictionaries(
        st.sampled_from([*SKILLS, "gone-1", "gone-2"]),
        st.floats(0.0, 1.0),
        max_size=10,
    ),
    st.sampled_from([0.0, 0.5]),
)
def test_mastery_array_places_known_skills_and_ignores_removed_ones(
    mastery: dict[str, float], default: float
) -> None:
    index = CurriculumIndex(SKILLS, [("s0", "s1", 1.0)])
    got = index.mastery_array(mastery, default)
    assert got.dtype == np.float64 and got.shape == (len(SKILLS),)
    np.testing.assert_array_equal(got, reference(index, mastery, default))


def test_mastery_array_of_only_unknown_skills_is_the_default() -> None:
    index = CurriculumIndex(SKILLS, [])
    np.testing.assert_array_equal(index.mastery_array({"gone": 0.9}, 0.25), np.full(8, 0.25))
