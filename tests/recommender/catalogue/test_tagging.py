"""Skill suggestions on a tiny hand-made curriculum, and the hidden-tags evaluation."""

from __future__ import annotations

import pytest

from graph.models import Item, ItemKind, Prerequisite, Skill, SkillWeight
from recommender.catalogue.tagging import SkillTagger
from recommender.catalogue.tagging_eval import evaluate_tagging
from recommender.errors import InvalidParameterError

SKILLS = [
    Skill("halves", "Halves", "Split a shape or a pizza into two equal parts."),
    Skill("quarters", "Quarters", "Split a whole into four equal parts."),
    Skill("hours", "Telling the hour", "Read the hour on an analogue clock."),
]
EDGES = [Prerequisite("halves", "quarters")]


def ex(item_id: str, title: str, *skills: str) -> Item:
    return Item(item_id, ItemKind.EXERCISE, title, tuple(SkillWeight(s) for s in skills))


ITEMS = [
    ex("h1", "Half of a pizza", "halves"),
    ex("h2", "Cut the cake in half", "halves"),
    ex("q1", "A quarter of the pizza", "quarters", "halves"),
    ex("q2", "Four equal parts of the cake", "quarters"),
    ex("c1", "What hour does the clock show", "hours"),
    ex("c2", "Clock hands at three", "hours"),
]


def test_suggests_the_skill_of_the_nearest_items_with_evidence() -> None:
    tagger = SkillTagger(neighbours=2).fit(ITEMS, SKILLS, EDGES)
    [top, *_] = tagger.suggest("clock hands show the hour", first=2)
    assert top.skill_id == "hours"
    assert set(top.evidence) == {"c1", "c2"}
    assert tagger.suggest("half of the cake")[0].skill_id == "halves"


def test_an_item_is_not_its_own_evidence() -> None:
    tagger = SkillTagger(neighbours=1, text_weight=0.0, graph_weight=0.0).fit(ITEMS, SKILLS)
    own = tagger.suggest("Clock hands at three", first=1)[0]
    assert own.evidence == ("c2",)
    hidden = tagger.suggest("Clock hands at three", first=1, exclude_item="c2")[0]
    assert hidden.skill_id == "hours" and hidden.evidence == ("c1",)


def test_the_graph_prior_brings_in_the_prerequisite() -> None:
    text = "Four equal parts"  # only q2 (quarters) is near; halves comes from the graph
    plain = SkillTagger(neighbours=1, text_weight=0.0, graph_weight=0.0).fit(ITEMS, SKILLS, EDGES)
    prior = SkillTagger(neighbours=1, text_weight=0.0, graph_weight=0.3).fit(ITEMS, SKILLS, EDGES)
    assert [s.skill_id for s in plain.suggest(text)] == ["quarters"]
    assert [s.skill_id for s in prior.suggest(text)] == ["quarters", "halves"]


def test_bad_input_is_refused() -> None:
    tagger = SkillTagger().fit(ITEMS, SKILLS, EDGES)
    with pytest.raises(InvalidParameterError, match="text"):
        tagger.suggest("   ")
    with pytest.raises(InvalidParameterError, match="first=0"):
        tagger.suggest("clock", first=0)
    with pytest.raises(InvalidParameterError, match="fit"):
        SkillTagger().suggest("clock")


def test_hidden_tag_evaluation_beats_the_frequent_tags_baseline() -> None:
    rows = evaluate_tagging(ITEMS * 1, SKILLS, EDGES, hide=0.5, k=1, seed=0)
    by = {r["variant"]: r for r in rows}
    assert by["most frequent tags"]["hidden_items"] == 3
    assert by["+ graph prior"]["precision@1"] >= by["most frequent tags"]["precision@1"]
    assert all(0 <= float(str(r["precision@1"])) <= 1 for r in rows)
