"""Alerts from timelines: stuck with its root cause, at risk, and what new answers raise."""

from __future__ import annotations

from datetime import timedelta

from analytics.alerts import STUCK_FAILS, AlertKind, current, raised, stuck
from analytics.risk import prior_model
from analytics.timeline import replay
from tests.analytics.helpers import T0, answers, index, service


def test_stuck_on_c_names_the_unmastered_prerequisite() -> None:
    # a mastered, b barely practised, then four wrong answers on c
    tl = replay("l1", answers("l1", "a1 a1 a1 a1 a1 b1 c0 c0 c0 c0"), service())
    alert = stuck(tl, index())
    assert alert is not None and alert.kind is AlertKind.STUCK
    assert alert.skill_id == "c" and alert.root_cause_id == "b"
    assert alert.since == T0 + timedelta(minutes=6)
    assert "4 wrong answers in a row on 'c'" in alert.message


def test_stuck_on_a_ready_skill_is_its_own_root_cause_and_a_right_answer_ends_it() -> None:
    tl = replay("l1", answers("l1", "a0 a0 a0 a0"), service())
    alert = stuck(tl, index())
    assert alert is not None and alert.root_cause_id == "a"
    assert stuck(replay("l1", answers("l1", "a0 a0 a0 a1"), service()), index()) is None
    short = replay("l1", answers("l1", " ".join(["a0"] * (STUCK_FAILS - 1))), service())
    assert stuck(short, index()) is None


def test_raised_reports_only_what_the_new_answers_started() -> None:
    tl = replay("l1", answers("l1", "a1 a1 b0 b0 b0 b0 b0 b0 b0 b0"), service())
    model = prior_model()
    after = {a.kind for a in current(tl, model, index(), tl.answers[-1].at)}
    assert after == {AlertKind.STUCK, AlertKind.AT_RISK}
    new = raised(tl, model, index(), before=2)  # the 8 wrong answers are new
    assert {a.kind for a in new} == after
    # the last answer adds nothing: both held before it
    assert raised(tl, model, index(), before=len(tl.answers) - 1) == []
    assert raised(tl, model, index(), before=len(tl.answers)) == []
