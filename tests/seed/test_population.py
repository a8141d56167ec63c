"""The simulated demo population and the truth file written beside it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from graph.models import ItemKind, Role
from seed.curriculum import Curriculum, demo_curriculum
from seed.population import PolicyParams, Population, simulate_population
from seed.simulator import SimulationError
from seed.truth import TruthFileError, read_truth, write_truth


@pytest.fixture(scope="module")
def cur() -> Curriculum:
    return demo_curriculum()


@pytest.fixture(scope="module")
def pop(cur: Curriculum) -> Population:
    return simulate_population(cur, n_learners=60, seed=3)


def test_same_seed_same_population(cur: Curriculum, pop: Population) -> None:
    again = simulate_population(cur, n_learners=60, seed=3)
    assert again.attempts == pop.attempts
    assert again.learners == pop.learners
    assert again.truth == pop.truth


def test_different_seed_differs(cur: Curriculum, pop: Population) -> None:
    other = simulate_population(cur, n_learners=60, seed=4)
    assert [a.score for a in other.attempts] != [a.score for a in pop.attempts]
    assert not {a.attempt_id for a in other.attempts} & {a.attempt_id for a in pop.attempts}


def test_people_and_classes(pop: Population) -> None:
    learner_ids = [x.id for x in pop.learners]
    assert len(learner_ids) == len(set(learner_ids)) == 60
    assert [len(g.learner_ids) for g in pop.groups] == [25, 25, 10]
    members = Counter(m for g in pop.groups for m in g.learner_ids)
    assert set(members) == set(learner_ids) and set(members.values()) == {1}
    roles = {u.id: u.role for u in pop.users}
    assert all(roles[x] == Role.LEARNER for x in learner_ids)
    for g in pop.groups:
        assert len(g.teacher_ids) == 1 and roles[g.teacher_ids[0]] == Role.TEACHER
    assert Role.DESIGNER in roles.values() and Role.ADMIN in roles.values()


def test_attempts_are_well_formed(cur: Curriculum, pop: Population) -> None:
    kinds = {i.id: i.kind for i in cur.items}
    skills = {s.id for s in cur.skills}
    learners = {x.id for x in pop.learners}
    assert len(pop.attempts) > 60 * 20
    assert len({a.attempt_id for a in pop.attempts}) == len(pop.attempts)
    for a in pop.attempts:
        assert kinds[a.item_id] == ItemKind.EXERCISE
        assert a.learner_id in learners
        assert a.score in (0.0, 1.0)
        assert a.response_time_ms is not None and a.response_time_ms > 0
        assert a.timestamp.microsecond % 1000 == 0  # whole milliseconds
    for x in pop.learners:
        assert all(g in skills for g in x.goals)
        times = [a.timestamp for a in pop.attempts if a.learner_id == x.id]
        assert times == sorted(times)


def test_truth_matches_attempts(pop: Population) -> None:
    truth = pop.truth
    assert [t.attempt_id for t in truth.attempts] == [a.attempt_id for a in pop.attempts]
    for t, a in zip(truth.attempts, pop.attempts, strict=True):
        assert t.correct == a.correct
        assert truth.seconds(a.timestamp) == pytest.approx(t.t, abs=1e-3)
    assert set(truth.learners) == {x.id for x in pop.learners}


def test_true_probabilities_are_calibrated(pop: Population) -> None:
    """Within bins of the true P(correct), the observed rate matches the bin's mean."""
    p = np.array([t.p_correct for t in pop.truth.attempts])
    y = np.array([t.correct for t in pop.truth.attempts], dtype=float)
    for lo, hi in ((0.0, 0.5), (0.5, 1.0)):
        mask = (p >= lo) & (p < hi)
        assert mask.sum() > 200
        expected = p[mask].mean()
        se = np.sqrt((p[mask] * (1 - p[mask])).sum()) / mask.sum()
        assert abs(y[mask].mean() - expected) < 4 * se


def test_mastered_answers_are_right_more_often(pop: Population, cur: Curriculum) -> None:
    primary = {i.id: i.skills[0].skill_id for i in cur.items}
    truth = pop.truth
    held = [
        t.correct for t in truth.attempts if truth.mastered(t.learner_id, primary[t.item_id], t.t)
    ]
    unheld = [
        t.correct
        for t in truth.attempts
        if not truth.mastered(t.learner_id, primary[t.item_id], t.t)
    ]
    assert np.mean(held) > 0.75 > 0.35 > np.mean(unheld)


def test_progress_is_reported(cur: Curriculum) -> None:
    seen: list[float] = []
    simulate_population(cur, n_learners=4, seed=0, progress=lambda _m, f: seen.append(f))
    assert seen == [0.25, 0.5, 0.75, 1.0]


def test_bad_requests(cur: Curriculum) -> None:
    with pytest.raises(SimulationError, match="n_learners=0"):
        simulate_population(cur, n_learners=0, seed=0)
    with pytest.raises(SimulationError, match="items_min"):
        PolicyParams(items_min=5, items_max=2)


def test_truth_file_round_trip(pop: Population, tmp_path: Path) -> None:
    path = tmp_path / "truth.jsonl"
    write_truth(pop.truth, path)
    back = read_truth(path)
    assert back == pop.truth
    kinds = Counter(json.loads(line)["kind"] for line in path.read_text().splitlines())
    assert kinds["meta"] == 1
    assert kinds["learner"] == 60
    assert kinds["attempt"] == len(pop.attempts)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_truth_file_errors(tmp_path: Path) -> None:
    with pytest.raises(TruthFileError, match="not found"):
        read_truth(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "meta", "version": 1}\n{"kind": "attempt", "oops": 1}\n')
    with pytest.raises(TruthFileError, match="line 2"):
        read_truth(bad)
    old = tmp_path / "old.jsonl"
    old.write_text('{"kind": "meta", "version": 0}\n')
    with pytest.raises(TruthFileError, match="format version 1"):
        read_truth(old)


def test_prior_knowledge_is_prerequisite_closed_and_from_earlier_grades(
    cur: Curriculum, pop: Population
) -> None:
    from seed.population import skill_grade

    grade = {s.id: skill_grade(s.tags) for s in cur.skills}
    strict = {(e.source, e.target) for e in cur.edges if e.strength >= 1.0}
    class_grade = {m: int(g.id[-2:]) - 1 for g in pop.groups for m in g.learner_ids}
    some_known = 0
    for lt in pop.truth.learners.values():
        known = set(lt.prior_mastered)
        some_known += bool(known)
        assert all(grade[s] < class_grade[lt.learner_id] % 7 for s in known)
        assert all(src in known for src, dst in strict if dst in known)
    assert some_known > len(pop.truth.learners) / 2
