"""Next item: which skill to work on, then which item of it, with the reasons.

The policy is a function of the learner's view (:class:`LearnerView`, derived from their
recent answers by :mod:`recommender.history`), robust by construction rather than tuned:

1. **Remediation, bounded.** A skill failed ``failure_limit`` times in a row (a streak ends at
   any correct answer on the skill *or at the first one on each of its prerequisites* since its
   trouble began: :mod:`recommender.history`) sends the learner back to its root cause: the
   weakest unmastered prerequisite whose own prerequisites are mastered
   (:func:`remediation_target`). With every prerequisite mastered, one is probed while its
   mastery is below ``probe_below`` (by default always, at an estimate of 1.0 too: an
   estimate can be a false positive, and a clipped or rounded 1.0 is one): the one confirmed by
   a correct answer longest ago (:func:`probe_target`), so that a prerequisite just found known
   is not probed again while another is unchecked; a probe answered correctly is the evidence
   that ends it. Each further probe since the skill's last
   correct answer needs ``probe_backoff`` times more failures, and after ``max_probes`` probes
   (or with no prerequisite) the skill is kept with its easiest item instead.
2. **Reviews.** A due review (see :mod:`recommender.review`) is mixed in after every
   ``review_every - 1`` new-learning items, or at once when nothing new is ready.
3. **Learning.** Ready skills (outer fringe) on the path to the goals, in path priority; with
   no goal, the whole frontier, most-unblocking first; with every goal mastered by the
   estimate, the goals themselves, then the least certain skills of their closure
   (consolidation). The skill
   practised last moves behind the next one (interleaving) when another is ready.
4. **Mastery confirmed by answers.** A skill answered wrong in the view counts as mastered
   (ready to build on, done on the path) only after ``confirm_run`` right answers on it in a
   row since (:func:`confirmed_mastery`): the estimate alone crosses the threshold on two lucky
   answers, or on a graded learner at P(correct) 0.6 whom a binary tracer takes for mastered.
   Skills never answered wrong in the view keep their estimate (a diagnostic's placement).
   With ``confirm_harder`` (off by default) only right answers on the skill's harder items
   count in the run; with ``confirm_dependents`` (off by default) right answers on its direct
   dependents count too, and a skill one right answer short of the run is ready to build on
   (still a remediation target until the run is complete).
5. **No starvation.** Once the last ``max_detour`` items were all off the skills to learn
   (probes, reviews), the first learning skill comes first again.
5. **Study, then practise.** A skill whose lesson, video or reading the learner viewed among
   their last ``recent_window`` items, with no answer on the skill since
   (``LearnerView.studied``), comes first (behind only remediation already at the front; the
   most recently studied first; the other choices keep their order) and is offered an
   exercise, with the reason ``studied``.

Item choice (:mod:`recommender.item_choice`): the skill's own items (those whose main skill it
is; another skill's item only when the skill has none and every other skill it assesses is
ready), never the item just answered or viewed when there is another, none answered or viewed
in the last ``recent_window`` items (answers and views together, on the learner's clock) when
possible (else the one whose latest use is oldest); then the
predicted P(success) (any tracer, through ``predict(item_ids) -> probabilities``) closest to
the target band ``band`` (the zone of proximal development; 0 distance inside it). Where even
the best item is predicted below the band (as every item of a skill new to the learner is),
the easiest items (lowest difficulty) are offered. Items within ``near_equal`` of the best
distance are near-equal: one is drawn by Thompson sampling (Thompson, 1933) from Beta
posteriors over each item's observed learning gain (:class:`GainStats`), which both explores
and compares content variants (A/B) online.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np

from recommender import explain
from recommender import item_choice as ic
from recommender.errors import InvalidParameterError
from recommender.explain import Reason
from recommender.frontier import DEFAULT_THRESHOLD, check_mastery, outer_fringe
from recommender.index import CurriculumIndex, FloatArray
from recommender.item_choice import band_distance
from recommender.paths import ready_on_path
from recommender.review import DueReview

Predictor = Callable[[Sequence[str]], np.ndarray]
"""``predict(item_ids) -> P(success)`` for the current learner, one probability per item."""


@dataclass(frozen=True, slots=True)
class RecommenderConfig:
    """Knobs of the next-item policy (defaults in brackets).

    Args:
        threshold: mastery at which a skill counts as mastered [0.8].
        band: target band of predicted success [(0.6, 0.8)].
        recent_window: items seen this recently are not offered again, and never the item
            answered last when the skill has another [5]; 0 allows repeats.
        near_equal: items within this band distance of the best are near-equal [0.05].
        failure_limit: failures in a row on a skill that trigger remediation [3].
        review_every: one review per this many recommendations when reviews are due [4].
        candidate_skills: how many skills are considered per call [3].
        min_strength: edges weaker than this do not block readiness [0.0].
        probe_below: after repeated failures with every prerequisite mastered, the weakest
            prerequisite is still probed if its mastery is below this [1.0: always, also at
            an estimate of exactly 1.0] (a mastery estimate can be a false positive, or the
            skill forgotten; a GNN's read-out is clipped at 1.0 and BKT's rounds to it, and
            neither is evidence that the prerequisite is known); otherwise an easier item is
            given.
        max_probes: most steps back from one skill between two correct answers on it [2];
            then an easier item of the skill itself.
        probe_backoff: each probe already made multiplies the failures needed for the next
            one by this [2.0].
        max_detour: after this many items in a row off the skills to learn (probes,
            reviews), the first of them comes first [2].
        confirm_run: a skill answered wrong in the view counts as mastered only after this
            many correct answers on it since [3]; 0 trusts the estimate alone. A binary
            tracer crosses the threshold on two right answers after a wrong one, which
            lucky guesses or a learner at P(correct) 0.6 give often; a run of three is rarer.
        confirm_harder: count in that run only the right answers on the skill's harder
            items (at least as hard as the median of its own items); a right answer on an
            easier one neither counts nor ends the run [False]. Where a skill's items are
            equally hard it changes nothing. Measured in docs/benchmarks.md (issue 9): it
            works as a longer run, not as better evidence, so it is off by default.
        confirm_dependents: right answers on a skill's direct dependents count in its run
            too (under prerequisite-gated learning a dependent answered right is evidence for
            the prerequisite), and a skill one right answer short of its run is ready to
            build on and done on the path, so that its dependents' answers can complete the
            run; until it is complete the skill is still unmastered to remediation (a
            dependent's failures go back to it first) [False]. Not with ``confirm_harder``.
        remediate_blocked_path: remediation looks for the root cause only behind
            prerequisites the estimate does not have mastered (a path of unmastered skills
            from the failing one); a mastered direct prerequisite is probed instead of blaming
            the skills behind it [False]. With a tracer whose estimates of known skills sag
            below the threshold (traced on Junyi kst with the GNN), some ancestor is almost
            always "unmastered", so remediation went to known ancestors, their right answers
            spent the probes, and a false-positive direct prerequisite was never probed.
    """

    threshold: float = DEFAULT_THRESHOLD
    band: tuple[float, float] = (0.6, 0.8)
    recent_window: int = 5
    near_equal: float = 0.05
    failure_limit: int = 3
    review_every: int = 4
    candidate_skills: int = 3
    min_strength: float = 0.0
    probe_below: float = 1.0
    max_probes: int = 2
    probe_backoff: float = 2.0
    max_detour: int = 2
    confirm_run: int = 3
    confirm_harder: bool = False
    confirm_dependents: bool = False
    remediate_blocked_path: bool = False

    def __post_init__(self) -> None:
        lo, hi = self.band
        if not 0.0 <= lo <= hi <= 1.0:
            raise InvalidParameterError("band", self.band, "0 <= low <= high <= 1, e.g. (0.6, 0.8)")
        if self.failure_limit < 1:
            raise InvalidParameterError("failure_limit", self.failure_limit, "an integer >= 1")
        if self.review_every < 1:
            raise InvalidParameterError("review_every", self.review_every, "an integer >= 1")
        if self.candidate_skills < 1:
            raise InvalidParameterError("candidate_skills", self.candidate_skills, ">= 1")
        if self.max_probes < 0:
            raise InvalidParameterError("max_probes", self.max_probes, "an integer >= 0")
        if self.probe_backoff < 1.0:
            raise InvalidParameterError("probe_backoff", self.probe_backoff, "a number >= 1")
        if self.max_detour < 1:
            raise InvalidParameterError("max_detour", self.max_detour, "an integer >= 1")
        if self.confirm_run < 0:
            raise InvalidParameterError("confirm_run", self.confirm_run, "an integer >= 0")
        if self.confirm_harder and self.confirm_dependents:
            raise InvalidParameterError(
                "confirm_harder/confirm_dependents", (True, True), "at most one of them set"
            )


@dataclass(slots=True)
class GainStats:
    """Beta-Bernoulli posteriors of each item's learning gain: did the learner's next answer
    on the item's skill succeed after practising it? Shared across learners (population)."""

    successes: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)

    def record(self, item_id: str, gained: bool) -> None:
        table = self.successes if gained else self.failures
        table[item_id] = table.get(item_id, 0) + 1

    def observations(self, item_id: str) -> int:
        return self.successes.get(item_id, 0) + self.failures.get(item_id, 0)

    def sample(self, item_ids: Sequence[str], rng: np.random.Generator) -> np.ndarray:
        a = np.array([1 + self.successes.get(i, 0) for i in item_ids], dtype=np.float64)
        b = np.array([1 + self.failures.get(i, 0) for i in item_ids], dtype=np.float64)
        return rng.beta(a, b)

    def mean(self, item_id: str) -> float:
        a = 1 + self.successes.get(item_id, 0)
        return a / (a + 1 + self.failures.get(item_id, 0))


@dataclass(frozen=True, slots=True)
class LearnerView:
    """What the policy knows about one learner (never the true state).

    Args:
        mastery: ``(n_skills,)`` estimated P(mastered).
        recent_items: item ids, most recent first.
        failure_streaks: skill id -> wrong answers on it since the latest evidence (a correct
            answer on it or on one of its prerequisites; :mod:`recommender.history`).
        probes: skill id -> steps back from it to its prerequisites since its last correct
            answer (:mod:`recommender.history`).
        confirmed_ago: skill id -> answers since its latest correct answer; a skill absent
            was never confirmed by an answer the view holds (:mod:`recommender.history`).
        correct_runs: skill id -> correct answers on it since its latest wrong one, for the
            skills answered wrong in the view (:mod:`recommender.history`).
        harder_runs: the same, counting only right answers on the skill's harder items (at
            least as hard as the median of its own items; ``RecommenderConfig.confirm_harder``).
        dependent_runs: the same, also counting right answers on the items of the skill's
            direct dependents (``RecommenderConfig.confirm_dependents``).
        due: reviews due now, least recalled first.
        items_since_review: recommendations since the last review.
        recent_activity: item ids answered or viewed, most recent first, for the
            ``recent_window`` rule (None: ``recent_items``, no views known).
        studied: skill id -> the lesson, video or reading viewed on it recently with no
            answer on it since, most recent first (:mod:`recommender.history`).
    """

    mastery: FloatArray
    recent_items: Sequence[str] = ()
    failure_streaks: Mapping[str, int] = field(default_factory=dict)
    probes: Mapping[str, int] = field(default_factory=dict)
    confirmed_ago: Mapping[str, int] = field(default_factory=dict)
    correct_runs: Mapping[str, int] = field(default_factory=dict)
    harder_runs: Mapping[str, int] = field(default_factory=dict)
    dependent_runs: Mapping[str, int] = field(default_factory=dict)
    due: Sequence[DueReview] = ()
    items_since_review: int = 0
    recent_activity: Sequence[str] | None = None
    studied: Mapping[str, str] = field(default_factory=dict)


#: What a recommendation is for (the API's ``RecommendationKind`` enum has one value each;
#: ``catalogue`` marks the catalogue strategies' rankings).
RECOMMENDATION_KINDS: Final = ("learn", "review", "remediate", "easier", "consolidate", "catalogue")


@dataclass(frozen=True, slots=True)
class Recommendation:
    item: str
    skill: str
    kind: str  # one of RECOMMENDATION_KINDS
    predicted_success: float
    reasons: tuple[Reason, ...]

    def __post_init__(self) -> None:
        if self.kind not in RECOMMENDATION_KINDS:
            raise ValueError(
                f"recommendation kind {self.kind!r} is not one of {RECOMMENDATION_KINDS}"
            )


@dataclass(frozen=True, slots=True)
class _SkillChoice:
    skill: int
    kind: str
    reasons: tuple[Reason, ...]


def remediation_target(
    index: CurriculumIndex,
    mastery: FloatArray,
    skill: int,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    blocked_path: bool = False,
) -> int | None:
    """The root cause of trouble with ``skill``: among its unmastered (transitive)
    prerequisites whose own prerequisites are all mastered, the one with the lowest mastery
    (ties: the nearest to ``skill``, then topological order). None when every prerequisite
    is mastered. With ``blocked_path`` only the prerequisites reached from ``skill`` through
    unmastered ones count (None when every direct prerequisite is mastered)."""
    nodes, dist = index.ancestor_distances(skill)
    keep = (dist > 0) & (mastery[nodes] < threshold)
    if blocked_path:
        keep &= np.isin(nodes, _blocked_ancestors(index, mastery, skill, threshold))
    cand, cdist = nodes[keep], dist[keep]
    if cand.size == 0:
        return None
    mastered = mastery >= threshold
    pars_unmastered = np.array(
        [int((~mastered[index.parents(int(c))]).sum()) for c in cand.tolist()], dtype=np.int64
    )
    roots = pars_unmastered == 0
    cand, cdist = cand[roots], cdist[roots]
    order = np.lexsort((index.topo_rank[cand], cdist, mastery[cand]))
    return int(cand[order[0]])


def _blocked_ancestors(
    index: CurriculumIndex, mastery: FloatArray, skill: int, threshold: float
) -> list[int]:
    """The prerequisites of ``skill`` reached through a path of unmastered skills."""
    seen: set[int] = set()
    stack = [skill]
    while stack:
        for p in index.parents(stack.pop()).tolist():
            if p not in seen and mastery[p] < threshold:
                seen.add(p)
                stack.append(p)
    return sorted(seen)


def probe_target(
    index: CurriculumIndex, view: LearnerView, skill: int, probe_below: float = 1.0
) -> int | None:
    """The prerequisite to probe when ``skill`` keeps failing with every prerequisite mastered
    by the estimate: among its direct prerequisites whose mastery is below ``probe_below``
    (all of them at ``probe_below >= 1``, an estimate of exactly 1.0 included), the one whose
    mastery was confirmed by a correct answer longest ago (never, first), then the weakest,
    then topological order. A prerequisite just answered right is thereby not
    probed again while another has not been checked: the least recent confirmation is the
    likeliest to be forgotten or a false positive. None when no prerequisite qualifies."""
    pars = index.parents(skill)
    m = view.mastery
    if probe_below < 1.0:
        pars = pars[m[pars] < probe_below]
    if pars.size == 0:
        return None
    never = np.iinfo(np.int64).max
    age = np.array(
        [view.confirmed_ago.get(index.skill_ids[int(p)], never) for p in pars.tolist()],
        dtype=np.int64,
    )
    order = np.lexsort((index.topo_rank[pars], m[pars], -age))
    return int(pars[order[0]])


def confirmed_mastery(
    index: CurriculumIndex,
    view: LearnerView,
    threshold: float,
    run: int,
    *,
    harder: bool = False,
    dependents: bool = False,
) -> FloatArray:
    """The estimate with every skill whose run of correct answers since its latest wrong one
    is shorter than ``run`` held just below ``threshold``: not mastered until the answers
    agree (the estimate itself is kept for any skill without a wrong answer in the view).
    ``harder`` reads the runs counted on the skills' harder items (``view.harder_runs``),
    ``dependents`` those that count their dependents' right answers too
    (``view.dependent_runs``)."""
    m = view.mastery
    pos = index.skill_pos
    runs = view.harder_runs if harder else view.dependent_runs if dependents else view.correct_runs
    short = [pos[s] for s, n in runs.items() if n < run and s in pos]
    if not short:
        return m
    out = m.copy()
    below = np.nextafter(threshold, -1.0)
    out[short] = np.minimum(out[short], below)
    return out


def _ready_reason(index: CurriculumIndex, skill: int) -> Reason:
    return explain.ready(index.skill_ids[skill], [index.skill_ids[p] for p in index.parents(skill)])


def _learning_choices(
    index: CurriculumIndex,
    view: LearnerView,
    goals: Sequence[str],
    cfg: RecommenderConfig,
    limit: int,
) -> list[_SkillChoice]:
    """At most ``limit`` new-learning choices, best first."""
    m = view.mastery
    if goals:
        steps = ready_on_path(
            index, m, goals, threshold=cfg.threshold, min_strength=cfg.min_strength
        )
        if steps.skills.size:
            return [
                _SkillChoice(
                    s,
                    "learn",
                    (
                        _ready_reason(index, s),
                        explain.unblocks(index.skill_ids[s], list(goals), u),
                    ),
                )
                for s, u in zip(
                    steps.skills[:limit].tolist(), steps.unblocks[:limit].tolist(), strict=True
                )
            ]
        if steps.remaining == 0:
            # every goal is mastered by the estimate: consolidate the goals themselves (least
            # certain first: a false positive there is what keeps the goal out of reach), then
            # the least certain skills of their closure, rather than wander off the goal
            gpos = np.unique(index.skill_positions(goals))
            closure = index.ancestors(gpos.tolist())
            rest = np.setdiff1d(closure, gpos)
            order = np.concatenate(
                [gpos[np.argsort(m[gpos], kind="stable")], rest[np.argsort(m[rest], kind="stable")]]
            )
            weakest = order[: cfg.candidate_skills]
            reason = explain.goal_reached(goals)
            return [_SkillChoice(int(s), "consolidate", (reason,)) for s in weakest.tolist()]
    fringe_arr = outer_fringe(index, m, cfg.threshold, cfg.min_strength)
    order = np.lexsort((index.topo_rank[fringe_arr], -index.n_children[fringe_arr]))
    return [
        _SkillChoice(int(s), "learn", (_ready_reason(index, int(s)),))
        for s in fringe_arr[order][:limit].tolist()
    ]


def _skill_choices(
    index: CurriculumIndex,
    view: LearnerView,
    goals: Sequence[str],
    cfg: RecommenderConfig,
    limit: int,
    path_mastery: FloatArray | None = None,
) -> list[_SkillChoice]:
    """Skill choices, best first; remediation reads ``view.mastery``, the path
    ``path_mastery`` (default: the same)."""
    m = view.mastery
    choices: list[_SkillChoice] = []
    for sid, streak in sorted(view.failure_streaks.items(), key=lambda kv: -kv[1]):
        if sid not in index.skill_pos:
            continue
        probes = view.probes.get(sid, 0)
        if streak < cfg.failure_limit * cfg.probe_backoff ** min(probes, cfg.max_probes):
            continue
        s = index.skill_pos[sid]
        root = None
        if probes < cfg.max_probes:
            root = remediation_target(
                index, m, s, cfg.threshold, blocked_path=cfg.remediate_blocked_path
            )
            if root is None:
                # mastered by the estimate, but not beyond doubt: probe one
                root = probe_target(index, view, s, cfg.probe_below)
        if root is None:
            choices.append(_SkillChoice(s, "easier", (explain.easier_item(sid, streak),)))
        else:
            r = explain.remediation(sid, index.skill_ids[root], streak, round(float(m[root]), 4))
            choices.append(_SkillChoice(root, "remediate", (r,)))
    path_view = view if path_mastery is None else replace(view, mastery=path_mastery)
    learning = _learning_choices(index, path_view, goals, cfg, limit + 1)
    # interleave: the skill practised last goes behind the next ready one
    last_skill = _last_skill(index, view.recent_items)
    if last_skill is not None and len(learning) > 1 and learning[0].skill == last_skill:
        nxt = learning[1]
        learning[0], learning[1] = (
            _SkillChoice(
                nxt.skill,
                nxt.kind,
                (
                    *nxt.reasons,
                    explain.interleave(index.skill_ids[nxt.skill], index.skill_ids[last_skill]),
                ),
            ),
            learning[0],
        )
    # the caller keeps the first ``limit`` distinct skills: reviews past this many can never
    # be among them (at most one per earlier choice is dropped as a repeat), so their reasons
    # are not built
    keep = limit + len(choices) + len(learning)
    reviews = [
        _SkillChoice(
            index.skill_pos[d.skill],
            "review",
            (explain.review_due(d.skill, d.days_since, d.retrievability),),
        )
        for d in [d for d in view.due if d.skill in index.skill_pos][:keep]
    ]
    if reviews and (view.items_since_review >= cfg.review_every - 1 or not learning):
        choices.extend(reviews[:1])
        reviews = reviews[1:]
    choices.extend(learning)
    choices.extend(reviews)
    if learning and learning[0].kind == "learn" and choices and choices[0] is not learning[0]:
        ready = {c.skill for c in learning}
        if _detour(index, view.recent_items, ready, cfg.max_detour):
            choices.remove(learning[0])
            choices.insert(0, learning[0])
    seen: set[int] = set()
    unique = []
    for c in choices:
        if c.skill not in seen:
            seen.add(c.skill)
            unique.append(c)
    return _studied_first(index, view, unique)


def _studied_first(
    index: CurriculumIndex, view: LearnerView, choices: list[_SkillChoice]
) -> list[_SkillChoice]:
    """Skills studied since their last answer (a lesson viewed) come next, most recently
    studied first, with the reason: at the front, behind only a leading run of remediation;
    the other choices keep their order. Their items are then exercises (:func:`recommend`)."""
    rank = {index.skill_pos[s]: k for k, s in enumerate(view.studied) if s in index.skill_pos}
    studied = sorted((c for c in choices if c.skill in rank), key=lambda c: rank[c.skill])
    if not studied:
        return choices
    rest = [c for c in choices if c.skill not in rank]
    # remediation already ahead of every studied skill stays ahead
    lead = next(k for k, c in enumerate(choices) if c.kind != "remediate" or c.skill in rank)
    marked = []
    for c in studied:
        sid = index.skill_ids[c.skill]
        marked.append(
            _SkillChoice(c.skill, c.kind, (*c.reasons, explain.studied(sid, view.studied[sid])))
        )
    return rest[:lead] + marked + rest[lead:]


def _detour(index: CurriculumIndex, recent: Sequence[str], learning: set[int], limit: int) -> bool:
    """The last ``limit`` items were all off the skills to learn (probes, reviews, ...)."""
    if len(recent) < limit:
        return False
    for item in recent[:limit]:
        i = index.item_pos.get(item)
        if i is not None and learning.intersection(index.skills_of_item(i).tolist()):
            return False
    return True


def _last_skill(index: CurriculumIndex, recent: Sequence[str]) -> int | None:
    for item in recent[:1]:
        i = index.item_pos.get(item)
        if i is not None and index.item_main_skill[i] >= 0:
            return int(index.item_main_skill[i])
    return None


def recommend(
    index: CurriculumIndex,
    view: LearnerView,
    predict: Predictor,
    *,
    goals: Sequence[str] = (),
    first: int = 1,
    config: RecommenderConfig = RecommenderConfig(),
    gains: GainStats | None = None,
    rng: np.random.Generator,
) -> list[Recommendation]:
    """Up to ``first`` recommendations (one item per skill), best first.

    Args:
        index: the curriculum.
        view: what is known of the learner.
        predict: P(success) of item ids for this learner (one batched call is made).
        goals: goal skill ids; empty for the whole frontier.
        first: how many recommendations to return (>= 1).
        gains: population learning-gain statistics per item (Thompson sampling); None = none.
        rng: random generator for the exploration draws.
    """
    check_mastery(index, view.mastery, config.threshold)
    if first < 1:
        raise InvalidParameterError("first", first, "an integer >= 1")
    path_mastery: FloatArray | None = None
    if config.confirm_run and config.confirm_dependents:
        # one right answer short of the run: done on the path, still a remediation target
        path_mastery = confirmed_mastery(
            index, view, config.threshold, config.confirm_run - 1, dependents=True
        )
        view = replace(
            view,
            mastery=confirmed_mastery(
                index, view, config.threshold, config.confirm_run, dependents=True
            ),
        )
    elif config.confirm_run:
        view = replace(
            view,
            mastery=confirmed_mastery(
                index, view, config.threshold, config.confirm_run, harder=config.confirm_harder
            ),
        )
    goals = list(goals)
    index.skill_positions(goals)
    limit = max(first, config.candidate_skills)
    choices = _skill_choices(index, view, goals, config, limit, path_mastery)[:limit]
    recent = view.recent_items if view.recent_activity is None else view.recent_activity
    per_choice: list[list[int]] = []
    for c in choices:
        own = ic.own_items(index, c.skill, view.mastery, config.threshold)
        if index.skill_ids[c.skill] in view.studied:
            # studied since its last answer: practise it (an exercise, when it has one)
            own = [i for i in own if index.item_exercise[i]] or own
        per_choice.append(ic.candidates(index, own, recent, config.recent_window))
    all_items = sorted({i for items in per_choice for i in items})
    if not all_items:
        return []
    ids = [index.item_ids[i] for i in all_items]
    probs = np.asarray(predict(ids), dtype=np.float64)
    if probs.shape != (len(ids),):
        raise InvalidParameterError(
            "predict", f"returned shape {probs.shape}", f"one probability per item ({len(ids)})"
        )
    p_of = dict(zip(all_items, probs.tolist(), strict=True))
    stats = gains or GainStats()
    out: list[Recommendation] = []
    for c, items in zip(choices, per_choice, strict=True):
        if not items:
            continue
        p = np.array([p_of[i] for i in items])
        near = ic.near_set(
            index,
            items,
            p,
            easier=c.kind == "easier",
            band=config.band,
            near_equal=config.near_equal,
        )
        reasons = list(c.reasons)
        if near.size > 1:
            cand_ids = [index.item_ids[items[j]] for j in near.tolist()]
            draws = stats.sample(cand_ids, rng)
            k = int(np.argmax(draws))
            pick = int(near[k])
            reasons.append(
                explain.explore(cand_ids[k], float(draws[k]), stats.observations(cand_ids[k]))
            )
        else:
            pick = int(near[0])
        reasons.insert(len(c.reasons), explain.predicted_success(float(p[pick]), config.band))
        out.append(
            Recommendation(
                item=index.item_ids[items[pick]],
                skill=index.skill_ids[c.skill],
                kind=c.kind,
                predicted_success=float(p[pick]),
                reasons=tuple(reasons),
            )
        )
        if len(out) == first:
            break
    return out


__all__ = [
    "GainStats",
    "LearnerView",
    "Predictor",
    "Recommendation",
    "RecommenderConfig",
    "band_distance",
    "confirmed_mastery",
    "probe_target",
    "recommend",
    "remediation_target",
]
