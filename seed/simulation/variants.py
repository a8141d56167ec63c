"""Content variants compared online (A/B) by the adaptive policy, on simulated learners.

Some skills get several *variants* of one exercise: the same skills, the same difficulty and
the same expected time, so the tracer predicts the same success for each and the target band
cannot tell them apart (they are always near-equal in :func:`recommender.next_item.recommend`).
Only the simulator knows that they teach differently (``Simulator(item_effect=...)``: a
multiplier on the learning probability of a practice). The policy stays blind to it; what it
can see is each item's observed learning gain (:class:`~recommender.next_item.GainStats`: was
the learner's next answer on the skill correct?), pooled over the cohort.

Learners arrive one after another on the same simulator and share one ``GainStats``, so later
learners benefit from earlier learners' answers, as in the product. Modes, each run on the
same learners (same seed):

* ``thompson``: the adaptive policy as shipped: Thompson sampling over observed gains.
* ``uniform``: the same policy drawing uniformly among near-equal items (gains are collected,
  for the ranking figure, but not used).
* ``oracle``: the same policy always taking the variant with the best true effect (a bound,
  not a policy anyone can run).

Per learner the harness counts the recommender's picks on variant skills (diagnostic questions
excluded) and how many went to the skill's best variant; after each learner it also records,
per variant skill, whether the pooled posterior mean ranks the best variant strictly first.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from graph.models import Item, ItemKind, PrerequisiteGraph
from recommender import diagnostic
from recommender.errors import InvalidParameterError
from recommender.next_item import GainStats, RecommenderConfig
from seed.simulation.harness import LearnerOutcome, PolicySummary, Progress, _waste, summarise
from seed.simulation.policies import AdaptivePolicy, Setting, bkt_for, make_setting
from seed.simulator import SimParams, Simulator

MODES = ("thompson", "uniform", "oracle")


@dataclass(frozen=True, slots=True)
class VariantCurriculum:
    """A simulation setting whose variant skills each have interchangeable variant items.

    Args:
        setting: the curriculum as the policy sees it (variants included, effects not).
        effect: variant item id -> its true teaching effect (read by the simulator only).
        variants: variant skill id -> its variant item ids.
        best: variant skill id -> the variant item with the highest effect.
    """

    setting: Setting
    effect: dict[str, float]
    variants: dict[str, tuple[str, ...]]
    best: dict[str, str]


def with_variants(
    graph: PrerequisiteGraph,
    items: Sequence[Item],
    syllabus: Sequence[str],
    goals: Sequence[str],
    effects: Sequence[float],
    *,
    skills: Sequence[str] | None = None,
    rng: np.random.Generator,
) -> VariantCurriculum:
    """Replace the exercises of each variant skill by ``len(effects)`` copies of one of them.

    The copied exercise is the skill's one-skill exercise with difficulty nearest 0.5 (else its
    first exercise); copy ``k`` is ``<id>~<letter>``. Which copy gets which effect is shuffled
    per skill by ``rng`` (no list position favours the best). ``skills`` defaults to every skill
    of the goals' prerequisite closure that has an exercise; exercises assessing a variant
    skill only as a secondary skill are kept.
    """
    effects = [float(e) for e in effects]
    if len(effects) < 2 or not all(np.isfinite(e) and e >= 0 for e in effects):
        raise InvalidParameterError(
            "effects", tuple(effects), "two or more finite teaching effects >= 0, e.g. (1.5, 0.5)"
        )
    if max(effects) == sorted(effects)[-2]:
        raise InvalidParameterError(
            "effects", tuple(effects), "a single best effect (the largest must be unique)"
        )
    base = make_setting(graph, items, syllabus, goals)
    wanted = list(base.closure if skills is None else skills)
    unknown = [s for s in wanted if s not in base.index.skill_pos]
    if unknown:
        raise InvalidParameterError("skills", unknown[:5], "skill ids of the graph")
    own: dict[str, list[Item]] = {}
    for it in items:
        if it.kind == ItemKind.EXERCISE and it.skills:
            own.setdefault(it.skills[0].skill_id, []).append(it)
    chosen = [s for s in wanted if own.get(s)]
    effect: dict[str, float] = {}
    variants: dict[str, tuple[str, ...]] = {}
    best: dict[str, str] = {}
    replaced: dict[str, list[Item]] = {}
    for s in chosen:
        single = [it for it in own[s] if len(it.skills) == 1] or own[s]
        template = min(single, key=lambda it: abs(it.difficulty - 0.5))
        order = rng.permutation(len(effects)).tolist()
        copies = [replace(template, id=f"{template.id}~{chr(97 + k)}") for k in range(len(order))]
        for k, copy in enumerate(copies):
            effect[copy.id] = effects[order[k]]
        variants[s] = tuple(c.id for c in copies)
        best[s] = max(variants[s], key=effect.__getitem__)
        replaced[s] = copies
    new_items: list[Item] = []
    for it in items:
        main = it.skills[0].skill_id if it.skills else None
        if it.kind == ItemKind.EXERCISE and main in replaced:
            new_items.extend(replaced.pop(main))
        elif not (it.kind == ItemKind.EXERCISE and main in variants):
            new_items.append(it)
    setting = make_setting(graph, new_items, syllabus, goals)
    return VariantCurriculum(setting, effect, variants, best)


@dataclass(slots=True)
class OracleGains(GainStats):
    """Gain statistics that 'sample' the true effects: always the best variant (random ties).

    Observations are still recorded, so the posterior ranking can be read as in other modes.
    """

    effect: dict[str, float] = field(default_factory=dict)

    def sample(self, item_ids: Sequence[str], rng: np.random.Generator) -> np.ndarray:
        truth = np.array([self.effect.get(i, 1.0) for i in item_ids], dtype=np.float64)
        return truth + 1e-9 * rng.random(len(item_ids))


@dataclass(frozen=True, slots=True)
class VariantRun:
    """One mode's run. Per-learner tuples are in arrival order.

    Args:
        summary: items to goal etc., as :func:`seed.simulation.harness.summarise` reports them.
        variant_picks: the recommender's picks on variant skills, per learner.
        best_picks: how many of those went to the skill's best variant, per learner.
        ranked: ``(learners, variant skills)``: after each learner, whether the pooled
            posterior mean ranks the skill's best variant strictly first.
    """

    mode: str
    summary: PolicySummary
    variant_picks: tuple[int, ...]
    best_picks: tuple[int, ...]
    ranked: np.ndarray

    def share(self, start: int = 0, stop: int | None = None) -> float:
        """Pooled share of variant picks that went to the best variant, learners [start, stop)."""
        picks = sum(self.variant_picks[start:stop])
        return sum(self.best_picks[start:stop]) / picks if picks else float("nan")

    def thirds(self) -> tuple[float, float]:
        """The pooled best-variant share of the first and of the last third of the cohort."""
        n = len(self.variant_picks)
        k = max(1, n // 3)
        return self.share(0, k), self.share(n - k, n)

    def ranked_from(self) -> list[int | None]:
        """Per variant skill: learners after which the posterior ranks the best variant first
        for good (to the end of the run), or None when it does not at the end."""
        out: list[int | None] = []
        for col in self.ranked.T:
            if not col.size or not col[-1]:
                out.append(None)
                continue
            wrong = np.flatnonzero(~col)
            out.append(int(wrong[-1]) + 2 if wrong.size else 1)
        return out

    def to_dict(self) -> dict[str, Any]:
        first, last = self.thirds()
        ranked = self.ranked_from()
        done = [r for r in ranked if r is not None]
        return {
            "mode": self.mode,
            **self.summary.to_dict(),
            "best_share_first_third": first,
            "best_share_last_third": last,
            "variant_picks": list(self.variant_picks),
            "best_picks": list(self.best_picks),
            "skills_ranked_at_end": len(done) / len(ranked) if ranked else float("nan"),
            "ranked_from_median": float(np.median(done)) if done else None,
        }


def preferred_from(shares: Sequence[float], level: float, window: int) -> int | None:
    """The learner count from which the moving best-variant share (pooled over ``window``
    learners) stays at or above ``level`` to the end; None when its last value is below.

    ``shares`` holds one share per learner (:func:`per_learner_shares`); NaN, for a learner
    without variant picks, is skipped in the window mean.
    """
    arr = np.asarray(shares, dtype=np.float64)
    if window < 1:
        raise InvalidParameterError("window", window, "an integer >= 1")
    if arr.size < window:
        return None
    ok = ~np.isnan(arr)
    sums = np.convolve(np.where(ok, arr, 0.0), np.ones(window), "valid")
    counts = np.convolve(ok.astype(np.float64), np.ones(window), "valid")
    means = np.divide(sums, counts, out=np.full(sums.shape, np.nan), where=counts > 0)
    below = np.flatnonzero(~(means >= level))
    if below.size and below[-1] == means.size - 1:
        return None
    return (int(below[-1]) + 1 if below.size else 0) + window


def run_variants(
    vc: VariantCurriculum,
    mode: str,
    *,
    learners: int,
    seed: int,
    budget: int = 1500,
    params: SimParams | None = None,
    config: RecommenderConfig | None = None,
    progress: Progress | None = None,
) -> VariantRun:
    """Simulate ``learners`` learners, one after another, under the adaptive policy in ``mode``
    (see the module docstring). The same ``seed`` gives every mode the same learners."""
    if mode not in MODES:
        raise InvalidParameterError("mode", mode, f"one of {', '.join(MODES)}")
    if learners < 1 or budget < 1:
        raise InvalidParameterError("learners/budget", (learners, budget), "positive integers")
    setting = vc.setting
    params = params or SimParams()
    config = config or RecommenderConfig()
    sim = Simulator(
        setting.graph, setting.items, params, np.random.default_rng(seed), item_effect=vc.effect
    )
    policy_rng = np.random.default_rng([seed, 3])
    gains: GainStats = OracleGains(effect=dict(vc.effect)) if mode == "oracle" else GainStats()
    tracer = bkt_for(setting.index)
    seconds = {it.id: float(it.expected_seconds) for it in setting.items}
    variant_of = {i: s for s, ids in vc.variants.items() for i in ids}
    skills = list(vc.variants)
    outcomes: list[LearnerOutcome] = []
    picks: list[int] = []
    bests: list[int] = []
    ranked = np.zeros((learners, len(skills)), dtype=bool)
    for n in range(learners):
        learner = sim.new_learner(f"sim-{n}")
        pol = AdaptivePolicy(
            setting,
            tracer,
            gains,
            policy_rng,
            config=config,
            diag=diagnostic.DiagnosticConfig(),
            use_gains=mode != "uniform",
        )
        t, used, wasted, vp, bp = 0.0, 0, 0, 0, 0
        reached = all(learner.mastered(g, t) for g in setting.goals)
        while not reached and used < budget:
            item = pol.choose(t)
            sk = variant_of.get(item)
            if sk is not None and pol.pending is None:  # a recommendation, not a diagnostic
                vp += 1
                bp += item == vc.best[sk]
            wasted += _waste(lambda s: learner.mastered(s, t), setting, item)  # noqa: B023
            correct = sim.answer(learner, item, t)
            pol.observe(item, correct, t)
            used += 1
            t += seconds[item]
            reached = all(learner.mastered(g, t) for g in setting.goals)
        outcomes.append(LearnerOutcome(used, reached, wasted, pol.diagnostic_questions))
        picks.append(vp)
        bests.append(bp)
        for j, s in enumerate(skills):
            others = max(gains.mean(i) for i in vc.variants[s] if i != vc.best[s])
            ranked[n, j] = gains.mean(vc.best[s]) > others
        if progress is not None:
            share = f"{bp / vp:.2f}" if vp else "-"
            progress(
                f"{mode}: learner {n + 1}/{learners} ({used} items, reached={reached}, "
                f"best-variant share {share})"
            )
    return VariantRun(mode, summarise(mode, outcomes, budget), tuple(picks), tuple(bests), ranked)


def per_learner_shares(run: VariantRun) -> list[float]:
    """Each learner's share of variant picks on the best variant (NaN without variant picks)."""
    return [
        b / p if p else float("nan") for p, b in zip(run.variant_picks, run.best_picks, strict=True)
    ]


def demo_variants(
    effects: Sequence[float],
    *,
    goals: Sequence[str],
    skills: Sequence[str] | None = None,
    seed: int = 0,
) -> VariantCurriculum:
    """The seed demo curriculum with variants (see :func:`with_variants`)."""
    from seed.curriculum import demo_curriculum

    c = demo_curriculum()
    return with_variants(
        c.graph,
        c.items,
        c.syllabus,
        goals,
        effects,
        skills=skills,
        rng=np.random.default_rng([seed, 17]),
    )


def compare(
    vc: VariantCurriculum,
    *,
    modes: Sequence[str] = MODES,
    windows: Sequence[int] = (RecommenderConfig().recent_window,),
    learners: int,
    seed: int,
    budget: int = 1500,
    params: SimParams | None = None,
    smooth: int = 10,
    progress: Progress | None = None,
) -> tuple[list[dict[str, Any]], dict[tuple[int, str], VariantRun]]:
    """Run every mode for every recent-items window on the same learners; one row per run.

    A row holds :meth:`VariantRun.to_dict`, ``recent_window``, ``seconds`` and
    ``preferred_from``: the learner count from which the best-variant share of each
    ``smooth`` learners stays at least half-way from uniform's last-third share to the
    oracle's (to 1 without an oracle run; to ``1 / variants`` without a uniform run).
    """
    rows: list[dict[str, Any]] = []
    runs: dict[tuple[int, str], VariantRun] = {}
    for w in windows:
        for mode in modes:
            t0 = time.perf_counter()
            run = run_variants(
                vc,
                mode,
                learners=learners,
                seed=seed,
                budget=budget,
                params=params,
                config=RecommenderConfig(recent_window=w),
                progress=progress,
            )
            runs[(w, mode)] = run
            rows.append({"recent_window": w, **run.to_dict(), "seconds": time.perf_counter() - t0})
    n_variants = len(next(iter(vc.variants.values()), ("", "")))
    for row in rows:
        w = row["recent_window"]
        lo = runs[(w, "uniform")].thirds()[1] if (w, "uniform") in runs else 1.0 / n_variants
        hi = runs[(w, "oracle")].thirds()[1] if (w, "oracle") in runs else 1.0
        row["preferred_level"] = (lo + hi) / 2
        row["preferred_from"] = preferred_from(
            per_learner_shares(runs[(w, row["mode"])]), row["preferred_level"], smooth
        )
    return rows, runs


def table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The rows of :func:`compare` as a markdown table."""

    def fmt(x: float | None) -> str:
        return "never" if x is None else f"{x:.0f}"

    out = [
        "| window | mode | best share, first third | last third | items to goal, median | p90 "
        "| reached | skills ranked right at end | ranked right from learner (median) "
        "| preferred from learner | s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['recent_window']} | {r['mode']} | {r['best_share_first_third']:.2f} "
            f"| {r['best_share_last_third']:.2f} | {r['median_items']:.0f} | {r['p90_items']:.0f} "
            f"| {r['reached_share']:.0%} | {r['skills_ranked_at_end']:.0%} "
            f"| {fmt(r['ranked_from_median'])} | {fmt(r['preferred_from'])} "
            f"| {r['seconds']:.0f} |"
        )
    return out
