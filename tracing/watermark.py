"""Which attempts a learner's stored tracer state already contains.

Recording an answer is two writes: the store keeps the attempt (idempotent on its id), then
serving folds it into the learner's saved tracer state (``tracing.serving``). When the second
write fails, the client's retry of the same batch finds every attempt already stored
(duplicates), so "trace only what was stored just now" would lose those answers for good,
and "trace duplicates too" would count an answer twice whenever a retry follows a success.
Each saved state therefore carries a :class:`Watermark` saying which attempts are in it, and
a duplicate is traced exactly when the watermark says it is not.

Attempts are ordered by their key ``(timestamp in microseconds since the epoch, attempt id)``.
A watermark holds

* ``floor``: every attempt whose key is at or below it is taken to be in the state;
* ``recent``: the keys above the floor that are in the state, ascending, at most ``keep``
  (default :data:`KEEP`); adding more moves the oldest into the floor.

So it is exact for the newest ``keep`` answers folded in: a failed batch is completed on retry
even when another batch of the same learner with *later* timestamps was traced in between
(a second device, an offline client syncing late). With ``keep=0`` it is the plain
watermark "newest attempt traced". ``newest`` is that newest key either way.

The one limit: a duplicate at or below the floor is assumed to be in the state. An attempt
is below the floor only if more than ``keep`` newer answers of its learner were traced
before its batch was retried, so a lost answer needs a failure, then ``keep`` newer answers,
then the retry.

States saved before watermarks existed decode with :data:`UNKNOWN`: nothing about them is
known, so every duplicate is assumed traced (the behaviour those states were written under;
the safe side, since tracing an answer twice corrupts the estimate silently while a missed
retry only leaves it one answer behind). Folding new attempts into such a state makes its
floor the newest of them, after which it is an ordinary watermark.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from graph.models import Attempt
from tracing.base import TracingError

#: (microseconds since 1970-01-01 UTC, attempt id)
Key = tuple[int, str]

#: attempts above the floor remembered exactly, per learner state
KEEP = 64

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def attempt_key(attempt: Attempt) -> Key:
    """The order attempts are traced in: timestamp (naive read as UTC), then attempt id."""
    ts = attempt.timestamp
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // _US, attempt.attempt_id


@dataclass(frozen=True, slots=True)
class Watermark:
    """Which attempts are folded into a state (see the module docstring).

    Args:
        floor: every attempt with a key at or below it is in the state; None: no such bound.
        recent: keys above ``floor`` that are in the state, strictly ascending.
        known: False for a state saved before watermarks (:data:`UNKNOWN`).
    """

    floor: Key | None = None
    recent: tuple[Key, ...] = ()
    known: bool = True

    def __post_init__(self) -> None:
        r = self.recent
        if r and (sorted(r) != list(r) or len(set(r)) != len(r)):  # strictly ascending
            raise TracingError(f"watermark keys {r!r} are not strictly ascending")
        if r and self.floor is not None and r[0] <= self.floor:
            raise TracingError(f"watermark key {r[0]!r} is not above its floor {self.floor!r}")

    @property
    def newest(self) -> Key | None:
        """The newest attempt in the state (None: none, or unknown)."""
        return self.recent[-1] if self.recent else self.floor

    def contains(self, key: Key) -> bool:
        """Whether the attempt with this key is (taken to be) in the state already."""
        if not self.known:
            return True
        if self.floor is not None and key <= self.floor:
            return True
        i = bisect_left(self.recent, key)
        return i < len(self.recent) and self.recent[i] == key

    def holds(self, key: Key) -> bool:
        """Whether the attempt with this key is known exactly to be in the state (one of the
        recent keys, or the floor itself), not merely assumed to be (below the floor)."""
        if key == self.floor:
            return True
        i = bisect_left(self.recent, key)
        return i < len(self.recent) and self.recent[i] == key

    def add(self, keys: Iterable[Key], keep: int = KEEP) -> Watermark:
        """The watermark after folding the attempts with ``keys`` into the state."""
        if keep < 0:
            raise TracingError(f"keep={keep}: must be >= 0")
        new = list(keys)
        if not new:
            return self
        if not self.known:
            return Watermark(floor=max(new))
        floor = self.floor
        fresh = sorted({k for k in new if floor is None or k > floor}.difference(self.recent))
        if not fresh and len(self.recent) <= keep:
            return self
        if not self.recent or not fresh or fresh[0] > self.recent[-1]:
            above = [*self.recent, *fresh]  # the usual case: newer answers appended
        else:
            above = sorted([*self.recent, *fresh])
        if len(above) > keep:
            floor = above[len(above) - keep - 1]
            above = above[len(above) - keep:]
        return Watermark(floor, tuple(above))

    # -- bytes -------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """JSON: ``known``, ``floor`` (a [microseconds, id] pair or null), and the recent keys
        as two parallel arrays ``us`` and ``ids`` (cheaper to read back than pairs)."""
        body: dict[str, Any] = {
            "known": self.known,
            "floor": None if self.floor is None else list(self.floor),
            "us": [k[0] for k in self.recent],
            "ids": [k[1] for k in self.recent],
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Watermark:
        try:
            body = json.loads(raw)
            floor = None if body["floor"] is None else _key(body["floor"])
            if "recent" in body:  # the first LGS2 layout, [[us, id], ...]
                recent = tuple(_key(k) for k in body["recent"])
            else:
                us, ids = body["us"], body["ids"]
                if not (isinstance(us, list) and isinstance(ids, list) and len(us) == len(ids)
                        and all(type(u) is int for u in us)
                        and all(type(i) is str for i in ids)):
                    raise TypeError("'us' and 'ids' are not equal-length int and str arrays")
                recent = tuple(zip(us, ids, strict=True))
            return cls(floor, recent, bool(body["known"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise TracingError(
                f"a stored tracer state has a malformed watermark ({exc}); delete the "
                "learner's tracer state, or rebuild all states with `learngraph trace rebuild`"
            ) from exc


def _key(value: Any) -> Key:
    us, aid = value
    if not isinstance(us, int) or isinstance(us, bool) or not isinstance(aid, str):
        raise TypeError(f"{value!r} is not a [microseconds, attempt id] pair")
    return us, aid


#: what a state saved before watermarks decodes with
UNKNOWN = Watermark(known=False)
