"""Policies compared on simulated learners, true mastery hidden from them.

The learners come from one of the populations of :mod:`seed.simulation.populations` (``seed``,
the project's simulator, by default; ``bkt``, ``afm`` and ``kst`` are other published generative
models). Each learner practises exercises chosen by a policy, one at a time (simulated time
advances by the item's expected seconds), until every goal skill is truly mastered or the item
budget is spent. The harness alone reads the simulator's true state; a policy sees only its
own choices and the answers (``observe``).

Policies:

* ``random``: a uniformly random exercise of a skill in the goals' prerequisite closure.
* ``topological``: a fixed curriculum: the closure's skills in the syllabus (topological)
  order, each practised ``topo_reps`` times (cycling through its exercises), the whole pass
  repeated while the goal is not reached.
* ``frontier``: KST frontier with a streak rule and no tracer: a skill counts as mastered
  after ``streak`` correct answers in a row; the first ready, unpassed closure skill in
  syllabus order is practised.
* ``adaptive``: a diagnostic placement test (:mod:`recommender.diagnostic`, at most 20
  questions, counted as items) seeds a BKT tracer (``tracing.bkt`` with fixed population
  defaults prior 0.3, learn 0.15, guess 0.2, slip 0.1: not fitted to the simulator), then
  :func:`recommender.next_item.recommend` picks every item from the view
  :func:`recommender.history.build_view` derives from the learner's answers, as the API does
  (mastery threshold ``threshold``, goal path, target band, bounded remediation,
  interleaving, Thompson sampling over item gains shared by the cohort). With
  ``tracer="gnn"`` (``--tracer gnn``) it serves a GNN trained on a warm-up cohort of the same
  population instead (:mod:`seed.simulation.trained`): the diagnostic's answers are replayed
  through the GNN's ``update`` and mastery and item predictions are the GNN's.
* ``oracle``: the reference that reads the true state (the only one that does): it always
  practises the first closure skill in syllabus order not truly mastered (whose prerequisites
  are then all truly mastered), cycling its exercises. Its items are the learning a learner
  needs even when nothing is wasted on diagnosis; no policy that must infer the state can
  expect to need fewer.

Content variants (several near-equal items of one skill that teach differently) and what
Thompson sampling over the cohort's gains makes of them: :mod:`seed.simulation.variants`.

Simulated time advances by each item's expected seconds, so the simulator's forgetting acts
during long runs; reviews are off by default (``reviews=True`` turns the product's review
scheduling on, on the simulated clock), as the runs last hours to a few days.

Reported per policy: items until the goal (median and p90; a learner who never gets there
counts as the budget), the share reaching the goal within the budget, and wasted items:
items whose main skill was already truly mastered, or not yet learnable (a strict
prerequisite not truly mastered) when practised.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender import diagnostic
from recommender.errors import InvalidParameterError
from recommender.next_item import GainStats, RecommenderConfig
from seed.simulation.policies import (
    AdaptivePolicy,
    FrontierPolicy,
    OraclePolicy,
    Policy,
    RandomPolicy,
    Setting,
    TopologicalPolicy,
    bkt_for,
    make_setting,
)
from seed.simulation.populations import make_population
from seed.simulation.trained import TRACERS, Trained, WarmUp, trained_tracer
from seed.simulator import SimParams, Simulator
from tracing.base import Tracer

POLICIES = ("random", "topological", "frontier", "adaptive", "oracle")
DEFAULT_GOALS = ("simultaneous-equations", "pythagoras")

Progress = Callable[[str], None]


# -- harness ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LearnerOutcome:
    items: int
    reached: bool
    wasted: int
    diagnostic_questions: int = 0


@dataclass(frozen=True, slots=True)
class PolicySummary:
    policy: str
    learners: int
    budget: int
    median_items: float
    p90_items: float
    reached_share: float
    wasted_share: float
    mean_wasted: float
    mean_diagnostic_questions: float

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def summarise(policy: str, outcomes: Sequence[LearnerOutcome], budget: int) -> PolicySummary:
    items = np.array([o.items if o.reached else budget for o in outcomes], dtype=np.float64)
    wasted = np.array([o.wasted for o in outcomes], dtype=np.float64)
    used = np.array([o.items for o in outcomes], dtype=np.float64)
    return PolicySummary(
        policy=policy,
        learners=len(outcomes),
        budget=budget,
        median_items=float(np.median(items)),
        p90_items=float(np.percentile(items, 90)),
        reached_share=float(np.mean([o.reached for o in outcomes])),
        wasted_share=float(wasted.sum() / max(used.sum(), 1.0)),
        mean_wasted=float(wasted.mean()),
        mean_diagnostic_questions=float(np.mean([o.diagnostic_questions for o in outcomes])),
    )


def _waste(mastered: Callable[[str], bool], setting: Setting, item: str) -> bool:
    """Whether practising ``item`` is wasted: its main skill already truly ``mastered``, or a
    strict prerequisite of it not yet."""
    idx = setting.index
    sk = idx.skill_ids[int(idx.item_main_skill[idx.item_pos[item]])]
    if mastered(sk):
        return True
    return any(not mastered(p) for p in setting.strict_parents.get(sk, ()))


def run_policy(
    setting: Setting,
    policy: str,
    *,
    learners: int,
    seed: int,
    budget: int = 1500,
    params: SimParams | None = None,
    topo_reps: int = 5,
    streak: int = 3,
    threshold: float = 0.8,
    progress: Progress | None = None,
    population: str = "seed",
    config: RecommenderConfig | None = None,
    reviews: bool = False,
    tracer: str = "bkt",
    trained: Trained | None = None,
    warmup: WarmUp | None = None,
) -> PolicySummary:
    """Simulate ``learners`` learners of ``population`` (:mod:`seed.simulation.populations`)
    under ``policy``. The same ``seed`` gives every policy the same learners (traits and prior
    knowledge), so policies are compared paired. ``params`` are the ``seed`` population's;
    ``config`` the adaptive policy's (default: ``RecommenderConfig(threshold=threshold)``).

    ``tracer`` is what the adaptive policy serves: ``bkt`` (fixed defaults, state seeded from
    the diagnostic) or ``gnn``: ``trained`` if given, else one trained here on a warm-up
    cohort (:func:`seed.simulation.trained.trained_tracer` with ``warmup``), every answer,
    the diagnostic's too, going through its ``update``. Other policies use no tracer."""
    if policy not in POLICIES:
        raise InvalidParameterError("policy", policy, f"one of {', '.join(POLICIES)}")
    if tracer not in TRACERS:
        raise InvalidParameterError("tracer", tracer, f"one of {', '.join(TRACERS)}")
    if learners < 1 or budget < 1:
        raise InvalidParameterError("learners/budget", (learners, budget), "positive integers")
    pop = make_population(
        population, setting.graph, setting.items, np.random.default_rng(seed), params=params
    )
    policy_rng = np.random.default_rng([seed, POLICIES.index(policy)])
    gains = GainStats()
    serving: Tracer | None = None
    if policy == "adaptive" and tracer == "gnn":
        if trained is None:
            trained = trained_tracer(
                setting,
                population=population,
                seed=seed,
                warmup=warmup,
                params=params,
                progress=progress,
            )
        serving = trained.tracer
    elif policy == "adaptive":
        serving = bkt_for(setting.index)
    seconds = {it.id: float(it.expected_seconds) for it in setting.items}
    outcomes: list[LearnerOutcome] = []
    for n in range(learners):
        learner = pop.new_learner(f"sim-{n}")
        pol: Policy
        if policy == "random":
            pol = RandomPolicy(setting, policy_rng)
        elif policy == "topological":
            pol = TopologicalPolicy(setting, topo_reps)
        elif policy == "frontier":
            pol = FrontierPolicy(setting, streak)
        elif policy == "oracle":
            pol = OraclePolicy(setting, lambda s, t: pop.mastered(learner, s, t))  # noqa: B023
        else:
            assert serving is not None
            pol = AdaptivePolicy(
                setting,
                serving,
                gains,
                policy_rng,
                config=config or RecommenderConfig(threshold=threshold),
                diag=diagnostic.DiagnosticConfig(),
                reviews=reviews,
                replay_diagnostic=tracer == "gnn",
            )
        t, used, wasted = 0.0, 0, 0
        reached = all(pop.mastered(learner, g, t) for g in setting.goals)
        while not reached and used < budget:
            item = pol.choose(t)
            wasted += _waste(lambda s: pop.mastered(learner, s, t), setting, item)  # noqa: B023
            correct = pop.answer(learner, item, t)
            pol.observe(item, correct, t)
            used += 1
            t += seconds[item]
            reached = all(pop.mastered(learner, g, t) for g in setting.goals)
        dq = pol.diagnostic_questions if isinstance(pol, AdaptivePolicy) else 0
        outcomes.append(LearnerOutcome(used, reached, wasted, dq))
        if progress is not None:
            progress(
                f"{population}/{policy}: learner {n + 1}/{learners} ({used} items, "
                f"reached={reached})"
            )
    return summarise(policy, outcomes, budget)


# -- diagnostic accuracy ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DiagnosticSummary:
    learners: int
    skills: int
    mean_questions: float
    accuracy: float
    accuracy_p10: float
    baseline_questions: int
    baseline_accuracy: float
    all_unmastered_accuracy: float

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def run_diagnostic(
    setting: Setting,
    *,
    learners: int,
    seed: int,
    params: SimParams | None = None,
    config: diagnostic.DiagnosticConfig | None = None,
    progress: Progress | None = None,
) -> DiagnosticSummary:
    """Classification accuracy of the adaptive diagnostic against testing every skill once.

    Learners know a prerequisite-closed set of a uniformly random size (0 to every skill), so
    that neither "all mastered" nor "none mastered" is a good guess. Accuracy is the share of
    skills classified as the simulator's true state at the end of the test. The baseline asks
    one question per skill (same learners, from an identically seeded simulator) and
    classifies each skill by its own answer.
    """
    idx = setting.index
    n = idx.n_skills
    params = params or SimParams()
    config = config or diagnostic.DiagnosticConfig()
    sims = [
        Simulator(setting.graph, setting.items, params, np.random.default_rng(seed))
        for _ in range(2)
    ]
    count_rng = np.random.default_rng([seed, 99])
    accs, base_accs, none_accs, questions = [], [], [], []
    for k in range(learners):
        known = int(count_rng.integers(0, n + 1))
        la = sims[0].new_learner(f"d-{k}", prior_mastered=known)
        lb = sims[1].new_learner(f"d-{k}", prior_mastered=known)
        state = diagnostic.start(idx, config)
        t = 0.0
        while (q := diagnostic.next_question(idx, state)) is not None:
            correct = sims[0].answer(la, q.item, t)
            state = diagnostic.answer(idx, state, q.skill, q.item, correct)
            t += 60.0
        res = diagnostic.finish(state)
        truth = sims[0].mastery_vector(la, t) > 0.5
        guess = np.array([res.mastery[s] >= 0.5 for s in idx.skill_ids])
        accs.append(float((guess == truth).mean()))
        none_accs.append(float((~truth).mean()))
        questions.append(res.questions)
        # baseline: one question per skill, each classified by its own answer
        tb = 0.0
        answers = np.zeros(n, dtype=bool)
        for s in range(n):
            item = diagnostic.question_item(idx, s, set())
            if item is None:
                continue
            answers[s] = sims[1].answer(lb, item, tb)
            tb += 60.0
        truth_b = sims[1].mastery_vector(lb, tb) > 0.5
        base_accs.append(float((answers == truth_b).mean()))
        if progress is not None:
            progress(f"diagnostic: learner {k + 1}/{learners} accuracy {accs[-1]:.3f}")
    return DiagnosticSummary(
        learners=learners,
        skills=n,
        mean_questions=float(np.mean(questions)),
        accuracy=float(np.mean(accs)),
        accuracy_p10=float(np.percentile(accs, 10)),
        baseline_questions=n,
        baseline_accuracy=float(np.mean(base_accs)),
        all_unmastered_accuracy=float(np.mean(none_accs)),
    )


def demo_setting(goals: Sequence[str] = DEFAULT_GOALS) -> Setting:
    """The seed demo curriculum, ready for simulation."""
    from seed.curriculum import demo_curriculum

    c = demo_curriculum()
    return make_setting(c.graph, c.items, c.syllabus, goals)


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
