"""Reading learning logs into interaction sequences.

Formats (see ``shared/datasets/README.md``):

``dkt3``
    3-line blocks (DKT / DKVMN): ``length`` or ``index,learner_id`` / skill ids / 0-1 labels.
    Skill-level data: the item id *is* the skill id. Trailing commas are tolerated.
``pid4``
    4-line blocks (AKT "pid"): ``index,learner_id`` / item ids / skill ids / 0-1 labels.
    A skill field may hold several skills separated by ``_`` or ``;``. A multi-skill answer
    written as consecutive rows with the same item id and label, one row per skill (as AKT
    and pyKT write it), is read as one answer on those skills.
``csv``
    An event log with the header ``learner_id,item_id,skill_ids,correct,timestamp``;
    ``skill_ids`` separated by ``;`` or ``_``; ``correct`` is 0/1 or a score in [0, 1]
    (thresholded at 0.5); ``timestamp`` is seconds or an ISO-8601 date. Rows are sorted by
    timestamp within each learner (stable, so ties keep file order). Consecutive rows of one
    learner with the same item, label and timestamp, each naming other skills, are one
    multi-skill answer (raw ASSISTments exports write one row per skill).
``dktsyn``
    The DKT paper's synthetic data: one row per learner of 0/1 answers to questions 1..Q,
    always in that order. Each question is its own skill (the hidden concepts are not given
    to the models).

Each answer keeps the skills its own row(s) name (``Interaction.skills``). Published files
tag some items with different skills in different learners' sequences (in assist2017-pid a
fifth of the problems); such an item's row of the Q-matrix (``Vocabulary.item_skills``, used
for unseen items and mastery) is the union of its tags in the file, in order of first
appearance. Reading with ``vocab=`` keeps that vocabulary's rows as they are (a test file
never changes the train file's Q-matrix); its answers still carry their own tags.

Every reader returns a :class:`TraceData`: the sequences in index space, the learner ids and
the :class:`~tracing.base.Vocabulary`. Reading a test file with ``vocab=`` the train file's
vocabulary keeps the train indices and appends ids first seen in the test file (cold-start
items), so one model can score both.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graph.models import Attempt, Item, Prerequisite
from tracing.base import Interaction, TracingError, Vocabulary
from tracing.log_formats import (
    CSV_COLUMNS,
    FORMATS,
    DataFormatError,
    Format,
    Learners,
    detect_format,
    parse,
    read_text,
)

__all__ = ["CSV_COLUMNS", "FORMATS", "DataFormatError", "Format", "TraceData", "detect_format",
           "read_log", "read_logs", "read_split"]


@dataclass(frozen=True)
class TraceData:
    """Learners' interaction sequences in index space.

    ``sequences[k]`` is learner ``learner_ids[k]``'s answers in time order; indices refer to
    ``vocab``. ``skipped`` counts input rows left out (e.g. attempts on items with no skill).
    ``attempt_ids`` (store exports only) names the attempt behind each interaction.
    ``merged_rows``: rows folded into the multi-skill answer before them (one answer written
    as a row per skill); ``multi_tagged_items``: items with an answer whose skills differ from
    the item's Q-matrix row (tagged differently in different rows).
    """

    sequences: list[list[Interaction]]
    learner_ids: list[str]
    vocab: Vocabulary
    source: str = ""
    format: str = ""
    skipped: int = 0
    attempt_ids: list[list[str]] | None = None
    merged_rows: int = 0
    multi_tagged_items: int = 0

    @property
    def n_interactions(self) -> int:
        return sum(len(s) for s in self.sequences)

    def subset(self, indices: Iterable[int]) -> TraceData:
        """The learners at ``indices`` (same vocabulary; the read counts stay the file's)."""
        idx = list(indices)
        return TraceData(
            sequences=[self.sequences[i] for i in idx],
            learner_ids=[self.learner_ids[i] for i in idx],
            vocab=self.vocab,
            source=self.source,
            format=self.format,
            attempt_ids=None if self.attempt_ids is None else [self.attempt_ids[i] for i in idx],
            merged_rows=self.merged_rows,
            multi_tagged_items=self.multi_tagged_items,
        )

    def with_vocab(self, vocab: Vocabulary) -> TraceData:
        """The same sequences under ``vocab``, which must extend this data's vocabulary."""
        _check_extends(self.vocab, vocab)
        return TraceData(self.sequences, self.learner_ids, vocab, self.source, self.format,
                         self.skipped, self.attempt_ids, self.merged_rows,
                         self.multi_tagged_items)


# --------------------------------------------------------------------------------------------
# raw records -> index space


def _natural_key(value: str) -> tuple[int, int, str]:
    """Numeric ids sort as numbers, before non-numeric ids (which sort as text)."""
    try:
        return (0, int(value), "")
    except ValueError:
        return (1, 0, value)


def _check_extends(base: Vocabulary, vocab: Vocabulary) -> None:
    if (vocab.item_ids[: base.n_items] != base.item_ids
            or vocab.skill_ids[: base.n_skills] != base.skill_ids):
        raise TracingError(
            "vocabulary mismatch: the new vocabulary must start with the old one's items and "
            "skills in the same order; read the second file with vocab=<first file's vocab>"
        )


def _index(
    source: str,
    fmt: str,
    learners: Learners,
    base: Vocabulary | None,
    merged: int = 0,
) -> TraceData:
    """Raw answers -> index space (see the module docstring for the Q-matrix rule)."""
    item_skills: dict[str, tuple[str, ...]] = {}
    if base is not None:
        for i, item_id in enumerate(base.item_ids):
            item_skills[item_id] = tuple(base.skill_ids[s] for s in base.item_skills[i])
    fixed = set(item_skills)
    for _, rows in learners:
        for item, skills, _c, _t, _line in rows:
            known = item_skills.get(item)
            if known is None:
                item_skills[item] = skills
            elif item not in fixed and not set(skills) <= set(known):
                item_skills[item] = known + tuple(s for s in skills if s not in known)
    base_items = base.item_ids if base is not None else ()
    base_skills = base.skill_ids if base is not None else ()
    seen_items = set(base_items)
    seen_skills = set(base_skills)
    new_items = sorted((i for i in item_skills if i not in seen_items), key=_natural_key)
    all_skill_ids = {s for sk in item_skills.values() for s in sk}
    all_skill_ids |= {s for _, rows in learners for r in rows for s in r[1]}
    new_skills = sorted((s for s in all_skill_ids if s not in seen_skills), key=_natural_key)
    item_ids = tuple(base_items) + tuple(new_items)
    skill_ids = tuple(base_skills) + tuple(new_skills)
    sk_index = {s: k for k, s in enumerate(skill_ids)}
    q = tuple(tuple(sk_index[s] for s in item_skills[i]) for i in item_ids)
    vocab = Vocabulary(
        item_ids=item_ids,
        skill_ids=skill_ids,
        item_skills=q,
        prerequisites=base.prerequisites if base is not None else (),
    )
    it_index = {s: k for k, s in enumerate(item_ids)}
    make = Interaction
    sequences = []
    retagged: set[int] = set()
    tags: dict[tuple[str, ...], tuple[int, ...]] = {}
    for _, rows in learners:
        seq = []
        for item, skills, correct, t, _line in rows:
            i = it_index[item]
            sk = tags.get(skills)
            if sk is None:
                sk = tags[skills] = tuple(sk_index[s] for s in skills)
            if sk != q[i] and set(sk) != set(q[i]):
                retagged.add(i)
            seq.append(make(i, sk, correct, t))
        sequences.append(seq)
    return TraceData(sequences, [lid for lid, _ in learners], vocab, source, fmt, 0,
                     merged_rows=merged, multi_tagged_items=len(retagged))


def read_log(
    path: str | Path,
    format: Format | str | None = None,
    *,
    vocab: Vocabulary | None = None,
) -> TraceData:
    """Read a log file into a :class:`TraceData`.

    Args:
        path: the file.
        format: one of ``dkt3``, ``pid4``, ``csv``, ``dktsyn``; None detects it.
        vocab: an existing vocabulary (the train file's) to extend: its indices and Q-matrix
            rows are kept and ids first seen here are appended.
    """
    return read_logs([path], format, vocab=vocab)


def read_logs(
    paths: Sequence[str | Path],
    format: Format | str | None = None,
    *,
    vocab: Vocabulary | None = None,
) -> TraceData:
    """Read several log files of one format as one data set (e.g. four published folds to
    train on). A learner named in two files is refused (the files would not be a split by
    learner); files whose learners are numbered, not named (``dkt3`` with a length header,
    ``dktsyn``), get ids ``file-stem:N`` when there are several files."""
    if not paths:
        raise TracingError("no log files given; pass at least one path")
    fmt: str | None = format
    learners: Learners = []
    merged = 0
    owner: dict[str, Path] = {}
    for path in paths:
        p = Path(path)
        if not p.is_file():
            raise DataFormatError(p, None, "no such file; check the path")
        text = read_text(p)
        fmt = fmt or detect_format(p, text)
        part, m, named = parse(p, text, fmt)
        merged += m
        if not named and len(paths) > 1:
            part = [(f"{p.stem}:{lid}", rows) for lid, rows in part]
        for lid, _ in part:
            if lid in owner:
                raise DataFormatError(
                    p, None, f"learner {lid!r} is in both {owner[lid]} and {p}; files read "
                    "together must hold different learners")
            owner[lid] = p
        learners.extend(part)
    assert fmt is not None
    source = ",".join(str(Path(x)) for x in paths)
    return _index(source, fmt, learners, vocab, merged)


def read_split(
    train: str | Path | Sequence[str | Path], test: str | Path,
    format: Format | str | None = None,
) -> tuple[TraceData, TraceData]:
    """Read train file(s) and a test file into one shared vocabulary (test-only ids
    appended; the train files' Q-matrix rows kept)."""
    paths = [train] if isinstance(train, str | Path) else list(train)
    tr = read_logs(paths, format)
    te = read_log(test, format or tr.format, vocab=tr.vocab)
    return tr.with_vocab(te.vocab), te


def read_prerequisites(path: str | Path, vocab: Vocabulary) -> tuple[Vocabulary, int]:
    """Add prerequisite edges from a CSV (first two columns: source skill id, target skill id;
    a header row is allowed) to ``vocab``. Returns the new vocabulary and the number of edges
    left out because they name skills absent from the vocabulary."""
    p = Path(path)
    if not p.is_file():
        raise DataFormatError(p, None, "no such prerequisites file; check the path")
    edges: set[tuple[int, int]] = set(vocab.prerequisites)
    dropped = 0
    with p.open(newline="") as fh:
        for n, row in enumerate(csv.reader(fh), start=1):
            if not row or not any(c.strip() for c in row):
                continue
            if len(row) < 2:
                raise DataFormatError(p, n, "expected `source,target` skill ids")
            src, dst = row[0].strip(), row[1].strip()
            if n == 1 and vocab.skill_index(src) is None and src.lower() in (
                "source", "src", "prereq", "prereq_name", "from", "prerequisite"
            ):
                continue
            a, b = vocab.skill_index(src), vocab.skill_index(dst)
            if a is None or b is None or a == b:
                dropped += 1
                continue
            edges.add((a, b))
    return (
        Vocabulary(vocab.item_ids, vocab.skill_ids, vocab.item_skills, tuple(sorted(edges))),
        dropped,
    )


# --------------------------------------------------------------------------------------------
# store exports


def vocabulary_from_items(
    items: Sequence[Item], edges: Sequence[Prerequisite] = (), skill_ids: Sequence[str] = ()
) -> Vocabulary:
    """A vocabulary over a curriculum: every item with skills, every skill named by an item or
    in ``skill_ids``, and the prerequisite edges among those skills."""
    skills = sorted({s for it in items for s in it.skill_ids} | set(skill_ids), key=_natural_key)
    sk = {s: k for k, s in enumerate(skills)}
    graded = sorted((it for it in items if it.skills), key=lambda it: _natural_key(it.id))
    prereq = tuple(sorted({(sk[e.source], sk[e.target]) for e in edges
                           if e.source in sk and e.target in sk and e.source != e.target}))
    return Vocabulary(
        item_ids=tuple(it.id for it in graded),
        skill_ids=tuple(skills),
        item_skills=tuple(tuple(sk[s] for s in it.skill_ids) for it in graded),
        prerequisites=prereq,
    )


def from_store_attempts(
    attempts: Iterable[Attempt],
    items: Sequence[Item],
    edges: Sequence[Prerequisite] = (),
    *,
    vocab: Vocabulary | None = None,
) -> TraceData:
    """Sequences from a store's attempts and items (e.g. ``attempts_of`` pages + ``list_items``).

    Attempts are grouped by learner and sorted by time (ties by attempt id). Attempts on items
    absent from ``items`` or without skills are left out and counted in ``skipped``.
    """
    v = vocab if vocab is not None else vocabulary_from_items(items, edges)
    by_learner: dict[str, list[Attempt]] = {}
    for a in attempts:
        by_learner.setdefault(a.learner_id, []).append(a)
    sequences: list[list[Interaction]] = []
    learner_ids: list[str] = []
    attempt_ids: list[list[str]] = []
    skipped = 0
    for lid in sorted(by_learner):
        seq: list[Interaction] = []
        ids: list[str] = []
        for a in sorted(by_learner[lid], key=lambda a: (a.timestamp, a.attempt_id)):
            idx = v.item_index(a.item_id)
            if idx is None or not v.item_skills[idx]:
                skipped += 1
                continue
            seq.append(Interaction(idx, v.item_skills[idx], int(a.correct),
                                   a.timestamp.timestamp()))
            ids.append(a.attempt_id)
        if seq:
            sequences.append(seq)
            learner_ids.append(lid)
            attempt_ids.append(ids)
    return TraceData(sequences, learner_ids, v, "store", "store", skipped, attempt_ids)


# --------------------------------------------------------------------------------------------
# splits and arrays


def split_learners(
    data: TraceData, test_fraction: float = 0.2, *, seed: int = 0
) -> tuple[TraceData, TraceData]:
    """Split by learner (never by row): a seeded shuffle of learners, ``test_fraction`` to test."""
    if not 0.0 < test_fraction < 1.0:
        raise TracingError(f"test_fraction={test_fraction} must be strictly between 0 and 1")
    n = len(data.sequences)
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(n * test_fraction)) if n > 1 else 0
    test_idx = sorted(order[:n_test].tolist())
    train_idx = sorted(order[n_test:].tolist())
    return data.subset(train_idx), data.subset(test_idx)


def kfold_learners(data: TraceData, k: int = 5, *, seed: int = 0) -> list[tuple[TraceData,
                                                                                 TraceData]]:
    """``k`` (train, validation) pairs, each learner in exactly one validation fold."""
    if k < 2 or k > len(data.sequences):
        raise TracingError(f"k={k} folds needs 2 <= k <= number of learners "
                           f"({len(data.sequences)})")
    order = np.random.default_rng(seed).permutation(len(data.sequences))
    folds = np.array_split(order, k)
    out = []
    for f in range(k):
        val = sorted(folds[f].tolist())
        train = sorted(np.concatenate([folds[g] for g in range(k) if g != f]).tolist())
        out.append((data.subset(train), data.subset(val)))
    return out


@dataclass(frozen=True)
class PaddedBatch:
    """Sequences as padded arrays. Shapes: ``items``, ``correct``, ``mask``: ``(N, T)``;
    ``skills``: ``(N, T, S)`` with ``-1`` padding (S = most skills on one item)."""

    items: np.ndarray
    skills: np.ndarray
    correct: np.ndarray
    mask: np.ndarray


def pad_sequences(sequences: Sequence[Sequence[Interaction]], max_len: int | None = None
                  ) -> PaddedBatch:
    """Right-pad sequences (truncating each to its first ``max_len`` answers if given)."""
    n = len(sequences)
    t = max((len(s) for s in sequences), default=0)
    if max_len is not None:
        t = min(t, max_len)
    s_max = max((len(x.skills) for seq in sequences for x in seq), default=1) or 1
    items = np.zeros((n, t), dtype=np.int64)
    skills = np.full((n, t, s_max), -1, dtype=np.int64)
    correct = np.zeros((n, t), dtype=np.int64)
    mask = np.zeros((n, t), dtype=bool)
    for i, seq in enumerate(sequences):
        for j, x in enumerate(seq[:t]):
            items[i, j] = x.item
            skills[i, j, : len(x.skills)] = x.skills
            correct[i, j] = x.correct
            mask[i, j] = True
    return PaddedBatch(items, skills, correct, mask)


# --------------------------------------------------------------------------------------------
# (de)serialising a vocabulary with a saved model


def vocab_to_dict(vocab: Vocabulary) -> dict[str, object]:
    """A JSON-ready form of ``vocab`` (saved beside a model's parameters)."""
    return {
        "item_ids": list(vocab.item_ids),
        "skill_ids": list(vocab.skill_ids),
        "item_skills": [list(s) for s in vocab.item_skills],
        "prerequisites": [list(e) for e in vocab.prerequisites],
    }


def vocab_from_dict(d: dict[str, object]) -> Vocabulary:
    """Inverse of :func:`vocab_to_dict`."""
    try:
        return Vocabulary(
            item_ids=tuple(str(i) for i in d["item_ids"]),  # type: ignore[attr-defined]
            skill_ids=tuple(str(s) for s in d["skill_ids"]),  # type: ignore[attr-defined]
            item_skills=tuple(tuple(int(k) for k in s)
                              for s in d["item_skills"]),  # type: ignore[attr-defined]
            prerequisites=tuple((int(a), int(b))
                                for a, b in d.get("prerequisites", [])),  # type: ignore[attr-defined]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TracingError(f"saved vocabulary is malformed ({exc!r}); re-save the model") from exc
