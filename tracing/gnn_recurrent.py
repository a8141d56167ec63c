"""Machinery shared by the recurrent neural tracers (``DKTTracer`` and ``GNNTracer``).

A recurrent tracer is a network that reads a learner's interactions one at a time into a hidden
state ``h`` and scores the next item from ``h``. This module holds what does not depend on the
network: the training loop (windows of the sequences, seeded split by learner, early stopping on
validation AUC), batched prediction, the online surface and the single-file save/load format;
padding and the LSTM/GRU helpers are in ``tracing/gnn_batch.py``. The networks live in
``tracing/dkt.py`` and ``tracing/gnn.py`` and implement :class:`SequenceNet`.

Conventions, for a batch of ``B`` sequences padded to length ``T`` with at most ``K`` skills per
interaction:

- ``Batch.items``: ``(B, T)`` item indices; ``Batch.skills``/``Batch.skill_mask``: ``(B, T, K)``
  skill indices (0-padded) and a 0/1 float mask; ``Batch.correct``: ``(B, T)`` 0/1 floats;
  ``Batch.mask``: ``(B, T)`` True on real interactions.
- ``SequenceNet.forward(batch)`` returns ``(B, T)`` logits of P(correct) for interaction ``t``
  given interactions ``0..t-1`` only, so that evaluation never sees the answer it scores.
- The online path (``start``/``step``/``score``/``mastery``) computes exactly what ``forward``
  computes, one interaction at a time (tested: online == offline).
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
from torch import Tensor, nn

from tracing.base import Interaction, ProgressFn, TracingError, Vocabulary, interaction_skills
from tracing.gnn_batch import (
    Batch,
    NeuralState,
    batches_by_length,
    make_batch,
    roc_auc,
    split_by_learner,
    validate_interaction,
    validate_sequences,
    windows,
)
from tracing.mastery_readout import MasteryReadout

FORMAT = "learngraph-neural-tracer"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Schedule:
    """How a recurrent tracer trains: Adam's step ``lr``, multiplied by ``lr_decay`` after
    every epoch that does not improve the validation AUC, stopping after ``patience`` such
    epochs or ``max_epochs`` in all (the best epoch's weights are kept)."""

    lr: float
    lr_decay: float
    patience: int
    max_epochs: int


class SequenceNet(nn.Module, ABC):
    """What a recurrent tracer network provides (see the module docstring)."""

    @abstractmethod
    def forward(self, batch: Batch) -> Tensor:
        """``(B, T)`` logits, interaction ``t`` scored from interactions ``< t``."""

    @abstractmethod
    def start(self) -> NeuralState:
        """The state before any answer."""

    @abstractmethod
    def step(self, state: NeuralState, x: Interaction, skills: tuple[int, ...]) -> NeuralState:
        """The state after reading one answer (must not modify ``state``)."""

    @abstractmethod
    def score(self, state: NeuralState, items: Tensor) -> Tensor:
        """``(len(items),)`` logits for the next answer to each of ``items``."""

    @abstractmethod
    def mastery_logits(self, state: NeuralState) -> Tensor:
        """``(n_skills,)`` logits of P(mastered) for every skill."""

    def penalty(self) -> Tensor | None:
        """A regularisation term added to each batch's loss (None: none)."""
        return None

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Called after training/loading, in eval mode: cache what the online path reuses."""

    def replay_batch(self, batch: Batch, lengths: Sequence[int]) -> list[NeuralState]:
        """The states ``step`` reaches from ``start`` over each row of ``batch`` (row ``b``:
        its first ``lengths[b] >= 1`` interactions), computed in one recurrent pass."""
        raise TracingError(f"{type(self).__name__} has no batched replay; use step()")

    def mastery_logits_many(self, states: Sequence[NeuralState]) -> Tensor:
        """``(len(states), n_skills)``: :meth:`mastery_logits` of each state (networks may
        compute it in one pass)."""
        return torch.stack([self.mastery_logits(s).view(-1) for s in states])


class RecurrentTracer(ABC):
    """Shared ``Tracer`` surface (fit / predict / online state / save / load) over a
    :class:`SequenceNet`. Subclasses set ``name`` and build their network."""

    name: str = ""

    def __init__(
        self,
        *,
        lr: float,
        batch_size: int,
        window: int,
        max_epochs: int,
        patience: int,
        valid_fraction: float,
        weight_decay: float,
        grad_clip: float,
        num_threads: int,
        lr_decay: float = 1.0,
    ) -> None:
        if not 0.0 < lr_decay <= 1.0:
            raise TracingError(f"lr_decay={lr_decay} must be in (0, 1] (1: constant rate)")
        if lr <= 0 or batch_size < 1 or window < 2 or max_epochs < 1 or patience < 1:
            raise TracingError(
                f"bad training settings lr={lr}, batch_size={batch_size}, window={window}, "
                f"max_epochs={max_epochs}, patience={patience}: need lr > 0, batch_size >= 1, "
                "window >= 2, max_epochs >= 1, patience >= 1"
            )
        if not 0 <= valid_fraction < 1:
            raise TracingError(f"valid_fraction={valid_fraction} must be in [0, 1)")
        self.lr = lr
        self.batch_size = batch_size
        self.window = window
        self.max_epochs = max_epochs
        self.patience = patience
        self.valid_fraction = valid_fraction
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.num_threads = num_threads
        self.lr_decay = lr_decay
        self.net: SequenceNet | None = None
        self.vocab: Vocabulary | None = None
        self.history: list[dict[str, float]] = []
        self.fit_info: dict[str, Any] = {}
        #: maps the network's predicted P(correct) per skill to the served mastery (None:
        #: served as predicted); fitted with the network, saved with it
        self.readout: MasteryReadout | None = None
        #: the BKT beside the network when the read-out has a fallback: its P(L) vector is
        #: the last entry of every state's ``aux``
        self.fallback: Any | None = None

    # -- what subclasses provide -------------------------------------------------------------
    @abstractmethod
    def hyperparameters(self) -> dict[str, Any]:
        """Constructor arguments, JSON-serialisable, such that ``cls(**h)`` rebuilds self."""

    @abstractmethod
    def build_net(
        self, vocab: Vocabulary, train: Sequence[Sequence[Interaction]] | None,
        extra: dict[str, Any],
    ) -> SequenceNet:
        """Build the network for ``vocab``. At fit time ``train`` holds the training
        sequences and the subclass may record data-derived structure in ``extra`` (saved in
        the metadata); at load time ``train`` is None and ``extra`` is what was saved."""

    def fit_mastery_readout(
        self, sequences: Sequence[Sequence[Interaction]], vocab: Vocabulary
    ) -> MasteryReadout | None:
        """The mastery read-out to serve, fitted on the training ``sequences`` after the
        network (``tracing/mastery_readout.py``); None (the default) serves the predicted
        P(correct) of each skill as its mastery."""
        return None

    def schedule(self, vocab: Vocabulary) -> Schedule:
        """The schedule :meth:`fit` follows on ``vocab``: the constructor's settings (a
        subclass may choose by the data)."""
        return Schedule(self.lr, self.lr_decay, self.patience, self.max_epochs)

    # -- training ----------------------------------------------------------------------------
    def _threads(self) -> None:
        if torch.get_num_threads() > self.num_threads:
            torch.set_num_threads(self.num_threads)

    def fit(
        self,
        sequences: Sequence[Sequence[Interaction]],
        vocab: Vocabulary,
        *,
        seed: int = 0,
        progress: ProgressFn | None = None,
    ) -> Self:
        seqs = [s for s in sequences if len(s) > 0]
        if not seqs:
            raise TracingError("fit got no interactions; pass at least one non-empty sequence")
        validate_sequences(seqs, vocab)
        self._threads()
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        tr_idx, va_idx = split_by_learner(len(seqs), self.valid_fraction, rng)
        train = [seqs[i] for i in tr_idx]
        valid = [seqs[i] for i in va_idx]
        self.vocab = vocab
        sch = self.schedule(vocab)
        extra: dict[str, Any] = {}
        net = self.build_net(vocab, train, extra)
        self._extra = extra
        self.net = net
        opt = torch.optim.Adam(net.parameters(), lr=sch.lr, weight_decay=self.weight_decay)
        pieces = windows(train, self.window)
        n_batches = math.ceil(len(pieces) / self.batch_size)
        best_auc, best_state, best_epoch, bad_epochs = -1.0, None, 0, 0
        self.history = []
        for epoch in range(1, sch.max_epochs + 1):
            net.train()
            total, count = 0.0, 0
            for bi, idx in enumerate(batches_by_length(pieces, self.batch_size, rng)):
                batch = make_batch([pieces[i] for i in idx], vocab)
                logits = net(batch)
                loss = nn.functional.binary_cross_entropy_with_logits(
                    logits[batch.mask], batch.correct[batch.mask]
                )
                reg = net.penalty()
                if reg is not None:
                    loss = loss + reg
                opt.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                if self.grad_clip > 0:
                    nn.utils.clip_grad_norm_(net.parameters(), self.grad_clip)
                opt.step()
                total += float(loss.detach()) * int(batch.mask.sum())
                count += int(batch.mask.sum())
                if progress is not None and (bi % 20 == 0 or bi == n_batches - 1):
                    done = (epoch - 1 + (bi + 1) / n_batches) / sch.max_epochs
                    progress(f"{self.name} epoch {epoch} batch {bi + 1}/{n_batches}", done)
            record = {"epoch": float(epoch), "train_loss": total / max(count, 1)}
            if valid:
                y = np.concatenate([np.array([x.correct for x in s]) for s in valid])
                p = np.concatenate(self.predict_sequences(valid))
                auc = roc_auc(y, p)
                record["valid_auc"] = auc
                if auc > best_auc + 1e-5:
                    best_auc, best_epoch, bad_epochs = auc, epoch, 0
                    best_state = copy.deepcopy(net.state_dict())
                else:
                    bad_epochs += 1
                    for group in opt.param_groups:  # a plateau: a smaller step from here
                        group["lr"] *= sch.lr_decay
            self.history.append(record)
            if progress is not None:
                shown = ", ".join(f"{k}={v:.4f}" for k, v in record.items() if k != "epoch")
                progress(f"{self.name} epoch {epoch}: {shown}", epoch / sch.max_epochs)
            if valid and bad_epochs >= sch.patience:
                break
        if best_state is not None:
            net.load_state_dict(best_state)
        self.fit_info = {
            "seed": seed,
            "n_train_learners": len(train),
            "n_valid_learners": len(valid),
            "n_train_interactions": sum(len(s) for s in train),
            "best_epoch": best_epoch or len(self.history),
            "best_valid_auc": best_auc if valid else None,
            "epochs_run": len(self.history),
            "schedule": asdict(sch),
        }
        net.eval()
        net.prepare()
        self._use_readout(self.fit_mastery_readout(seqs, vocab), vocab)
        if self.readout is not None:
            extra["mastery_readout"] = self.readout.to_dict()
        return self

    def _use_readout(self, readout: MasteryReadout | None, vocab: Vocabulary) -> None:
        self.readout = readout
        self.fallback = (readout.fallback_tracer(vocab)
                         if readout is not None and readout.has_fallback else None)

    def _with_fallback(self, st: NeuralState, p_learned: np.ndarray | None) -> NeuralState:
        """``st`` with the fallback BKT's P(L) appended to its ``aux`` (``st`` itself when
        the model has no fallback)."""
        if self.fallback is None or p_learned is None:
            return st
        return NeuralState(st.rnn, (*st.aux, p_learned), st.n_seen)

    def _fallback_of(self, st: NeuralState) -> np.ndarray | None:
        return None if self.fallback is None else np.asarray(st.aux[-1])

    def _served(self, p: np.ndarray, fallback: np.ndarray | None) -> np.ndarray:
        return p if self.readout is None else self.readout.apply(p, fallback)

    # -- prediction ----------------------------------------------------------------------------
    def _require(self) -> tuple[SequenceNet, Vocabulary]:
        if self.net is None or self.vocab is None:
            raise TracingError(f"{self.name} tracer is not fitted; call fit() or load() first")
        return self.net, self.vocab

    def predict_sequences(self, sequences: Sequence[Sequence[Interaction]]) -> list[np.ndarray]:
        net, vocab = self._require()
        validate_sequences(sequences, vocab)
        self._threads()
        was_training = net.training
        net.eval()
        out: list[np.ndarray] = [np.zeros(0, dtype=np.float64)] * len(sequences)
        nonempty = [i for i, s in enumerate(sequences) if len(s) > 0]
        with torch.inference_mode():
            for idx in batches_by_length([sequences[i] for i in nonempty], self.batch_size, None):
                rows = [nonempty[i] for i in idx]
                batch = make_batch([sequences[r] for r in rows], vocab)
                prob = torch.sigmoid(net(batch)).double().numpy()
                for j, r in enumerate(rows):
                    out[r] = prob[j, : len(sequences[r])].copy()
        net.train(was_training)
        return out

    def replay(self, histories: Sequence[Sequence[Interaction]]) -> list[NeuralState]:
        """Each history's state, as ``update`` reaches it from ``init_state`` one interaction
        at a time (equal to float tolerance), but a batch of learners per recurrent pass
        (``batch_size`` histories of similar length): the rebuild after a model switch
        (``tracing.store_train.rebuild_states``). An empty history gives ``init_state()``."""
        net, vocab = self._require()
        validate_sequences(histories, vocab)
        self._threads()
        out: list[NeuralState | None] = [None] * len(histories)
        nonempty = [i for i, s in enumerate(histories) if len(s) > 0]
        with torch.inference_mode():
            for idx in batches_by_length([histories[i] for i in nonempty], self.batch_size,
                                         None):
                rows = [nonempty[i] for i in idx]
                seqs = [histories[r] for r in rows]
                states = net.replay_batch(make_batch(seqs, vocab), [len(s) for s in seqs])
                for r, st in zip(rows, states, strict=True):
                    out[r] = st
            done = [net.start() if st is None else st for st in out]
        if self.fallback is None:
            return done
        learned = self.fallback.replay([[self._resolved(x) for x in h] for h in histories])
        return [self._with_fallback(st, b) for st, b in zip(done, learned, strict=True)]

    def _resolved(self, x: Interaction) -> Interaction:
        _, vocab = self._require()
        return Interaction(x.item, interaction_skills(x, vocab), x.correct, x.timestamp)

    def init_state(self) -> NeuralState:
        net, _ = self._require()
        with torch.inference_mode():
            st = net.start()
        return self._with_fallback(
            st, None if self.fallback is None else self.fallback.init_state())

    def update(self, state: NeuralState, interaction: Interaction) -> NeuralState:
        net, vocab = self._require()
        validate_interaction(interaction, vocab)
        with torch.inference_mode():
            st = net.step(state, interaction, interaction_skills(interaction, vocab))
        if self.fallback is None:
            return st
        before = self._fallback_of(state)
        return self._with_fallback(st, self.fallback.update(before, self._resolved(interaction)))

    def predict_state(self, state: NeuralState, items: Sequence[int]) -> np.ndarray:
        net, vocab = self._require()
        bad = [i for i in items if not 0 <= i < vocab.n_items]
        if bad:
            raise TracingError(
                f"item index {bad[0]} is outside the vocabulary's {vocab.n_items} items; "
                "map item ids with the Vocabulary the model was trained with"
            )
        with torch.inference_mode():
            logits = net.score(state, torch.as_tensor(list(items), dtype=torch.long))
        return torch.sigmoid(logits).double().numpy()

    def mastery(self, state: NeuralState) -> np.ndarray:
        """P(mastered) of every skill: the predicted P(correct) on each skill's canonical
        item, through :attr:`readout` when the model has one (blended with the fallback
        BKT's P(L) where the read-out has a fallback)."""
        net, _ = self._require()
        with torch.inference_mode():
            p = torch.sigmoid(net.mastery_logits(state)).double().numpy()
        return self._served(p, self._fallback_of(state))

    def mastery_many(self, states: Sequence[NeuralState]) -> np.ndarray:
        """``(len(states), n_skills)``: row ``i`` equals ``mastery(states[i])`` (to float
        tolerance), computed ``batch_size`` states per pass."""
        net, vocab = self._require()
        self._threads()
        if not states:
            return np.zeros((0, vocab.n_skills))
        with torch.inference_mode():
            parts = [torch.sigmoid(net.mastery_logits_many(states[i : i + self.batch_size]))
                     for i in range(0, len(states), self.batch_size)]
            p = torch.cat(parts).double().numpy()
        fb = None if self.fallback is None else np.stack([np.asarray(st.aux[-1]) for st in states])
        return self._served(p, fb)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path: Path, metadata: dict[str, Any] | None = None) -> None:
        """Write one file atomically: the torch state dict plus JSON metadata (model name,
        format version, hyperparameters, vocabulary, data-derived structure, fit summary and
        the caller's ``metadata``, e.g. data used and metrics)."""
        net, vocab = self._require()
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model": self.name,
            "hyperparameters": self.hyperparameters(),
            "vocabulary": {
                "item_ids": list(vocab.item_ids),
                "skill_ids": list(vocab.skill_ids),
                "item_skills": [list(s) for s in vocab.item_skills],
                "prerequisites": [list(e) for e in vocab.prerequisites],
            },
            "extra": getattr(self, "_extra", {}),
            "fit": self.fit_info,
            "history": self.history,
            "metadata": metadata or {},
        }
        buf = io.BytesIO()
        torch.save({"meta_json": json.dumps(meta), "state_dict": net.state_dict()}, buf)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(buf.getvalue())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> Self:
        meta, state_dict = read_model_file(Path(path))
        if meta.get("model") != cls.name:
            raise TracingError(
                f"{path} holds a {meta.get('model')!r} model, not {cls.name!r}; "
                f"load it with the {meta.get('model')!r} tracer class"
            )
        tracer = cls(**meta["hyperparameters"])
        v = meta["vocabulary"]
        tracer.vocab = Vocabulary(
            item_ids=tuple(v["item_ids"]),
            skill_ids=tuple(v["skill_ids"]),
            item_skills=tuple(tuple(s) for s in v["item_skills"]),
            prerequisites=tuple((int(a), int(b)) for a, b in v["prerequisites"]),
        )
        tracer._extra = meta.get("extra", {})
        tracer.net = tracer.build_net(tracer.vocab, None, tracer._extra)
        tracer.net.load_state_dict(state_dict)
        tracer.fit_info = meta.get("fit", {})
        tracer.history = meta.get("history", [])
        saved = tracer._extra.get("mastery_readout")
        tracer._use_readout(MasteryReadout.from_dict(saved) if saved is not None else None,
                            tracer.vocab)
        tracer.net.eval()
        tracer.net.prepare()
        return tracer


def read_model_file(path: Path) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """``(metadata, state_dict)`` of a saved neural tracer; typed errors for bad files."""
    if not path.is_file():
        raise TracingError(f"model file {path} does not exist; train one with fit() + save()")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        meta = json.loads(blob["meta_json"])
        state_dict = blob["state_dict"]
    except Exception as exc:  # any unreadable file is the same user error
        raise TracingError(f"{path} is not a learngraph neural tracer file ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise TracingError(f"{path} has format {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("version") != FORMAT_VERSION:
        raise TracingError(
            f"{path} has format version {meta.get('version')}, this code reads "
            f"{FORMAT_VERSION}; retrain the model or use a matching learngraph release"
        )
    return meta, state_dict
