"""Bayesian Knowledge Tracing.

Corbett & Anderson, "Knowledge tracing: Modeling the acquisition of procedural knowledge",
User Modeling and User-Adapted Interaction 4 (1995). Forgetting as in Qiu et al. (2011) and
Khajah et al., "How deep is knowledge tracing?" (EDM 2016).

Each skill is a two-state hidden Markov model: the learner has learned it (L) or not (U).
Parameters per skill: ``prior`` P(L_0), ``learn`` P(U -> L), ``forget`` P(L -> U) (0 unless
``forget=True``), ``guess`` P(correct | U), ``slip`` P(wrong | L). With ``p = P(L_t | answers
before t)``:

.. math::
    P(c_t) = p (1 - s) + (1 - p) g

    P(L_t | c_t) = \\frac{p (1 - s)}{p (1 - s) + (1 - p) g}, \\quad
    P(L_t | w_t) = \\frac{p s}{p s + (1 - p)(1 - g)}

    P(L_{t+1}) = P(L_t | o_t) (1 - f) + (1 - P(L_t | o_t)) \\, l

Fitting is expectation-maximisation (Baum-Welch) over all (learner, skill) subsequences at
once: the subsequences are sorted by length so that the ones still running at step ``t`` are a
prefix, and each forward/backward step is one numpy operation over that prefix. The cost of an
EM iteration is O(total answers + longest subsequence * numpy call overhead).

Multi-skill items: an answer is evidence for every skill of the item (each skill's HMM sees it,
as in fitting), and the item's P(correct) is that of its **weakest** skill (``combine="min"``,
a conjunctive item needs every skill); ``"product"`` (independent skills) and ``"mean"`` are
available. Single-skill items are unaffected by the choice.

Shapes: parameters ``(n_skills,)``; the online state is P(L) per skill, ``(n_skills,)``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np

from tracing.base import Interaction, ProgressFn, TracingError, Vocabulary
from tracing.data import vocab_from_dict, vocab_to_dict
from tracing.registry import atomic_write_text

Combine = Literal["min", "product", "mean"]
_EPS = 1e-6
PARAM_NAMES = ("prior", "learn", "forget", "guess", "slip")


def posterior_learned(p_learned: np.ndarray | float, correct: np.ndarray | int,
                      guess: np.ndarray | float, slip: np.ndarray | float) -> np.ndarray:
    """P(L | answer) by Bayes' rule, before the learning transition (pure function)."""
    p = np.asarray(p_learned, dtype=float)
    c = np.asarray(correct).astype(bool)
    e_l = np.where(c, 1.0 - np.asarray(slip), slip)
    e_u = np.where(c, guess, 1.0 - np.asarray(guess))
    return np.asarray(p * e_l / (p * e_l + (1.0 - p) * e_u))


def transition(p_learned: np.ndarray | float, learn: np.ndarray | float,
               forget: np.ndarray | float = 0.0) -> np.ndarray:
    """P(L_{t+1}) from P(L_t) (pure function)."""
    p = np.asarray(p_learned, dtype=float)
    return np.asarray(p * (1.0 - np.asarray(forget)) + (1.0 - p) * learn)


class _Layout:
    """All (learner, skill) subsequences in one time-major flat array.

    Rows (subsequences) are ranked by length, longest first; step ``t`` holds the first
    ``counts[t]`` rows at ``offsets[t] : offsets[t] + counts[t]``.
    """

    def __init__(self, sequences: Sequence[Sequence[Interaction]]) -> None:
        row_skill: list[int] = []
        elem_row: list[int] = []
        elem_inter: list[int] = []
        elem_obs: list[int] = []
        g = 0
        for seq in sequences:
            local: dict[int, int] = {}
            for x in seq:
                for s in x.skills:
                    r = local.get(s)
                    if r is None:
                        r = local[s] = len(row_skill)
                        row_skill.append(s)
                    elem_row.append(r)
                    elem_inter.append(g)
                    elem_obs.append(x.correct)
                g += 1
        self.n_interactions = g
        rows = np.asarray(elem_row, dtype=np.int64)
        n_rows = len(row_skill)
        lengths = np.bincount(rows, minlength=n_rows)
        rank_of_row = np.empty(n_rows, dtype=np.int64)
        by_len = np.argsort(-lengths, kind="stable")
        rank_of_row[by_len] = np.arange(n_rows)
        # position of each element inside its row (elements of a row are in time order)
        order = np.argsort(rows, kind="stable")
        row_start = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if n_rows else lengths
        t_in_row = np.empty(len(rows), dtype=np.int64)
        t_in_row[order] = np.arange(len(rows)) - np.repeat(row_start, lengths)
        t_max = int(lengths.max()) if n_rows else 0
        sorted_len = lengths[by_len]
        # counts[t] = number of rows longer than t
        self.counts = _counts_longer_than(sorted_len, t_max).astype(np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)
        pos = self.offsets[t_in_row] + rank_of_row[rows] if len(rows) else rows
        n = len(rows)
        self.obs = np.empty(n, dtype=bool)
        self.obs[pos] = np.asarray(elem_obs, dtype=bool)
        self.inter = np.empty(n, dtype=np.int64)
        self.inter[pos] = np.asarray(elem_inter, dtype=np.int64)
        self.rank_skill = np.asarray(row_skill, dtype=np.int64)[by_len]
        self.skill = np.empty(n, dtype=np.int64)
        self.skill[pos] = self.rank_skill[rank_of_row[rows]]
        self.has_next = np.zeros(n, dtype=bool)
        for t in range(t_max - 1):
            o = self.offsets[t]
            self.has_next[o : o + self.counts[t + 1]] = True
        self.n_rows = n_rows


def _counts_longer_than(sorted_desc: np.ndarray, t_max: int) -> np.ndarray:
    """For t in 0..t_max-1, how many entries of a descending array exceed t."""
    asc = sorted_desc[::-1]
    return len(asc) - np.searchsorted(asc, np.arange(t_max), side="right")


class BKTTracer:
    """Per-skill BKT fitted by vectorised EM.

    Args:
        n_iter: most EM iterations (default 30).
        tol: stop when the relative log-likelihood gain is below this (default 1e-5).
        forget: also fit a forgetting probability (default False: forget = 0).
        combine: how a multi-skill item's P(correct) comes from its skills ("min").
        prior, learn, guess, slip: population defaults, used as EM's start and for skills
            with no training answers (a fresh curriculum).
        max_guess, max_slip: upper bounds keeping the learned state the one that answers
            right more often (default 0.45 each).
    """

    name = "bkt"

    def __init__(
        self,
        *,
        n_iter: int = 30,
        tol: float = 1e-5,
        forget: bool = False,
        combine: Combine = "min",
        prior: float = 0.4,
        learn: float = 0.1,
        guess: float = 0.2,
        slip: float = 0.1,
        max_guess: float = 0.45,
        max_slip: float = 0.45,
    ) -> None:
        if combine not in ("min", "product", "mean"):
            raise TracingError(f"combine={combine!r}; use 'min', 'product' or 'mean'")
        for nm, v in (("prior", prior), ("learn", learn), ("guess", guess), ("slip", slip)):
            if not 0.0 < v < 1.0:
                raise TracingError(f"{nm}={v} must be strictly between 0 and 1")
        self.n_iter = n_iter
        self.tol = tol
        self.forget = forget
        self.combine: Combine = combine
        self.defaults = {"prior": prior, "learn": learn, "forget": 0.0, "guess": guess,
                         "slip": slip}
        self.max_guess = max_guess
        self.max_slip = max_slip
        self.vocab: Vocabulary | None = None
        self.params: dict[str, np.ndarray] = {}
        self.log_likelihood: list[float] = []
        self._item_skills: np.ndarray = np.zeros((0, 1), dtype=np.int64)

    # -- setup --------------------------------------------------------------------------------
    def with_vocab(self, vocab: Vocabulary) -> Self:
        """Use the population defaults for every skill of ``vocab`` (no training data)."""
        self.vocab = vocab
        self.params = {k: np.full(vocab.n_skills, v) for k, v in self.defaults.items()}
        self._build_item_table()
        return self

    def _build_item_table(self) -> None:
        assert self.vocab is not None
        width = max((len(s) for s in self.vocab.item_skills), default=1) or 1
        table = np.full((self.vocab.n_items, width), -1, dtype=np.int64)
        for i, sk in enumerate(self.vocab.item_skills):
            table[i, : len(sk)] = sk
        self._item_skills = table

    def _require(self) -> Vocabulary:
        if self.vocab is None:
            raise TracingError("the BKT model has no parameters yet; call fit() or "
                               "with_vocab() first")
        return self.vocab

    # -- fitting ------------------------------------------------------------------------------
    def fit(
        self,
        sequences: Sequence[Sequence[Interaction]],
        vocab: Vocabulary,
        *,
        seed: int = 0,
        progress: ProgressFn | None = None,
    ) -> Self:
        """EM over every skill at once; ``seed`` is unused (EM starts from the defaults)."""
        self.with_vocab(vocab)
        lay = _Layout(sequences)
        if lay.n_rows == 0:
            return self
        if int(lay.rank_skill.max()) >= vocab.n_skills:
            raise TracingError("an interaction names a skill outside the vocabulary")
        k = vocab.n_skills
        has_data = np.bincount(lay.skill, minlength=k) > 0
        p = {n: a.copy() for n, a in self.params.items()}
        if self.forget:  # EM keeps a zero forgetting probability at zero: start above it
            p["forget"] = np.where(has_data, 0.05, 0.0)
        self.log_likelihood = []
        for it in range(self.n_iter):
            ll, stats = _e_step(lay, p, k)
            self.log_likelihood.append(ll)
            new = _m_step(stats, p, self.forget, self.max_guess, self.max_slip)
            for n in PARAM_NAMES:
                p[n] = np.where(has_data, new[n], p[n])
            if progress is not None:
                progress(f"BKT EM iteration {it + 1}/{self.n_iter}: log-likelihood {ll:.1f}",
                         (it + 1) / self.n_iter)
            if it > 0 and abs(ll - self.log_likelihood[-2]) <= self.tol * abs(ll):
                break
        self.params = p
        return self

    # -- evaluation ---------------------------------------------------------------------------
    def predict_sequences(self, sequences: Sequence[Sequence[Interaction]]) -> list[np.ndarray]:
        self._require()
        lay = _Layout(sequences)
        lengths = [len(s) for s in sequences]
        if lay.n_interactions == 0:
            return [np.zeros(0) for _ in lengths]
        if lay.n_rows and int(lay.rank_skill.max()) >= len(self.params["prior"]):
            raise TracingError("an interaction names a skill outside the model's vocabulary; "
                               "read the test file with the train file's vocabulary")
        pred = _forward(lay, self.params)[0]
        g, s = self.params["guess"][lay.skill], self.params["slip"][lay.skill]
        p_elem = pred * (1.0 - s) + (1.0 - pred) * g
        n = lay.n_interactions
        if self.combine == "min":
            out = np.ones(n)
            np.minimum.at(out, lay.inter, p_elem)
        elif self.combine == "product":
            out = np.ones(n)
            np.multiply.at(out, lay.inter, p_elem)
        else:
            out = np.bincount(lay.inter, weights=p_elem, minlength=n) / np.maximum(
                np.bincount(lay.inter, minlength=n), 1)
        no_skill = np.bincount(lay.inter, minlength=n) == 0
        out[no_skill] = self._population_p()
        return np.split(out, np.cumsum(lengths)[:-1])

    def _population_p(self) -> float:
        """P(correct) of a new learner averaged over skills: the answer for an item that
        names no skill."""
        p = self.params
        return float(np.mean(p["prior"] * (1 - p["slip"]) + (1 - p["prior"]) * p["guess"]))

    # -- online ---------------------------------------------------------------------------------
    def init_state(self) -> np.ndarray:
        """P(L) of every skill for a learner with no answers: the fitted priors."""
        self._require()
        return self.params["prior"].copy()

    def update(self, state: np.ndarray, interaction: Interaction) -> np.ndarray:
        """Posterior then transition for the item's skills only: O(skills of the item)."""
        sk = list(interaction.skills)
        new = state.copy()
        post = posterior_learned(state[sk], interaction.correct, self.params["guess"][sk],
                                 self.params["slip"][sk])
        new[sk] = transition(post, self.params["learn"][sk], self.params["forget"][sk])
        return new

    def trajectory(self, interactions: Sequence[Interaction]) -> np.ndarray:
        """``(len(interactions), n_skills)``: the mastery after each interaction, from
        ``init_state``, as ``update`` then ``mastery`` give it (the same float operations in
        the same order, on Python floats, so the same values); one row copy per answer
        instead of a dozen small numpy calls (a timeline replay, ``analytics.timeline``)."""
        self._require()
        p = self.params
        cur: list[float] = p["prior"].tolist()
        learn, forget = p["learn"].tolist(), p["forget"].tolist()
        guess, slip = p["guess"].tolist(), p["slip"].tolist()
        out = np.empty((len(interactions), len(cur)), dtype=np.float64)
        for k, x in enumerate(interactions):
            correct = bool(x.correct)
            for s in x.skills:
                q = cur[s]
                e_l = 1.0 - slip[s] if correct else slip[s]
                e_u = guess[s] if correct else 1.0 - guess[s]
                post = q * e_l / (q * e_l + (1.0 - q) * e_u)
                cur[s] = post * (1.0 - forget[s]) + (1.0 - post) * learn[s]
            out[k] = cur
        return out

    def replay(self, histories: Sequence[Sequence[Interaction]]) -> list[np.ndarray]:
        """Each history's state as ``update`` reaches it from ``init_state`` (the same float
        operations, so the same values), computed one time step at a time for all the
        histories together: the rebuild after a model switch. O(longest history) numpy steps."""
        vocab = self._require()
        n = len(histories)
        t_max = max((len(h) for h in histories), default=0)
        k = max((len(x.skills) for h in histories for x in h), default=0)
        states = np.tile(self.params["prior"], (n, 1))
        if k:
            sk = np.zeros((n, t_max, k), dtype=np.int64)
            on = np.zeros((n, t_max, k), dtype=bool)
            right = np.zeros((n, t_max), dtype=np.int64)
            for i, h in enumerate(histories):
                for t, x in enumerate(h):
                    sk[i, t, : len(x.skills)] = x.skills
                    on[i, t, : len(x.skills)] = True
                    right[i, t] = x.correct
            bad = sk[on][(sk[on] < 0) | (sk[on] >= vocab.n_skills)]
            if bad.size:
                raise TracingError(
                    f"skill index {int(bad[0])} is outside the vocabulary's {vocab.n_skills} "
                    "skills; map skill ids with the Vocabulary the model was trained with")
            rows = np.broadcast_to(np.arange(n)[:, None], (n, k))
            p = self.params
            for t in range(t_max):
                m = on[:, t]
                b, s = rows[m], sk[:, t][m]
                c = np.broadcast_to(right[:, t, None], (n, k))[m]
                post = posterior_learned(states[b, s], c, p["guess"][s], p["slip"][s])
                states[b, s] = transition(post, p["learn"][s], p["forget"][s])
        return [states[i].copy() for i in range(n)]

    def mastery_many(self, states: Sequence[np.ndarray]) -> np.ndarray:
        """``(len(states), n_skills)``: ``mastery`` of each state."""
        vocab = self._require()
        if not states:
            return np.zeros((0, vocab.n_skills))
        return np.stack([np.asarray(st, dtype=float) for st in states])

    def predict_state(self, state: np.ndarray, items: Sequence[int]) -> np.ndarray:
        self._require()
        table = self._item_skills[np.asarray(items, dtype=np.int64)]
        valid = table >= 0
        sk = np.where(valid, table, 0)
        pl = state[sk]
        pc = pl * (1.0 - self.params["slip"][sk]) + (1.0 - pl) * self.params["guess"][sk]
        if self.combine == "min":
            out = np.where(valid, pc, 1.0).min(axis=1)
        elif self.combine == "product":
            out = np.where(valid, pc, 1.0).prod(axis=1)
        else:
            out = np.where(valid, pc, 0.0).sum(axis=1) / np.maximum(valid.sum(1), 1)
        if not valid.any(axis=1).all():
            out = np.where(valid.any(axis=1), out, self._population_p())
        return np.asarray(out)

    def mastery(self, state: np.ndarray) -> np.ndarray:
        return np.asarray(state, dtype=float).copy()

    # -- persistence ----------------------------------------------------------------------------
    def save(self, path: Path, metadata: dict[str, Any] | None = None) -> None:
        vocab = self._require()
        doc = {
            "format": "learngraph-tracer",
            "model": self.name,
            "version": 1,
            "config": {"n_iter": self.n_iter, "tol": self.tol, "forget": self.forget,
                       "combine": self.combine, "max_guess": self.max_guess,
                       "max_slip": self.max_slip,
                       **{k: v for k, v in self.defaults.items() if k != "forget"}},
            "params": {k: v.tolist() for k, v in self.params.items()},
            "vocab": vocab_to_dict(vocab),
            "metadata": metadata or {},
        }
        atomic_write_text(Path(path), json.dumps(doc))

    @classmethod
    def load(cls, path: Path) -> Self:
        try:
            doc = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise TracingError(f"cannot read BKT model {path}: {exc}") from exc
        if doc.get("model") != cls.name:
            raise TracingError(f"{path} holds a {doc.get('model')!r} model, not 'bkt'")
        model = cls(**doc["config"])
        model.vocab = vocab_from_dict(doc["vocab"])
        model.params = {k: np.asarray(v, dtype=float) for k, v in doc["params"].items()}
        model._build_item_table()
        return model


# --------------------------------------------------------------------------------------------
# EM internals (pure functions over a layout)


def _clipped(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.clip(v, _EPS if k != "forget" else 0.0, 1.0 - _EPS) for k, v in p.items()}


def _forward(lay: _Layout, params: dict[str, np.ndarray]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted P(L) before each answer, filtered P(L) after it, and P(answer | past)."""
    p = _clipped(params)
    rs = lay.rank_skill
    prior, learn, forget = p["prior"][rs], p["learn"][rs], p["forget"][rs]
    guess, slip = p["guess"][rs], p["slip"][rs]
    n_el = len(lay.obs)
    pred, filt, lik = np.empty(n_el), np.empty(n_el), np.empty(n_el)
    cur = prior
    for t, n in enumerate(lay.counts):
        o = lay.offsets[t]
        ob = lay.obs[o : o + n]
        pp = cur[:n]
        e_l = np.where(ob, 1.0 - slip[:n], slip[:n])
        e_u = np.where(ob, guess[:n], 1.0 - guess[:n])
        num = pp * e_l
        c = num + (1.0 - pp) * e_u
        f = num / c
        pred[o : o + n], filt[o : o + n], lik[o : o + n] = pp, f, c
        cur = f * (1.0 - forget[:n]) + (1.0 - f) * learn[:n]
    return pred, filt, lik


def _e_step(lay: _Layout, params: dict[str, np.ndarray], k: int
            ) -> tuple[float, dict[str, np.ndarray]]:
    """Forward-backward; returns the log-likelihood and per-skill expected counts."""
    pred, filt, lik = _forward(lay, params)
    p = _clipped(params)
    rs = lay.rank_skill
    learn, forget = p["learn"][rs], p["forget"][rs]
    n_el = len(lay.obs)
    gamma = filt.copy()  # P(L_t | all answers); equals the filtered value at a row's last step
    xi_ul = np.zeros(n_el)  # expected U -> L transitions out of each step
    xi_lu = np.zeros(n_el)
    t_max = len(lay.counts)
    for t in range(t_max - 2, -1, -1):
        o, m = lay.offsets[t], lay.counts[t + 1]
        o2 = lay.offsets[t + 1]
        f = filt[o : o + m]
        g_next = gamma[o2 : o2 + m]
        p_next = pred[o2 : o2 + m]
        r_l = g_next / np.maximum(p_next, 1e-300)
        r_u = (1.0 - g_next) / np.maximum(1.0 - p_next, 1e-300)
        stay = f * (1.0 - forget[:m]) * r_l
        drop = f * forget[:m] * r_u
        gamma[o : o + m] = stay + drop
        xi_lu[o : o + m] = drop
        xi_ul[o : o + m] = (1.0 - f) * learn[:m] * r_l
    gamma = np.clip(gamma, 0.0, 1.0)
    sk, obs, nxt = lay.skill, lay.obs, lay.has_next
    first = slice(0, int(lay.counts[0]))

    def by_skill(w: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        if where is None:
            return np.bincount(sk, weights=w, minlength=k)
        return np.bincount(sk[where], weights=w[where], minlength=k)

    stats = {
        "rows": np.bincount(sk[first], minlength=k).astype(float),
        "first_l": np.bincount(sk[first], weights=gamma[first], minlength=k),
        "l_from": by_skill(gamma, nxt),
        "u_from": by_skill(1.0 - gamma, nxt),
        "ul": by_skill(xi_ul, nxt),
        "lu": by_skill(xi_lu, nxt),
        "l": by_skill(gamma),
        "u": by_skill(1.0 - gamma),
        "u_correct": by_skill((1.0 - gamma) * obs),
        "l_wrong": by_skill(gamma * ~obs),
    }
    return float(np.log(lik).sum()), stats


def _m_step(st: dict[str, np.ndarray], old: dict[str, np.ndarray], forget: bool,
            max_guess: float, max_slip: float) -> dict[str, np.ndarray]:
    def ratio(a: np.ndarray, b: np.ndarray, fallback: np.ndarray) -> np.ndarray:
        return np.where(b > 1e-12, a / np.maximum(b, 1e-12), fallback)

    return {
        "prior": np.clip(ratio(st["first_l"], st["rows"], old["prior"]), _EPS, 1 - _EPS),
        "learn": np.clip(ratio(st["ul"], st["u_from"], old["learn"]), _EPS, 1 - _EPS),
        "forget": (np.clip(ratio(st["lu"], st["l_from"], old["forget"]), 0.0, 1 - _EPS)
                   if forget else np.zeros_like(old["forget"])),
        "guess": np.clip(ratio(st["u_correct"], st["u"], old["guess"]), _EPS, max_guess),
        "slip": np.clip(ratio(st["l_wrong"], st["l"], old["slip"]), _EPS, max_slip),
    }


def simulate(
    params: dict[str, np.ndarray],
    skills: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Answers of learners following BKT: ``skills[n, t]`` is the skill learner n practises at
    step t; returns ``(correct, learned)`` arrays of the same shape (learned = hidden state
    before the answer)."""
    n, t_len = skills.shape
    k = len(params["prior"])
    state = rng.random((n, k)) < params["prior"][None, :]
    correct = np.zeros((n, t_len), dtype=np.int64)
    learned = np.zeros((n, t_len), dtype=bool)
    rows = np.arange(n)
    for t in range(t_len):
        s = skills[:, t]
        known = state[rows, s]
        p = np.where(known, 1.0 - params["slip"][s], params["guess"][s])
        correct[:, t] = rng.random(n) < p
        learned[:, t] = known
        u = rng.random(n)
        forget = params.get("forget", np.zeros(k))[s]
        state[rows, s] = np.where(known, u >= forget, u < params["learn"][s])
    return correct, learned
