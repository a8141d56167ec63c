"""Store calls per request stay constant as the page grows (DataLoaders batch per request)."""

from __future__ import annotations

import inspect
from collections import Counter
from typing import Any

from api.ids import to_global_id
from graph.models import Item, ItemKind, Mastery, Prerequisite, Skill, SkillWeight
from tests.api.conftest import T0, ApiFactory


class CountingStore:
    """Forwards to a real store, counting each awaited method call by name."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return await attr(*args, **kwargs)

        return counted


PAGE_QUERY = """query($n: Int!) {
  skills(first: $n) { edges { node {
    name
    prerequisites { name }
    dependents { name }
    items { title skills { name } }
    mastery(learnerId: "ada") { probability skill { name } }
  } } }
}"""


async def test_store_calls_do_not_grow_with_the_page(store: Any, make_api: ApiFactory) -> None:
    # a chain of 80 skills (each needing the one before), one item each, mastery for some
    skills = [Skill(f"k{i:03d}", f"Skill {i}") for i in range(80)]
    await store.upsert_skills(skills, actor="test")
    await store.upsert_prerequisites(
        [Prerequisite(f"k{i - 1:03d}", f"k{i:03d}") for i in range(1, 80)], actor="test"
    )
    await store.upsert_items(
        [
            Item(f"it{i:03d}", ItemKind.EXERCISE, f"Q{i}", (SkillWeight(f"k{i:03d}"),))
            for i in range(80)
        ],
        actor="test",
    )
    await store.save_mastery(
        [Mastery("ada", f"k{i:03d}", 0.5, 0.1, T0, "test") for i in range(0, 80, 3)]
    )
    counting: list[CountingStore] = []

    def wrap(inner: Any) -> CountingStore:
        counting.append(CountingStore(inner))
        return counting[-1]

    api = await make_api(wrap=wrap)
    spy = counting[0]
    per_size: dict[int, Counter[str]] = {}
    for n in (5, 50):
        spy.calls.clear()
        body = await api.gql(PAGE_QUERY, {"n": n}, role="learner")
        assert "errors" not in body, body
        edges = body["data"]["skills"]["edges"]
        assert len(edges) == n
        per_size[n] = Counter(spy.calls)
    for n, calls in per_size.items():
        # one call per kind of lookup; a skill loader batch may split across event-loop ticks
        assert sum(calls.values()) <= 8, (n, calls)
        assert calls["list_skills"] == 1
        for method in ("prerequisites_of", "dependents_of", "items_for_skills", "mastery_of"):
            assert calls[method] == 1, (n, method, calls)
        assert calls["get_skills"] <= 2, (n, calls)


async def test_nodes_share_one_batch(store: Any, make_api: ApiFactory) -> None:
    counting: list[CountingStore] = []

    def wrap(inner: Any) -> CountingStore:
        counting.append(CountingStore(inner))
        return counting[-1]

    api = await make_api(wrap=wrap)
    ids = [to_global_id("Skill", k) for k in ("add", "count", "frac", "mul", "zzz")]
    ids += [to_global_id("Item", "i-mul")]
    counting[0].calls.clear()
    body = await api.gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert [n and n["id"] for n in body["data"]["nodes"]] == [*ids[:4], None, ids[5]]
    assert counting[0].calls == Counter({"get_skills": 1, "get_items": 1})
