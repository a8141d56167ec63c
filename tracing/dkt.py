r"""Deep Knowledge Tracing (DKT).

Paper: C. Piech, J. Bassen, J. Huang, S. Ganguli, M. Sahami, L. Guibas, J. Sohl-Dickstein,
"Deep Knowledge Tracing", NeurIPS 2015.

A recurrent network reads a learner's answers as one-hot (skill, correct) pairs and outputs, after
each answer, one probability of a correct next answer per skill:

.. math::
    \mathbf{x}_t &= \sum_{s \in S(q_t)} \mathbf{E}[2s + r_t]
        \qquad \text{(one-hot of (skill, correct), times a learned matrix)} \\
    \mathbf{h}_t &= \mathrm{LSTM}(\mathbf{x}_t, \mathbf{h}_{t-1}), \qquad \mathbf{h}_{-1} = 0 \\
    \mathbf{y}_t &= \mathbf{W}\,\mathrm{dropout}(\mathbf{h}_{t}) + \mathbf{b}
        \in \mathbb{R}^{|S|} \\
    P(r_{t+1} = 1) &= \sigma\Big(\tfrac{1}{|S(q_{t+1})|} \sum_{s \in S(q_{t+1})} y_{t,s}\Big)

A multi-skill item is one input (the sum of its skills' one-hots) and one prediction (the mean
of its skills' logits), so each answer is scored exactly once. Mastery of skill ``s`` is
:math:`\sigma(y_{t,s})`, read from the same state. The online ``update`` advances the LSTM by
one step: O(hidden² + hidden·|S|) per answer, independent of history length.

Args (constructor, all keyword):
    hidden_size (int, default 128): LSTM/GRU width.
    embed_dim (int, default 128): width of the (skill, correct) input embedding.
    cell (str, default "lstm"): "lstm" (as in the paper) or "gru".
    dropout (float, default 0.3): dropout on the hidden state before the output layer.
    lr (float, default 1e-3), weight_decay (float, default 0): Adam settings.
    batch_size (int, default 64): sequences per step.
    window (int, default 200): training sequences are cut into pieces of this length.
    max_epochs (int, default 12), patience (int, default 2): early stopping on the
        validation AUC of ``valid_fraction`` (default 0.1) of the learners, split by learner.
    grad_clip (float, default 10): gradient-norm clip (0 disables).
    num_threads (int, default 1): cap on torch's CPU threads (1 was 4x faster than 2
        on the shared 2-core machine).

Shapes:
    input: a batch of ``B`` sequences padded to ``T`` with ``K`` skills per answer;
    output: ``(B, T)`` probabilities; ``mastery``: ``(n_skills,)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from tracing.base import Interaction, TracingError, Vocabulary
from tracing.gnn_batch import (
    Batch,
    NeuralState,
    final_rnn_states,
    make_rnn,
    padded_item_skills,
    rnn_step,
    shifted_hidden,
    zero_rnn_state,
)
from tracing.gnn_recurrent import RecurrentTracer, SequenceNet


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` over the last axis where ``mask`` is 1 (0 where nothing is)."""
    return (values * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)


class DKTNet(SequenceNet):
    """The DKT network (see the module docstring for the maths)."""

    q_idx: Tensor
    q_mask: Tensor

    def __init__(
        self, vocab: Vocabulary, hidden_size: int, embed_dim: int, cell: str, dropout: float
    ) -> None:
        super().__init__()
        self.n_skills = vocab.n_skills
        self.embed = nn.Embedding(2 * vocab.n_skills, embed_dim)
        self.rnn = make_rnn(cell, embed_dim, hidden_size)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, vocab.n_skills)
        q_idx, q_mask = padded_item_skills(vocab)
        self.register_buffer("q_idx", q_idx, persistent=False)
        self.register_buffer("q_mask", q_mask, persistent=False)

    def inputs(self, skills: Tensor, smask: Tensor, correct: Tensor) -> Tensor:
        """``(..., K)`` skills + mask and ``(...)`` 0/1 answers -> ``(..., embed_dim)``."""
        idx = skills * 2 + correct.long().unsqueeze(-1)
        x: Tensor = (self.embed(idx) * smask.unsqueeze(-1)).sum(-2)
        return x

    def forward(self, batch: Batch) -> Tensor:
        x = self.inputs(batch.skills, batch.skill_mask, batch.correct)
        y = self.out(self.drop(shifted_hidden(self.rnn, x)))
        return masked_mean(y.gather(2, batch.skills), batch.skill_mask)

    def start(self) -> NeuralState:
        return NeuralState(zero_rnn_state(self.rnn))

    def step(self, state: NeuralState, x: Interaction, skills: tuple[int, ...]) -> NeuralState:
        sk = torch.tensor(skills, dtype=torch.long)
        inp = self.inputs(sk, torch.ones(len(skills)), torch.tensor(float(x.correct)))
        return NeuralState(rnn_step(self.rnn, inp, state.rnn), (), state.n_seen + 1)

    def replay_batch(self, batch: Batch, lengths: Sequence[int]) -> list[NeuralState]:
        """``step`` over each row in one LSTM/GRU pass."""
        x = self.inputs(batch.skills, batch.skill_mask, batch.correct)
        rnn = final_rnn_states(self.rnn, x, lengths)
        return [NeuralState(h, (), n) for h, n in zip(rnn, lengths, strict=True)]

    def score(self, state: NeuralState, items: Tensor) -> Tensor:
        y = self.mastery_logits(state)
        return masked_mean(y[self.q_idx[items]], self.q_mask[items])

    def mastery_logits(self, state: NeuralState) -> Tensor:
        y: Tensor = self.out(state.rnn[0].view(-1))
        return y

    def mastery_logits_many(self, states: Sequence[NeuralState]) -> Tensor:
        y: Tensor = self.out(torch.cat([st.rnn[0].view(1, -1) for st in states]))
        return y


class DKTTracer(RecurrentTracer):
    """Deep Knowledge Tracing behind the ``Tracer`` protocol (``name = "dkt"``)."""

    name = "dkt"

    def __init__(
        self,
        *,
        hidden_size: int = 128,
        embed_dim: int = 128,
        cell: str = "lstm",
        dropout: float = 0.3,
        lr: float = 1e-3,
        batch_size: int = 64,
        window: int = 200,
        max_epochs: int = 12,
        patience: int = 2,
        valid_fraction: float = 0.1,
        weight_decay: float = 0.0,
        grad_clip: float = 10.0,
        num_threads: int = 1,
    ) -> None:
        super().__init__(
            lr=lr,
            batch_size=batch_size,
            window=window,
            max_epochs=max_epochs,
            patience=patience,
            valid_fraction=valid_fraction,
            weight_decay=weight_decay,
            grad_clip=grad_clip,
            num_threads=num_threads,
        )
        if hidden_size < 1 or embed_dim < 1 or not 0 <= dropout < 1:
            raise TracingError(
                f"bad DKT sizes hidden_size={hidden_size}, embed_dim={embed_dim}, "
                f"dropout={dropout}: need sizes >= 1 and dropout in [0, 1)"
            )
        if cell not in ("lstm", "gru"):
            raise TracingError(f"cell={cell!r} is not supported; use 'lstm' or 'gru'")
        self.hidden_size = hidden_size
        self.embed_dim = embed_dim
        self.cell = cell
        self.dropout = dropout

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "hidden_size": self.hidden_size,
            "embed_dim": self.embed_dim,
            "cell": self.cell,
            "dropout": self.dropout,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "window": self.window,
            "max_epochs": self.max_epochs,
            "patience": self.patience,
            "valid_fraction": self.valid_fraction,
            "weight_decay": self.weight_decay,
            "grad_clip": self.grad_clip,
            "num_threads": self.num_threads,
        }

    def build_net(
        self,
        vocab: Vocabulary,
        train: Sequence[Sequence[Interaction]] | None,
        extra: dict[str, Any],
    ) -> SequenceNet:
        if vocab.n_skills == 0:
            raise TracingError("DKT needs at least one skill in the vocabulary")
        if train is not None:
            for n, seq in enumerate(train):
                for t, x in enumerate(seq):
                    if not (x.skills or vocab.item_skills[x.item]):
                        raise TracingError(
                            f"item {vocab.item_ids[x.item]!r} (training sequence {n}, position "
                            f"{t}) has no skill; DKT traces skills, so tag the item with one "
                            "or use the 'gnn' tracer, which also scores items"
                        )
        return DKTNet(vocab, self.hidden_size, self.embed_dim, self.cell, self.dropout)
