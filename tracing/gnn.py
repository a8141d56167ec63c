r"""The graph-neural tracer (GNN): the product's default knowledge-tracing model.

Papers it builds on:

- GIKT: Y. Yang, J. Shen, Y. Qu, Y. Liu, K. Wang, Y. Zhu, W. Zhang, Y. Yu, "GIKT: A Graph-based
  Interaction Model for Knowledge Tracing", ECML-PKDD 2020 -- a GCN over the item-skill graph
  gives item embeddings, a recurrent network reads the learner's answers, and the prediction
  combines the state with the target item and a recap of related past answers.
- GKT: H. Nakagawa, Y. Iwasawa, Y. Matsuo, "Graph-based Knowledge Tracing: Modeling Student
  Proficiency Using Graph Neural Network", IEEE/WIC/ACM WI 2019 -- a skill graph derived from
  data (transition statistics) when no curated graph exists.
- GCN: T. Kipf, M. Welling, "Semi-Supervised Classification with Graph Convolutional
  Networks", ICLR 2017 -- the propagation rule.
- PFA: P. Pavlik, H. Cen, K. Koedinger, "Performance Factors Analysis", AIED 2009 -- per-skill
  counts of right and wrong answers as predictors (our bounded-memory form of GIKT's recap).

The graph has one node per item and one per skill. Edges: item-skill from the Q-matrix;
skill-skill from ``Vocabulary.prerequisites`` when a curriculum is given, otherwise from the
training data: for every skill the ``top_k`` most frequent next skills (transition counts of
consecutive answers, at least ``min_count``), made undirected -- unless every training learner
answered the skills in one order (a fixed test), where transitions would only restate that
order: then the ``top_k`` skills whose answers correlate most with its own across learners
(``tracing/gnn_skill_graph.py``).

.. math::
    \mathbf{X}^{(0)} &= [\,\mathbf{m} \odot \mathbf{E}_{item} \,;\, \mathbf{E}_{skill}\,]
        \qquad m_i = 1 \text{ iff item } i \text{ was answered in training} \\
    \mathbf{X}^{(l+1)} &= \mathbf{X}^{(l)} + \tanh\big(\hat{\mathbf{A}}\,\mathbf{X}^{(l)}
        \mathbf{W}^{(l)}\big), \qquad
        \hat{\mathbf{A}} = \mathbf{D}^{-1/2}(\mathbf{A} + \mathbf{I})\mathbf{D}^{-1/2} \\
    \mathbf{e}_q &= \mathbf{X}^{(L)}_q \qquad \text{(item } q\text{'s embedding)} \\
    \mathbf{h}_t &= \mathrm{GRU}\big([\,r_t\,\mathbf{e}_{q_t} \,;\,
        (1 - r_t)\,\mathbf{e}_{q_t}\,],\ \mathbf{h}_{t-1}\big), \qquad \mathbf{h}_{-1} = 0 \\
    \mathbf{f}_t(q) &= \mathrm{recap}(\text{answers before } t;\ S(q),\ \mathbf{N})
        \qquad \text{(see } \texttt{tracing/gnn\_recap.py}\text{)} \\
    P(r_{t+1} = 1 \mid q) &= \sigma\big(\mathbf{w}^\top \mathrm{ReLU}(\mathbf{W}_h
        \mathrm{dropout}(\mathbf{h}_t) + \mathbf{W}_e \mathbf{e}_q + \mathbf{W}_f
        \mathbf{f}_t(q) + \mathbf{b}) + c\big)

where the recap :math:`\mathbf{f}` summarises the learner's past answers on the target's
skills and their neighbours in the row-normalised skill-skill adjacency :math:`\mathbf{N}`
(per-skill right/wrong counts, last answer and steps since it, one-hop neighbour counts,
overall counts): a bounded-memory stand-in for GIKT's attention recap.
An item never answered in training has :math:`m_i = 0`: its embedding comes only through its
skills and their graph neighbours (cold start). Mastery of skill ``s`` is the same predictor
applied to the skill's canonical item, the mean embedding of the items that assess it (the
skill node's own embedding when none does), with :math:`\mathbf{f}` taken on ``s`` alone,
and that P(correct) is read out as P(mastered) through the skill's guess and slip fitted on the
training answers, blended with a BKT state fitted on the same answers where the skill had few
of them (``mastery_readout``, below; ``tracing/mastery_readout.py``).

Chosen by measurement on the ASSISTments 2015 split (``benchmarks/bench_neural.py``, figures
in ``docs/benchmarks.md``): test AUC 0.7309 mean of 3 seeds vs our DKT's 0.7253 (published
DKT 0.725, DKVMN 0.727). Seed-0 ablations: full 0.7318, without the recap 0.7275, without the
GCN layers 0.7303 -- the recap carries most of the gain; the GCN's share is within seed noise
on this split (each item is its own skill there). Its job is cold start: on simulated learners
of the demo curriculum with 20% of the items never in training, AUC on those items is 0.70 /
0.72 (two seeds) with the GCN, 0.69 / 0.69 without it, 0.61 / 0.60 for DKT. On the DKT paper's
synthetic files (one fixed order, no curriculum) the co-correctness skill graph took the mean
test AUC over the five files from 0.7972 (transitions) to 0.8254, DKT 0.8166.

On question-level data (ASSISTments 2017 "pid", 3,162 items on 102 skills; ablation on one
published fold, ``benchmarks/bench_question_level.py``) the gain came from the schedule, not
the layers: at 1e-3 for 12 epochs the network still improved at its last epoch, and 2PL item
terms (+0.0005) or AKT-style attention over the last 50 answers beside the GRU (-0.0009 with
them) changed the test AUC by noise; 3e-3 halved on a plateau gained +0.0064 without item
terms and +0.0072 with 2PL terms (kept: the five-fold figure was measured with them).
Hence the data-chosen defaults: ``irt="auto"`` and :data:`QUESTION_LEVEL_SCHEDULE` where items
are not their own skills, the measured skill-level settings elsewhere; attention stays off.

Online, the GCN output and the item part of the predictor are computed once after training;
``update`` is one GRU step plus O(|S(q)| + graph degree) count updates, and ``mastery`` is one
``(n_skills, hidden)`` pass, independent of history length.

Args (constructor, all keyword):
    embed_dim (int, default 64): item/skill embedding width.
    hidden_size (int, default 128): GRU/LSTM width and predictor width.
    gnn_layers (int, default 2): GCN layers.
    cell (str, default "gru"): "gru" or "lstm".
    dropout (float, default 0.3): dropout on the hidden state before the predictor.
    recap (bool, default True): use the recap features :math:`\mathbf{f}` (else zeros).
    top_k (int, default 8), min_count (int, default 3): data-derived skill graph.
    skill_graph (str, default "auto"): the skill graph derived when no curriculum is given:
        ``"transitions"``, ``"correlations"``, or ``"auto"``: correlations when every
        training learner answered the skills in one order, transitions otherwise.
    attention_window (int, default 0: off): attention of the target item over the learner's
        last ``W`` answers, with AKT's monotonic decay; its context joins the predictor
        (``tracing/gnn_attention.py``).
    irt (str, default "auto"): per-item terms on the logit, ``"1pl"`` (difficulty) or
        ``"2pl"`` (and discrimination), L2-penalised by ``irt_l2`` (default 1e-5), or
        ``"none"``. ``"auto"`` is ``"2pl"`` on question-level data and ``"none"`` where every
        item is its own skill (skill-level sets: the terms would repeat the item embedding),
        :func:`tracing.gnn_attention.resolve_irt`; the kind used is saved with the model.
    lr (float), lr_decay (float), patience (int), max_epochs (int), default None: the
        schedule (:class:`tracing.gnn_recurrent.Schedule`: Adam's rate, multiplied by
        ``lr_decay`` after every epoch that does not improve the validation AUC, early stop
        after ``patience`` such epochs). None takes the data's preset at fit time: where
        every item is its own skill, :data:`SKILL_LEVEL_SCHEDULE` (1e-3, 1.0, 2, 12), on
        question-level data :data:`QUESTION_LEVEL_SCHEDULE` (3e-3, 0.5, 3, 16); the one used
        is in ``fit_info["schedule"]``. Give them to the constructor: the ``lr`` /
        ``max_epochs`` / ... attributes hold the skill-level values when None was given and
        setting them afterwards does not change what :meth:`schedule` chooses.
    weight_decay, batch_size, window, valid_fraction, grad_clip, num_threads: training
        settings, as for :class:`tracing.dkt.DKTTracer`.
    mastery_readout (str, default "bkt+fallback"): how ``mastery`` reads P(mastered) from
        the predicted P(correct) on a skill's canonical item: ``"bkt"`` inverts BKT's
        observation model with per-skill guess and slip fitted on the training answers
        (``tracing/mastery_readout.py``; saved with the model); ``"bkt+fallback"`` also
        carries a BKT state fitted on the same answers and serves, per skill, the two
        blended by the skill's training answers (``n / (n + 20)`` on the network's side:
        BKT where the network saw none); ``"none"`` serves the predicted P(correct) itself.
        A model saved without a read-out serves P(correct).

Shapes:
    GCN: ``(n_items + n_skills, embed_dim)`` node features, ``(2, E)`` edges;
    input: a batch of ``B`` sequences padded to ``T``; output ``(B, T)`` probabilities;
    ``mastery``: ``(n_skills,)``.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tracing.base import Interaction, TracingError, Vocabulary, interaction_skills
from tracing.gnn_attention import (
    IRT_KINDS,
    ItemTerms,
    RecentAttention,
    items_are_skills,
    push_recent,
    recent_attention_online,
    recent_from_history,
    resolve_irt,
)
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
from tracing.gnn_recap import (
    N_RECAP,
    RecapState,
    recap_batch,
    recap_online,
    recap_online_many,
    recap_replay,
    recap_update,
)
from tracing.gnn_recurrent import RecurrentTracer, Schedule, SequenceNet
from tracing.gnn_skill_graph import correlation_graph, one_order
from tracing.mastery_readout import MasteryReadout, fit_readout

with warnings.catch_warnings():  # torch_geometric 2.8 calls the deprecated torch.jit.script
    warnings.simplefilter("ignore", FutureWarning)
    from torch_geometric.nn.conv.gcn_conv import gcn_norm
    from torch_geometric.utils import scatter


SKILL_GRAPHS = ("auto", "transitions", "correlations")
MASTERY_READOUTS = ("bkt+fallback", "bkt", "none")


def gcn_propagate(x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
    r"""One GCN propagation :math:`\hat{\mathbf{A}}\mathbf{X}` with
    :math:`\hat{\mathbf{A}} = \mathbf{D}^{-1/2}(\mathbf{A} + \mathbf{I})\mathbf{D}^{-1/2}`
    (Kipf & Welling): node ``i`` receives :math:`\sum_j \hat{A}_{ij} \mathbf{x}_j` over its
    in-neighbours ``j`` (``edge_index[0] = j``, ``edge_index[1] = i``) and itself.

    Shapes: ``x`` ``(N, F)``, ``edge_index`` ``(2, E)``, ``edge_weight`` ``(E,)`` -> ``(N, F)``.
    """
    n = x.shape[0]
    ei, ew = gcn_norm(edge_index, edge_weight, num_nodes=n, add_self_loops=True)
    out: Tensor = scatter(x[ei[0]] * ew.unsqueeze(-1), ei[1], dim=0, dim_size=n, reduce="sum")
    return out


def transition_graph(
    seqs: Sequence[Sequence[Interaction]], vocab: Vocabulary, top_k: int, min_count: int
) -> list[tuple[int, int, float]]:
    """Skill graph from data (GKT's transition statistics): for every skill ``a``, the
    ``top_k`` skills ``b != a`` answered right after it most often (>= ``min_count`` times),
    as ``(a, b, share of a's kept transitions)`` edges; ties broken by skill index."""
    counts: Counter[tuple[int, int]] = Counter()
    for seq in seqs:
        prev: tuple[int, ...] = ()
        for x in seq:
            cur = interaction_skills(x, vocab)
            for a in prev:
                for b in cur:
                    if a != b:
                        counts[(a, b)] += 1
            prev = cur
    by_src: dict[int, list[tuple[int, int]]] = {}
    for (a, b), c in counts.items():
        if c >= min_count:
            by_src.setdefault(a, []).append((c, b))
    edges: list[tuple[int, int, float]] = []
    for a in sorted(by_src):
        kept = sorted(by_src[a], key=lambda cb: (-cb[0], cb[1]))[:top_k]
        total = sum(c for c, _ in kept)
        edges.extend((a, b, c / total) for c, b in kept)
    return edges


def row_normalised(n: int, edges: Sequence[tuple[int, int, float]]) -> Tensor:
    """Dense ``(n, n)`` adjacency of the undirected version of ``edges``, rows summing to 1
    (rows of isolated nodes are zero)."""
    a = torch.zeros(n, n)
    for s, t, w in edges:
        if s != t:
            a[s, t] += w
            a[t, s] += w
    return a / a.sum(1, keepdim=True).clamp(min=1e-12)


class GNNNet(SequenceNet):
    """The graph-neural tracer network (see the module docstring for the maths)."""

    seen: Tensor
    edge_index: Tensor
    edge_weight: Tensor
    nbr: Tensor
    q_idx: Tensor
    q_mask: Tensor
    canon: Tensor

    def __init__(
        self,
        vocab: Vocabulary,
        skill_edges: Sequence[tuple[int, int, float]],
        embed_dim: int,
        hidden_size: int,
        gnn_layers: int,
        cell: str,
        dropout: float,
        recap: bool,
        attention_window: int = 0,
        irt: str = "none",
        irt_l2: float = 0.0,
    ) -> None:
        super().__init__()
        ni, ns = vocab.n_items, vocab.n_skills
        self.n_items, self.n_skills, self.recap = ni, ns, recap
        self.irt_l2 = irt_l2
        self.attn = RecentAttention(embed_dim, attention_window) if attention_window else None
        self.w_c = nn.Linear(embed_dim, hidden_size, bias=False) if attention_window else None
        self.item_terms = ItemTerms(ni, irt) if irt != "none" else None
        self.item_emb = nn.Embedding(ni, embed_dim)
        self.skill_emb = nn.Embedding(max(ns, 1), embed_dim)
        nn.init.normal_(self.item_emb.weight, std=0.1)
        nn.init.normal_(self.skill_emb.weight, std=0.1)
        self.convs = nn.ModuleList(nn.Linear(embed_dim, embed_dim) for _ in range(gnn_layers))
        self.rnn = make_rnn(cell, 2 * embed_dim, hidden_size)
        self.drop = nn.Dropout(dropout)
        self.w_h = nn.Linear(hidden_size, hidden_size, bias=False)
        self.w_e = nn.Linear(embed_dim, hidden_size)
        self.w_f = nn.Linear(N_RECAP, hidden_size, bias=False)
        self.out = nn.Linear(hidden_size, 1)
        # which items were answered in training (a saved buffer: cold start depends on it)
        self.register_buffer("seen", torch.zeros(ni, 1))
        src, dst, w = [], [], []
        for i, sk in enumerate(vocab.item_skills):
            for s in sk:
                src += [i, ni + s]
                dst += [ni + s, i]
                w += [1.0, 1.0]
        for a, b, wt in skill_edges:
            src += [ni + a, ni + b]
            dst += [ni + b, ni + a]
            w += [float(wt), float(wt)]
        self.register_buffer("edge_index", torch.tensor([src, dst], dtype=torch.long).view(2, -1),
                             persistent=False)
        self.register_buffer("edge_weight", torch.tensor(w, dtype=torch.float), persistent=False)
        self.register_buffer("nbr", row_normalised(ns, skill_edges), persistent=False)
        q_idx, q_mask = padded_item_skills(vocab)
        self.register_buffer("q_idx", q_idx, persistent=False)
        self.register_buffer("q_mask", q_mask, persistent=False)
        # canonical item of each skill: mean of its items (the skill node itself if none)
        canon = torch.zeros(ns, ni + ns)
        for i, sk in enumerate(vocab.item_skills):
            for s in sk:
                canon[s, i] = 1.0
        empty = canon.sum(1) == 0
        canon[empty, ni + torch.nonzero(empty).view(-1)] = 1.0
        self.register_buffer("canon", canon / canon.sum(1, keepdim=True), persistent=False)
        self._cache: dict[str, Any] = {}

    # -- maths -----------------------------------------------------------------------------
    def node_embeddings(self) -> Tensor:
        """GCN output for all nodes: items first, then skills. ``(n_items + n_skills, D)``."""
        x = torch.cat([self.item_emb.weight * self.seen, self.skill_emb.weight[: self.n_skills]])
        for conv in self.convs:
            x = x + torch.tanh(conv(gcn_propagate(x, self.edge_index, self.edge_weight)))
        return x

    def predict_logit(self, h: Tensor, item_part: Tensor, feats: Tensor) -> Tensor:
        z = torch.relu(self.w_h(self.drop(h)) + item_part + self.w_f(feats))
        logit: Tensor = self.out(z).squeeze(-1)
        return logit

    def forward(self, batch: Batch) -> Tensor:
        e = self.node_embeddings()[: self.n_items]
        eq = e[batch.items]
        r = batch.correct.unsqueeze(-1)
        h = shifted_hidden(self.rnn, torch.cat([eq * r, eq * (1 - r)], dim=-1))
        if self.recap:
            feats = recap_batch(batch.skills, batch.skill_mask, batch.correct, batch.mask,
                                self.nbr)
        else:
            feats = h.new_zeros(*h.shape[:2], N_RECAP)
        item_part = self.w_e(eq)
        if self.attn is not None and self.w_c is not None:
            item_part = item_part + self.w_c(self.attn(eq, eq, batch.correct, batch.mask))
        logit = self.predict_logit(h, item_part, feats)
        if self.item_terms is not None:
            alpha, beta = self.item_terms.terms(self.seen)
            logit = self.item_terms.shift_scale(logit, alpha[batch.items], beta[batch.items])
        return logit

    def penalty(self) -> Tensor | None:
        if self.item_terms is None or self.irt_l2 == 0.0:
            return None
        return self.irt_l2 * self.item_terms.penalty()

    # -- online path -------------------------------------------------------------------------
    def prepare(self) -> None:
        with torch.no_grad():
            x = self.node_embeddings()
            e = x[: self.n_items]
            nbr = self.nbr.numpy()
            canon_x = self.canon @ x
            self._cache = {
                "e": e,
                "item_part": self.w_e(e),
                "skill_part": self.w_e(canon_x),
                "nbr_cols": [(np.nonzero(nbr[:, v])[0], nbr[np.nonzero(nbr[:, v])[0], v])
                             for v in range(self.n_skills)],
            }
            if self.attn is not None:
                self._cache.update({
                    "q_item": self.attn.w_q(e), "q_skill": self.attn.w_q(canon_x),
                    "keys": self.attn.w_k(e),
                    "values": torch.stack([self.attn.values(e, torch.zeros(self.n_items)),
                                           self.attn.values(e, torch.ones(self.n_items))]),
                    "decay": self.attn.decay(),
                })
            if self.item_terms is not None:
                alpha, beta = self.item_terms.terms(self.seen)
                w_items = self.canon[:, : self.n_items]
                self._cache.update({"alpha": alpha, "beta": beta,
                                    "skill_alpha": w_items @ alpha,
                                    "skill_beta": w_items @ beta})

    def _cached(self) -> dict[str, Any]:
        if not self._cache:
            self.prepare()
        return self._cache

    def start(self) -> NeuralState:
        r = RecapState.empty(self.n_skills)
        aux: tuple[np.ndarray, ...] = (r.per_skill, r.totals)
        if self.attn is not None:
            aux += recent_from_history(np.zeros(0, np.int64), np.zeros(0, np.float32),
                                       self.attn.window)
        return NeuralState(zero_rnn_state(self.rnn), aux, 0)

    def step(self, state: NeuralState, x: Interaction, skills: tuple[int, ...]) -> NeuralState:
        c = self._cached()
        eq = c["e"][x.item]
        inp = torch.cat([eq * x.correct, eq * (1 - x.correct)])
        recap = recap_update(RecapState(*state.aux[:2]), skills, x.correct, state.n_seen + 1,
                             c["nbr_cols"])
        aux: tuple[np.ndarray, ...] = (recap.per_skill, recap.totals)
        if self.attn is not None:
            aux += push_recent(state.aux[2], state.aux[3], x.item, x.correct)
        return NeuralState(rnn_step(self.rnn, inp, state.rnn), aux, state.n_seen + 1)

    def replay_batch(self, batch: Batch, lengths: Sequence[int]) -> list[NeuralState]:
        """``step`` over each row in one GRU/LSTM pass; the recap counts in closed form
        (:func:`tracing.gnn_recap.recap_replay`)."""
        c = self._cached()
        eq = c["e"][batch.items]
        r = batch.correct.unsqueeze(-1)
        rnn = final_rnn_states(self.rnn, torch.cat([eq * r, eq * (1 - r)], dim=-1), lengths)
        nbr = self.nbr.double().numpy()
        skills, smask = batch.skills.numpy(), batch.skill_mask.numpy()
        correct = batch.correct.numpy()
        items = batch.items.numpy()
        out: list[NeuralState] = []
        for b, n in enumerate(lengths):
            recap = recap_replay(skills[b, :n], smask[b, :n], correct[b, :n], nbr)
            aux: tuple[np.ndarray, ...] = (recap.per_skill, recap.totals)
            if self.attn is not None:
                aux += recent_from_history(items[b, :n], correct[b, :n], self.attn.window)
            out.append(NeuralState(rnn[b], aux, n))
        return out

    def mastery_logits_many(self, states: Sequence[NeuralState]) -> Tensor:
        """:meth:`mastery_logits` of each state in one pass: ``(B, n_skills)``."""
        c = self._cached()
        h = torch.cat([st.rnn[0].view(1, 1, -1) for st in states])  # (B, 1, H)
        if self.recap:
            feats = recap_online_many(
                torch.from_numpy(np.stack([st.aux[0] for st in states])),
                torch.from_numpy(np.stack([st.aux[1] for st in states])),
                torch.tensor([st.n_seen + 1 for st in states]))
        else:
            feats = torch.zeros(len(states), self.n_skills, N_RECAP)
        part = c["skill_part"].unsqueeze(0).expand(len(states), -1, -1)
        if self.attn is not None:
            part = part + torch.stack([self._context(st, c["q_skill"]) for st in states])
        logit = self.predict_logit(h, part, feats)
        if self.item_terms is not None:
            logit = torch.exp(c["skill_alpha"]) * logit - c["skill_beta"]
        return logit

    def _context(self, state: NeuralState, query: Tensor) -> Tensor:
        """``W_c c(q)`` of the recent-answer attention for projected queries ``(n, D)``."""
        c = self._cached()
        assert self.w_c is not None
        items = torch.from_numpy(state.aux[2])
        n = int((items >= 0).sum())
        its = items[:n]
        labels = torch.from_numpy(state.aux[3][:n]).long()
        keys = c["keys"][its]
        values = c["values"][labels, its]
        out: Tensor = self.w_c(recent_attention_online(query, keys, values, n, c["decay"]))
        return out

    def _feats(self, state: NeuralState, skills: Tensor, smask: Tensor) -> Tensor:
        if not self.recap:
            return torch.zeros(skills.shape[0], N_RECAP)
        return recap_online(RecapState(*state.aux[:2]), state.n_seen + 1, skills, smask)

    def score(self, state: NeuralState, items: Tensor) -> Tensor:
        c = self._cached()
        feats = self._feats(state, self.q_idx[items], self.q_mask[items])
        part = c["item_part"][items]
        if self.attn is not None:
            part = part + self._context(state, c["q_item"][items])
        logit = self.predict_logit(state.rnn[0].view(1, -1), part, feats)
        if self.item_terms is not None:
            logit = torch.exp(c["alpha"][items]) * logit - c["beta"][items]
        return logit

    def mastery_logits(self, state: NeuralState) -> Tensor:
        c = self._cached()
        s = torch.arange(self.n_skills)
        feats = self._feats(state, s.view(-1, 1), torch.ones(self.n_skills, 1))
        part = c["skill_part"]
        if self.attn is not None:
            part = part + self._context(state, c["q_skill"])
        logit = self.predict_logit(state.rnn[0].view(1, -1), part, feats)
        if self.item_terms is not None:
            logit = torch.exp(c["skill_alpha"]) * logit - c["skill_beta"]
        return logit


#: the schedule where every item is its own skill (ASSISTments 2015, the DKT paper's synthetic
#: set): the one those sets were measured with
SKILL_LEVEL_SCHEDULE = Schedule(lr=1e-3, lr_decay=1.0, patience=2, max_epochs=12)
#: the schedule on question-level data: at the skill-level rate, assist2017-pid (about 60
#: Adam steps an epoch) still gained at epoch 12; three times the rate, halved on a plateau,
#: is ahead by epoch 5 (docs/benchmarks.md, question-level ablation)
QUESTION_LEVEL_SCHEDULE = Schedule(lr=3e-3, lr_decay=0.5, patience=3, max_epochs=16)


class GNNTracer(RecurrentTracer):
    """The graph-neural tracer behind the ``Tracer`` protocol (``name = "gnn"``)."""

    name = "gnn"

    def __init__(
        self,
        *,
        embed_dim: int = 64,
        hidden_size: int = 128,
        gnn_layers: int = 2,
        cell: str = "gru",
        dropout: float = 0.3,
        recap: bool = True,
        top_k: int = 8,
        min_count: int = 3,
        skill_graph: str = "auto",
        attention_window: int = 0,
        irt: str = "auto",
        irt_l2: float = 1e-5,
        lr: float | None = None,
        batch_size: int = 64,
        window: int = 200,
        max_epochs: int | None = None,
        patience: int | None = None,
        valid_fraction: float = 0.1,
        weight_decay: float = 0.0,
        grad_clip: float = 10.0,
        num_threads: int = 1,
        lr_decay: float | None = None,
        mastery_readout: str = "bkt+fallback",
    ) -> None:
        # None: chosen by the data at fit time (schedule()); the given ones are checked here
        self.asked: dict[str, float | int | None] = {
            "lr": lr, "lr_decay": lr_decay, "patience": patience, "max_epochs": max_epochs}
        sk = SKILL_LEVEL_SCHEDULE
        super().__init__(
            lr_decay=sk.lr_decay if lr_decay is None else lr_decay,
            lr=sk.lr if lr is None else lr,
            batch_size=batch_size,
            window=window,
            max_epochs=sk.max_epochs if max_epochs is None else max_epochs,
            patience=sk.patience if patience is None else patience,
            valid_fraction=valid_fraction,
            weight_decay=weight_decay,
            grad_clip=grad_clip,
            num_threads=num_threads,
        )
        if min(embed_dim, hidden_size, top_k, min_count) < 1 or gnn_layers < 0:
            raise TracingError(
                f"bad GNN sizes embed_dim={embed_dim}, hidden_size={hidden_size}, "
                f"gnn_layers={gnn_layers}, top_k={top_k}, min_count={min_count}: need "
                "gnn_layers >= 0 and the others >= 1"
            )
        if not 0 <= dropout < 1:
            raise TracingError(f"dropout={dropout} must be in [0, 1)")
        if cell not in ("lstm", "gru"):
            raise TracingError(f"cell={cell!r} is not supported; use 'lstm' or 'gru'")
        if skill_graph not in SKILL_GRAPHS:
            raise TracingError(f"skill_graph={skill_graph!r} is not supported; use one of "
                               f"{', '.join(SKILL_GRAPHS)}")
        if attention_window < 0:
            raise TracingError(f"attention_window={attention_window} must be >= 0 (0: off)")
        if irt not in IRT_KINDS:
            raise TracingError(f"irt={irt!r} is not supported; use one of "
                               f"{', '.join(IRT_KINDS)}")
        if irt_l2 < 0:
            raise TracingError(f"irt_l2={irt_l2} must be >= 0")
        if mastery_readout not in MASTERY_READOUTS:
            raise TracingError(f"mastery_readout={mastery_readout!r} is not supported; use "
                               f"one of {', '.join(MASTERY_READOUTS)}")
        self.mastery_readout = mastery_readout
        self.attention_window = attention_window
        self.irt = irt
        self.irt_l2 = irt_l2
        self.embed_dim = embed_dim
        self.hidden_size = hidden_size
        self.gnn_layers = gnn_layers
        self.cell = cell
        self.dropout = dropout
        self.recap = recap
        self.top_k = top_k
        self.min_count = min_count
        self.skill_graph = skill_graph

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "embed_dim": self.embed_dim,
            "hidden_size": self.hidden_size,
            "gnn_layers": self.gnn_layers,
            "cell": self.cell,
            "dropout": self.dropout,
            "recap": self.recap,
            "top_k": self.top_k,
            "min_count": self.min_count,
            "skill_graph": self.skill_graph,
            "attention_window": self.attention_window,
            "irt": self.irt,
            "irt_l2": self.irt_l2,
            "lr": self.asked["lr"],
            "batch_size": self.batch_size,
            "window": self.window,
            "max_epochs": self.asked["max_epochs"],
            "patience": self.asked["patience"],
            "valid_fraction": self.valid_fraction,
            "weight_decay": self.weight_decay,
            "grad_clip": self.grad_clip,
            "num_threads": self.num_threads,
            "lr_decay": self.asked["lr_decay"],
            "mastery_readout": self.mastery_readout,
        }

    def fit_mastery_readout(
        self, sequences: Sequence[Sequence[Interaction]], vocab: Vocabulary
    ) -> MasteryReadout | None:
        """``"bkt"``: :func:`tracing.mastery_readout.fit_readout` on the training answers
        (per-skill guess and slip, so mastery is the predicted P(correct) inverted through
        BKT's observation model); ``"bkt+fallback"``: the same, blended per skill with a BKT
        state fitted on the same answers where the training data held few answers on the
        skill; ``"none"``: the predicted P(correct) itself."""
        if self.mastery_readout == "none":
            return None
        return fit_readout(sequences, vocab, fallback=self.mastery_readout == "bkt+fallback")

    def derived_graph(self, train: Sequence[Sequence[Interaction]], vocab: Vocabulary) -> str:
        """Which skill graph to derive without a curriculum: ``skill_graph`` if set, else
        (``"auto"``) ``"correlations"`` when every training learner answered the skills in
        one order (the transitions would only restate it), ``"transitions"`` otherwise."""
        if self.skill_graph != "auto":
            return self.skill_graph
        return "correlations" if one_order(train, vocab) else "transitions"

    def schedule(self, vocab: Vocabulary) -> Schedule:
        """:data:`QUESTION_LEVEL_SCHEDULE` on question-level data, :data:`SKILL_LEVEL_SCHEDULE`
        where every item is its own skill (:func:`tracing.gnn_attention.items_are_skills`),
        with the settings given to the constructor in place of the preset's."""
        preset = SKILL_LEVEL_SCHEDULE if items_are_skills(vocab) else QUESTION_LEVEL_SCHEDULE
        given = {k: v for k, v in self.asked.items() if v is not None}
        return Schedule(**{**asdict(preset), **given})

    def build_net(
        self,
        vocab: Vocabulary,
        train: Sequence[Sequence[Interaction]] | None,
        extra: dict[str, Any],
    ) -> SequenceNet:
        if vocab.n_skills == 0:
            raise TracingError(
                "the GNN tracer needs at least one skill in the vocabulary (items are scored "
                "through their skills); tag the items with skills"
            )
        if train is not None:
            if vocab.prerequisites:
                edges = [(a, b, 1.0) for a, b in vocab.prerequisites]
                extra["skill_graph"] = "prerequisites"
            else:
                kind = self.derived_graph(train, vocab)
                derive = correlation_graph if kind == "correlations" else transition_graph
                edges = derive(train, vocab, self.top_k, self.min_count)
                extra["skill_graph"] = kind
            extra["skill_edges"] = [[a, b, w] for a, b, w in edges]
        edges = [(int(a), int(b), float(w)) for a, b, w in extra.get("skill_edges", [])]
        # the item terms used: resolved from the training vocabulary, kept with the model
        irt = resolve_irt(self.irt, vocab) if train is not None or "irt" not in extra \
            else str(extra["irt"])
        extra["irt"] = irt
        net = GNNNet(
            vocab, edges, self.embed_dim, self.hidden_size, self.gnn_layers, self.cell,
            self.dropout, self.recap, self.attention_window, irt, self.irt_l2,
        )
        if train is not None:
            for seq in train:
                for x in seq:
                    net.seen[x.item] = 1.0
        return net
