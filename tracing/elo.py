"""Elo / one-parameter IRT, updated online, with per-skill abilities.

Papers: Pelánek, "Applications of the Elo rating system in adaptive educational systems",
Computers & Education 98 (2016), and Papoušek, Pelánek & Stanislav, "Adaptive practice of
facts in domains with varied prior knowledge" (EDM 2014) for the uncertainty function; the
per-skill abilities follow the "Elo per knowledge component" variants discussed by Pelánek.

A learner has a global ability ``theta``, an offset ``theta_k`` per skill and a count ``n_k``
of answers per skill; an item has a difficulty ``d_i``; ``gamma`` is a population practice
effect (a learning curve, as in the additive factors model, Cen et al. 2006). For an item with
skills ``S_i``:

.. math::
    P(\\text{correct}) = \\sigma\\big(\\theta + \\tfrac{1}{|S_i|} \\textstyle\\sum_{k \\in S_i}
    (\\theta_k + \\gamma \\log(1 + n_k)) - d_i\\big)

After an answer ``c`` with error ``e = c - P``:

.. math::
    \\theta \\mathrel{+}= K(n)\\,e, \\quad \\theta_k \\mathrel{+}= K(n_k)\\,e / |S_i|, \\quad
    d_i \\mathrel{-}= K(n_i)\\,e \\;(\\text{training only}), \\quad K(n) = \\frac{a}{1 + b\\,n}

where ``n`` counts the answers behind each estimate: the uncertainty function makes early
estimates move fast and settled ones slowly.

Training runs Elo over the training learners (``n_epochs`` passes; learners restart each pass,
item difficulties carry over). All learners advance one step at a time together (learners
sorted by length, so the ones still answering at step ``t`` are a prefix), which vectorises the
pass; the learners answering one item at the same step give it one Elo step with their mean
error. After each pass every item takes one Newton step of its likelihood given the abilities
Elo tracked (towards ``sum(c - P) = 0`` over its answers), and ``theta0``, a new learner's
ability, is set to match the training learners' first answers; ``gamma`` takes one Newton
step too (``learning=True``). Items and ``gamma`` are frozen afterwards: evaluation and serving
update learners only.

Without the practice term (``learning=False``) Elo has no way to expect improvement, so on
skill-builder data (ASSISTments) its predictions after the first answers run low: on a
validation fold the term raised AUC from 0.685 to 0.712 (5 passes).

Cold start: an item with no training answers gets the mean difficulty of trained items sharing
its skills (else the mean of all items). A new learner starts at ``theta0``, the ability that
matches the first answers of training learners.

Offline (``fit``, ``predict_sequences``) an answer is scored and counted on its item's row of
the Q-matrix; online ``update`` counts it on the interaction's own skills (the same, except
for proxies of items the model has never seen). On assist2017-pid, where problems are tagged
differently in different rows, the Q-matrix row (the union of the tags) scored better than
each answer's own tags (AUC 0.701 vs 0.697, fold 1).

Calibration (``calibration="isotonic"``, the default, or ``"platt"``; ``tracing/calibration.py``):
Elo's probabilities are miscalibrated on question-level data (ECE 0.035 on assist2017-pid
fold 1). ``fit`` first runs Elo on the training learners less a seeded ``valid_fraction`` of
them, fits the calibration map on the held-out learners' predictions, then fits Elo on all the
training learners and keeps the map. The map applies to what the model outputs
(``predict_sequences``, ``predict_state``, ``mastery``); ``update`` moves the learner with the
uncalibrated Elo probability, the quantity its dynamics were fitted with.

State: ``[theta, n, theta_1..theta_K, n_1..n_K]``, shape ``(2 + 2K,)``.
Mastery of skill k: P(correct) on an item of skill k's mean difficulty,
``sigma(theta + theta_k + gamma log(1 + n_k) - mean d_k)``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from tracing.base import Interaction, ProgressFn, TracingError, Vocabulary
from tracing.calibration import METHODS, Calibrator, fit_calibrator
from tracing.data import vocab_from_dict, vocab_to_dict
from tracing.registry import atomic_write_text


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def k_factor(n: np.ndarray | float, a: float, b: float) -> np.ndarray:
    """The uncertainty function ``a / (1 + b n)`` (pure)."""
    return np.asarray(a / (1.0 + b * np.asarray(n, dtype=float)))


class EloTracer:
    """Online Elo / 1PL IRT with per-skill learner abilities.

    Args:
        a_learner, b_learner: K for the global ability, ``a / (1 + b n)`` (default 1.0, 0.05).
        a_skill, b_skill: K for the per-skill offsets (default 0.8, 0.1).
        a_item, b_item: K for item difficulty during training (default 1.0, 0.05).
        n_epochs: training passes over the learners (default 5).
        learning: fit the practice effect ``gamma`` (default True; False: gamma = 0).
        calibration: ``"isotonic"`` (default), ``"platt"`` or None: the post-hoc map fitted on
            held-out training learners (see the module docstring).
        valid_fraction: the share of training learners held out to fit it (default 0.1).
    """

    name = "elo"

    def __init__(
        self,
        *,
        a_learner: float = 1.0,
        b_learner: float = 0.05,
        a_skill: float = 0.8,
        b_skill: float = 0.1,
        a_item: float = 1.0,
        b_item: float = 0.05,
        n_epochs: int = 5,
        learning: bool = True,
        calibration: str | None = "isotonic",
        valid_fraction: float = 0.1,
    ) -> None:
        if calibration is not None and calibration not in METHODS:
            raise TracingError(f"calibration={calibration!r} is unknown; use one of "
                               f"{', '.join(METHODS)} or None")
        if not 0.0 < valid_fraction < 1.0:
            raise TracingError(f"valid_fraction={valid_fraction} must be strictly between 0 "
                               "and 1")
        self.config: dict[str, Any] = {
            "a_learner": a_learner, "b_learner": b_learner, "a_skill": a_skill,
            "b_skill": b_skill, "a_item": a_item, "b_item": b_item,
            "n_epochs": n_epochs, "learning": learning,
            "calibration": calibration, "valid_fraction": valid_fraction,
        }
        self.calibrator: Calibrator | None = None
        self.fit_info: dict[str, Any] = {}
        self.vocab: Vocabulary | None = None
        self.difficulty = np.zeros(0)
        self.item_count = np.zeros(0)
        self._item_steps = np.zeros(0)
        self._acc_err = np.zeros(0)
        self._acc_w = np.zeros(0)
        self._acc_g = np.zeros(2)
        self.theta0 = 0.0
        self.practice = 0.0
        self._table = np.zeros((0, 1), dtype=np.int64)
        self._skill_difficulty = np.zeros(0)

    # -- setup ---------------------------------------------------------------------------------
    def with_vocab(self, vocab: Vocabulary) -> Self:
        """An untrained model: every item of difficulty 0, learners start at ability 0."""
        self.vocab = vocab
        self.difficulty = np.zeros(vocab.n_items)
        self.item_count = np.zeros(vocab.n_items)
        self._item_steps = np.zeros(vocab.n_items)
        self._acc_err = np.zeros(vocab.n_items)
        self._acc_w = np.zeros(vocab.n_items)
        self.theta0 = 0.0
        self.practice = 0.0
        self._derive()
        return self

    def _derive(self) -> None:
        assert self.vocab is not None
        v = self.vocab
        width = max((len(s) for s in v.item_skills), default=1) or 1
        table = np.full((v.n_items, width), -1, dtype=np.int64)
        for i, row in enumerate(v.item_skills):
            table[i, : len(row)] = row
        self._table = table
        valid = table >= 0
        rows = np.repeat(np.arange(v.n_items), valid.sum(1))
        sk = table[valid]
        d_sum = np.bincount(sk, weights=self.difficulty[rows], minlength=v.n_skills)
        d_cnt = np.bincount(sk, minlength=v.n_skills)
        mean_all = float(self.difficulty.mean()) if v.n_items else 0.0
        self._skill_difficulty = np.where(d_cnt > 0, d_sum / np.maximum(d_cnt, 1), mean_all)

    def _require(self) -> Vocabulary:
        if self.vocab is None:
            raise TracingError("the Elo model has no parameters yet; call fit() or "
                               "with_vocab() first")
        return self.vocab

    # -- the vectorised pass ------------------------------------------------------------------
    def _run(self, sequences: Sequence[Sequence[Interaction]], train: bool) -> list[np.ndarray]:
        v = self._require()
        c = self.config
        lengths = np.array([len(s) for s in sequences], dtype=np.int64)
        n_seq = len(sequences)
        order = np.argsort(-lengths, kind="stable")
        sorted_len = lengths[order]
        t_max = int(sorted_len[0]) if n_seq else 0
        asc = sorted_len[::-1]
        counts = n_seq - np.searchsorted(asc, np.arange(t_max), side="right")
        items = np.zeros(int(lengths.sum()), dtype=np.int64)
        correct = np.zeros(len(items))
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        for rank, s in enumerate(order):
            for t, x in enumerate(sequences[s]):
                items[offsets[t] + rank] = x.item
                correct[offsets[t] + rank] = x.correct
        if len(items) and int(items.max()) >= v.n_items:
            raise TracingError("an interaction names an item outside the model's vocabulary; "
                               "read the test file with the train file's vocabulary")
        preds = np.zeros(len(items))
        theta = np.full(n_seq, self.theta0)
        n_l = np.zeros(n_seq)
        theta_k = np.zeros((n_seq, v.n_skills))
        n_k = np.zeros((n_seq, v.n_skills))
        for t, n in enumerate(counts):
            o = offsets[t]
            it = items[o : o + n]
            ob = correct[o : o + n]
            sk = self._table[it]
            valid = sk >= 0
            skc = np.where(valid, sk, 0)
            rows = np.arange(n)[:, None]
            n_valid = np.maximum(valid.sum(1), 1)
            tk = (theta_k[rows, skc] * valid).sum(1) / n_valid
            g = (np.log1p(n_k[rows, skc]) * valid).sum(1) / n_valid
            p = sigmoid(theta[:n] + tk + self.practice * g - self.difficulty[it])
            preds[o : o + n] = p
            err = ob - p
            theta[:n] += k_factor(n_l[:n], c["a_learner"], c["b_learner"]) * err
            n_l[:n] += 1
            ks = k_factor(n_k[rows, skc], c["a_skill"], c["b_skill"])
            # add.at: padding slots alias skill 0 and must add nothing, not overwrite it
            rows_b = np.broadcast_to(rows, skc.shape)
            np.add.at(theta_k, (rows_b, skc), np.where(valid, ks * (err / n_valid)[:, None], 0.0))
            np.add.at(n_k, (rows_b, skc), valid)
            if train:
                # many learners answer the same item at step t: one Elo step per item with
                # their mean error (summing their errors would overshoot)
                cnt = np.bincount(it, minlength=v.n_items)
                hit = cnt > 0
                mean_err = np.bincount(it, weights=err, minlength=v.n_items)[hit] / cnt[hit]
                self.difficulty[hit] -= k_factor(
                    self._item_steps[hit], c["a_item"], c["b_item"]) * mean_err
                self._item_steps[hit] += 1
                self.item_count += cnt
                self._acc_err += np.bincount(it, weights=err, minlength=v.n_items)
                self._acc_w += np.bincount(it, weights=p * (1.0 - p), minlength=v.n_items)
                self._acc_g += (float((err * g).sum()), float((p * (1.0 - p) * g * g).sum()))
        out: list[np.ndarray] = [np.zeros(0)] * n_seq
        for rank, s in enumerate(order):
            out[s] = preds[offsets[: lengths[s]] + rank]
        return out

    # -- Tracer surface ------------------------------------------------------------------------
    def fit(
        self,
        sequences: Sequence[Sequence[Interaction]],
        vocab: Vocabulary,
        *,
        seed: int = 0,
        progress: ProgressFn | None = None,
    ) -> Self:
        """Elo passes over the training learners, then (with ``calibration``) the map fitted
        on a ``seed``-chosen validation fold of them (see the module docstring)."""
        method = self.config["calibration"]
        self.calibrator = None
        self.fit_info = {}
        seqs = [s for s in sequences if len(s) > 0]
        if method is not None and len(seqs) >= 2:
            order = np.random.default_rng(seed).permutation(len(seqs))
            n_valid = min(max(1, round(len(seqs) * float(self.config["valid_fraction"]))),
                          len(seqs) - 1)
            valid = [seqs[i] for i in sorted(order[:n_valid].tolist())]
            train = [seqs[i] for i in sorted(order[n_valid:].tolist())]
            self._fit_elo(train, vocab, progress, "validation fit, ")
            y = np.fromiter((x.correct for q in valid for x in q), dtype=float)
            p = np.concatenate(self._run(valid, train=False))
            if y.min() < y.max():
                from tracing.metrics import auc, expected_calibration_error

                cal = fit_calibrator(y, p, str(method))
                self.fit_info = {
                    "calibration": cal.method, "n_valid_learners": len(valid),
                    "best_valid_auc": auc(y, p),
                    "valid_ece_before": expected_calibration_error(y, p),
                    "valid_ece_after": expected_calibration_error(y, cal.apply(p)),
                }
                self.calibrator = cal
        self._fit_elo(sequences, vocab, progress, "")
        return self

    def _fit_elo(self, sequences: Sequence[Sequence[Interaction]], vocab: Vocabulary,
                 progress: ProgressFn | None, label: str) -> None:
        self.with_vocab(vocab)
        epochs = int(self.config["n_epochs"])
        for e in range(epochs):
            self._acc_err = np.zeros(vocab.n_items)
            self._acc_w = np.zeros(vocab.n_items)
            self._acc_g = np.zeros(2)
            self._run(sequences, train=True)
            if self.config["learning"]:  # Newton step for the practice effect
                self.practice += float(np.clip(self._acc_g[0] / max(self._acc_g[1], 1e-9),
                                               -1.0, 1.0))
            # maximum-likelihood correction of each item given the abilities Elo tracked:
            # one Newton step towards sum(correct - P) = 0 over all the item's answers
            step = self._acc_err / np.maximum(self._acc_w, 1e-9)
            self.difficulty -= np.clip(np.where(self._acc_w > 0, step, 0.0), -2.0, 2.0)
            # a new learner's ability: the one that matches training learners' first answers
            firsts = [s[0] for s in sequences if s]
            if firsts:
                rate = float(np.clip(np.mean([x.correct for x in firsts]), 0.01, 0.99))
                d_first = float(np.mean(self.difficulty[[x.item for x in firsts]]))
                self.theta0 = float(np.log(rate / (1 - rate)) + d_first)
            if progress is not None:
                progress(f"Elo {label}pass {e + 1}/{epochs}", (e + 1) / epochs)
        trained = self.item_count > 0
        self._derive_cold(trained)

    def _out(self, p: np.ndarray) -> np.ndarray:
        """What the model outputs for Elo probability ``p``: calibrated when fitted so."""
        return p if self.calibrator is None else self.calibrator.apply(p)

    def _derive_cold(self, trained: np.ndarray) -> None:
        """Give untrained items the mean difficulty of trained items sharing their skills."""
        v = self._require()
        if trained.all() or not trained.any():
            self._derive()
            return
        valid = self._table >= 0
        rows = np.repeat(np.arange(v.n_items), valid.sum(1))
        sk = self._table[valid]
        w = trained[rows].astype(float)
        d_sum = np.bincount(sk, weights=self.difficulty[rows] * w, minlength=v.n_skills)
        d_cnt = np.bincount(sk, weights=w, minlength=v.n_skills)
        mean_all = float(self.difficulty[trained].mean())
        per_skill = np.where(d_cnt > 0, d_sum / np.maximum(d_cnt, 1e-12), mean_all)
        for i in np.flatnonzero(~trained):
            s = self._table[i][self._table[i] >= 0]
            self.difficulty[i] = float(per_skill[s].mean()) if len(s) else mean_all
        self._derive()

    def predict_sequences(self, sequences: Sequence[Sequence[Interaction]]) -> list[np.ndarray]:
        return [self._out(p) for p in self._run(sequences, train=False)]

    def init_state(self) -> np.ndarray:
        v = self._require()
        state = np.zeros(2 + 2 * v.n_skills)
        state[0] = self.theta0
        return state

    def _split(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = self._require().n_skills
        return state[2 : 2 + k], state[2 + k :]

    def update(self, state: np.ndarray, interaction: Interaction) -> np.ndarray:
        """One Elo step for the learner (items stay frozen): O(skills of the item)."""
        c = self.config
        new = state.copy()
        theta_k, n_k = self._split(new)
        sk = np.asarray(interaction.skills, dtype=np.int64)
        p = float(self._raw_predict(state, [interaction.item])[0])
        err = interaction.correct - p
        new[0] += float(k_factor(new[1], c["a_learner"], c["b_learner"])) * err
        new[1] += 1
        if len(sk):
            theta_k[sk] += k_factor(n_k[sk], c["a_skill"], c["b_skill"]) * err / len(sk)
            n_k[sk] += 1
        return new

    def predict_state(self, state: np.ndarray, items: Sequence[int]) -> np.ndarray:
        return self._out(self._raw_predict(state, items))

    def _raw_predict(self, state: np.ndarray, items: Sequence[int]) -> np.ndarray:
        """Elo's P(correct) of ``items``, uncalibrated."""
        theta_k, _ = self._split(state)
        it = np.asarray(items, dtype=np.int64)
        sk = self._table[it]
        valid = sk >= 0
        skc = np.where(valid, sk, 0)
        n_valid = np.maximum(valid.sum(1), 1)
        tk = (theta_k[skc] * valid).sum(1) / n_valid
        _, n_k = self._split(state)
        tk = tk + self.practice * (np.log1p(n_k[skc]) * valid).sum(1) / n_valid
        return sigmoid(state[0] + tk - self.difficulty[it])

    def mastery(self, state: np.ndarray) -> np.ndarray:
        theta_k, n_k = self._split(state)
        return self._out(sigmoid(state[0] + theta_k + self.practice * np.log1p(n_k)
                                 - self._skill_difficulty))

    # -- persistence -----------------------------------------------------------------------------
    def save(self, path: Path, metadata: dict[str, Any] | None = None) -> None:
        vocab = self._require()
        doc = {
            "format": "learngraph-tracer", "model": self.name, "version": 1,
            "config": self.config, "theta0": self.theta0, "practice": self.practice,
            "difficulty": self.difficulty.tolist(), "item_count": self.item_count.tolist(),
            "vocab": vocab_to_dict(vocab), "metadata": metadata or {},
            "calibrator": None if self.calibrator is None else self.calibrator.to_dict(),
            "fit": self.fit_info,
        }
        atomic_write_text(Path(path), json.dumps(doc))

    @classmethod
    def load(cls, path: Path) -> Self:
        try:
            doc = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise TracingError(f"cannot read Elo model {path}: {exc}") from exc
        if doc.get("model") != cls.name:
            raise TracingError(f"{path} holds a {doc.get('model')!r} model, not 'elo'")
        model = cls(**doc["config"])
        model.vocab = vocab_from_dict(doc["vocab"])
        model.difficulty = np.asarray(doc["difficulty"], dtype=float)
        model.item_count = np.asarray(doc["item_count"], dtype=float)
        model.theta0 = float(doc["theta0"])
        model.practice = float(doc.get("practice", 0.0))
        cal = doc.get("calibrator")
        model.calibrator = None if cal is None else Calibrator.from_dict(cal)
        model.fit_info = doc.get("fit", {})
        model._derive()
        return model
