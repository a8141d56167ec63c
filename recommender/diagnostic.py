"""Diagnostic placement: computerized adaptive testing over the prerequisite graph.

**Belief.** Knowledge Space Theory (Doignon & Falmagne, 1999) says a learner's state is a
*downset* of the prerequisite order: a mastered skill's prerequisites are mastered. The belief
is a weighted sample of ``n_particles`` downsets (a particle filter over knowledge states).
Each particle draws ``x_s ~ U(0, 1)`` per skill, lifts it to ``z_s = max(x_a : a = s or a
prerequisite of s)`` (monotone along every edge, so deeper skills come later; ties broken by
topological rank), and keeps the
``k`` skills of lowest ``z`` for ``k ~ U{0..n}``: a random downset of a random size. The
particles depend only on the curriculum and ``seed``; the state stores the answers, so it
stays small and serializable.

**Evidence.** An answer on skill ``s`` weighs each particle ``K`` by the two-state answer model
of BKT: ``P(correct | s in K) = 1 - slip``, ``P(correct | s not in K) = guess``. Because the
particles are downsets, success on ``s`` raises every prerequisite of ``s`` and failure lowers
every dependent: the graph propagates the evidence exactly, with no tuning.

**Choice of question.** With ``p_t`` the marginals and ``J[s, t] = P(s and t mastered)`` (one
matrix product over the particles), the marginals after an answer on ``s`` are closed-form:
``P(t | correct on s) = ((1 - slip) J[s,t] + guess (p_t - J[s,t])) / P(correct on s)``. The
next question is the skill whose answer most reduces the expected total entropy
``Σ_t H(p_t)`` of the per-skill beliefs (expected entropy reduction), which rewards an
uncertain skill with a large reach in the graph. A skill is asked at most ``max_repeats`` times.

**Stopping.** When the expected share of correctly classified skills ``mean_t max(p_t, 1 -
p_t)`` reaches ``confidence``, or after ``max_questions``.

``start`` -> (``next_question`` -> ``answer``)* -> ``finish``; the state round-trips through
``to_dict`` / ``from_dict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from recommender.errors import InvalidParameterError, RecommenderError
from recommender.index import CurriculumIndex, FloatArray

MAX_SKILLS = 2000
GAIN_PARTICLES = 3000


@dataclass(frozen=True, slots=True)
class DiagnosticConfig:
    """Args:
    guess: P(correct | not mastered) [0.2].
    slip: P(wrong | mastered) [0.1].
    confidence: stop at this expected classification accuracy [0.95].
    max_questions: stop after this many questions [20].
    max_repeats: most questions on one skill [2].
    n_particles: sampled knowledge states [20000].
    seed: seed of the particle sample [0].
    """

    guess: float = 0.2
    slip: float = 0.1
    confidence: float = 0.95
    max_questions: int = 20
    max_repeats: int = 2
    n_particles: int = 20_000
    seed: int = 0

    def __post_init__(self) -> None:
        if not (0 < self.guess < 1 and 0 < self.slip < 1 and self.guess + self.slip < 1):
            raise InvalidParameterError(
                "guess/slip", (self.guess, self.slip), "both in (0, 1) with guess + slip < 1"
            )
        if not 0.5 < self.confidence <= 1:
            raise InvalidParameterError("confidence", self.confidence, "a value in (0.5, 1]")
        if self.max_questions < 1:
            raise InvalidParameterError("max_questions", self.max_questions, "an integer >= 1")
        if self.max_repeats < 1:
            raise InvalidParameterError("max_repeats", self.max_repeats, "an integer >= 1")
        if not 100 <= self.n_particles <= 1_000_000:
            raise InvalidParameterError("n_particles", self.n_particles, "100 to 1,000,000")


@dataclass(frozen=True, slots=True)
class Answered:
    skill: str
    item: str
    correct: bool


@dataclass(frozen=True, slots=True)
class DiagnosticState:
    """A diagnostic in progress: the curriculum version, the answers so far and the
    resulting P(mastered) per skill (``marginals``, in ``skill_ids`` order)."""

    version: str
    skill_ids: tuple[str, ...]
    marginals: tuple[float, ...]
    answers: tuple[Answered, ...] = ()
    config: DiagnosticConfig = field(default_factory=DiagnosticConfig)

    @property
    def probabilities(self) -> FloatArray:
        return np.asarray(self.marginals, dtype=np.float64)

    @property
    def expected_accuracy(self) -> float:
        p = self.probabilities
        return float(np.maximum(p, 1 - p).mean()) if p.size else 1.0

    @property
    def done(self) -> bool:
        return (
            len(self.answers) >= self.config.max_questions
            or self.expected_accuracy >= self.config.confidence
        )

    def to_dict(self) -> dict[str, Any]:
        c = self.config
        return {
            "version": self.version,
            "skill_ids": list(self.skill_ids),
            "marginals": [round(x, 6) for x in self.marginals],
            "answers": [[a.skill, a.item, a.correct] for a in self.answers],
            "config": {
                "guess": c.guess,
                "slip": c.slip,
                "confidence": c.confidence,
                "max_questions": c.max_questions,
                "max_repeats": c.max_repeats,
                "n_particles": c.n_particles,
                "seed": c.seed,
            },
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> DiagnosticState:
        try:
            return cls(
                version=str(doc["version"]),
                skill_ids=tuple(str(s) for s in doc["skill_ids"]),
                marginals=tuple(float(x) for x in doc["marginals"]),
                answers=tuple(Answered(str(s), str(i), bool(c)) for s, i, c in doc["answers"]),
                config=DiagnosticConfig(**doc["config"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RecommenderError(
                f"malformed diagnostic state ({exc!r}); start a new diagnostic"
            ) from None


@dataclass(frozen=True, slots=True)
class Question:
    skill: str
    item: str
    expected_gain: float


@dataclass(frozen=True, slots=True)
class DiagnosticResult:
    mastery: dict[str, float]
    mastered: tuple[str, ...]
    questions: int
    expected_accuracy: float


def sample_downsets(index: CurriculumIndex, n: int, seed: int) -> np.ndarray:
    """``(n, n_skills)`` bool: random downsets of uniformly random size (see module doc)."""
    if index.n_skills > MAX_SKILLS:
        raise InvalidParameterError(
            "curriculum",
            f"{index.n_skills} skills",
            f"at most {MAX_SKILLS} skills for a diagnostic; diagnose a course or a goal's "
            "prerequisite closure instead of the whole graph",
        )
    rng = np.random.default_rng(seed)
    k = index.n_skills
    z = rng.random((n, k))
    for v in index.topo.tolist():
        par = index.parents(v)
        if par.size:
            np.maximum(z[:, v], z[:, par].max(axis=1), out=z[:, v])
    z += 1e-9 * index.topo_rank[None, :]  # break ties, keeping z strictly rising along edges
    sizes = rng.integers(0, k + 1, size=n)
    zs = np.sort(z, axis=1)
    cut = np.where(sizes > 0, zs[np.arange(n), np.maximum(sizes - 1, 0)], -1.0)
    return np.asarray(z <= cut[:, None])


def _particles(index: CurriculumIndex, cfg: DiagnosticConfig) -> np.ndarray:
    """The particle sample, bool ``(n_particles, n_skills)``, memoised with the index."""
    return index.memo(
        ("diagnostic_particles", cfg.n_particles, cfg.seed),
        lambda: sample_downsets(index, cfg.n_particles, cfg.seed),
    )


def _weighted_mean(parts: np.ndarray, w: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """``w @ parts`` for bool particles, in float32 chunks (no full float copy), skipping
    particles whose weight no longer matters."""
    live = np.flatnonzero(w > w.max() * 1e-12)
    out = np.zeros(parts.shape[1], dtype=np.float64)
    for k in range(0, live.size, chunk):
        rows = live[k : k + chunk]
        out += (w[rows].astype(np.float32) @ parts[rows].astype(np.float32)).astype(np.float64)
    return np.asarray(out / w[live].sum())


def _weights(index: CurriculumIndex, state: DiagnosticState) -> np.ndarray:
    parts = _particles(index, state.config)
    cfg = state.config
    logw = np.zeros(parts.shape[0])
    table = {
        True: (np.log(1 - cfg.slip), np.log(cfg.guess)),
        False: (np.log(cfg.slip), np.log(1 - cfg.guess)),
    }
    for a in state.answers:
        s = index.skill_pos[a.skill]
        if_mastered, if_not = table[a.correct]
        logw += np.where(parts[:, s], if_mastered, if_not)
    w = np.exp(logw - logw.max())
    return np.asarray(w / w.sum())


def _entropy(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return np.asarray(-(q * np.log(q) + (1 - q) * np.log(1 - q)))


def start(index: CurriculumIndex, config: DiagnosticConfig | None = None) -> DiagnosticState:
    """A new diagnostic over every skill of ``index``."""
    cfg = config or DiagnosticConfig()
    parts = _particles(index, cfg)
    marg = _weighted_mean(parts, np.ones(parts.shape[0]))
    return DiagnosticState(index.version, index.skill_ids, tuple(marg.tolist()), (), cfg)


def _check(index: CurriculumIndex, state: DiagnosticState) -> None:
    if state.skill_ids != index.skill_ids:
        raise RecommenderError(
            f"the curriculum changed since this diagnostic started (version {state.version!r}, "
            f"now {index.version!r}); start a new diagnostic"
        )


def expected_gains(index: CurriculumIndex, state: DiagnosticState) -> FloatArray:
    """Expected reduction of ``Σ_t H(p_t)`` from asking each skill (``(n_skills,)``)."""
    _check(index, state)
    cfg = state.config
    parts = _particles(index, cfg)
    w = _weights(index, state)
    if parts.shape[0] > GAIN_PARTICLES:
        # the gains only rank questions: estimate them on a weighted resample (systematic
        # resampling, deterministic per step) to bound the cost at GAIN_PARTICLES rows
        u = (np.arange(GAIN_PARTICLES) + 0.5) / GAIN_PARTICLES
        rows = np.searchsorted(np.cumsum(w), u * w.sum())
        parts = parts[np.minimum(rows, parts.shape[0] - 1)]
        w = np.full(GAIN_PARTICLES, 1.0 / GAIN_PARTICLES)
    parts = parts.astype(np.float32)
    w = w.astype(np.float32)
    p = parts.T @ w  # (n,)
    joint = (parts * w[:, None]).T @ parts  # J[s, t] = P(s and t mastered)
    p = p.astype(np.float64)
    joint = joint.astype(np.float64)
    pc = (1 - cfg.slip) * p + cfg.guess * (1 - p)  # P(correct on s)
    after_c = ((1 - cfg.slip) * joint + cfg.guess * (p[None, :] - joint)) / pc[:, None]
    after_w = (cfg.slip * joint + (1 - cfg.guess) * (p[None, :] - joint)) / (1 - pc)[:, None]
    h_now = _entropy(p).sum()
    h_after = pc * _entropy(after_c).sum(axis=1) + (1 - pc) * _entropy(after_w).sum(axis=1)
    return np.asarray(h_now - h_after)


def question_item(index: CurriculumIndex, skill: int, asked: set[str]) -> str | None:
    """The skill's item best suited to testing it: single-skill first, difficulty nearest 0.5,
    not asked before."""
    items = [i for i in index.items_of(skill).tolist() if index.item_ids[i] not in asked]
    if not items:
        return None
    n_sk = np.diff(index.item_skill_ptr)
    best: int = min(
        items, key=lambda i: (bool(n_sk[i] > 1), float(abs(index.item_difficulty[i] - 0.5)), i)
    )
    return index.item_ids[best]


def next_question(index: CurriculumIndex, state: DiagnosticState) -> Question | None:
    """The most informative question now, or None when the diagnostic is done."""
    if state.done:
        return None
    gains = expected_gains(index, state)
    counts: dict[str, int] = {}
    for a in state.answers:
        counts[a.skill] = counts.get(a.skill, 0) + 1
    asked_items = {a.item for a in state.answers}
    for s in np.argsort(-gains, kind="stable").tolist():
        sid = index.skill_ids[s]
        if counts.get(sid, 0) >= state.config.max_repeats:
            continue
        item = question_item(index, s, asked_items)
        if item is not None:
            return Question(sid, item, float(gains[s]))
    return None


def answer(
    index: CurriculumIndex, state: DiagnosticState, skill: str, item: str, correct: bool
) -> DiagnosticState:
    """The state after the learner answered ``item`` (testing ``skill``)."""
    _check(index, state)
    s = int(index.skill_positions([skill])[0])
    ip = int(index.item_positions([item])[0])
    if s not in index.skills_of_item(ip).tolist():
        raise InvalidParameterError("item", item, f"an item that assesses skill {skill!r}")
    new = replace(state, answers=(*state.answers, Answered(skill, item, bool(correct))))
    w = _weights(index, new)
    marg = _weighted_mean(_particles(index, state.config), w)
    return replace(new, marginals=tuple(np.clip(marg, 0.0, 1.0).tolist()))


def finish(state: DiagnosticState, threshold: float = 0.5) -> DiagnosticResult:
    """The placement: P(mastered) per skill and the skills classified mastered."""
    p = state.probabilities
    return DiagnosticResult(
        mastery=dict(zip(state.skill_ids, p.round(6).tolist(), strict=True)),
        mastered=tuple(
            s for s, x in zip(state.skill_ids, p.tolist(), strict=True) if x >= threshold
        ),
        questions=len(state.answers),
        expected_accuracy=state.expected_accuracy,
    )
