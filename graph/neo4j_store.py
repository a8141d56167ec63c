"""The production store: a Neo4j server, reached with the official async driver.

Every call is one managed transaction (``execute_read`` / ``execute_write``: the driver retries
it on transient errors such as deadlocks or a leader switch) with a server-side timeout, and
runs a fixed, small number of statements whatever the batch size: batches travel as one
``UNWIND $rows`` parameter. All Cypher lives in :mod:`graph.cypher`; conversions and input
checks (the same rules as the embedded store) in :mod:`graph.neo4j_values`.

Writes are atomic: a write's checks (unknown ids, conflicting attempts, prerequisite cycles)
run inside its transaction, and raising from the transaction function rolls everything back.
Packstream encoding uses the ``neo4j-rust-ext`` extension when it is installed; see
:func:`rust_extension_loaded`.

The class is put together from one module per concern:

- ``graph.neo4j_core``: the driver, transactions and their error mapping, migration
  bookkeeping, and the statement helpers the others share;
- ``graph.neo4j_curriculum``: skills, items, prerequisites, closures and the change log;
- ``graph.neo4j_edits``: planned curriculum edits written as one diff, with undo's archive;
- ``graph.neo4j_people``: learners, users and groups;
- ``graph.neo4j_learning``: attempts, item gain counts, mastery and tracer states;
- ``graph.neo4j_views``: views of lessons, videos and readings (never traced);
- ``graph.neo4j_serving``: the serving tracer model and the jobs that switch it;
- ``graph.neo4j_snapshot``: the request's read: a learner's snapshot, the serving probe.
"""

from __future__ import annotations

from graph.neo4j_alerts import Neo4jAlerts
from graph.neo4j_classes import Neo4jClasses
from graph.neo4j_core import DEFAULT_TIMEOUT_S, rust_extension_loaded
from graph.neo4j_curriculum import Neo4jCurriculum
from graph.neo4j_edits import Neo4jEdits
from graph.neo4j_learning import Neo4jLearning
from graph.neo4j_people import Neo4jPeople
from graph.neo4j_serving import Neo4jServing
from graph.neo4j_snapshot import Neo4jSnapshot
from graph.neo4j_views import Neo4jViews


class Neo4jStore(
    Neo4jCurriculum, Neo4jEdits, Neo4jPeople, Neo4jClasses, Neo4jLearning, Neo4jViews,
    Neo4jServing, Neo4jAlerts, Neo4jSnapshot,
):
    """``GraphStore`` on a Neo4j 5 server. Open with ``await Neo4jStore.open(uri, auth=...)``."""


__all__ = ["DEFAULT_TIMEOUT_S", "Neo4jStore", "rust_extension_loaded"]
