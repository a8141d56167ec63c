r"""Mastery from a predicted P(correct): the per-skill read-out a neural tracer serves.

A neural tracer predicts answers, not knowledge: its mastery of skill ``s`` is the predicted
P(correct) on the skill's canonical item (``tracing/gnn.py``). A learner who has a skill still
slips and one who lacks it still guesses, so that number is not P(mastered): on the demo
curriculum's BKT learners (slip 0.05-0.2) the GNN predicted 0.73-0.79 on average over the last
50 answers of skills the learners truly had, and the recommender, which counts a skill as
mastered at 0.8, kept practising them (``docs/benchmarks.md``, issue 9, GNN serving).

The read-out inverts BKT's observation model (Corbett & Anderson 1995; ``tracing/bkt.py``)
with per-skill guess and slip fitted by EM on the same training answers as the network:

.. math::
    P(c) = m\,(1 - s_k) + (1 - m)\,g_k
    \quad\Longrightarrow\quad
    m = \mathrm{clip}\Big(\frac{P(c) - g_k}{1 - s_k - g_k},\ 0,\ 1\Big)

so a skill counts as mastered by the right-answer rate a learner who has it shows on that
skill, not by 0.8 for every skill. Where the training data holds few answers on a skill its
fitted guess and slip are pulled toward the population defaults (a pseudo-count of
``prior_answers`` answers at the defaults), and a skill with no training answers has the
defaults themselves.

**Fallback to BKT where the network saw few answers.** A network's P(correct) on a skill
with no training answers comes only through the graph, and it rises slowly with the learner's
answers (on the demo's afm learners it stayed under 0.78 over 90 right answers in a row on a
skill with none). With ``fallback=True`` the read-out also keeps that BKT's prior and learn
rate, the tracer carries a BKT state beside the network's, updated by the same answers, and a
skill's served mastery is

.. math::
    m_k = w_k\,\mathrm{readout}_k(P(c)) + (1 - w_k)\,P(L_k), \qquad
    w_k = \frac{n_k}{n_k + \text{prior\_answers}}

with :math:`n_k` the training answers on the skill: the network where it saw many answers,
BKT where it saw none.

Item predictions (and so AUC) are untouched: only ``mastery`` goes through the read-out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tracing.base import Interaction, TracingError, Vocabulary, interaction_skills

#: BKT's population defaults (``tracing.bkt.BKTTracer``): the read-out of an unseen skill
DEFAULT_GUESS = 0.2
DEFAULT_SLIP = 0.1
#: answers at the defaults that a skill's fitted guess and slip are averaged with
PRIOR_ANSWERS = 20.0
#: the smallest gap 1 - slip - guess kept (a learned state that answers right more often)
MIN_GAP = 0.1


def readout(p: np.ndarray, guess: np.ndarray, slip: np.ndarray) -> np.ndarray:
    """``clip((p - guess) / (1 - slip - guess), 0, 1)`` per skill (pure function).

    Shapes: ``p`` ``(..., n_skills)``; ``guess``, ``slip`` ``(n_skills,)``; out like ``p``.
    """
    gap = np.maximum(1.0 - slip - guess, MIN_GAP)
    return np.asarray(np.clip((np.asarray(p, dtype=float) - guess) / gap, 0.0, 1.0))


@dataclass(frozen=True)
class MasteryReadout:
    """Per-skill guess and slip for :func:`readout`, the training answers behind each, and
    (with a fallback) the BKT prior and learn rate of the fallback state; ``prior`` and
    ``learn`` empty: no fallback."""

    guess: tuple[float, ...]
    slip: tuple[float, ...]
    answers: tuple[int, ...]
    prior: tuple[float, ...] = ()
    learn: tuple[float, ...] = ()
    prior_answers: float = PRIOR_ANSWERS

    def __post_init__(self) -> None:
        n = len(self.guess)
        if not n == len(self.slip) == len(self.answers):
            raise TracingError(
                f"mastery read-out has {n} guesses, {len(self.slip)} slips and "
                f"{len(self.answers)} answer counts; it needs one of each per skill"
            )
        if len(self.prior) != len(self.learn) or (self.prior and len(self.prior) != n):
            raise TracingError(
                f"mastery read-out fallback has {len(self.prior)} priors and "
                f"{len(self.learn)} learn rates for {n} skills; it needs one of each per skill "
                "(or none: no fallback)"
            )

    @property
    def has_fallback(self) -> bool:
        return bool(self.prior)

    def trust(self) -> np.ndarray:
        """``w_k = n_k / (n_k + prior_answers)``: the network's weight per skill (1 without
        a fallback)."""
        n = np.asarray(self.answers, dtype=float)
        if not self.has_fallback:
            return np.ones_like(n)
        return np.asarray(n / np.maximum(n + self.prior_answers, 1e-12))

    def fallback_tracer(self, vocab: Vocabulary) -> Any:
        """The BKT (``tracing.bkt.BKTTracer``) whose state backs skills with few answers."""
        from tracing.bkt import BKTTracer

        if not self.has_fallback:
            raise TracingError("this mastery read-out has no fallback; fit it with fallback=True")
        if vocab.n_skills != len(self.guess):
            raise TracingError(
                f"mastery read-out is for {len(self.guess)} skills, the vocabulary has "
                f"{vocab.n_skills}; use the read-out saved with this model"
            )
        bkt = BKTTracer(guess=DEFAULT_GUESS, slip=DEFAULT_SLIP).with_vocab(vocab)
        bkt.params = {
            "prior": np.asarray(self.prior), "learn": np.asarray(self.learn),
            "forget": np.zeros(len(self.prior)), "guess": np.asarray(self.guess),
            "slip": np.asarray(self.slip),
        }
        return bkt

    def apply(self, p: np.ndarray, fallback: np.ndarray | None = None) -> np.ndarray:
        """P(mastered) of each skill from the predicted P(correct) ``p`` (``(..., n_skills)``),
        blended with the fallback state's P(L) ``fallback`` (same shape) when given."""
        arr = np.asarray(p, dtype=float)
        if arr.shape[-1:] != (len(self.guess),):
            raise TracingError(
                f"mastery read-out is for {len(self.guess)} skills, got predictions of shape "
                f"{arr.shape}; use the read-out saved with this model"
            )
        m = readout(arr, np.asarray(self.guess), np.asarray(self.slip))
        if fallback is None:
            return m
        w = self.trust()
        return np.asarray(w * m + (1.0 - w) * np.asarray(fallback, dtype=float))

    def to_dict(self) -> dict[str, Any]:
        return {"guess": list(self.guess), "slip": list(self.slip), "answers": list(self.answers),
                "prior": list(self.prior), "learn": list(self.learn),
                "prior_answers": self.prior_answers}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> MasteryReadout:
        try:
            return MasteryReadout(
                tuple(float(v) for v in d["guess"]),
                tuple(float(v) for v in d["slip"]),
                tuple(int(v) for v in d["answers"]),
                tuple(float(v) for v in d.get("prior", ())),
                tuple(float(v) for v in d.get("learn", ())),
                float(d.get("prior_answers", PRIOR_ANSWERS)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TracingError(
                f"saved mastery read-out is malformed ({exc!r}); retrain the model"
            ) from exc


def skill_answer_counts(
    sequences: Sequence[Sequence[Interaction]], vocab: Vocabulary
) -> np.ndarray:
    """How many answers assessed each skill, ``(n_skills,)`` integers."""
    out = np.zeros(vocab.n_skills, dtype=np.int64)
    for seq in sequences:
        for x in seq:
            for s in interaction_skills(x, vocab):
                out[s] += 1
    return out


def fit_readout(
    sequences: Sequence[Sequence[Interaction]],
    vocab: Vocabulary,
    *,
    prior_answers: float = PRIOR_ANSWERS,
    fallback: bool = False,
) -> MasteryReadout:
    """Fit the read-out on training answers: BKT's EM (``tracing.bkt.BKTTracer``, starting
    from and bounded as its defaults) gives each skill's guess and slip (and, with
    ``fallback``, prior and learn rate), averaged with the defaults weighted
    ``answers : prior_answers``."""
    from tracing.bkt import BKTTracer  # numpy only; kept local so the module stays light

    if prior_answers < 0:
        raise TracingError(f"prior_answers={prior_answers} must be >= 0")
    bkt = BKTTracer(guess=DEFAULT_GUESS, slip=DEFAULT_SLIP).fit(sequences, vocab)
    n = skill_answer_counts(sequences, vocab).astype(float)
    w = n / np.maximum(n + prior_answers, 1e-12)

    def shrunk(name: str) -> tuple[float, ...]:
        fitted = np.asarray(bkt.params[name])
        return tuple(float(v) for v in w * fitted + (1.0 - w) * bkt.defaults[name])

    return MasteryReadout(
        shrunk("guess"),
        shrunk("slip"),
        tuple(int(v) for v in n),
        shrunk("prior") if fallback else (),
        shrunk("learn") if fallback else (),
        prior_answers,
    )
