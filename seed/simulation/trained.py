"""A tracer trained on a warm-up cohort, for the adaptive policy (``--tracer gnn``).

The product serves a trained model once there are answers to train it on: ``learngraph trace
train --model gnn`` fits one on the stored attempts and the server then reads mastery and item
predictions from it. The simulation does the same thing offline: a warm-up cohort of
``WarmUp.learners`` other learners of the same population (their own seeded generator, so
none of them is a measured learner) practises under ``WarmUp.policy`` (``adaptive``: the
default BKT with its diagnostic; or ``topological``) for exactly ``WarmUp.items`` items each
(on past the goal, as real learners go on practising: a model that only saw answers before
mastery would not learn what mastery looks like); every answer, diagnostic questions included,
becomes an :class:`tracing.base.Interaction` on the learner's simulated clock. A
:class:`tracing.gnn.GNNTracer` (small settings, one torch thread) is fitted on those sequences
through the ``Tracer`` protocol, over :func:`seed.simulation.policies.vocab_for` of the
setting's index, and the measured cohort's adaptive policy then serves it
(:class:`seed.simulation.policies.AdaptivePolicy` with ``replay_diagnostic=True``).

Needs the ``neural`` extra (torch); without it :func:`trained_tracer` raises
:class:`recommender.errors.MissingExtraError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender import diagnostic
from recommender.errors import InvalidParameterError, MissingExtraError
from recommender.next_item import GainStats, RecommenderConfig
from seed.simulation.policies import (
    AdaptivePolicy,
    Policy,
    Setting,
    TopologicalPolicy,
    bkt_for,
    vocab_for,
)
from seed.simulation.populations import make_population
from seed.simulator import SimParams
from tracing.base import Interaction, Tracer

TRACERS = ("bkt", "gnn")
WARMUP_POLICIES = ("adaptive", "topological")


@dataclass(frozen=True, slots=True)
class WarmUp:
    """The warm-up cohort and the GNN's training settings (sizes: GNNTracer's defaults;
    ``max_epochs``: its skill-level schedule's 12. On the demo curriculum one seed learner
    served the GNN trained with 4 epochs and half the sizes had truly mastered 11 skills after
    300 items, against 33 with these settings: the under-trained GNN's mastery rose too slowly
    to cross the 0.8 threshold)."""

    learners: int = 100
    items: int = 600
    policy: str = "adaptive"
    max_epochs: int = 12
    embed_dim: int = 64
    hidden_size: int = 128

    def __post_init__(self) -> None:
        if self.learners < 2 or self.items < 1:
            raise InvalidParameterError(
                "warm-up learners/items", (self.learners, self.items), "learners >= 2, items >= 1"
            )
        if self.policy not in WARMUP_POLICIES:
            raise InvalidParameterError(
                "warm-up policy", self.policy, f"one of {', '.join(WARMUP_POLICIES)}"
            )
        if self.max_epochs < 1:
            raise InvalidParameterError("max_epochs", self.max_epochs, "at least 1")


@dataclass(frozen=True, slots=True)
class Trained:
    """A fitted tracer and what it was trained on."""

    tracer: Tracer
    warmup_learners: int
    warmup_interactions: int
    warmup_reached_share: float
    train_seconds: float
    valid_auc: float  # the fit's best validation AUC (learners held out of the warm-up cohort)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tracer": self.tracer.name,
            "warmup_learners": self.warmup_learners,
            "warmup_interactions": self.warmup_interactions,
            "warmup_reached_share": self.warmup_reached_share,
            "train_seconds": self.train_seconds,
            "valid_auc": self.valid_auc,
        }


def warmup_sequences(
    setting: Setting,
    *,
    population: str,
    seed: int,
    warmup: WarmUp,
    params: SimParams | None = None,
) -> tuple[list[list[Interaction]], float]:
    """The warm-up cohort's answers, one time-ordered sequence of ``warmup.items`` answers per
    learner, and the share of it that reached the goal within them."""
    idx = setting.index
    pop = make_population(
        population,
        setting.graph,
        setting.items,
        np.random.default_rng([seed, 10_000]),
        params=params,
    )
    rng = np.random.default_rng([seed, 10_001])
    gains = GainStats()
    bkt = bkt_for(idx)
    seconds = {it.id: float(it.expected_seconds) for it in setting.items}
    seqs: list[list[Interaction]] = []
    reached_count = 0
    for n in range(warmup.learners):
        learner = pop.new_learner(f"warm-{n}")
        pol: Policy
        if warmup.policy == "topological":
            pol = TopologicalPolicy(setting, 5)
        else:
            pol = AdaptivePolicy(
                setting,
                bkt,
                gains,
                rng,
                config=RecommenderConfig(),
                diag=diagnostic.DiagnosticConfig(),
            )
        t, seq = 0.0, []
        reached = all(pop.mastered(learner, g, t) for g in setting.goals)
        for _ in range(warmup.items):  # on past the goal: answers after mastery are data too
            item = pol.choose(t)
            correct = pop.answer(learner, item, t)
            pol.observe(item, correct, t)
            ip = idx.item_pos[item]
            skills = tuple(int(x) for x in idx.skills_of_item(ip).tolist())
            seq.append(Interaction(ip, skills, int(correct), timestamp=t))
            t += seconds[item]
            reached = reached or all(pop.mastered(learner, g, t) for g in setting.goals)
        reached_count += reached
        seqs.append(seq)
    return seqs, reached_count / warmup.learners


def trained_tracer(
    setting: Setting,
    *,
    population: str,
    seed: int,
    warmup: WarmUp | None = None,
    params: SimParams | None = None,
    progress: Callable[[str], None] | None = None,
) -> Trained:
    """A :class:`tracing.gnn.GNNTracer` fitted on a warm-up cohort of ``population`` (see the
    module docstring), its vocabulary that of ``setting.index``."""
    try:
        from tracing.gnn import GNNTracer
    except ImportError as exc:  # torch / the neural extra missing
        raise MissingExtraError("--tracer gnn", "neural", exc.name or "torch") from exc
    warmup = warmup or WarmUp()
    seqs, reached = warmup_sequences(
        setting, population=population, seed=seed, warmup=warmup, params=params
    )
    n = sum(len(s) for s in seqs)
    if progress is not None:
        progress(
            f"{population}: warm-up cohort {warmup.learners} learners, {n} answers; "
            f"training gnn ({warmup.max_epochs} epochs)"
        )
    t0 = time.perf_counter()
    tracer = GNNTracer(
        embed_dim=warmup.embed_dim,
        hidden_size=warmup.hidden_size,
        max_epochs=warmup.max_epochs,
        num_threads=1,
    ).fit(seqs, vocab_for(setting.index), seed=seed)
    secs = time.perf_counter() - t0
    auc = float(tracer.fit_info.get("best_valid_auc", float("nan")))
    return Trained(tracer, warmup.learners, n, reached, secs, auc)
