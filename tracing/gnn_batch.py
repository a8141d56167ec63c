"""Tensors for the recurrent neural tracers: padding interactions into batches, windows,
the seeded split by learner, input validation, and the LSTM/GRU helpers whose batched and
one-step forms must agree (the online == offline guarantee).

Shapes, for ``B`` sequences padded to ``T`` with at most ``K`` skills per interaction:
``Batch.items`` ``(B, T)``; ``Batch.skills`` / ``Batch.skill_mask`` ``(B, T, K)`` (0-padded skill
indices, 0/1 float mask); ``Batch.correct`` ``(B, T)`` 0/1 floats; ``Batch.mask`` ``(B, T)``
True on real interactions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tracing.base import Interaction, TracingError, Vocabulary, interaction_skills


@dataclass(frozen=True)
class Batch:
    """Padded interactions; see the module docstring for shapes."""

    items: Tensor
    skills: Tensor
    skill_mask: Tensor
    correct: Tensor
    mask: Tensor


@dataclass(frozen=True)
class NeuralState:
    """One learner's online state: the recurrent state plus the network's own extras
    (``aux``, e.g. per-skill answer counts), and how many answers it has read."""

    rnn: tuple[Tensor, ...]
    aux: tuple[np.ndarray, ...] = ()
    n_seen: int = 0


def validate_sequences(seqs: Sequence[Sequence[Interaction]], vocab: Vocabulary) -> None:
    """Raise ``TracingError`` naming the first interaction outside ``vocab`` or not 0/1."""
    for n, seq in enumerate(seqs):
        for t, x in enumerate(seq):
            validate_interaction(x, vocab, where=f"sequence {n}, position {t}")


def validate_interaction(x: Interaction, vocab: Vocabulary, where: str = "interaction") -> None:
    if not 0 <= x.item < vocab.n_items:
        raise TracingError(
            f"{where}: item index {x.item} is outside the vocabulary's {vocab.n_items} items; "
            "map item ids with the Vocabulary the model was trained with"
        )
    bad = [s for s in x.skills if not 0 <= s < vocab.n_skills]
    if bad:
        raise TracingError(
            f"{where}: skill index {bad[0]} is outside the vocabulary's {vocab.n_skills} skills; "
            "map skill ids with the Vocabulary the model was trained with"
        )
    if x.correct not in (0, 1):
        raise TracingError(
            f"{where}: correct={x.correct!r} must be 0 or 1; threshold partial scores at 0.5"
        )


def make_batch(seqs: Sequence[Sequence[Interaction]], vocab: Vocabulary) -> Batch:
    """Pad ``seqs`` into a :class:`Batch` (interactions with no skill get an all-zero mask)."""
    b = len(seqs)
    t = max((len(s) for s in seqs), default=0) or 1
    k = max((len(interaction_skills(x, vocab)) for s in seqs for x in s), default=1) or 1
    items = np.zeros((b, t), dtype=np.int64)
    skills = np.zeros((b, t, k), dtype=np.int64)
    smask = np.zeros((b, t, k), dtype=np.float32)
    correct = np.zeros((b, t), dtype=np.float32)
    mask = np.zeros((b, t), dtype=bool)
    for i, seq in enumerate(seqs):
        for j, x in enumerate(seq):
            items[i, j] = x.item
            sk = interaction_skills(x, vocab)
            skills[i, j, : len(sk)] = sk
            smask[i, j, : len(sk)] = 1.0
            correct[i, j] = x.correct
            mask[i, j] = True
    return Batch(
        torch.from_numpy(items),
        torch.from_numpy(skills),
        torch.from_numpy(smask),
        torch.from_numpy(correct),
        torch.from_numpy(mask),
    )


def windows(
    seqs: Sequence[Sequence[Interaction]], length: int
) -> list[Sequence[Interaction]]:
    """Cut each sequence into consecutive pieces of at most ``length`` (training only)."""
    out: list[Sequence[Interaction]] = []
    for s in seqs:
        out.extend(s[i : i + length] for i in range(0, len(s), length))
    return [w for w in out if len(w) > 0]


def split_by_learner(
    n: int, valid_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of ``n`` learners into (train, validation) index arrays, never by row."""
    order = rng.permutation(n)
    n_valid = int(round(n * valid_fraction)) if n >= 2 else 0
    n_valid = min(max(n_valid, 1 if valid_fraction > 0 and n >= 2 else 0), n - 1)
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])


def batches_by_length(
    seqs: Sequence[Sequence[Interaction]], batch_size: int, rng: np.random.Generator | None
) -> Iterator[list[int]]:
    """Index batches of similar length (little padding); batch order shuffled when ``rng``."""
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        groups = [groups[i] for i in rng.permutation(len(groups))]
    yield from groups


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (NaN when only one class is present)."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, p))


def make_rnn(cell: str, input_size: int, hidden_size: int) -> nn.LSTM | nn.GRU:
    """A one-layer batch-first LSTM or GRU."""
    if cell == "lstm":
        return nn.LSTM(input_size, hidden_size, batch_first=True)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size, batch_first=True)
    raise TracingError(f"cell={cell!r} is not supported; use 'lstm' or 'gru'")


def zero_rnn_state(rnn: nn.LSTM | nn.GRU) -> tuple[Tensor, ...]:
    """The recurrent state before any input: zeros, one tensor per LSTM/GRU state part."""
    h = torch.zeros(1, 1, rnn.hidden_size)
    return (h, h.clone()) if isinstance(rnn, nn.LSTM) else (h,)


def rnn_step(rnn: nn.LSTM | nn.GRU, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Advance the recurrent state by one input vector ``x`` of shape ``(input_size,)``."""
    hx: Any = state if isinstance(rnn, nn.LSTM) else state[0]
    _, new = rnn(x.view(1, 1, -1), hx)
    return tuple(new) if isinstance(new, tuple) else (new,)


def shifted_hidden(rnn: nn.LSTM | nn.GRU, x: Tensor) -> Tensor:
    """Run ``rnn`` over ``x`` ``(B, T, D)``; return ``(B, T, H)`` where row t is the hidden
    state after inputs ``0..t-1`` (zeros at t = 0): what scores interaction t."""
    out, _ = rnn(x)
    return torch.cat([out.new_zeros(out.shape[0], 1, out.shape[2]), out[:, :-1]], dim=1)


def padded_item_skills(vocab: Vocabulary) -> tuple[Tensor, Tensor]:
    """The Q-matrix as ``(n_items, K)`` 0-padded skill indices and a 0/1 float mask."""
    k = max((len(s) for s in vocab.item_skills), default=1) or 1
    idx = torch.zeros(vocab.n_items, k, dtype=torch.long)
    msk = torch.zeros(vocab.n_items, k)
    for i, sk in enumerate(vocab.item_skills):
        idx[i, : len(sk)] = torch.tensor(sk, dtype=torch.long)
        msk[i, : len(sk)] = 1.0
    return idx, msk


def final_rnn_states(rnn: nn.LSTM | nn.GRU, x: Tensor, lengths: Sequence[int]
                     ) -> list[tuple[Tensor, ...]]:
    """Run ``rnn`` over ``x`` ``(B, T, D)``, row ``b`` holding ``lengths[b] >= 1`` real inputs
    followed by padding, and return each row's recurrent state after its last real input, in
    the form :func:`rnn_step` returns (tensors of shape ``(1, 1, H)``, own storage). The
    padding is never read (packed sequences), so for an LSTM the cell state is exact too."""
    from torch.nn.utils.rnn import pack_padded_sequence

    packed = pack_padded_sequence(x, torch.as_tensor(list(lengths), dtype=torch.long),
                                  batch_first=True, enforce_sorted=False)
    _, last = rnn(packed)  # (1, B, H) per part, in the rows' own order
    parts = last if isinstance(last, tuple) else (last,)
    return [tuple(p[:, b : b + 1].clone() for p in parts) for b in range(x.shape[0])]
