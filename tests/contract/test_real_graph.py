"""Contract on real data: the Junyi Academy prerequisite graph (979 edges, one cycle).

Loading every edge in one call must be refused with that cycle spelled out and write nothing;
without one edge of the cycle the rest loads, and closures over it agree with networkx.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from graph.models import Prerequisite
from graph.store import CycleError
from tests.contract.helpers import ACTOR, edge_set, skill


def junyi_edges(datasets: Path) -> list[tuple[str, str]]:
    with open(datasets / "junyi-prerequisites" / "junyi_prereq_edges.csv", newline="") as f:
        return [(row["prereq_name"], row["exercise_name"]) for row in csv.DictReader(f)]


async def test_junyi_cycle_is_refused_then_the_rest_loads(store: Any, datasets: Path) -> None:
    edges = junyi_edges(datasets)
    assert len(edges) == 979
    names = sorted({n for e in edges for n in e})
    await store.upsert_skills([skill(n) for n in names], actor=ACTOR)

    with pytest.raises(CycleError) as err:
        await store.upsert_prerequisites([Prerequisite(s, t) for s, t in edges], actor=ACTOR)
    cycle = err.value.cycle
    assert cycle[0] == cycle[-1] and len(set(cycle)) == 3
    assert {"radical_multiplication_and_division", "simplifying_radicals"} <= set(cycle)
    assert all(e in set(edges) for e in zip(cycle, cycle[1:], strict=False))
    assert (await store.prerequisite_graph()).edges == ()

    dropped = (cycle[0], cycle[1])
    rest = [e for e in edges if e != dropped]
    await store.upsert_prerequisites([Prerequisite(s, t) for s, t in rest], actor=ACTOR)
    assert edge_set(await store.prerequisite_graph()) == set(rest)

    truth: nx.DiGraph[str] = nx.DiGraph(rest)
    deepest = max(names, key=lambda n: len(nx.ancestors(truth, n)) if n in truth else 0)
    closure = await store.ancestors([deepest])
    assert {s.id for s in closure.skills} == nx.ancestors(truth, deepest) | {deepest}
    assert edge_set(closure) == set(truth.subgraph({s.id for s in closure.skills}).edges)
