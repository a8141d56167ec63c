"""What a learner's recent answers say to the next-item policy: the one place a
:class:`recommender.next_item.LearnerView` is derived from history.

The API (from stored attempts) and the offline simulations (from their own answers) build the
view with the same functions, so the policy that is measured is the policy that is served.
Everything here is a pure function of the practices, newest first; nothing is kept between
calls.

* **Failure streaks** (:func:`failure_streaks`). A skill's streak counts its wrong answers
  since the latest *new evidence* about it: a correct answer on the skill itself, or the first
  correct answer on one of its (transitive) prerequisites since the skill's episode of trouble
  began (its first wrong answer after its last correct one). A correct answer on a probed
  prerequisite therefore ends the streak that triggered the probe: the probe has found the
  prerequisite known. The same prerequisite answered right again in the same episode is not
  new evidence, so it cannot hold the streak down while another prerequisite is the cause
  (a prerequisite the tracer keeps blaming for the skill's failures, re-learned and answered
  right after every few failures, would otherwise mask an unknown one for ever).
* **Confirmation age** (:func:`confirmation_ages`). Per skill, the answers since its latest
  correct one: how long ago its mastery was last confirmed. A probe goes to the prerequisite
  confirmed longest ago (:func:`recommender.next_item.recommend`), the one most likely to be
  forgotten or a false positive.
* **Probes** (:func:`probe_counts`). Since the last correct answer on a skill, the answers on
  its prerequisites that came after a wrong answer on it: how many times the policy has already
  stepped back from it. :func:`recommender.next_item.recommend` caps them
  (``max_probes``) and backs off (each probe needs ``probe_backoff`` times more failures).
* **Runs since a failure** (:func:`correct_runs`). Per skill answered wrong in the view, the
  correct answers on it since: a skill whose estimate crosses the threshold on one or two right
  answers after a wrong one (lucky guesses, or a graded learner at 0.6 whom a binary tracer
  takes for mastered) is not treated as mastered for moving on until the run reaches
  ``RecommenderConfig.confirm_run`` (:func:`recommender.next_item.recommend`). The view also
  holds the runs counted on the skill's harder items only (``harder_only``; the policy reads
  them with ``RecommenderConfig.confirm_harder``), and the runs that also count the right
  answers on the skill's direct dependents (``dependents``; read with
  ``RecommenderConfig.confirm_dependents``).
* **The learner's clock** (:func:`learner_clock`): the latest practice's timestamp. Reviews are
  timed on it, not on the server's wall clock, so a client replaying a timeline with past
  timestamps sees the reviews due on that timeline.
* **Studies** (:func:`recent_activity`, :func:`studied_skills`). Views of lessons, videos and
  readings are not answers: they move no mastery, streak or review. They count only for what
  was *seen*: the last ``window`` items, answers and views together on the learner's clock,
  are the ones not offered again (so a lesson just viewed is not recommended again first), and
  a skill with a view among them and no answer on it since has been studied: its exercise
  comes next (:func:`recommender.next_item.recommend`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graph.models import Attempt, View
from recommender import item_choice as ic
from recommender import review as rv
from recommender.index import CurriculumIndex, FloatArray
from recommender.next_item import LearnerView


@dataclass(frozen=True, slots=True)
class Practice:
    """One answer: the item, whether it was correct, and when (epoch seconds)."""

    item: str
    correct: bool
    timestamp: float


@dataclass(frozen=True, slots=True)
class Study:
    """One view of a lesson, video or reading: the item and when (epoch seconds)."""

    item: str
    timestamp: float


def from_attempts(attempts: Iterable[Attempt]) -> list[Practice]:
    """Stored attempts (any order kept) as practices."""
    return [Practice(a.item_id, a.correct, a.timestamp.timestamp()) for a in attempts]


def _item_skills(index: CurriculumIndex) -> dict[str, tuple[int, ...]]:
    """Item id -> its skills' positions, built once per curriculum index (a view is built on
    every recommendation: no per-call numpy slicing for each practice)."""

    def build() -> dict[str, tuple[int, ...]]:
        ptr = index.item_skill_ptr.tolist()
        idx = index.item_skill_idx.tolist()
        return {item: tuple(idx[ptr[i] : ptr[i + 1]]) for i, item in enumerate(index.item_ids)}

    return index.memo("history.item_skills", build)


def from_views(views: Iterable[View]) -> list[Study]:
    """Stored views (any order kept) as studies."""
    return [Study(v.item_id, v.timestamp.timestamp()) for v in views]


def _merged(
    practices: Sequence[Practice], studies: Sequence[Study], window: int | None = None
) -> list[Practice | Study]:
    """The newest ``window`` (None: all) of answers and views together, newest first (an
    answer before a view of the same time)."""
    both: list[Practice | Study] = [*practices, *studies]
    both.sort(key=lambda x: (-x.timestamp, isinstance(x, Study)))
    return both if window is None else both[:window]


def recent_activity(practices: Sequence[Practice], studies: Sequence[Study]) -> tuple[str, ...]:
    """Item ids of the answers and views together, newest first (the item choice's
    ``recent_window`` rule reads its head, and the latest use of each item from all of it)."""
    return tuple(x.item for x in _merged(practices, studies))


def studied_skills(
    index: CurriculumIndex, practices: Sequence[Practice], studies: Sequence[Study], window: int
) -> dict[str, str]:
    """Skill id -> the item studied, for each skill of an item viewed among the newest
    ``window`` answers and views with no answer on the skill since; most recent first."""
    out: dict[str, str] = {}
    answered: set[int] = set()
    for x in _merged(practices, studies, window):
        skills = _skills(index, x.item)
        if isinstance(x, Practice):
            answered.update(skills)
            continue
        for s in skills:
            if s not in answered:
                out.setdefault(index.skill_ids[s], x.item)
    return out


def _skills(index: CurriculumIndex, item: str) -> tuple[int, ...]:
    return _item_skills(index).get(item, ())


def _rows(
    index: CurriculumIndex, practices: Sequence[Practice]
) -> list[tuple[bool, tuple[int, ...]]]:
    """``(correct, skills)`` of each practice, in the same order."""
    table = _item_skills(index)
    return [(p.correct, table.get(p.item, ())) for p in practices]


def _parents(index: CurriculumIndex) -> list[tuple[int, ...]]:
    """Each skill's direct prerequisites, built once per curriculum index."""
    return index.memo(
        "history.parents",
        lambda: [tuple(index.parents(s).tolist()) for s in range(index.n_skills)],
    )


def _prerequisite_set(index: CurriculumIndex, skill: int) -> frozenset[int]:
    return index.memo(
        ("history.prerequisites", skill),
        lambda: frozenset(index.ancestors([skill], include_self=False).tolist()),
    )


@dataclass(frozen=True, slots=True)
class _Episode:
    streak: int
    probes: int


def _episode(
    index: CurriculumIndex, skill: int, practices: Sequence[tuple[bool, tuple[int, ...]]]
) -> _Episode:
    """Streak and probes of ``skill`` from ``(correct, skills)`` pairs, newest first."""
    pre = _prerequisite_set(index, skill)
    # the open episode: back to the latest correct answer on the skill (exclusive)
    end = next(
        (k for k, (correct, skills) in enumerate(practices) if correct and skill in skills),
        len(practices),
    )
    episode = practices[:end]
    first_failure = max((k for k, (_, skills) in enumerate(episode) if skill in skills), default=-1)
    # new evidence: the oldest correct answer of each prerequisite since the first failure
    first_right: dict[int, int] = {}
    for k in range(first_failure - 1, -1, -1):  # oldest to newest, after the first failure
        correct, skills = episode[k]
        if correct and skill not in skills:
            for q in pre.intersection(skills):
                first_right.setdefault(q, k)
    evidence = min(first_right.values(), default=len(episode))  # the newest new evidence
    streak = 0
    related_after: int = 0  # prerequisite answers newer than the position being read
    probes = 0
    for k, (_, skills) in enumerate(episode):
        if skill in skills:
            if k < evidence:
                streak += 1
            probes = related_after  # prerequisite answers newer than this failure
        elif pre.intersection(skills):
            related_after += 1
    return _Episode(streak, probes)


def _episodes(index: CurriculumIndex, practices: Sequence[Practice]) -> dict[str, _Episode]:
    return _episodes_of(index, _rows(index, practices))


def _episodes_of(
    index: CurriculumIndex, rows: Sequence[tuple[bool, tuple[int, ...]]]
) -> dict[str, _Episode]:
    latest: dict[int, bool] = {}
    for correct, skills in rows:
        for s in skills:
            latest.setdefault(s, correct)
    out: dict[str, _Episode] = {}
    for s, correct in latest.items():
        if correct:
            continue  # the newest answer on it was right: no streak, no probe
        ep = _episode(index, s, rows)
        if ep.streak or ep.probes:
            out[index.skill_ids[s]] = ep
    return out


def failure_streaks(index: CurriculumIndex, practices: Sequence[Practice]) -> dict[str, int]:
    """Skill id -> wrong answers on it since the latest correct answer on it or on any of its
    prerequisites (``practices`` newest first; skills at 0 are left out)."""
    return {s: e.streak for s, e in _episodes(index, practices).items() if e.streak}


def probe_counts(index: CurriculumIndex, practices: Sequence[Practice]) -> dict[str, int]:
    """Skill id -> answers on its prerequisites since its last correct answer that came after a
    wrong answer on it (``practices`` newest first; skills at 0 are left out)."""
    return {s: e.probes for s, e in _episodes(index, practices).items() if e.probes}


def confirmation_ages(index: CurriculumIndex, practices: Sequence[Practice]) -> dict[str, int]:
    """Skill id -> answers since its latest correct answer (``practices`` newest first; 0: the
    newest answer confirmed it). Skills never answered right in ``practices`` are left out."""
    return _confirmation_ages_of(index, _rows(index, practices))


def _confirmation_ages_of(
    index: CurriculumIndex, rows: Sequence[tuple[bool, tuple[int, ...]]]
) -> dict[str, int]:
    out: dict[str, int] = {}
    for k, (correct, skills) in enumerate(rows):
        if correct:
            for s in skills:
                out.setdefault(index.skill_ids[s], k)
    return out


def correct_runs(
    index: CurriculumIndex,
    practices: Sequence[Practice],
    *,
    harder_only: bool = False,
    dependents: bool = False,
) -> dict[str, int]:
    """Skill id -> correct answers on it (items whose main skill it is) since its latest wrong
    one (``practices`` newest first). Only skills with a wrong answer in ``practices`` are
    listed: for those, the answers since are the evidence that it has been (re-)learned.
    ``harder_only`` counts only the right answers on the skill's harder items (at least as
    hard as the median of its own items, :func:`recommender.item_choice.harder_items`):
    a right answer on an easier one neither counts nor ends the run; a wrong answer on any
    of its items ends it. ``dependents`` also counts, in each skill's run, the right answers
    on the items of its direct dependents (skills it is a prerequisite of) since its latest
    wrong answer: under prerequisite-gated learning a dependent answered right is evidence
    for the prerequisite too (``RecommenderConfig.confirm_dependents``); a dependent's wrong
    answer does not end the run."""
    rows = _rows(index, practices)
    return _correct_runs_of(
        index, rows, _harder(index, practices) if harder_only else None, dependents=dependents
    )


def harder_items_of(index: CurriculumIndex) -> set[str]:
    """Ids of the items whose right answers make a harder run (the skill's harder half)."""
    flags = ic.harder_items(index)
    return {item for item, hard in zip(index.item_ids, flags.tolist(), strict=True) if hard}


def _harder(index: CurriculumIndex, practices: Sequence[Practice]) -> list[bool]:
    """Whether each practice's item is among its main skill's harder items (unknown: no)."""
    flags = ic.harder_items(index)
    pos = index.item_pos
    return [bool(flags[pos[p.item]]) if p.item in pos else False for p in practices]


def _correct_runs_of(
    index: CurriculumIndex,
    rows: Sequence[tuple[bool, tuple[int, ...]]],
    counts: Sequence[bool] | None = None,
    *,
    dependents: bool = False,
) -> dict[str, int]:
    """Runs from ``(correct, skills)`` rows, newest first; with ``counts``, only the right
    answers of the rows marked True add to a run; with ``dependents``, a right answer also
    adds to the runs of its main skill's direct prerequisites (not yet ended)."""
    runs: dict[int, int] = {}
    failed: set[int] = set()
    parents = _parents(index) if dependents else []
    for k, (correct, skills) in enumerate(rows):
        if not skills:
            continue
        s = skills[0]  # an item's first skill is its main one
        if dependents and correct:
            for p in parents[s]:
                if p not in failed:
                    runs[p] = runs.get(p, 0) + 1
        if s in failed:
            continue
        if correct:
            if counts is None or counts[k]:
                runs[s] = runs.get(s, 0) + 1
        else:
            failed.add(s)
            runs.setdefault(s, 0)
    return {index.skill_ids[s]: runs[s] for s in failed}


def learner_clock(practices: Sequence[Practice]) -> float | None:
    """The learner's own time: the latest practice's timestamp (None without practices)."""
    return max((p.timestamp for p in practices), default=None)


def review_states(index: CurriculumIndex, practices: Sequence[Practice]) -> list[rv.ReviewState]:
    """Review memory per skill, replayed from ``practices`` (newest first)."""
    table = _item_skills(index)
    names = index.skill_ids
    flat: list[tuple[str, bool, float]] = []
    for p in sorted(practices, key=lambda p: p.timestamp):
        flat.extend((names[s], p.correct, p.timestamp) for s in table.get(p.item, ()))
    return list(rv.replay(flat).values())


def items_since_review(
    index: CurriculumIndex, practices: Sequence[Practice], due_skills: set[str]
) -> int:
    """Practices since the last one on a due skill (newest first count)."""
    return _items_since_review_of(index, _rows(index, practices), due_skills)


def _items_since_review_of(
    index: CurriculumIndex, rows: Sequence[tuple[bool, tuple[int, ...]]], due_skills: set[str]
) -> int:
    if not due_skills:
        return len(rows)
    n = 0
    for _, skills in rows:
        if any(index.skill_ids[s] in due_skills for s in skills):
            break
        n += 1
    return n


def build_view(
    index: CurriculumIndex,
    mastery: FloatArray,
    practices: Sequence[Practice],
    *,
    target_retention: float = 0.9,
    threshold: float = 0.8,
    now: float | None = None,
    reviews: bool = True,
    studies: Sequence[Study] = (),
    window: int = 5,
) -> LearnerView:
    """The policy's view of a learner from their mastery estimate and recent practices
    (newest first). Reviews are due at ``now`` if given, else at the learner's clock; only
    skills mastered by the estimate are reviewed. ``reviews=False`` schedules none.
    ``studies`` (views, any order) within the newest ``window`` answers and views give the
    items seen recently and the skills studied since their last answer (module docstring);
    the policy's ``recent_window`` is the ``window`` to pass."""
    due: list[rv.DueReview] = []
    when = now if now is not None else learner_clock(practices)
    if reviews and when is not None:
        # only the practised skills can be due: test those, not every skill's mastery
        pos = index.skill_pos
        due = [
            d
            for d in rv.due_reviews(review_states(index, practices), when, target_retention)
            if d.skill in pos and mastery[pos[d.skill]] >= threshold
        ]
    rows = _rows(index, practices)
    episodes = _episodes_of(index, rows)
    return LearnerView(
        mastery=mastery,
        recent_items=tuple(p.item for p in practices),
        failure_streaks={s: e.streak for s, e in episodes.items() if e.streak},
        probes={s: e.probes for s, e in episodes.items() if e.probes},
        confirmed_ago=_confirmation_ages_of(index, rows),
        correct_runs=_correct_runs_of(index, rows),
        harder_runs=_correct_runs_of(index, rows, _harder(index, practices)),
        dependent_runs=_correct_runs_of(index, rows, dependents=True),
        due=tuple(due),
        items_since_review=_items_since_review_of(index, rows, {d.skill for d in due}),
        recent_activity=recent_activity(practices, studies) if studies else None,
        studied=studied_skills(index, practices, studies, window) if studies else {},
    )


__all__ = [
    "Practice",
    "Study",
    "build_view",
    "confirmation_ages",
    "correct_runs",
    "failure_streaks",
    "from_attempts",
    "from_views",
    "harder_items_of",
    "items_since_review",
    "learner_clock",
    "probe_counts",
    "recent_activity",
    "review_states",
    "studied_skills",
]
