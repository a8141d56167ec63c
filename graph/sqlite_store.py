"""The embedded store: one SQLite file, the default ``GraphStore``.

Durability: WAL journal, ``synchronous=NORMAL`` (a crash loses at most the last commits, never
corrupts), foreign keys on. Every call runs on one dedicated worker thread that owns the
connection, so calls are serialized and the event loop never blocks on disk. Each write is one
``BEGIN IMMEDIATE`` transaction: it writes everything or nothing.

The schema lives in ``migrations/sqlite/``; only the bookkeeping table ``schema_migrations`` is
created here. Timestamps are stored as integer microseconds since the epoch (UTC).

The class is put together from one module per concern:

- ``graph.sqlite_core``: the connection, its worker thread, the read-only side connection for
  long aggregate reads, and the migration bookkeeping;
- ``graph.sqlite_curriculum``: skills, items, prerequisites and the change log;
- ``graph.sqlite_edits``: planned curriculum edits written as one diff, with undo's archive;
- ``graph.sqlite_people``: learners, users and groups;
- ``graph.sqlite_learning``: attempts, item gain counts, mastery and tracer states;
- ``graph.sqlite_views``: views of lessons, videos and readings (never traced);
- ``graph.sqlite_serving``: the serving tracer model and the jobs that switch it;
- ``graph.sqlite_snapshot``: the request's read: a learner's snapshot, the serving probe;
- ``graph.sqlite_queries``: queries spanning several tables, run on the worker thread;
- ``graph.sqlite_rows``: value checks and row conversions (no connection).
"""

from __future__ import annotations

from graph.sqlite_alerts import SqliteAlerts
from graph.sqlite_classes import SqliteClasses
from graph.sqlite_curriculum import SqliteCurriculum
from graph.sqlite_edits import SqliteEdits
from graph.sqlite_learning import SqliteLearning
from graph.sqlite_people import SqlitePeople
from graph.sqlite_rows import from_us, to_us
from graph.sqlite_serving import SqliteServing
from graph.sqlite_snapshot import SqliteSnapshot
from graph.sqlite_views import SqliteViews


class SqliteStore(
    SqliteCurriculum, SqliteEdits, SqlitePeople, SqliteClasses, SqliteLearning, SqliteViews,
    SqliteServing, SqliteAlerts, SqliteSnapshot,
):
    """``GraphStore`` on one SQLite file. Open with ``await SqliteStore.open(path)``."""


__all__ = ["SqliteStore", "from_us", "to_us"]
