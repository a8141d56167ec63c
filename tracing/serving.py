"""Online mastery for the API: one batch of attempts in, new mastery rows out.

``MasteryService.apply`` is the tracing step of ``recordAttempts``: for a batch of attempts it
makes two store calls (``load_tracer_records``, then ``save_traced``, which writes the states
and the mastery rows in one transaction; only the first when nothing is left to trace),
advances each touched learner's saved state by their new answers with ``Tracer.update`` (no
replay of history) and returns the new mastery of the skills touched. A retried batch
completes tracing that an earlier try stored but did not finish, and never traces an answer
twice: each saved state carries a watermark of the attempts in it (``tracing.watermark``).

Several server processes may serve one store. The read-modify-write of a learner's state is
a compare-and-set on the state's version in the store: a write from a state another process
has replaced since is refused, and that learner's answers are traced again from the newer
state (what it already holds is skipped). Within one process, a batch holds its learners'
locks (``tracing.keyed_locks``), so one learner's batches take turns there while other
learners' go on.

An answer older than the newest one already in a learner's state (an offline device syncing
late, a slow request overtaken by a later one) cannot be folded in where it belongs, since a
state cannot be rewound: the learner's history, up to ``retrace_cap`` attempts, is replayed in
time order instead (one ``attempts_of`` read), so the served mastery equals the in-order
replay. A longer history folds the late answer in arrival order and logs it; ``learngraph
trace rebuild`` replays every learner in time order.

The serving model is, in order: the ``tracer`` passed in; else the store's serving model
(``GraphStore.serving_model``), loaded from the registry (``$LEARNGRAPH_MODELS``, default
``./models``), when it knows at least half of the curriculum's graded items; else a BKT with
population defaults over the curriculum's skills, so a fresh curriculum works at once. (A
neural serving model without the ``neural`` extra installed is an error,
:class:`~tracing.extras.NeuralExtraMissingError`, not a quiet fallback.) A brand-new learner
starts from the model's population prior (``init_state``). An item the model has never seen is
scored and updated through a known item with the same skills (else one sharing its first known
skill), so new content works.

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
import random
import struct
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from graph.models import (
    Attempt,
    Item,
    Mastery,
    PrerequisiteGraph,
    TracerRecord,
    TracerWrite,
    utcnow,
)
from graph.store import GraphStore
from tracing.base import Interaction, Tracer, TracingError, Vocabulary
from tracing.data import vocabulary_from_items
from tracing.extras import NeuralExtraMissingError, missing_neural_module
from tracing.keyed_locks import KeyedLocks
from tracing.npy import load_npy
from tracing.watermark import KEEP, UNKNOWN, Key, Watermark, attempt_key

log = logging.getLogger(__name__)

DEFAULT_VERSION = "bkt-default"
_NPY = b"LGS1npy\n"
_TORCH = b"LGS1pt\n"
#: a watermarked state: magic, 4-byte big-endian header length, watermark JSON, LGS1 state
_MARKED = b"LGS2\n"
#: reads and compare-and-set writes of one batch's states before giving up
CAS_TRIES = 10
#: the first backoff after a compare-and-set conflict, doubled at each further one (seconds)
BACKOFF_S = 0.002
#: the longest history re-traced in time order when an answer arrives out of order
RETRACE_CAP = 2000


class TracingConflictError(TracingError):
    """Other writers kept saving these learners' tracer states while this batch traced them
    (``cas_tries`` compare-and-set writes in a row failed). The attempts are stored; sending
    the batch again completes their tracing."""

    def __init__(self, learner_ids: Sequence[str], tries: int) -> None:
        self.learner_ids = tuple(learner_ids)
        super().__init__(
            f"the tracer states of {', '.join(repr(i) for i in self.learner_ids[:10])} were "
            f"written by another process at each of {tries} tries; the attempts are stored: "
            "send the batch again to trace them")


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
        return load_npy(blob[len(_NPY):])
    if blob.startswith(_TORCH):
        try:
            import torch
        except ImportError as exc:
            missing = missing_neural_module(exc)
            if missing is None:
                raise
            raise NeuralExtraMissingError("reading a neural tracer's stored state",
                                          missing) from exc

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
        cas_tries: reads and compare-and-set writes of a batch's states before
            :class:`TracingConflictError` (default :data:`CAS_TRIES`).
        retrace_cap: the longest history re-traced for an answer that arrives out of time
            order (default :data:`RETRACE_CAP`); a longer one folds it in arrival order.
        rng: draws the random backoff after a conflict (default: a new ``random.Random()``).
    """

    def __init__(
        self,
        tracer: Tracer,
        model_version: str,
        items: Sequence[Item] = (),
        *,
        clock: Callable[[], datetime] = utcnow,
        keep: int = KEEP,
        cas_tries: int = CAS_TRIES,
        retrace_cap: int = RETRACE_CAP,
        rng: random.Random | None = None,
    ) -> None:
        if keep < 0:
            raise TracingError(f"keep={keep}: must be >= 0 (attempts remembered per state)")
        if cas_tries < 1 or retrace_cap < 1:
            raise TracingError(f"cas_tries={cas_tries}, retrace_cap={retrace_cap}: both must "
                               "be >= 1")
        vocab: Vocabulary | None = getattr(tracer, "vocab", None)
        if vocab is None:
            raise TracingError("the serving tracer has no vocabulary; fit or load it first")
        self.tracer = tracer
        self.vocab = vocab
        self.model_version = model_version
        self._clock = clock
        self.keep = keep
        self.cas_tries = cas_tries
        self.retrace_cap = retrace_cap
        self._locks = KeyedLocks()
        self._rng = rng if rng is not None else random.Random()
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
        active: str | None = None,
    ) -> MasteryService:
        """The serving model for a curriculum (see the module docstring for the choice):
        ``active`` is the store's serving model key (``GraphStore.serving_model``), loaded
        from ``registry`` (default ``Registry.from_env()``); None or ``bkt-default``: BKT with
        population defaults."""
        if tracer is not None:
            return cls(tracer, model_version or str(getattr(tracer, "name", "model")), items)
        from tracing.registry import Registry

        reg = registry if registry is not None else Registry.from_env()
        loaded = None
        if active is not None and active != DEFAULT_VERSION:
            try:
                loaded = reg.load(active)
            except NeuralExtraMissingError:
                # not a model to replace quietly: the store's learners are traced by it
                raise
            except TracingError as exc:
                log.warning("serving model %s not loaded (%s); using BKT population defaults",
                            active, exc)
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
        all of them). A fresh attempt is traced unless its learner's state holds it already
        (another process traced it meanwhile, for a retry sent there). Any other one is a
        duplicate of a retried batch and is traced only when the learner's saved state does
        not contain it yet (its :class:`~tracing.watermark.Watermark`): an earlier try stored
        it and then failed before its tracing was saved. So retrying a batch until it
        succeeds traces each answer exactly once. Learners with nothing to trace (all
        duplicates already in their state, or only items without skills) get no entry and no
        write.

        Each learner's state and mastery rows are written together, by compare-and-set on
        the state's version (``GraphStore.save_traced``): if another writer (a second server
        process) saved the learner's state since it was read, nothing of that learner is
        written and their answers are traced again from the newer state, up to
        ``cas_tries`` times (then :class:`TracingConflictError`; the attempts are stored and
        a retry of the batch completes them). An answer older than the newest one already in
        the state re-traces the learner's history in time order (:meth:`_retrace`).
        """
        by_learner: dict[str, list[tuple[Attempt, Interaction]]] = {}
        for a in attempts:
            x = self.interaction(a)
            if x is not None:
                by_learner.setdefault(a.learner_id, []).append((a, x))
        if not by_learner:
            return {}
        out: dict[str, list[Mastery]] = {}
        pending = sorted(by_learner)
        async with self._locks.holding(pending):  # this process: one batch per learner
            tries = 0
            for _ in range(self.cas_tries):
                records = await store.load_tracer_records(pending, self.model_version)
                now = self._clock()
                writes: list[TracerWrite] = []
                rows: list[Mastery] = []
                mine: dict[str, list[Mastery]] = {}
                for lid, rec in zip(pending, records, strict=True):
                    step = await self._advance(store, lid, rec, by_learner[lid], fresh)
                    if step is None:
                        continue
                    state, mark, touched = step
                    writes.append(TracerWrite(lid, self.model_version,
                                              encode_state(state, watermark=mark),
                                              0 if rec is None else rec.version))
                    p = np.asarray(self.tracer.mastery(state), dtype=float)
                    unc = mastery_uncertainty(p)
                    mine[lid] = sorted(
                        (Mastery(lid, self.vocab.skill_ids[k], float(p[k]), float(unc[k]),
                                 now, self.model_version) for k in touched),
                        key=lambda m: m.skill_id)
                    rows.extend(mine[lid])
                if not writes:
                    return out
                moved = set(await store.save_traced(writes, rows))
                out.update((lid, r) for lid, r in mine.items() if lid not in moved)
                if not moved:
                    return out
                log.info("tracer state of %d learner(s) written by another process "
                         "meanwhile; tracing them again from it", len(moved))
                pending = sorted(moved)
                # random backoff: two processes retrying in step would collide again
                tries += 1
                await asyncio.sleep(self._rng.uniform(0, min(BACKOFF_S * 2**tries, 0.25)))
        raise TracingConflictError(pending, self.cas_tries)

    async def _advance(
        self, store: GraphStore, learner_id: str, record: TracerRecord | None,
        answers: Sequence[tuple[Attempt, Interaction]], fresh: Collection[str] | None,
    ) -> tuple[Any, Watermark, set[int]] | None:
        """The learner's state after ``answers`` (those not in it yet), its watermark and the
        skills touched; None when nothing is left to trace."""
        if record is None:
            state, mark = self.tracer.init_state(), Watermark()
        else:
            state, mark = decode_traced(record.state)
        todo: list[tuple[Key, Attempt, Interaction]] = []
        for a, x in answers:
            key = attempt_key(a)
            if mark.holds(key):
                continue  # traced already (by a retry sent to another process, say)
            if fresh is None or a.attempt_id in fresh or not mark.contains(key):
                todo.append((key, a, x))
        if not todo:
            return None
        todo.sort(key=lambda t: t[0])
        newest = mark.newest
        if mark.known and newest is not None and todo[0][0] < newest:
            retraced = await self._retrace(store, learner_id, [a for _, a, _ in todo])
            if retraced is not None:
                return retraced
            log.warning("learner %s: %d answers older than their newest traced one, and a "
                        "history over %d answers to re-trace; folded in arrival order "
                        "(`learngraph trace rebuild` replays in time order)", learner_id,
                        len(todo), self.retrace_cap)
        touched: set[int] = set()
        for _, _, x in todo:
            state = self.tracer.update(state, x)
            touched.update(x.skills)
        return state, mark.add((k for k, _, _ in todo), self.keep), touched

    async def _retrace(self, store: GraphStore, learner_id: str, late: Sequence[Attempt]
                       ) -> tuple[Any, Watermark, set[int]] | None:
        """The learner's whole stored history (with ``late``, should one not be stored)
        replayed from the prior in time order, its watermark and every skill it touches; None
        when the history has more than ``retrace_cap`` attempts.

        A tracer state cannot be rewound, so an answer that arrives after newer ones (an
        offline device syncing late, a slow request) is placed in its time by replaying. One
        ``attempts_of`` read and one batched replay, only for such answers."""
        from tracing.history import replay_all

        page = await store.attempts_of(learner_id, limit=self.retrace_cap)
        if page.next_cursor is not None:
            return None
        history = {a.attempt_id: a for a in late}
        history.update((a.attempt_id, a) for a in page.attempts)
        placed = [(a, x) for a in sorted(history.values(), key=attempt_key)
                  if (x := self.interaction(a)) is not None]
        (state,) = replay_all(self.tracer, [[x for _, x in placed]])
        mark = Watermark().add((attempt_key(a) for a, _ in placed), self.keep)
        return state, mark, {k for _, x in placed for k in x.skills}

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
