"""Parsing the line formats of learning logs into raw answers (before indexing).

The formats are described in ``tracing/data.py`` (and ``shared/datasets/README.md``); this
module turns a file's text into ``(learner id, [raw answer, ...])`` pairs and knows the
conventions real files follow:

- trailing commas on the value lines (DKVMN's files), blank lines, a UTF-8 byte-order mark,
  Windows line ends;
- **multi-skill answers written as several rows** (AKT / pyKT "pid" files, raw ASSISTments
  exports): consecutive rows of one learner with the same item id and the same label, each
  naming a skill not yet in the answer, are one answer on all those skills
  (:func:`merge_multi_skill_rows`). ``1366,1366`` / ``7,9`` / ``1,1`` is one correct answer to
  item 1366 on skills 7 and 9 (one prediction when scored). A row that repeats a skill already
  in the answer, or has another label, starts a new answer (a second attempt).
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from typing import Literal

from tracing.base import TracingError

Format = Literal["dkt3", "pid4", "csv", "dktsyn"]
FORMATS: tuple[str, ...] = ("dkt3", "pid4", "csv", "dktsyn")
CSV_COLUMNS = ("learner_id", "item_id", "skill_ids", "correct", "timestamp")
_SKILL_SPLIT = re.compile(r"[;_]")

Raw = tuple[str, tuple[str, ...], int, float, int]
"""One answer before indexing: (item id, skill ids, correct, timestamp, source line)."""

Learners = list[tuple[str, list[Raw]]]


class DataFormatError(TracingError):
    """A log file is malformed; the message names the file, the line and the fix."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


def read_text(path: Path) -> str:
    """The file's text; a UTF-8 byte-order mark (spreadsheet exports) is dropped."""
    return path.read_text(encoding="utf-8-sig")


def merge_multi_skill_rows(rows: list[Raw], *, same_time: bool) -> tuple[list[Raw], int]:
    """Merge rows that are one multi-skill answer (see the module docstring); returns the
    answers and how many rows were folded into the answer before them. With ``same_time``
    the rows must also carry the same timestamp (event logs); the line formats have none."""
    out: list[Raw] = []
    merged = 0
    for row in rows:
        if out:
            item, skills, correct, t, line = out[-1]
            if (
                row[0] == item
                and row[2] == correct
                and (not same_time or row[3] == t)
                and not set(row[1]) & set(skills)
            ):
                out[-1] = (item, skills + row[1], correct, t, line)
                merged += 1
                continue
        out.append(row)
    return out, merged


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


def read_blocks(path: str | Path, text: str, period: int, fmt: str) -> tuple[Learners, int, bool]:
    """``dkt3`` (``period`` 3) or ``pid4`` (4) blocks -> (learners, merged rows, whether every
    header named its learner: ``index,learner_id``; else ids are block numbers)."""
    lines = [(n + 1, ln) for n, ln in enumerate(text.splitlines()) if ln.strip()]
    if len(lines) % period:
        raise DataFormatError(
            path,
            lines[-1][0] if lines else None,
            f"{len(lines)} non-empty lines is not a multiple of {period}: the {fmt} format "
            f"has {period} lines per learner; is the last block cut short?",
        )
    learners: Learners = []
    merged = 0
    named = True
    for b in range(0, len(lines), period):
        block = lines[b : b + period]
        hdr_no, hdr = block[0]
        head = _fields(hdr)
        if not 1 <= len(head) <= 2:
            raise DataFormatError(
                path,
                hdr_no,
                f"expected a learner header (`length` or `index,learner_id`) but found "
                f"{len(head)} fields; is this a {fmt} file? (try another --format)",
            )
        named = named and len(head) == 2
        learner = head[1] if len(head) == 2 else str(b // period + 1)
        body = [(n, _fields(ln)) for n, ln in block[1:]]
        counts = {len(f) for _, f in body}
        if len(counts) != 1:
            raise DataFormatError(
                path,
                hdr_no,
                f"learner {learner!r}: the {period - 1} lines after the header have different "
                f"lengths {[len(f) for _, f in body]}; they must list one value per answer",
            )
        n = counts.pop()
        if len(head) == 1 and head[0].isdigit() and int(head[0]) != n:
            raise DataFormatError(
                path, hdr_no, f"header says {head[0]} answers but lines below hold {n}"
            )
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
        rows: list[Raw] = [(items[k], skills[k], labels[k], 0.0, label_no) for k in range(n)]
        if period == 4:
            rows, m = merge_multi_skill_rows(rows, same_time=False)
            merged += m
        # the position in the learner's sequence is the only clock these formats have
        learners.append((learner, [(r[0], r[1], r[2], float(k), r[4]) for k, r in enumerate(rows)]))
    return learners, merged, named


def read_dktsyn(path: str | Path, text: str) -> Learners:
    """The DKT paper's synthetic rows: learner ``k`` answers questions 1..Q in order."""
    learners: Learners = []
    width: int | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        labels = _labels(path, n, _fields(line))
        if width is None:
            width = len(labels)
        elif len(labels) != width:
            raise DataFormatError(
                path,
                n,
                f"{len(labels)} answers but earlier rows have "
                f"{width}; dktsyn rows answer the same questions",
            )
        rows: list[Raw] = [
            (str(q + 1), (str(q + 1),), c, float(q), n) for q, c in enumerate(labels)
        ]
        learners.append((str(len(learners) + 1), rows))
    return learners


def _parse_time(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def read_csv(path: str | Path, text: str) -> tuple[Learners, int]:
    """An event log -> (learners, merged rows); rows sorted by time within each learner."""
    import pandas as pd

    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(path, None, f"not a readable CSV: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise DataFormatError(
            path, 1, f"missing column(s) {missing}; the header must have {','.join(CSV_COLUMNS)}"
        )
    order: dict[str, list[Raw]] = {}
    for k, (lid, item, skills, correct, ts) in enumerate(
        zip(
            frame["learner_id"],
            frame["item_id"],
            frame["skill_ids"],
            frame["correct"],
            frame["timestamp"],
            strict=True,
        )
    ):
        lineno = k + 2
        if not lid or not item:
            raise DataFormatError(path, lineno, "empty learner_id or item_id")
        try:
            score = float(correct)
        except ValueError:
            score = -1.0
        if not 0.0 <= score <= 1.0:
            raise DataFormatError(
                path, lineno, f"correct={correct!r} is not 0/1 or a score in [0, 1]"
            )
        try:
            t = _parse_time(ts) if ts else float(k)
        except ValueError as exc:
            raise DataFormatError(
                path, lineno, f"timestamp {ts!r} is neither seconds nor ISO-8601"
            ) from exc
        order.setdefault(lid, []).append(
            (item, _split_skills(path, lineno, skills), int(score >= 0.5), t, lineno)
        )
    learners: Learners = []
    merged = 0
    for lid, rows in order.items():
        answers, m = merge_multi_skill_rows(sorted(rows, key=lambda r: r[3]), same_time=True)
        learners.append((lid, answers))
        merged += m
    return learners, merged


def detect_format(path: str | Path, text: str | None = None) -> Format:
    """Guess a log's format from its content; raise :class:`DataFormatError` when unsure."""
    if text is None:
        text = read_text(Path(path))
    lines = [ln for ln in text.splitlines() if ln.strip()][:400]
    if not lines:
        raise DataFormatError(path, None, "the file is empty")
    head = [h.strip() for h in lines[0].split(",")]
    if "learner_id" in head and "item_id" in head:
        return "csv"
    rows = [_fields(ln) for ln in lines]
    widths = {len(r) for r in rows}
    if len(widths) == 1 and widths.pop() > 2 and all(f in ("0", "1") for r in rows for f in r):
        return "dktsyn"
    for period, fmt in ((3, "dkt3"), (4, "pid4")):
        usable = len(rows) - len(rows) % period
        ok = usable >= period
        for b in range(0, usable, period):
            block = rows[b : b + period]
            if not (
                1 <= len(block[0]) <= 2
                and len({len(r) for r in block[1:]}) == 1
                and all(f in ("0", "1") for f in block[-1])
            ):
                ok = False
                break
            if len(block[0]) == 1 and block[0][0].isdigit() and int(block[0][0]) != len(block[1]):
                ok = False
                break
        if ok:
            return fmt  # type: ignore[return-value]
    raise DataFormatError(
        path, None, "cannot tell the format; pass --format {dkt3,pid4,csv,dktsyn}"
    )


def parse(path: Path, text: str, fmt: str) -> tuple[Learners, int, bool]:
    """A file's text in format ``fmt`` -> (learners, merged rows, whether learner ids come
    from the file rather than being row/block numbers)."""
    if fmt not in FORMATS:
        raise TracingError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt in ("dkt3", "pid4"):
        return read_blocks(path, text, 3 if fmt == "dkt3" else 4, fmt)
    if fmt == "dktsyn":
        return read_dktsyn(path, text), 0, False
    learners, merged = read_csv(path, text)
    return learners, merged, True
