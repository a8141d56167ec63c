"""Invariants of the demo curriculum, and the checks that refuse inconsistent curriculum data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from graph.models import ItemKind
from seed.curriculum import Curriculum, CurriculumDataError, build_curriculum, demo_curriculum


@pytest.fixture(scope="module")
def cur() -> Curriculum:
    return demo_curriculum()


def test_size_and_topics(cur: Curriculum) -> None:
    assert len(cur.skills) >= 150
    assert len({s.topic for s in cur.skills}) >= 8
    assert all(s.name and s.description and s.topic and s.area and s.tags for s in cur.skills)


def test_ids_unique(cur: Curriculum) -> None:
    skill_ids = [s.id for s in cur.skills]
    item_ids = [i.id for i in cur.items]
    assert len(set(skill_ids)) == len(skill_ids)
    assert len(set(item_ids)) == len(item_ids)
    assert len({(e.source, e.target) for e in cur.edges}) == len(cur.edges)


def test_prerequisites_form_a_deep_connected_dag(cur: Curriculum) -> None:
    g = cur.digraph()
    assert nx.is_directed_acyclic_graph(g)
    assert nx.dag_longest_path_length(g) >= 10
    assert all(0.0 < e.strength <= 1.0 and e.source != e.target for e in cur.edges)
    # chains cross topics: some edge joins skills of different topics on the longest path
    topic = {s.id: s.topic for s in cur.skills}
    path = nx.dag_longest_path(g)
    assert len({topic[s] for s in path}) >= 4
    # only a few roots: almost everything builds on something
    roots = [n for n in g if g.in_degree(n) == 0]
    assert 1 <= len(roots) <= 5
    assert nx.is_weakly_connected(g)


def test_items_per_skill_and_q_matrix(cur: Curriculum) -> None:
    skill_ids = {s.id for s in cur.skills}
    per_skill: Counter[str] = Counter()
    exercises_per_skill: Counter[str] = Counter()
    for item in cur.items:
        assert item.skills, item.id
        assert 1 <= len(item.skills) <= 2
        assert 0.0 <= item.difficulty <= 1.0
        assert item.expected_seconds > 0
        for w in item.skills:
            assert w.skill_id in skill_ids
            assert 0.0 < w.weight <= 1.0
        primary = item.skills[0].skill_id
        per_skill[primary] += 1
        if item.kind == ItemKind.EXERCISE:
            exercises_per_skill[primary] += 1
    assert all(per_skill[s] >= 3 for s in skill_ids)
    assert all(exercises_per_skill[s] >= 3 for s in skill_ids)
    kinds = Counter(i.kind for i in cur.items)
    assert set(kinds) == set(ItemKind)
    assert kinds[ItemKind.EXERCISE] > sum(kinds.values()) / 2
    assert any(len(i.skills) == 2 for i in cur.items)


def test_two_skill_items_name_a_real_prerequisite(cur: Curriculum) -> None:
    edges = {(e.source, e.target) for e in cur.edges}
    for item in cur.items:
        if len(item.skills) == 2:
            assert (item.skills[1].skill_id, item.skills[0].skill_id) in edges


def test_syllabus_is_a_topological_order(cur: Curriculum) -> None:
    assert sorted(cur.syllabus) == sorted(s.id for s in cur.skills)
    rank = {s: i for i, s in enumerate(cur.syllabus)}
    assert all(rank[e.source] < rank[e.target] for e in cur.edges)


def test_build_is_deterministic() -> None:
    assert demo_curriculum() == demo_curriculum()


ROW = ("a", "A", "K", "", "first")


@pytest.mark.parametrize(
    ("topics", "message"),
    [
        ({"t": ("T", "x", (ROW, ROW))}, "duplicate skill slug 'a'"),
        ({"t": ("T", "x", (ROW, ("b", "B", "K", "nope", "d")))}, "needs unknown skill 'nope'"),
        ({"t": ("T", "x", (("a", "A", "K", "a", "d"),))}, "lists itself"),
        ({"t": ("T", "x", (ROW, ("b", "B", "K", "a:1.5", "d")))}, "must be in \\(0, 1\\]"),
        ({"t": ("T", "x", (ROW, ("b", "B", "K", "a:x", "d")))}, "bad prerequisite strength"),
        ({"t": ("T", "x", (("a", "A", "13", "", "d"),))}, "grade '13'"),
        (
            {
                "t": (
                    "T",
                    "x",
                    (
                        ("a", "A", "K", "c", "d"),
                        ("b", "B", "K", "a", "d"),
                        ("c", "C", "K", "b", "d"),
                    ),
                )
            },
            "prerequisite cycle (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)",
        ),
    ],
)
def test_bad_data_is_refused(
    topics: dict[str, tuple[str, str, tuple[tuple[str, str, str, str, str], ...]]], message: str
) -> None:
    with pytest.raises(CurriculumDataError, match=message):
        build_curriculum(topics)


@pytest.mark.parametrize("name", ["demo.json", "demo-csv"])
def test_demo_passes_the_curriculum_importer(cur: Curriculum, tmp_path: Path, name: str) -> None:
    """The demo round-trips through `learngraph curriculum export/import` files and its
    validation finds no problem."""
    from graph.curriculum import validate
    from graph.curriculum_io import read_curriculum, write_curriculum

    path = tmp_path / name
    write_curriculum(path, cur.graph, list(cur.items))
    checked = validate(read_curriculum(path))
    assert checked.problems == ()
    assert checked.skills == cur.skills
    assert set(checked.edges) == set(cur.edges)
    assert checked.items == cur.items
