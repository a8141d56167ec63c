"""Teacher dashboard reads: latency of the teacher page's class query, against the heatmap alone.

In process (the app over ASGI, no sockets), on a store seeded with ``learngraph seed``: for
each class of ``--teacher``, the query the teacher page sends (``api/static/app/pages/
teacher.js``: heatmap, goals, at-risk list with reasons, alerts, 60 days of progress,
segments) and, as the baseline, ``masteryMatrix`` alone (what a heatmap-only dashboard costs).
``cold``: each class's first dashboard read (every learner's answers replayed under the serving
model); ``warm``: the reads after it (timelines cached until a learner answers again). The
at-risk model is fitted first and not timed (the server does it at start-up).

    nice -n 10 python benchmarks/bench_teacher.py --db sqlite:///./learngraph.db --repeats 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import httpx  # noqa: E402

from api.app import ApiSettings, build_services, create_app  # noqa: E402
from api.auth import AuthConfig, issue_token  # noqa: E402
from api.limits import Limits  # noqa: E402
from graph.models import Role  # noqa: E402
from graph.open import open_store  # noqa: E402

PAGE = Path(__file__).resolve().parents[1] / "api/static/app/pages/teacher.js"
BASELINE = """query($id: ID!) { group(id: $id) { masteryMatrix { skills { key name }
  rows { learner { key } probabilities } } } }"""
SECRET = "bench-teacher-secret-0123456789abcdef"


def page_query() -> str:
    match = re.search(r"const CLASS_QUERY = `(.*?)`;", PAGE.read_text(), re.S)
    assert match, f"no CLASS_QUERY in {PAGE}"
    return match.group(1)


def summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    med = statistics.median(ordered)
    return f"{name:<22}{len(ordered):>5}{med * 1000:>10.0f}{p99 * 1000:>10.0f}{1 / med:>10.2f}"


async def main(db: str, teacher: str, repeats: int) -> None:
    store = await open_store(db)
    try:
        auth = AuthConfig("HS256", SECRET, SECRET)
        settings = ApiSettings(auth=auth, limits=Limits(timeout_s=600.0))
        services = await build_services(store, settings)
        await services.mastery.load()
        await services.analytics.model()
        app = create_app(settings, services=services)
        token = issue_token(auth, teacher, Role.TEACHER)
        groups = [g.id for g in await store.groups_of_teacher(teacher)]
        query = page_query()
        times: dict[str, list[float]] = {
            "baseline (heatmap)": [],
            "page, cold": [],
            "page, warm": [],
        }
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:

            async def run(q: str, gid: str) -> float:
                started = time.perf_counter()
                r = await client.post(
                    "/graphql",
                    json={"query": q, "variables": {"id": gid}},
                    headers={"authorization": f"Bearer {token}"},
                )
                took = time.perf_counter() - started
                body = r.json()
                assert r.status_code == 200 and not body.get("errors"), body
                return took

            for gid in groups:
                times["baseline (heatmap)"].append(await run(BASELINE, gid))
                times["page, cold"].append(await run(query, gid))
                for _ in range(repeats):
                    times["page, warm"].append(await run(query, gid))
                    times["baseline (heatmap)"].append(await run(BASELINE, gid))
        base = statistics.median(times["baseline (heatmap)"])
        print(f"{db}: {len(groups)} classes of {teacher}")
        print(f"{'query':<22}{'n':>5}{'median ms':>10}{'p99 ms':>10}{'per s':>10}  ratio")
        for name, got in times.items():
            print(summary(name, got) + f"  {statistics.median(got) / base:.1f}x")
    finally:
        await store.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default="sqlite:///./learngraph.db")
    ap.add_argument("--teacher", default="teacher-01")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    asyncio.run(main(args.db, args.teacher, args.repeats))
