"""Teacher dashboard reads: latency of the teacher page's class query, against the heatmap alone.

In process (the app over ASGI, no sockets), on a store seeded with ``learngraph seed``: for
each class of ``--teacher``, the query the teacher page sends (``api/static/app/pages/
teacher.js``: heatmap, goals, at-risk list with reasons, alerts, 60 days of progress,
segments) and, as the baseline, ``masteryMatrix`` alone (what a heatmap-only dashboard costs).
``first read after start``: the first class's first dashboard read in a freshly built app (a
cold server: nothing of the class cached); ``cold``: each other class's first read (every
learner's answers replayed under the serving model); ``warm``: the reads after it (timelines
cached until a learner answers again). Each row gives wall time and the process's CPU time
(``time.process_time``: the figure that carries over from a busy machine). The at-risk model
is fitted first and not timed (the server does it at start-up). ``--profile PATH`` writes a
cProfile of the cold reads.

    nice -n 10 python benchmarks/bench_teacher.py --db sqlite:///./learngraph.db --repeats 5
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
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
    """The page's CLASS_QUERY, with the page's other template constants (``${NAME}``) filled in."""
    consts = dict(re.findall(r"const ([A-Z_]+) = `(.*?)`;", PAGE.read_text(), re.S))
    assert "CLASS_QUERY" in consts, f"no CLASS_QUERY in {PAGE}"
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: consts[m.group(1)], consts["CLASS_QUERY"])


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def summary(name: str, seconds: list[float], cpu: list[float]) -> str:
    med = statistics.median(seconds)
    return (
        f"{name:<26}{len(seconds):>5}{med * 1000:>10.0f}{p99(seconds) * 1000:>10.0f}"
        f"{statistics.median(cpu) * 1000:>10.0f}{p99(cpu) * 1000:>10.0f}"
    )


async def main(db: str, teacher: str, repeats: int, profile: str | None = None) -> None:
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
        names = ("baseline (heatmap)", "page, first after start", "page, cold", "page, warm")
        times: dict[str, list[float]] = {n: [] for n in names}
        cpus: dict[str, list[float]] = {n: [] for n in names}
        profiler = cProfile.Profile() if profile else None
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:

            async def run(
                name: str, q: str, gid: str, prof: cProfile.Profile | None = None
            ) -> None:
                started, cpu = time.perf_counter(), time.process_time()
                if prof is not None:
                    prof.enable()
                r = await client.post(
                    "/graphql",
                    json={"query": q, "variables": {"id": gid}},
                    headers={"authorization": f"Bearer {token}"},
                )
                if prof is not None:
                    prof.disable()
                times[name].append(time.perf_counter() - started)
                cpus[name].append(time.process_time() - cpu)
                body = r.json()
                assert r.status_code == 200 and not body.get("errors"), body

            for k, gid in enumerate(groups):
                await run("page, first after start" if k == 0 else "page, cold", query, gid,
                          profiler)
                await run("baseline (heatmap)", BASELINE, gid)
                for _ in range(repeats):
                    await run("page, warm", query, gid)
                    await run("baseline (heatmap)", BASELINE, gid)
        base = statistics.median(cpus["baseline (heatmap)"])
        print(f"{db}: {len(groups)} classes of {teacher}; load average {os.getloadavg()}")
        print(f"{'query':<26}{'n':>5}{'wall med':>10}{'wall p99':>10}{'cpu med':>10}"
              f"{'cpu p99':>10}  cpu ratio (ms)")
        for name in names:
            if times[name]:
                ratio = statistics.median(cpus[name]) / base
                print(summary(name, times[name], cpus[name]) + f"  {ratio:.1f}x")
        if profiler is not None and profile:
            profiler.dump_stats(profile)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    finally:
        await store.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default="sqlite:///./learngraph.db")
    ap.add_argument("--teacher", default="teacher-01")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--profile", default=None, metavar="PATH", help="cProfile the cold reads")
    args = ap.parse_args()
    asyncio.run(main(args.db, args.teacher, args.repeats, args.profile))
