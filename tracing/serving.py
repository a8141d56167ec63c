"""Online mastery for the API: one batch of attempts in, new mastery rows out.

``MasteryService.apply`` is the tracing step of ``recordAttempts``: for a batch of attempts it
makes three store calls (``load_tracer_states``, ``save_mastery``, ``save_tracer_states``;
only the first when nothing is left to trace), advances each touched learner's saved state by
their new answers with ``Tracer.update`` (no replay of history) and returns the new mastery of
the skills touched. A retried batch completes tracing that an earlier try stored but did not
finish, and never traces an answer twice: each saved state carries a watermark of the attempts
in it (``tracing.watermark``). The read-modify-write of states is serialised within one
process (an ``asyncio.Lock``); two server processes tracing the same learner at the same
moment can still overwrite each other's state, as before watermarks.

The serving model is, in order: the ``tracer`` passed in; else the active model of the
registry (``$LEARNGRAPH_MODELS``, default ``./models``) when it knows at least half of the
curriculum's graded items; else a BKT with population defaults over the curriculum's skills,
so a fresh curriculum works at once. A brand-new learner starts from the model's population
prior (``init_state``). An item the model has never seen is scored and updated through a known
item with the same skills (else one sharing its first known skill), so new content works.

States are stored as bytes: ``LGS2\n``, the watermark's length (4 bytes, big-endian) and
JSON, then the state: numpy states as ``LGS1npy\n`` + ``.npy``; the neural tracers'
``NeuralState`` as ``LGS1pt\n`` + a ``torch.save`` archive of tensors, read back with
``weights_only=True``. A bare ``LGS1`` state (saved before watermarks) still decodes.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import struct
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from graph.models import Attempt, Item, Mastery, PrerequisiteGraph, utcnow
from graph.store import GraphStore
from tracing.base import Interaction, Tracer, TracingError, Vocabulary
from tracing.data import vocabulary_from_items
from tracing.watermark import KEEP, UNKNOWN, Key, Watermark, attempt_key

log = logging.getLogger(__name__)

DEFAULT_VERSION = "bkt-default"
_NPY = b"LGS1npy\n"
_TORCH = b"LGS1pt\n"
#: a watermarked state: magic, 4-byte big-endian header length, watermark JSON, LGS1 state
_MARKED = b"LGS2\n"


# --------------------------------------------------------------------------------------------
# state (de)serialisation


def encode_state(state: Any, *, watermark: Watermark) -> bytes:
    """Bytes for ``load/save_tracer_states``: the state and which attempts are in it."""
    mark = watermark.to_bytes()
    return _MARKED + struct.pack(">I", len(mark)) + mark + _encode_plain(state)


def decode_traced(blob: bytes) -> tuple[Any, Watermark]:
    """Inverse of :func:`encode_state`: the state and its watermark. A state saved before
    watermarks existed (``LGS1`` encodings) comes back with :data:`~tracing.watermark.UNKNOWN`
    (every attempt assumed in it)."""
    if blob.startswith(_MARKED):
        head = len(_MARKED) + 4
        n = struct.unpack(">I", blob[len(_MARKED):head])[0] if len(blob) >= head else -1
        if n < 0 or len(blob) < head + n:
            raise TracingError("stored tracer state is truncated; delete the learner's "
                               "tracer state or rebuild with `learngraph trace rebuild`")
        mark = Watermark.from_bytes(blob[head:head + n])
        return _decode_plain(blob[head + n:]), mark
    return _decode_plain(blob), UNKNOWN


def decode_state(blob: bytes) -> Any:
    """The state of :func:`encode_state`'s bytes (or of an older ``LGS1`` encoding)."""
    return decode_traced(blob)[0]


def _encode_plain(state: Any) -> bytes:
    if isinstance(state, np.ndarray):
        buf = io.BytesIO()
        np.save(buf, state, allow_pickle=False)
        return _NPY + buf.getvalue()
    if all(hasattr(state, a) for a in ("rnn", "aux", "n_seen")):  # the neural tracers' state
        import torch

        buf = io.BytesIO()
        torch.save({"rnn": list(state.rnn),
                    "aux": [torch.from_numpy(np.ascontiguousarray(a)) for a in state.aux],
                    "n_seen": torch.tensor(state.n_seen)}, buf)
        return _TORCH + buf.getvalue()
    raise TracingError(f"cannot store a tracer state of type {type(state).__name__}")


def _decode_plain(blob: bytes) -> Any:
    if blob.startswith(_NPY):
        return np.load(io.BytesIO(blob[len(_NPY):]), allow_pickle=False)
    if blob.startswith(_TORCH):
        import torch

        d = torch.load(io.BytesIO(blob[len(_TORCH):]), weights_only=True)
        return _neural_state_class()(tuple(d["rnn"]), tuple(a.numpy() for a in d["aux"]),
                           int(d["n_seen"]))
    raise TracingError("stored tracer state is in an unknown encoding; it was written by "
                       "another program or version: delete the learner's tracer state")


def _neural_state_class() -> Any:
    import importlib

    for module in ("tracing.gnn_batch", "tracing.gnn_recurrent"):
        try:
            return importlib.import_module(module).NeuralState
        except (ImportError, AttributeError):
            continue
    raise TracingError("a neural tracer state was stored but tracing.gnn_batch.NeuralState "
                       "is not available")


def mastery_uncertainty(p: np.ndarray) -> np.ndarray:
    """Standard deviation of the mastered/not-mastered indicator, ``sqrt(p (1 - p))``:
    0 when the model is sure either way, 0.5 at p = 0.5."""
    return np.asarray(np.sqrt(np.clip(p, 0.0, 1.0) * (1.0 - np.clip(p, 0.0, 1.0))))


# --------------------------------------------------------------------------------------------


class MasteryService:
    """A serving tracer bound to a curriculum's ids.

    Args:
        tracer: a fitted (or ``with_vocab``-initialised) tracer.
        model_version: stored with every state and mastery row (a registry key such as
            ``gnn-v3``, or ``bkt-default``).
        items: the curriculum's items, used to route items unknown to the model.
        clock: returns the time written as ``updated_at``.
        keep: attempts remembered exactly in each state's watermark (default
            :data:`~tracing.watermark.KEEP`; see :class:`~tracing.watermark.Watermark`).
    """

    def __init__(
        self,
        tracer: Tracer,
        model_version: str,
        items: Sequence[Item] = (),
        *,
        clock: Callable[[], datetime] = utcnow,
        keep: int = KEEP,
    ) -> None:
        if keep < 0:
            raise TracingError(f"keep={keep}: must be >= 0 (attempts remembered per state)")
        vocab: Vocabulary | None = getattr(tracer, "vocab", None)
        if vocab is None:
            raise TracingError("the serving tracer has no vocabulary; fit or load it first")
        self.tracer = tracer
        self.vocab = vocab
        self.model_version = model_version
        self._clock = clock
        self.keep = keep
        self._lock = asyncio.Lock()
        self._route: dict[str, tuple[int, tuple[int, ...]]] = {}
        for i, item_id in enumerate(vocab.item_ids):
            if vocab.item_skills[i]:
                self._route[item_id] = (i, vocab.item_skills[i])
        by_skills = {frozenset(s): i for i, s in enumerate(vocab.item_skills) if s}
        by_first: dict[int, int] = {}
        for i, s in enumerate(vocab.item_skills):
            for k in s:
                by_first.setdefault(k, i)
        for it in items:
            if it.id in self._route or not it.skills:
                continue
            sk = tuple(k for k in (vocab.skill_index(s) for s in it.skill_ids) if k is not None)
            if not sk:
                continue
            proxy = by_skills.get(frozenset(sk), by_first.get(sk[0]))
            if proxy is not None:
                self._route[it.id] = (proxy, sk)

    @classmethod
    def for_curriculum(
        cls,
        graph: PrerequisiteGraph,
        items: Sequence[Item],
        tracer: Tracer | None = None,
        *,
        registry: Any | None = None,
        model_version: str | None = None,
    ) -> MasteryService:
        """The serving model for a curriculum (see the module docstring for the choice)."""
        if tracer is not None:
            return cls(tracer, model_version or str(getattr(tracer, "name", "model")), items)
        from tracing.registry import Registry

        reg = registry if registry is not None else Registry.from_env()
        try:
            loaded = reg.load_active()
        except TracingError as exc:
            log.warning("serving model not loaded (%s); using BKT population defaults", exc)
            loaded = None
        graded = [it for it in items if it.skills]
        if loaded is not None:
            rec, model = loaded
            known = sum(1 for it in graded if model.vocab.item_index(it.id) is not None)
            if graded and known * 2 >= len(graded):
                return cls(model, rec.key, items)
            log.warning("active model %s knows %d of %d curriculum items; using BKT "
                        "population defaults", rec.key, known, len(graded))
        from tracing.bkt import BKTTracer

        vocab = vocabulary_from_items(items, graph.edges, [s.id for s in graph.skills])
        return cls(BKTTracer(prior=0.3, learn=0.15, guess=0.2, slip=0.1).with_vocab(vocab),
                   DEFAULT_VERSION, items)

    # -- online update -------------------------------------------------------------------------
    def interaction(self, attempt: Attempt) -> Interaction | None:
        """The attempt in the model's index space, or None for an item it cannot place."""
        route = self._route.get(attempt.item_id)
        if route is None:
            return None
        return Interaction(route[0], route[1], int(attempt.correct),
                           attempt.timestamp.timestamp())

    async def apply(self, store: GraphStore, attempts: Sequence[Attempt],
                    fresh: Collection[str] | None = None) -> dict[str, list[Mastery]]:
        """Advance the attempts' learners and save; returns learner id -> new Mastery rows
        (the skills their traced answers touched, ordered by skill id).

        ``fresh`` names the attempts the caller's ``record_attempts`` stored just now (None:
        all of them). A fresh attempt is always traced. Any other one is a duplicate of a
        retried batch and is traced only when the learner's saved state does not contain it
        yet (its :class:`~tracing.watermark.Watermark`): an earlier try stored it and then
        failed before its tracing was saved. So retrying a batch until it succeeds traces
        each answer exactly once. Learners with nothing to trace (all duplicates already in
        their state, or only items without skills) get no entry and no write.

        Mastery is saved before the states: if the state write fails, the retry traces the
        same answers again from the same saved state and rewrites the same mastery.
        """
        by_learner: dict[str, list[tuple[Attempt, Interaction]]] = {}
        for a in attempts:
            x = self.interaction(a)
            if x is not None:
                by_learner.setdefault(a.learner_id, []).append((a, x))
        if not by_learner:
            return {}
        learners = sorted(by_learner)
        async with self._lock:  # one read-modify-write of a learner's state at a time
            blobs = await store.load_tracer_states(learners, self.model_version)
            now = self._clock()
            new_states: list[tuple[str, str, bytes]] = []
            rows: list[Mastery] = []
            out: dict[str, list[Mastery]] = {}
            for lid, blob in zip(learners, blobs, strict=True):
                if blob is None:
                    state, mark = self.tracer.init_state(), Watermark()
                else:
                    state, mark = decode_traced(blob)
                todo: list[tuple[Key, Interaction]] = []
                for a, x in by_learner[lid]:
                    key = attempt_key(a)
                    if fresh is None or a.attempt_id in fresh or not mark.contains(key):
                        todo.append((key, x))
                todo.sort(key=lambda kx: kx[0])
                if not todo:
                    continue
                touched: set[int] = set()
                for _, x in todo:
                    state = self.tracer.update(state, x)
                    touched.update(x.skills)
                mark = mark.add((k for k, _ in todo), self.keep)
                new_states.append((lid, self.model_version,
                                   encode_state(state, watermark=mark)))
                p = np.asarray(self.tracer.mastery(state), dtype=float)
                unc = mastery_uncertainty(p)
                mine = sorted(
                    (Mastery(lid, self.vocab.skill_ids[k], float(p[k]), float(unc[k]), now,
                             self.model_version) for k in touched),
                    key=lambda m: m.skill_id)
                rows.extend(mine)
                out[lid] = mine
            if new_states:
                await store.save_mastery(rows)
                await store.save_tracer_states(new_states)
        return out

    # -- reads for the recommender --------------------------------------------------------------
    def state_of(self, state_or_blob: Any | None) -> Any:
        """A usable state from a stored blob, a decoded state, or None (a new learner)."""
        if state_or_blob is None:
            return self.tracer.init_state()
        if isinstance(state_or_blob, bytes | bytearray | memoryview):
            return decode_state(bytes(state_or_blob))
        return state_or_blob

    def predict(self, state_or_learner: Any | None, item_ids: Sequence[str]
                ) -> dict[str, float]:
        """P(correct) of each known item for a learner given as a state, a stored state blob
        or None (a new learner: the population prior). Items the model cannot place are left
        out of the answer."""
        state = self.state_of(state_or_learner)
        known = [(i, self._route[i][0]) for i in item_ids if i in self._route]
        if not known:
            return {}
        p = self.tracer.predict_state(state, [k for _, k in known])
        return {i: float(v) for (i, _), v in zip(known, p, strict=True)}

    async def predict_for(self, store: GraphStore, learner_id: str, item_ids: Sequence[str]
                          ) -> dict[str, float]:
        """:meth:`predict` for a learner by id (one ``load_tracer_states`` call)."""
        (blob,) = await store.load_tracer_states([learner_id], self.model_version)
        return self.predict(blob, item_ids)

    def mastery_of(self, state_or_learner: Any | None) -> dict[str, float]:
        """P(mastered) of every skill of the model for a learner (state, blob or None)."""
        p = self.tracer.mastery(self.state_of(state_or_learner))
        return {s: float(v) for s, v in zip(self.vocab.skill_ids, p, strict=True)
                if not math.isnan(float(v))}
