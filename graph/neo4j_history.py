"""Keyset windows over a learner's history on Neo4j, shared by attempts and views (the
Cypher is :func:`graph.cypher.history_window`): one statement reads the window, one row past
its far side, and probes its near side at the cursor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from graph import checks, cypher
from graph import neo4j_values as v
from graph.models import HistoryWindow, WindowRequest
from graph.neo4j_core import Neo4jCore

T = TypeVar("T")


class Neo4jHistory(Neo4jCore):
    """The shared reader behind ``attempts_of`` / ``attempts_window`` and the views' pair."""

    async def _history(
        self,
        label: str,
        learner_id: str,
        convert: Callable[[dict[str, Any]], T],
        *,
        limit: int,
        after: str | None = None,
        before: str | None = None,
        backward: bool = False,
        since: datetime | None = None,
        probes: bool = False,
        after_field: str = "after",
    ) -> tuple[list[tuple[T, str]], bool, bool, bool]:
        """(row, cursor) pairs newest first; whether rows lie beyond the far side; the
        ``newer`` and ``older`` probes (false unless ``probes``); ``after_field`` names ``after``
        in the error for a cursor this store did not issue."""
        checks.check_window_limit(limit)
        params: dict[str, Any] = {"learner_id": learner_id, "limit": limit + 1}
        if after is not None:
            params["after_ts"], params["after_id"] = v.decode_cursor(after, after_field)
        if before is not None:
            params["before_ts"], params["before_id"] = v.decode_cursor(before, "before")
        if since is not None:
            params["since"] = v.utc(since, "since")
        query = cypher.history_window(label, since=since is not None, after=after is not None,
                                      before=before is not None, backward=backward,
                                      probes=probes)
        (record,) = await self._read(query, **params)
        found = [(convert(p), v.encode_cursor(v.to_datetime(p["timestamp"]), p["id"]))
                 for p in record["rows"]]
        beyond = len(found) > limit
        found = found[:limit]
        if backward:
            found.reverse()
        return found, beyond, bool(record["newer"]), bool(record["older"])

    async def _window(
        self,
        label: str,
        learner_id: str,
        convert: Callable[[dict[str, Any]], T],
        window: WindowRequest,
    ) -> HistoryWindow[T]:
        backward = window.backward
        found, beyond, newer, older = await self._history(
            label, learner_id, convert, limit=window.limit, after=window.after,
            before=window.before, backward=backward, probes=True)
        return HistoryWindow(
            rows=tuple(r for r, _ in found),
            cursors=tuple(c for _, c in found),
            has_newer=newer or (backward and beyond),
            has_older=older or (not backward and beyond),
        )
