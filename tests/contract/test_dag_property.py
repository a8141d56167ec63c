"""Contract, property-based: random prerequisite edits keep the graph a DAG.

An edit (a batch of edges) is refused with CycleError exactly when adding it to the current
graph would close a cycle; a refused edit leaves the graph unchanged; an accepted one adds its
edges. Each hypothesis example works in its own id namespace, so the one store a test gets can
serve every example.
"""

from __future__ import annotations

import itertools
from typing import Any

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import Prerequisite
from graph.store import CycleError
from tests.contract.helpers import ACTOR, skill

NODES = 6
_namespaces = itertools.count()

pairs = st.tuples(st.integers(0, NODES - 1), st.integers(0, NODES - 1)).filter(
    lambda p: p[0] != p[1])
edits = st.lists(st.lists(pairs, min_size=1, max_size=3), min_size=1, max_size=8)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=edits)
async def test_edit_refused_iff_it_closes_a_cycle(store: Any, edits: list[list[tuple[int, int]]]
                                                   ) -> None:
    ns = f"p{next(_namespaces)}-"
    names = [f"{ns}{i}" for i in range(NODES)]
    await store.upsert_skills([skill(n) for n in names], actor=ACTOR)
    model: nx.DiGraph[str] = nx.DiGraph()
    model.add_nodes_from(names)

    async def stored_edges() -> set[tuple[str, str]]:
        ancestors = await store.ancestors(names)
        return {(e.source, e.target) for e in ancestors.edges}

    for edit in edits:
        new = [(names[s], names[t]) for s, t in edit]
        trial = model.copy()
        trial.add_edges_from(new)
        closes_cycle = not nx.is_directed_acyclic_graph(trial)
        try:
            await store.upsert_prerequisites([Prerequisite(s, t) for s, t in new], actor=ACTOR)
        except CycleError as err:
            assert closes_cycle, f"{new} was refused but closes no cycle"
            cycle = err.cycle
            assert cycle[0] == cycle[-1]
            assert all(trial.has_edge(u, v) for u, v in zip(cycle, cycle[1:], strict=False))
        else:
            assert not closes_cycle, f"{new} closes a cycle but was accepted"
            model = trial
        assert await stored_edges() == set(model.edges)
