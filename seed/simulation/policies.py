"""The policies compared by :mod:`seed.simulation.harness`: what each sees and how it chooses.

Every policy sees only its own choices and the answers (``observe``), never the simulator's
true state, except :class:`OraclePolicy`, the reference that reads it. See
:mod:`seed.simulation.harness` for what each one does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from graph.models import Item, ItemKind, PrerequisiteGraph
from recommender import diagnostic
from recommender.errors import InvalidParameterError
from recommender.history import Practice, build_view
from recommender.index import CurriculumIndex, index_from_domain
from recommender.next_item import (
    GainStats,
    LearnerView,
    Recommendation,
    RecommenderConfig,
    recommend,
)
from tracing.base import Interaction, Tracer, Vocabulary
from tracing.bkt import BKTTracer


class Policy(Protocol):
    def choose(self, t: float) -> str: ...

    def observe(self, item: str, correct: bool, t: float) -> None: ...


@dataclass(slots=True)
class Setting:
    """A curriculum ready for simulation: exercises only (answers are the only evidence)."""

    index: CurriculumIndex
    graph: PrerequisiteGraph
    items: tuple[Item, ...]
    syllabus: tuple[str, ...]
    goals: tuple[str, ...]
    closure: tuple[str, ...]  # goals' prerequisite closure, syllabus order
    strict_parents: dict[str, tuple[str, ...]] = field(default_factory=dict)


def make_setting(
    graph: PrerequisiteGraph, items: Sequence[Item], syllabus: Sequence[str], goals: Sequence[str]
) -> Setting:
    exercises = tuple(i for i in items if i.kind == ItemKind.EXERCISE)
    index = index_from_domain(graph, exercises, version="simulation")
    gpos = index.skill_positions(goals)
    closure_pos = set(index.ancestors(gpos.tolist()).tolist())
    rank = {s: k for k, s in enumerate(syllabus)}
    closure = tuple(
        sorted((index.skill_ids[i] for i in closure_pos), key=lambda s: rank.get(s, len(rank)))
    )
    strict: dict[str, list[str]] = {s.id: [] for s in graph.skills}
    for e in graph.edges:
        if e.strength >= 1.0:
            strict[e.target].append(e.source)
    return Setting(
        index,
        graph,
        exercises,
        tuple(syllabus),
        tuple(goals),
        closure,
        {k: tuple(v) for k, v in strict.items()},
    )


# -- policies --------------------------------------------------------------------------------
class RandomPolicy:
    def __init__(self, setting: Setting, rng: np.random.Generator) -> None:
        idx = setting.index
        pos = idx.skill_positions(setting.closure)
        self.items: list[str] = sorted(
            {idx.item_ids[i] for s in pos.tolist() for i in idx.items_of(s).tolist()}
        )
        self.rng = rng

    def choose(self, t: float) -> str:
        return self.items[int(self.rng.integers(len(self.items)))]

    def observe(self, item: str, correct: bool, t: float) -> None:
        pass


class TopologicalPolicy:
    def __init__(self, setting: Setting, reps: int) -> None:
        idx = setting.index
        self.plan: list[str] = []
        for s in setting.closure:
            items = [idx.item_ids[i] for i in idx.items_of(idx.skill_pos[s]).tolist()]
            self.plan.extend(items[k % len(items)] for k in range(reps) if items)
        self.step = 0

    def choose(self, t: float) -> str:
        item = self.plan[self.step % len(self.plan)]
        self.step += 1
        return item

    def observe(self, item: str, correct: bool, t: float) -> None:
        pass


class FrontierPolicy:
    def __init__(self, setting: Setting, streak: int) -> None:
        self.s = setting
        self.need = streak
        self.run: dict[str, int] = {}
        self.passed: set[str] = set()
        self.turn: dict[str, int] = {}

    def _skill(self) -> str:
        idx = self.s.index
        for sk in self.s.closure:
            if sk in self.passed:
                continue
            if all(idx.skill_ids[p] in self.passed for p in idx.parents(idx.skill_pos[sk])):
                return sk
        return self.s.goals[0]  # all passed by the rule but not truly mastered: keep going

    def choose(self, t: float) -> str:
        idx = self.s.index
        sk = self._skill()
        items: list[int] = idx.items_of(idx.skill_pos[sk]).tolist()
        k = self.turn.get(sk, 0)
        self.turn[sk] = k + 1
        return idx.item_ids[items[k % len(items)]]

    def observe(self, item: str, correct: bool, t: float) -> None:
        idx = self.s.index
        sk = idx.skill_ids[int(idx.item_main_skill[idx.item_pos[item]])]
        self.run[sk] = self.run.get(sk, 0) + 1 if correct else 0
        if self.run[sk] >= self.need:
            self.passed.add(sk)


def oracle_item(
    closure: Sequence[str],
    items_of: Mapping[str, Sequence[str]],
    mastered: Callable[[str], bool],
    turn: dict[str, int],
) -> str:
    """The oracle's next item: the first skill of ``closure`` (prerequisite-closed, in
    topological order) not truly ``mastered``, whose prerequisites are then all truly mastered,
    its exercises cycled (``turn`` counts each skill's practices and is advanced). With every
    skill mastered (the goal is then reached) the last skill's next item."""
    skill = next((s for s in closure if not mastered(s)), closure[-1])
    k = turn.get(skill, 0)
    turn[skill] = k + 1
    items = items_of[skill]
    return items[k % len(items)]


class OraclePolicy:
    """The reference policy that reads the true state (``mastered(skill_id, t)``, from the
    population): :func:`oracle_item`. It never practises a mastered skill nor one whose
    prerequisites are not all mastered, so its items are what a policy that knew the state
    would still need: the learners' own learning."""

    def __init__(self, setting: Setting, mastered: Callable[[str, float], bool]) -> None:
        idx = setting.index
        self.closure = setting.closure
        self.items_of = {
            s: [idx.item_ids[i] for i in idx.items_of(idx.skill_pos[s]).tolist()]
            for s in setting.closure
        }
        self.mastered = mastered
        self.turn: dict[str, int] = {}

    def choose(self, t: float) -> str:
        return oracle_item(self.closure, self.items_of, lambda s: self.mastered(s, t), self.turn)

    def observe(self, item: str, correct: bool, t: float) -> None:
        pass


class AdaptivePolicy:
    """Diagnostic placement, then tracer-driven recommendations (see the module docstring).

    ``gains`` collects every observed learning gain (shared by the cohort); with
    ``use_gains=False`` they are still collected but not used, so near-equal items are drawn
    uniformly (the no-exploration baseline of :mod:`seed.simulation.variants`).

    ``tracer`` is any :class:`tracing.base.Tracer` with a vocabulary over the setting's
    index; mastery and item predictions come from it. With ``replay_diagnostic=False`` (the
    default BKT's path) the state after the diagnostic is the diagnostic's own mastery
    estimate, clipped to [0.02, 0.98], which only fits a tracer whose state is that vector
    (BKT); with ``True`` every diagnostic answer goes through ``tracer.update`` instead and
    the diagnostic's estimate is not used (a trained tracer such as the GNN).
    """

    def __init__(
        self,
        setting: Setting,
        tracer: Tracer,
        gains: GainStats,
        rng: np.random.Generator,
        *,
        config: RecommenderConfig | None = None,
        diag: diagnostic.DiagnosticConfig | None = None,
        use_gains: bool = True,
        history: int = 200,
        reviews: bool = False,
        replay_diagnostic: bool = False,
    ) -> None:
        self.s = setting
        self.reviews = reviews
        self.replay_diagnostic = replay_diagnostic
        self.tracer = tracer
        self.vocab: Vocabulary | None = getattr(tracer, "vocab", None)
        if self.vocab is None:
            raise InvalidParameterError(
                "tracer", type(tracer).__name__, "a tracer with a vocabulary (fitted)"
            )
        self.gains = gains
        self.use_gains = use_gains
        self.rng = rng
        self.config = config or RecommenderConfig()
        self.diag: diagnostic.DiagnosticState | None = (
            diagnostic.start(setting.index, diag) if diag is not None else None
        )
        self.pending: diagnostic.Question | None = None
        self.state = tracer.init_state()
        self.practices: list[Practice] = []  # oldest first
        self.history = history
        self.last_item_of_skill: dict[str, str] = {}
        self.diagnostic_questions = 0
        # what the latest choice was made from, for traces (None: a diagnostic question)
        self.last_view: LearnerView | None = None
        self.last_recommendation: Recommendation | None = None

    def _predict(self, ids: Sequence[str]) -> np.ndarray:
        assert self.vocab is not None
        pos = [self.vocab.item_index(i) for i in ids]
        return self.tracer.predict_state(self.state, [p for p in pos if p is not None])

    def choose(self, t: float) -> str:
        self.last_view, self.last_recommendation = None, None
        if self.diag is not None:
            q = diagnostic.next_question(self.s.index, self.diag)
            if q is not None:
                self.pending = q
                return q.item
            if not self.replay_diagnostic:
                result = diagnostic.finish(self.diag)
                p = np.array([result.mastery[s] for s in self.s.index.skill_ids])
                self.state = np.clip(p, 0.02, 0.98)
            self.diag = None
        # the view the API builds from stored attempts, from this learner's own answers
        view = build_view(
            self.s.index,
            self.tracer.mastery(self.state),
            self.practices[::-1],
            threshold=self.config.threshold,
            reviews=self.reviews,
        )
        recs = recommend(
            self.s.index,
            view,
            self._predict,
            goals=self.s.goals,
            config=self.config,
            gains=self.gains if self.use_gains else None,
            rng=self.rng,
        )
        self.last_view = view
        if not recs:  # nothing ready by the estimate: practise the goal itself
            idx = self.s.index
            return idx.item_ids[int(idx.items_of(idx.skill_pos[self.s.goals[0]])[0])]
        self.last_recommendation = recs[0]
        return recs[0].item

    def observe(self, item: str, correct: bool, t: float) -> None:
        idx = self.s.index
        if self.diag is not None and self.pending is not None:
            self.diag = diagnostic.answer(idx, self.diag, self.pending.skill, item, correct)
            self.pending = None
            self.diagnostic_questions += 1
            if self.replay_diagnostic:
                self.state = self._update(item, correct, t)
            return
        assert self.vocab is not None
        ip = idx.item_pos[item]
        sk = idx.skill_ids[int(idx.item_main_skill[ip])]
        prev = self.last_item_of_skill.get(sk)
        if prev is not None:
            self.gains.record(prev, correct)
        self.last_item_of_skill[sk] = item
        self.state = self._update(item, correct, t)
        self.practices.append(Practice(item, correct, t))
        if len(self.practices) > 2 * self.history:
            del self.practices[: -self.history]

    def _update(self, item: str, correct: bool, t: float) -> object:
        idx = self.s.index
        ip = idx.item_pos[item]
        skills = tuple(int(x) for x in idx.skills_of_item(ip).tolist())
        return self.tracer.update(self.state, Interaction(ip, skills, int(correct), timestamp=t))


def vocab_for(index: CurriculumIndex) -> Vocabulary:
    """The tracer vocabulary of ``index``: its items, skills, item skills and prerequisites,
    positions as in the index (so index positions are tracer positions)."""
    return Vocabulary(
        item_ids=index.item_ids,
        skill_ids=index.skill_ids,
        item_skills=tuple(
            tuple(int(s) for s in index.skills_of_item(i).tolist()) for i in range(index.n_items)
        ),
        prerequisites=tuple(zip(index.edge_src.tolist(), index.edge_dst.tolist(), strict=True)),
    )


def bkt_for(index: CurriculumIndex) -> BKTTracer:
    """A BKT tracer over ``index`` with population defaults (no fitting)."""
    vocab = vocab_for(index)
    return BKTTracer(prior=0.3, learn=0.15, guess=0.2, slip=0.1).with_vocab(vocab)
