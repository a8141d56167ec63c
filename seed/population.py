"""Simulate a whole demo population: classes, teachers, learners and their practice histories.

The demo policy imitates a plain mastery-learning classroom that does not peek at the truth:
each class works through the syllabus (the curriculum's teaching order) from its grade's first
skill. A learner studies a skill's lesson when starting it (sometimes), then answers its
exercises, easiest first, and moves on after ``advance_streak`` correct answers in a row or
after ``max_attempts_per_skill`` attempts; a learner stuck on a skill revisits its strict
prerequisites and tries it again, up to ``max_retries`` times. Now and then the learner
reviews an earlier skill or looks a few skills ahead. Practice comes in sessions separated by
exponential gaps, so forgetting matters.

Learners in a class of grade ``g`` start out knowing most skills of earlier grades: in
syllabus order each one with probability ``prior_share`` if they know its strict
prerequisites (a prerequisite-closed set), so classes hold learners with gaps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np

from graph.models import Attempt, Group, Item, ItemKind, Learner, Role, User
from seed.curriculum import GRADES, Curriculum
from seed.simulator import DAY, SimLearner, SimParams, SimulationError, Simulator
from seed.truth import AttemptTruth, StudyTruth, Truth, truth_of

DEFAULT_EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
ProgressFn = Callable[[str, float], None]
"""Progress callback: ``(message, fraction done in [0, 1])``."""


@dataclass(frozen=True, slots=True)
class PolicyParams:
    """How the demo classroom practises.

    Args:
        sessions_mean: mean number of practice sessions per learner (1 + Poisson).
        items_min, items_max: practice steps per session (uniform, inclusive).
        gap_days_mean: mean days between sessions (exponential).
        start_spread_days: learners start uniformly within this many days of the epoch.
        advance_streak: correct answers in a row on a skill to move on.
        max_attempts_per_skill: attempts without a streak after which the learner is stuck:
            the skill's strict prerequisites are revisited, then the skill is tried again.
        max_retries: how often a stuck skill is retried before the learner moves on.
        study_prob: chance of studying a lesson/video/reading when starting a skill.
        review_prob: chance that a step reviews an earlier skill instead.
        skip_prob: chance of picking one of the next ``lookahead`` skills, not the next one.
        lookahead: how far ahead a skip may look.
        class_size: learners per class.
        classes_per_teacher: classes one teacher takes.
        prior_share: chance that a learner knows a skill of an earlier grade whose strict
            prerequisites they know.
    """

    sessions_mean: float = 16.0
    items_min: int = 6
    items_max: int = 16
    gap_days_mean: float = 3.5
    start_spread_days: float = 14.0
    advance_streak: int = 3
    max_attempts_per_skill: int = 10
    max_retries: int = 2
    study_prob: float = 0.7
    review_prob: float = 0.1
    skip_prob: float = 0.1
    lookahead: int = 5
    class_size: int = 25
    classes_per_teacher: int = 4
    prior_share: float = 0.95

    def __post_init__(self) -> None:
        if not 1 <= self.items_min <= self.items_max:
            raise SimulationError(
                f"PolicyParams.items_min={self.items_min}, items_max={self.items_max}: "
                "need 1 <= items_min <= items_max"
            )
        if self.class_size < 1 or self.classes_per_teacher < 1 or self.advance_streak < 1:
            raise SimulationError(
                "PolicyParams.class_size, classes_per_teacher and advance_streak must be >= 1"
            )
        if not 0.0 <= self.prior_share <= 1.0:
            raise SimulationError(f"PolicyParams.prior_share={self.prior_share}: must be in [0, 1]")


class Population(NamedTuple):
    """The result of :func:`simulate_population` (unpacks as a 5-tuple)."""

    learners: list[Learner]
    groups: list[Group]
    users: list[User]
    attempts: list[Attempt]
    truth: Truth


def skill_grade(tags: Sequence[str]) -> int:
    """The grade number (K = 0 ... 8) from a skill's ``grade-*`` tag; 0 when untagged."""
    for tag in tags:
        if tag.startswith("grade-"):
            name = tag[len("grade-") :].upper()
            if name in GRADES:
                return GRADES.index(name)
    return 0


class DemoPolicy:
    """Drives one learner through the syllabus (see the module docstring)."""

    def __init__(
        self,
        sim: Simulator,
        curriculum: Curriculum,
        params: PolicyParams,
        rng: np.random.Generator,
        epoch: datetime = DEFAULT_EPOCH,
    ) -> None:
        self.sim = sim
        self.epoch = epoch
        self.params = params
        self.rng = rng
        self.syllabus = curriculum.syllabus
        self.grade = {s.id: skill_grade(s.tags) for s in curriculum.skills}
        self.exercises: dict[str, list[Item]] = {s: [] for s in self.syllabus}
        self.studies: dict[str, list[Item]] = {s: [] for s in self.syllabus}
        for item in curriculum.items:
            primary = item.skills[0].skill_id
            target = self.exercises if item.kind == ItemKind.EXERCISE else self.studies
            target[primary].append(item)
        self.parents: dict[str, list[str]] = {s: [] for s in self.syllabus}
        self.strict: dict[str, list[str]] = {s: [] for s in self.syllabus}
        for e in curriculum.edges:
            if e.strength >= 1.0:
                self.strict[e.target].append(e.source)
                if self.exercises.get(e.source):
                    self.parents[e.target].append(e.source)
        for ex in self.exercises.values():
            ex.sort(key=lambda i: (i.difficulty, i.id))

    def draw_prior(self, rng: np.random.Generator, class_grade: int) -> list[str]:
        """Skills of earlier grades a learner of ``class_grade`` knows at the start: in
        syllabus order, each with probability ``prior_share`` when all its strict
        prerequisites are known (so the set is prerequisite-closed, with realistic gaps)."""
        known: list[str] = []
        held: set[str] = set()
        for s in self.syllabus:
            if self.grade[s] >= class_grade:
                continue
            if all(q in held for q in self.strict[s]) and rng.random() < self.params.prior_share:
                known.append(s)
                held.add(s)
        return known

    def run(
        self, learner: SimLearner, class_grade: int, id_prefix: str
    ) -> tuple[list[AttemptTruth], list[Attempt], list[StudyTruth]]:
        """Simulate all of a learner's sessions; attempt ids are ``{id_prefix}-{n:04d}``."""
        p, rng, sim = self.params, self.rng, self.sim
        todo = [s for s in self.syllabus if self.grade[s] >= class_grade and self.exercises[s]]
        earlier = [s for s in self.syllabus if self.grade[s] < class_grade and self.exercises[s]]
        done: list[str] = []
        failures: dict[str, int] = {}
        truths: list[AttemptTruth] = []
        attempts: list[Attempt] = []
        studies: list[StudyTruth] = []
        target: str | None = None
        streak = tries = 0
        t = learner.created_at
        sessions = 1 + int(rng.poisson(max(0.0, p.sessions_mean - 1.0)))
        for _ in range(sessions):
            for _ in range(int(rng.integers(p.items_min, p.items_max + 1))):
                if target is None:
                    if not todo:
                        break
                    ahead = min(len(todo), p.lookahead)
                    pick = int(rng.integers(ahead)) if rng.random() < p.skip_prob else 0
                    target = todo.pop(pick)
                    streak = tries = 0
                    if self.studies[target] and rng.random() < p.study_prob:
                        options = self.studies[target]
                        item = options[int(rng.integers(len(options)))]
                        sim.study(learner, item.id, t)
                        studies.append(StudyTruth(learner.learner_id, item.id, t))
                        t += item.expected_seconds * float(rng.uniform(0.8, 1.3))
                        continue
                n_pool = len(done) + len(earlier)  # review draws from both, without copying
                reviewing = n_pool > 0 and rng.random() < p.review_prob
                if reviewing:
                    k = int(rng.integers(n_pool))
                    skill = done[k] if k < len(done) else earlier[k - len(done)]
                    options = self.exercises[skill]
                    item = options[int(rng.integers(len(options)))]
                else:
                    assert target is not None
                    options = self.exercises[target]
                    item = options[min(streak, len(options) - 1)]
                t = round(t, 3)  # whole milliseconds: what every store keeps exactly
                r = sim.respond(learner, item.id, t)
                seconds = item.expected_seconds * math.exp(float(rng.normal(0.0, 0.35)))
                seconds *= 0.85 if r.correct else 1.2
                hints = int(rng.random() < (0.03 if r.correct else 0.2))
                attempt_id = f"{id_prefix}-{len(attempts) + 1:04d}"
                attempts.append(
                    Attempt(
                        attempt_id=attempt_id,
                        learner_id=learner.learner_id,
                        item_id=item.id,
                        score=1.0 if r.correct else 0.0,
                        timestamp=self.epoch + timedelta(seconds=t),
                        response_time_ms=int(seconds * 1000),
                        hints_used=hints,
                    )
                )
                truths.append(
                    AttemptTruth(attempt_id, learner.learner_id, item.id, t, r.p_correct, r.correct)
                )
                t += seconds + float(rng.uniform(3.0, 20.0))
                if not reviewing:
                    assert target is not None
                    tries += 1
                    streak = streak + 1 if r.correct else 0
                    if streak >= p.advance_streak:
                        if target not in done:
                            done.append(target)
                        target = None
                    elif tries >= p.max_attempts_per_skill:
                        # stuck: revisit its prerequisites, then retry it (a few times at most)
                        failures[target] = failures.get(target, 0) + 1
                        if failures[target] <= p.max_retries:
                            redo = self.parents[target]
                            todo[:] = [*redo, target, *(q for q in todo if q not in redo)]
                        elif target not in done:
                            done.append(target)
                        target = None
            t += float(rng.exponential(p.gap_days_mean * DAY)) + 3600.0
        return truths, attempts, studies


def simulate_population(
    curriculum: Curriculum,
    *,
    n_learners: int,
    seed: int,
    params: SimParams | None = None,
    policy: PolicyParams | None = None,
    epoch: datetime = DEFAULT_EPOCH,
    progress: ProgressFn | None = None,
) -> Population:
    """Simulate ``n_learners`` learners in classes, deterministically for ``seed``.

    Ids: learners ``learner-0001`` ..., classes ``class-01`` ..., teachers ``teacher-01`` ...,
    plus ``designer-01`` and ``admin-01``; every learner is also a user with the learner role.
    Attempt ids are ``sim{seed}-{learner id}-{n}``, so a re-run with the same seed produces
    the same attempts and the store keeps them once.

    Args:
        curriculum: the skills, edges and items (usually :func:`seed.curriculum.demo_curriculum`).
        n_learners: how many learners (>= 1).
        seed: the random seed; everything is a function of it.
        params: the generative model (default :class:`SimParams`).
        policy: the classroom policy (default :class:`PolicyParams`).
        epoch: simulation time 0; attempts are timestamped ``epoch + t``.
        progress: called with ``(message, fraction)`` after each learner.
    """
    if n_learners < 1:
        raise SimulationError(f"n_learners={n_learners}: simulate at least one learner")
    params = params or SimParams()
    policy = policy or PolicyParams()
    root = np.random.default_rng(seed)
    sim_rng, policy_rng, trait_rng = root.spawn(3)
    sim = Simulator(curriculum.graph, curriculum.items, params, sim_rng)
    demo = DemoPolicy(sim, curriculum, policy, policy_rng, epoch)
    grades = [demo.grade[s] for s in curriculum.syllabus]

    n_groups = math.ceil(n_learners / policy.class_size)
    n_teachers = math.ceil(n_groups / policy.classes_per_teacher)
    width = max(4, len(str(n_learners)))
    gwidth = max(2, len(str(n_groups)))
    twidth = max(2, len(str(n_teachers)))
    teacher_ids = [f"teacher-{k + 1:0{twidth}d}" for k in range(n_teachers)]
    users = [User(t, f"Teacher {k + 1}", Role.TEACHER) for k, t in enumerate(teacher_ids)]
    users += [User("designer-01", "Curriculum designer", Role.DESIGNER)]
    users += [User("admin-01", "Administrator", Role.ADMIN)]

    learners: list[Learner] = []
    groups: list[Group] = []
    sim_learners: list[SimLearner] = []
    attempts: list[Attempt] = []
    truths: list[AttemptTruth] = []
    studies: list[StudyTruth] = []
    max_class_grade = 6
    for g in range(n_groups):
        class_grade = g % (max_class_grade + 1)
        members = range(g * policy.class_size, min(n_learners, (g + 1) * policy.class_size))
        ids: list[str] = []
        goal_pool = [
            s
            for s, gr in zip(curriculum.syllabus, grades, strict=True)
            if gr == min(class_grade + 1, len(GRADES) - 1)
        ]
        for i in members:
            learner_id = f"learner-{i + 1:0{width}d}"
            ids.append(learner_id)
            start = float(trait_rng.uniform(0.0, policy.start_spread_days * DAY))
            known = demo.draw_prior(trait_rng, class_grade)
            sl = sim.new_learner(learner_id, known=known, t=round(start, 3))
            goal = goal_pool[int(trait_rng.integers(len(goal_pool)))] if goal_pool else None
            learners.append(Learner(learner_id, f"Learner {i + 1}", (goal,) if goal else ()))
            users.append(User(learner_id, f"Learner {i + 1}", Role.LEARNER))
            t_rows, a_rows, s_rows = demo.run(sl, class_grade, f"sim{seed}-{learner_id}")
            truths += t_rows
            attempts += a_rows
            studies += s_rows
            sim_learners.append(sl)
            if progress is not None:
                progress(
                    f"simulated {len(learners)}/{n_learners} learners", len(learners) / n_learners
                )
        grade_name = GRADES[class_grade]
        groups.append(
            Group(
                id=f"class-{g + 1:0{gwidth}d}",
                name=f"Class {g + 1} (grade {grade_name})",
                teacher_ids=(teacher_ids[g // policy.classes_per_teacher],),
                learner_ids=tuple(ids),
            )
        )
    truth = truth_of(seed, epoch, params, sim.skill_ids, sim_learners, truths, studies)
    return Population(learners, groups, users, attempts, truth)
