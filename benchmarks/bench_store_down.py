"""What the store circuit breaker (``api/breaker.py``) costs when the store is up, and what it
saves when Neo4j is down.

* ``up``: a small query through the whole app (httpx over ASGI, SQLite store), with the
  breaker and with a pass-through stand-in for it (the baseline: how requests ran before),
  interleaved in one process; median and p99 latency, requests per second, the ratio.
* ``down``: the same query while the store is a Neo4jStore pointed at a closed port (its
  driver retries a failed connection for 30 s), with the production request timeout (10 s):
  without the breaker every request waits for the timeout and gets 504 "ask for less"; with
  it the first request is stopped by a failed ping after ``suspect_after_s`` and the others
  are refused at once (503 with the reason). Time to the answer, and its status, per request.

    nice -n 10 .venv/bin/python benchmarks/bench_store_down.py [--calls 400] [--down-calls 3]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api.app import ApiSettings, build_services, create_app, drain_tasks  # noqa: E402
from api.auth import AuthConfig  # noqa: E402
from api.breaker import StoreBreaker  # noqa: E402
from api.context import Services  # noqa: E402
from api.limits import Limits  # noqa: E402
from api.services import MasteryUpdater  # noqa: E402
from graph.models import Skill  # noqa: E402
from graph.sqlite_store import SqliteStore  # noqa: E402
from migrations.runner import migrate  # noqa: E402

T = TypeVar("T")
SECRET = "bench-secret-for-the-store-down-benchmark"
AUTH = AuthConfig("HS256", SECRET, SECRET)
QUERY = "{ skills(first: 5) { nodes { key name } } }"


class NoBreaker(StoreBreaker):
    """The baseline: requests run as they did before the breaker (no probe, no refusal)."""

    async def admit(self) -> str | None:
        return None

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        return await work


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def client_for(services: Services) -> httpx.AsyncClient:
    app = create_app(ApiSettings(auth=AUTH, limits=services.limits), services=services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")


async def up(store: SqliteStore, calls: int) -> None:
    settings = ApiSettings(auth=AUTH)
    with_breaker = await build_services(store, settings)
    without = await build_services(store, settings)
    without.breaker = NoBreaker(store.ping)
    clients = {"breaker": await client_for(with_breaker), "baseline": await client_for(without)}
    times: dict[str, list[float]] = {name: [] for name in clients}
    for client in clients.values():  # warm-up
        for _ in range(20):
            assert (await client.post("/graphql", json={"query": QUERY})).status_code == 200
    for k in range(calls):
        for name in ("breaker", "baseline") if k % 2 == 0 else ("baseline", "breaker"):
            started = time.perf_counter()
            response = await clients[name].post("/graphql", json={"query": QUERY})
            times[name].append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
        if (k + 1) % 100 == 0:
            print(f"  up: {k + 1}/{calls} pairs", file=sys.stderr, flush=True)
    print(f"store up (SQLite), {calls} interleaved requests each, `{QUERY}`")
    print(f"{'':10} {'median ms':>10} {'p99 ms':>8} {'req/s':>8}")
    for name, got in times.items():
        med = statistics.median(got)
        print(f"{name:10} {med * 1e3:10.3f} {pct(got, 0.99) * 1e3:8.3f} {len(got) / sum(got):8.0f}")
    ratio = statistics.median(times["breaker"]) / statistics.median(times["baseline"])
    print(f"breaker / baseline median: {ratio:.3f}")
    for client in clients.values():
        await client.aclose()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def down(store: SqliteStore, calls: int) -> None:
    from neo4j import AsyncGraphDatabase

    from graph.neo4j_store import Neo4jStore

    print(f"\nstore down (Neo4jStore on a closed port), request timeout {Limits().timeout_s} s")
    print(f"{'':10} {'request':>8} {'status':>7} {'seconds':>8}  code")
    dead: list[Neo4jStore] = []
    for name in ("baseline", "breaker"):
        services = await build_services(store, ApiSettings(auth=AUTH))
        gone = Neo4jStore(AsyncGraphDatabase.driver(f"bolt://127.0.0.1:{closed_port()}"))
        dead.append(gone)
        services.store = gone
        services.mastery = MasteryUpdater(gone)
        services.breaker = NoBreaker(gone.ping) if name == "baseline" else StoreBreaker(gone.ping)
        client = await client_for(services)
        for k in range(calls):
            started = time.perf_counter()
            response = await client.post("/graphql", json={"query": QUERY})
            took = time.perf_counter() - started
            code = response.json()["errors"][0].get("extensions", {}).get("code")
            print(f"{name:10} {k + 1:8} {response.status_code:7} {took:8.3f}  {code}", flush=True)
        await client.aclose()
    print("(closing the down stores waits for the driver's retries in flight)", file=sys.stderr)
    for gone in dead:
        await gone.close()


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400, help="interleaved pairs (store up)")
    parser.add_argument("--down-calls", type=int, default=3, help="requests per variant (down)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(str(Path(tmp) / "bench.db"))
        try:
            await migrate(store)
            await store.upsert_skills(
                [Skill(f"s{i:02d}", f"Skill {i}") for i in range(20)], actor="bench"
            )
            await up(store, args.calls)
            if args.down_calls > 0:
                await down(store, args.down_calls)
            await drain_tasks()
        finally:
            await store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
