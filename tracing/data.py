"""Reading learning logs into interaction sequences.

Formats (see ``shared/datasets/README.md``):

``dkt3``
    3-line blocks (DKT / DKVMN): ``length`` or ``index,learner_id`` / skill ids / 0-1 labels.
    Skill-level data: the item id *is* the skill id. Trailing commas are tolerated.
``pid4``
    4-line blocks (AKT "pid"): ``index,learner_id`` / item ids / skill ids / 0-1 labels.
    A skill field may hold several skills separated by ``_`` or ``;``.
``csv``
    An event log with the header ``learner_id,item_id,skill_ids,correct,timestamp``;
    ``skill_ids`` separated by ``;`` or ``_``; ``correct`` is 0/1 or a score in [0, 1]
    (thresholded at 0.5); ``timestamp`` is seconds or an ISO-8601 date. Rows are sorted by
    timestamp within each learner (stable, so ties keep file order).
``dktsyn``
    The DKT paper's synthetic data: one row per learner of 0/1 answers to questions 1..Q,
    always in that order. Each question is its own skill (the hidden concepts are not given
    to the models).

Every reader returns a :class:`TraceData`: the sequences in index space, the learner ids and
the :class:`~tracing.base.Vocabulary`. Reading a test file with ``vocab=`` the train file's
vocabulary keeps the train indices and appends ids first seen in the test file (cold-start
items), so one model can score both.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np

from graph.models import Attempt, Item, Prerequisite
from tracing.base import Interaction, TracingError, Vocabulary

Format = Literal["dkt3", "pid4", "csv", "dktsyn"]
FORMATS: tuple[str, ...] = ("dkt3", "pid4", "csv", "dktsyn")
CSV_COLUMNS = ("learner_id", "item_id", "skill_ids", "correct", "timestamp")
_SKILL_SPLIT = re.compile(r"[;_]")


class DataFormatError(TracingError):
    """A log file is malformed; the message names the file, the line and the fix."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class TraceData:
    """Learners' interaction sequences in index space.

    ``sequences[k]`` is learner ``learner_ids[k]``'s answers in time order; indices refer to
    ``vocab``. ``skipped`` counts input rows left out (e.g. attempts on items with no skill).
    ``attempt_ids`` (store exports only) names the attempt behind each interaction.
    """

    sequences: list[list[Interaction]]
    learner_ids: list[str]
    vocab: Vocabulary
    source: str = ""
    format: str = ""
    skipped: int = 0
    attempt_ids: list[list[str]] | None = None

    @property
    def n_interactions(self) -> int:
        return sum(len(s) for s in self.sequences)

    def subset(self, indices: Iterable[int]) -> TraceData:
        """The learners at ``indices`` (same vocabulary)."""
        idx = list(indices)
        return TraceData(
            sequences=[self.sequences[i] for i in idx],
            learner_ids=[self.learner_ids[i] for i in idx],
            vocab=self.vocab,
            source=self.source,
            format=self.format,
            attempt_ids=None if self.attempt_ids is None else [self.attempt_ids[i] for i in idx],
        )

    def with_vocab(self, vocab: Vocabulary) -> TraceData:
        """The same sequences under ``vocab``, which must extend this data's vocabulary."""
        _check_extends(self.vocab, vocab)
        return TraceData(self.sequences, self.learner_ids, vocab, self.source, self.format,
                         self.skipped, self.attempt_ids)


# --------------------------------------------------------------------------------------------
# raw records -> index space


_Raw = tuple[str, tuple[str, ...], int, float, int]
"""One answer before indexing: (item id, skill ids, correct, timestamp, source line)."""


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
    path: str | Path,
    fmt: str,
    learners: list[tuple[str, list[_Raw]]],
    base: Vocabulary | None,
    skipped: int = 0,
) -> TraceData:
    item_skills: dict[str, tuple[str, ...]] = {}
    first_line: dict[str, int] = {}
    if base is not None:
        for i, item_id in enumerate(base.item_ids):
            item_skills[item_id] = tuple(base.skill_ids[s] for s in base.item_skills[i])
    for _, rows in learners:
        for item, skills, _c, _t, line in rows:
            known = item_skills.get(item)
            if known is None:
                item_skills[item] = skills
                first_line[item] = line
            elif known != skills and set(known) != set(skills):
                origin = (f"line {first_line[item]}" if item in first_line
                          else "the given vocabulary")
                raise DataFormatError(
                    path, line,
                    f"item {item!r} has skills {list(skills)} here but {list(known)} in "
                    f"{origin}; an item's Q-matrix row must be the same everywhere",
                )
    base_items = base.item_ids if base is not None else ()
    base_skills = base.skill_ids if base is not None else ()
    seen_items = set(base_items)
    seen_skills = set(base_skills)
    new_items = sorted((i for i in item_skills if i not in seen_items), key=_natural_key)
    all_skill_ids = {s for sk in item_skills.values() for s in sk}
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
    for _, rows in learners:
        idx = [it_index[r[0]] for r in rows]
        sequences.append([make(i, q[i], r[2], r[3]) for i, r in zip(idx, rows, strict=True)])
    return TraceData(sequences, [lid for lid, _ in learners], vocab, str(path), fmt, skipped)


# --------------------------------------------------------------------------------------------
# line formats


def _fields(line: str) -> list[str]:
    parts = [p.strip() for p in line.strip().split(",")]
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _labels(path: str | Path, lineno: int, fields: list[str]) -> list[int]:
    out: list[int] = []
    for f in fields:
        if f in ("0", "1"):
            out.append(int(f))
            continue
        try:
            v = float(f)
        except ValueError:
            v = -1.0
        if v in (0.0, 1.0):
            out.append(int(v))
        else:
            raise DataFormatError(path, lineno, f"label {f!r} is not 0 or 1")
    return out


def _split_skills(path: str | Path, lineno: int, field: str) -> tuple[str, ...]:
    skills = tuple(s for s in (p.strip() for p in _SKILL_SPLIT.split(field)) if s)
    if not skills:
        raise DataFormatError(path, lineno, "empty skill id; every answer needs a skill")
    return skills


def _read_blocks(path: str | Path, text: str, period: int, fmt: str
                 ) -> list[tuple[str, list[_Raw]]]:
    lines = [(n + 1, ln) for n, ln in enumerate(text.splitlines()) if ln.strip()]
    if len(lines) % period:
        raise DataFormatError(
            path, lines[-1][0] if lines else None,
            f"{len(lines)} non-empty lines is not a multiple of {period}: the {fmt} format "
            f"has {period} lines per learner; is the last block cut short?",
        )
    learners: list[tuple[str, list[_Raw]]] = []
    for b in range(0, len(lines), period):
        block = lines[b : b + period]
        hdr_no, hdr = block[0]
        head = _fields(hdr)
        if not 1 <= len(head) <= 2:
            raise DataFormatError(
                path, hdr_no,
                f"expected a learner header (`length` or `index,learner_id`) but found "
                f"{len(head)} fields; is this a {fmt} file? (try another --format)",
            )
        learner = head[1] if len(head) == 2 else str(b // period + 1)
        body = [(n, _fields(ln)) for n, ln in block[1:]]
        counts = {len(f) for _, f in body}
        if len(counts) != 1:
            raise DataFormatError(
                path, hdr_no,
                f"learner {learner!r}: the {period - 1} lines after the header have different "
                f"lengths {[len(f) for _, f in body]}; they must list one value per answer",
            )
        n = counts.pop()
        if len(head) == 1 and head[0].isdigit() and int(head[0]) != n:
            raise DataFormatError(path, hdr_no, f"header says {head[0]} answers but lines "
                                  f"below hold {n}")
        label_no, label_fields = body[-1]
        labels = _labels(path, label_no, label_fields)
        if period == 3:
            sk_no, sk = body[0]
            items = sk
            skills: list[tuple[str, ...]] = [(s,) for s in sk]
            if any(s == "" for s in sk):
                raise DataFormatError(path, sk_no, "empty skill id")
        else:
            it_no, items = body[0]
            sk_no, sk = body[1]
            if any(s == "" for s in items):
                raise DataFormatError(path, it_no, "empty item id")
            skills = [_split_skills(path, sk_no, s) for s in sk]
        rows = [
            (items[k], skills[k], labels[k], float(k), label_no) for k in range(n)
        ]
        learners.append((learner, rows))
    return learners


def _read_dktsyn(path: str | Path, text: str) -> list[tuple[str, list[_Raw]]]:
    learners: list[tuple[str, list[_Raw]]] = []
    width: int | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        labels = _labels(path, n, _fields(line))
        if width is None:
            width = len(labels)
        elif len(labels) != width:
            raise DataFormatError(path, n, f"{len(labels)} answers but earlier rows have "
                                  f"{width}; dktsyn rows answer the same questions")
        rows: list[_Raw] = [(str(q + 1), (str(q + 1),), c, float(q), n)
                            for q, c in enumerate(labels)]
        learners.append((str(len(learners) + 1), rows))
    return learners


def _parse_time(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _read_csv(path: str | Path, text: str) -> tuple[list[tuple[str, list[_Raw]]], int]:
    import pandas as pd

    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(path, None, f"not a readable CSV: {exc}") from exc
    missing = [c for c in CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise DataFormatError(path, 1, f"missing column(s) {missing}; the header must have "
                              f"{','.join(CSV_COLUMNS)}")
    order: dict[str, list[_Raw]] = {}
    for k, (lid, item, skills, correct, ts) in enumerate(
        zip(frame["learner_id"], frame["item_id"], frame["skill_ids"], frame["correct"],
            frame["timestamp"], strict=True)
    ):
        lineno = k + 2
        if not lid or not item:
            raise DataFormatError(path, lineno, "empty learner_id or item_id")
        try:
            score = float(correct)
        except ValueError:
            score = -1.0
        if not 0.0 <= score <= 1.0:
            raise DataFormatError(path, lineno, f"correct={correct!r} is not 0/1 or a score "
                                  "in [0, 1]")
        try:
            t = _parse_time(ts) if ts else float(k)
        except ValueError as exc:
            raise DataFormatError(path, lineno, f"timestamp {ts!r} is neither seconds nor "
                                  "ISO-8601") from exc
        order.setdefault(lid, []).append(
            (item, _split_skills(path, lineno, skills), int(score >= 0.5), t, lineno)
        )
    learners = [(lid, sorted(rows, key=lambda r: r[3])) for lid, rows in order.items()]
    return learners, 0


def detect_format(path: str | Path, text: str | None = None) -> Format:
    """Guess a log's format from its content; raise :class:`DataFormatError` when unsure."""
    if text is None:
        text = Path(path).read_text()
    lines = [ln for ln in text.splitlines() if ln.strip()][:400]
    if not lines:
        raise DataFormatError(path, None, "the file is empty")
    head = [h.strip() for h in lines[0].split(",")]
    if "learner_id" in head and "item_id" in head:
        return "csv"
    rows = [_fields(ln) for ln in lines]
    widths = {len(r) for r in rows}
    if (len(widths) == 1 and widths.pop() > 2
            and all(f in ("0", "1") for r in rows for f in r)):
        return "dktsyn"
    for period, fmt in ((3, "dkt3"), (4, "pid4")):
        usable = len(rows) - len(rows) % period
        ok = usable >= period
        for b in range(0, usable, period):
            block = rows[b : b + period]
            if not (1 <= len(block[0]) <= 2
                    and len({len(r) for r in block[1:]}) == 1
                    and all(f in ("0", "1") for f in block[-1])):
                ok = False
                break
            if len(block[0]) == 1 and block[0][0].isdigit() and int(block[0][0]) != len(block[1]):
                ok = False
                break
        if ok:
            return fmt  # type: ignore[return-value]
    raise DataFormatError(path, None, "cannot tell the format; pass --format "
                          "{dkt3,pid4,csv,dktsyn}")


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
        vocab: an existing vocabulary (the train file's) to extend: its indices are kept and
            ids first seen here are appended.
    """
    p = Path(path)
    if not p.is_file():
        raise DataFormatError(p, None, "no such file; check the path")
    text = p.read_text()
    fmt = format or detect_format(p, text)
    if fmt not in FORMATS:
        raise TracingError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt in ("dkt3", "pid4"):
        return _index(p, fmt, _read_blocks(p, text, 3 if fmt == "dkt3" else 4, fmt), vocab)
    if fmt == "dktsyn":
        return _index(p, fmt, _read_dktsyn(p, text), vocab)
    learners, skipped = _read_csv(p, text)
    return _index(p, fmt, learners, vocab, skipped)


def read_split(
    train: str | Path, test: str | Path, format: Format | str | None = None
) -> tuple[TraceData, TraceData]:
    """Read a train and a test file into one shared vocabulary (test-only ids appended)."""
    tr = read_log(train, format)
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
