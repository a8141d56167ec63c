"""The learner's view derived from their answers: streaks, probes, the learner's clock."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender import history as hist
from recommender.history import Practice
from recommender.index import CurriculumIndex, ItemSpec
from tests.recommender.helpers import diamond, mastery_of

DAY = 86_400.0


def newest_first(*rows: tuple[str, bool]) -> list[Practice]:
    """Practices given oldest first, one minute apart, returned newest first."""
    return [Practice(item, ok, 60.0 * k) for k, (item, ok) in enumerate(rows)][::-1]


def test_streaks_count_back_to_the_last_success_per_skill() -> None:
    idx = CurriculumIndex(
        ["a", "b"], [], [ItemSpec("a1", ("a",)), ItemSpec("b1", ("b",)), ItemSpec("ab", ("a", "b"))]
    )
    rows = newest_first(("a1", True), ("a1", False), ("b1", True), ("ab", False), ("a1", False))
    assert hist.failure_streaks(idx, rows) == {"a": 3, "b": 1}


def test_a_correct_answer_on_a_prerequisite_ends_the_streak() -> None:
    idx = diamond()  # A -> B, A -> C, B -> D, C -> D
    rows = newest_first(("B0", False), ("B1", False), ("B0", False), ("A0", True))
    assert hist.failure_streaks(idx, rows) == {}
    # ... and counts as one probe of B, which is still open (no correct answer on B since)
    assert hist.probe_counts(idx, rows) == {"B": 1}
    rows = newest_first(("B0", False), ("A0", True), ("B1", False))
    assert hist.failure_streaks(idx, rows) == {"B": 1}
    # a transitive prerequisite counts too; an unrelated skill does not
    rows = newest_first(("D0", False), ("D1", False), ("A0", True), ("D0", False))
    assert hist.failure_streaks(idx, rows) == {"D": 1}
    rows = newest_first(("B0", False), ("C0", True), ("B1", False))
    assert hist.failure_streaks(idx, rows) == {"B": 2}


def test_probes_count_prerequisite_answers_after_a_failure_until_a_success() -> None:
    idx = diamond()
    rows = newest_first(
        ("A0", True),  # before any failure on B: not a probe
        ("B0", False),
        ("A1", False),  # probe 1 (wrong: the streak goes on)
        ("B1", False),
        ("A0", True),  # probe 2 (right: the streak ends)
        ("B0", False),
    )
    assert hist.probe_counts(idx, rows) == {"B": 2}
    assert hist.failure_streaks(idx, rows) == {"B": 1}
    # a correct answer on B closes the episode: nothing before it counts
    closed = newest_first(*[(p.item, p.correct) for p in rows[::-1]], ("B1", True))
    assert hist.probe_counts(idx, closed) == {}


def test_reviews_are_due_on_the_learners_clock_not_the_wall_clock() -> None:
    idx = diamond()
    m = mastery_of(idx, A=0.95, B=0.95)
    t0 = 1_600_000_000.0  # September 2020
    # A answered right at t0, B 12 hours later: one practice each, stability 2 days
    rows = [Practice("B0", True, t0 + 0.5 * DAY), Practice("A0", True, t0)]
    view = hist.build_view(idx, m, rows)
    assert view.due == ()  # on the learner's clock A was practised half a day ago
    # the wall clock (years later) would make both due
    assert {d.skill for d in hist.build_view(idx, m, rows, now=t0 + 3 * 365 * DAY).due} == {
        "A",
        "B",
    }
    # the learner's next answer, 3 days on, moves their clock: A (3 days) and B (2.5) are due
    later = [Practice("C0", False, t0 + 3 * DAY), *rows]
    assert [d.skill for d in hist.build_view(idx, m, later).due] == ["A", "B"]
    assert hist.learner_clock(later) == t0 + 3 * DAY
    assert hist.learner_clock([]) is None


def test_only_skills_mastered_by_the_estimate_are_reviewed() -> None:
    idx = diamond()
    rows = [Practice("C0", False, 9 * DAY), Practice("B0", True, 60.0), Practice("A0", True, 0.0)]
    view = hist.build_view(idx, mastery_of(idx, A=0.9, B=0.5), rows)
    assert [d.skill for d in view.due] == ["A"]
    assert view.items_since_review == 2  # C0 then B0 since the last practice of A
    assert hist.build_view(idx, np.ones(4), rows, reviews=False).due == ()


def test_only_new_evidence_from_a_prerequisite_ends_the_streak() -> None:
    # D -> needs B and C. B is answered right after every two failures on D (a prerequisite
    # the tracer keeps blaming and re-teaching): only its first correct answer since D's
    # trouble began is new evidence; the later ones do not hold D's streak down
    idx = diamond()
    rows = newest_first(
        ("D0", False),
        ("D1", False),
        ("B0", True),  # new evidence: the streak restarts
        ("D0", False),
        ("D1", False),
        ("B1", True),  # B again: nothing new about D's trouble
        ("D0", False),
    )
    assert hist.failure_streaks(idx, rows) == {"D": 3}
    # a different prerequisite's first correct answer is new evidence
    rows_c = newest_first(*[(p.item, p.correct) for p in rows[::-1]], ("C0", True))
    assert hist.failure_streaks(idx, rows_c) == {}
    # B's answers before D's first failure are not evidence about this trouble at all
    early = newest_first(("B0", True), ("D0", False), ("D1", False), ("B1", True), ("D0", False))
    assert hist.failure_streaks(idx, early) == {"D": 1}
    # a correct answer on D closes the episode: B is new evidence again in the next one
    again = newest_first(
        *[(p.item, p.correct) for p in rows[::-1]],
        ("D1", True),
        ("D0", False),
        ("B0", True),
        ("D1", False),
    )
    assert hist.failure_streaks(idx, again) == {"D": 1}


def test_confirmation_ages_count_answers_since_the_latest_correct_one() -> None:
    idx = diamond()
    rows = newest_first(("A0", True), ("B0", True), ("B1", False), ("A1", True), ("C0", False))
    assert hist.confirmation_ages(idx, rows) == {"A": 1, "B": 3}  # C: never right
    view = hist.build_view(idx, mastery_of(idx), rows, reviews=False)
    assert view.confirmed_ago == {"A": 1, "B": 3}


def test_correct_runs_count_right_answers_since_the_latest_wrong_one() -> None:
    idx = diamond()
    rows = newest_first(
        ("A0", True),
        ("A1", False),
        ("A0", True),
        ("B0", False),
        ("A1", True),  # A: two right since its latest wrong answer
        ("B1", False),  # B: wrong last, a run of 0
        ("C0", True),  # C: never wrong, not listed (its estimate stands)
    )
    assert hist.correct_runs(idx, rows) == {"A": 2, "B": 0}
    view = hist.build_view(idx, mastery_of(idx), rows, reviews=False)
    assert view.correct_runs == {"A": 2, "B": 0}
    # only answers on items whose main skill it is count: an item of B also assessing A
    # does not make A's run
    multi = CurriculumIndex(
        ["a", "b"], [("a", "b", 1.0)], [ItemSpec("a1", ("a",)), ItemSpec("ab", ("b", "a"))]
    )
    rows = newest_first(("a1", False), ("ab", True), ("ab", True), ("ab", True))
    assert hist.correct_runs(multi, rows) == {"a": 0}


def test_harder_runs_count_only_right_answers_on_the_skills_harder_items() -> None:
    idx = diamond(3)  # A0, A1, A2 at difficulty 0.3, 0.5, 0.7: A1 and A2 are the harder half
    assert hist.harder_items_of(idx) == {"A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2"}
    rows = newest_first(
        ("A2", False),
        ("A0", True),  # easier: counts in the plain run only ...
        ("A1", True),
        ("A0", True),  # ... and does not end the harder one
        ("A2", True),
        ("B0", False),
        ("B0", True),
    )
    assert hist.correct_runs(idx, rows) == {"A": 4, "B": 1}
    assert hist.correct_runs(idx, rows, harder_only=True) == {"A": 2, "B": 0}
    view = hist.build_view(idx, mastery_of(idx), rows, reviews=False)
    assert view.correct_runs == {"A": 4, "B": 1} and view.harder_runs == {"A": 2, "B": 0}
    # a wrong answer on an easier item ends both runs
    rows = newest_first(("A2", False), ("A1", True), ("A2", True), ("A0", False), ("A1", True))
    assert hist.correct_runs(idx, rows, harder_only=True) == {"A": 1}
    # items all equally hard (or one per skill): every item is a harder one, the runs agree
    flat = CurriculumIndex(
        ["a"], [], [ItemSpec("a1", ("a",)), ItemSpec("a2", ("a",)), ItemSpec("a3", ("a",))]
    )
    rows = newest_first(("a1", False), ("a2", True), ("a3", True), ("a1", True))
    assert hist.correct_runs(flat, rows, harder_only=True) == hist.correct_runs(flat, rows)


def test_dependent_runs_also_count_right_answers_on_direct_dependents() -> None:
    idx = diamond()  # A -> B, A -> C, B -> D, C -> D
    rows = newest_first(
        ("B0", True),  # before A's latest wrong answer: not in its run
        ("A0", False),
        ("B0", True),  # a dependent of A: counts
        ("C1", False),  # a dependent's wrong answer: C's run ends, A's does not
        ("C0", True),  # counts for C (its own) and for A (a dependent)
        ("D0", True),  # counts for C (a dependent); not for A (two steps down)
        ("A1", True),
    )
    assert hist.correct_runs(idx, rows) == {"A": 1, "C": 1}
    assert hist.correct_runs(idx, rows, dependents=True) == {"A": 3, "C": 2}
    view = hist.build_view(idx, mastery_of(idx), rows, reviews=False)
    assert view.correct_runs == {"A": 1, "C": 1} and view.dependent_runs == {"A": 3, "C": 2}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A0", "A1", "B0", "C1", "D0"]), st.booleans())))
def test_a_dependent_run_is_never_shorter_than_the_plain_run(
    answers: list[tuple[str, bool]],
) -> None:
    idx = diamond()
    rows = newest_first(*answers)
    plain = hist.correct_runs(idx, rows)
    dep = hist.correct_runs(idx, rows, dependents=True)
    assert dep.keys() == plain.keys()
    assert all(dep[s] >= plain[s] for s in plain)
    # D has no dependents: its run is its own
    assert dep.get("D") == plain.get("D")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A0", "A1", "A2", "B0", "B2"]), st.booleans())))
def test_a_harder_run_is_never_longer_than_the_plain_run(answers: list[tuple[str, bool]]) -> None:
    idx = diamond(3)
    rows = newest_first(*answers)
    plain = hist.correct_runs(idx, rows)
    harder = hist.correct_runs(idx, rows, harder_only=True)
    assert harder.keys() == plain.keys()
    assert all(0 <= harder[s] <= plain[s] for s in plain)


def test_views_count_as_seen_and_mark_a_skill_studied_until_it_is_answered() -> None:
    from recommender.history import Study

    idx = CurriculumIndex(
        ["a", "b"],
        [],
        [
            ItemSpec("a-lesson", ("a",), exercise=False),
            ItemSpec("a1", ("a",)),
            ItemSpec("b-video", ("b",), exercise=False),
            ItemSpec("b1", ("b",)),
        ],
    )
    # oldest first: b1 answered (0), a-lesson viewed (60), b-video viewed (90)
    practices = [Practice("b1", True, 0.0)]
    studies = [Study("b-video", 90.0), Study("a-lesson", 60.0)]
    assert hist.recent_activity(practices, studies) == ("b-video", "a-lesson", "b1")
    assert list(hist.studied_skills(idx, practices, studies, 5).items()) == [
        ("b", "b-video"),
        ("a", "a-lesson"),
    ]
    # an answer on a after its lesson: a is practised, no longer just studied
    practices = [Practice("a1", False, 120.0), *practices]
    assert hist.studied_skills(idx, practices, studies, 5) == {"b": "b-video"}
    # a view older than the latest answer on its skill (a device syncing late) is no study
    late = [Study("b-video", -30.0)]
    assert hist.studied_skills(idx, [Practice("b1", True, 0.0)], late, 5) == {}
    # outside the window (the newest 2 of answers and views): neither seen nor studied
    many = [Practice("b1", True, 200.0 + k) for k in range(2)]
    assert hist.studied_skills(idx, many, [Study("a-lesson", 60.0)], 2) == {}
    # the view the policy gets
    view = hist.build_view(idx, np.zeros(2), practices, studies=studies, window=5)
    assert view.recent_activity == ("a1", "b-video", "a-lesson", "b1")
    assert view.recent_items == ("a1", "b1")  # streaks, interleaving: answers only
    assert dict(view.studied) == {"b": "b-video"}
    assert hist.build_view(idx, np.zeros(2), practices).recent_activity is None
