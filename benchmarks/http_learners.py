"""Simulated learners answering a running server's recommendations over HTTP (one
``recordAttempts`` per answer, ``recommendations(first: 1)`` in its payload, timestamps on the
learner's simulated clock), and what the server's answers did (``Trace``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np

from api.auth import AuthConfig, issue_token
from benchmarks.population_setting import (
    ITEM_SECONDS,
    Curriculum,
    Outcome,
    Population,
    goal_share,
    population,
    summary,
)
from benchmarks.serve_process import Server

#: the learners' simulated clocks start here (in the past: the API refuses future timestamps)
EPOCH = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
REC = "recommendations(first: 1) { item { key } kind predictedSuccess }"
FIRST = "query($id: ID!) { learner(id: $id) { " + REC + " } }"
RECORD = (
    "mutation($input: [AttemptInput!]!) { recordAttempts(input: $input) { __typename "
    "... on RecordAttemptsPayload { " + REC + " } ... on Error { message } } }"
)
CREATE = (
    "mutation($input: CreateLearnerInput!) { createLearner(input: $input) { __typename "
    "... on Error { message } } }"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Trace:
    """What the server's recommendations did for the whole cohort."""

    kinds: Counter[str] = field(default_factory=Counter)
    repeats: int = 0
    predicted: list[float] = field(default_factory=list)
    correct: list[int] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)
    empty: int = 0


async def post(
    client: httpx.AsyncClient,
    token: str,
    query: str,
    variables: dict[str, Any],
    trace: Trace | None = None,
) -> dict[str, Any]:
    t = time.perf_counter()
    r = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    if trace is not None:
        trace.latency_s.append(time.perf_counter() - t)
    body: dict[str, Any] = r.json()
    if r.status_code != 200 or body.get("errors"):
        raise SystemExit(f"unexpected answer ({r.status_code}): {json.dumps(body)[:2000]}")
    data: dict[str, Any] = body["data"]
    return data


async def drive(
    client: httpx.AsyncClient,
    auth: AuthConfig,
    cur: Curriculum,
    pop: Population,
    learner: Any,
    lid: str,
    budget: int,
    trace: Trace,
) -> Outcome:
    """One learner answering the server's recommendations until the goal or the budget."""
    token = issue_token(auth, lid, "learner", ttl=timedelta(days=1))
    fallback = f"{cur.goals[0]}-ex0"
    got = (await post(client, token, FIRST, {"id": lid}, trace))["learner"]["recommendations"]
    t, used, last = 0.0, 0, None
    reached = all(pop.mastered(learner, g, t) for g in cur.goals)
    while not reached and used < budget:
        if got:
            rec = got[0]
            item, kind, p = rec["item"]["key"], rec["kind"], float(rec["predictedSuccess"])
        else:  # nothing recommended: practise the goal itself (counted)
            item, kind, p = fallback, "none", float("nan")
            trace.empty += 1
        correct = pop.answer(learner, item, t)
        trace.kinds[kind] += 1
        trace.repeats += item == last
        if not np.isnan(p):
            trace.predicted.append(p)
            trace.correct.append(int(correct))
        attempt = {
            "attemptId": f"{lid}-{used}",
            "learnerId": lid,
            "itemId": item,
            "score": float(correct),
            "timestamp": (EPOCH + timedelta(seconds=t)).isoformat(),
        }
        data = (await post(client, token, RECORD, {"input": [attempt]}, trace))["recordAttempts"]
        if data["__typename"] != "RecordAttemptsPayload":
            raise SystemExit(f"recordAttempts for {lid} answered {data}")
        got = data["recommendations"]
        used, last = used + 1, item
        t += ITEM_SECONDS
        reached = all(pop.mastered(learner, g, t) for g in cur.goals)
    return Outcome(used, reached, goal_share(cur, pop, learner, t))


async def cohort_over_http(
    client: httpx.AsyncClient,
    auth: AuthConfig,
    cur: Curriculum,
    pop: Population,
    learners: Sequence[Any],
    prefix: str,
    budget: int,
    lanes: int,
) -> tuple[list[Outcome], Trace]:
    """Create the learners (goals set) and drive ``lanes`` of them at a time."""
    trace = Trace()
    ids = [f"{prefix}-{k:03d}" for k in range(len(learners))]
    admin = issue_token(auth, "bench-admin", "admin", ttl=timedelta(days=1))
    for lid in ids:
        made = (
            await post(
                client,
                admin,
                CREATE,
                {"input": {"id": lid, "displayName": lid, "goals": list(cur.goals)}},
            )
        )["createLearner"]
        if made["__typename"] != "LearnerPayload":
            raise SystemExit(f"createLearner {lid} answered {made}")
    outcomes: list[Outcome | None] = [None] * len(learners)
    todo = iter(range(len(learners)))

    async def lane() -> None:
        for k in todo:
            o = await drive(client, auth, cur, pop, learners[k], ids[k], budget, trace)
            outcomes[k] = o
            log(
                f"  {prefix} (HTTP): {ids[k]} {o.items} items, reached={o.reached} "
                f"({sum(x is not None for x in outcomes)}/{len(learners)})"
            )

    await asyncio.gather(*(lane() for _ in range(max(1, lanes))))
    return [o for o in outcomes if o is not None], trace


async def served_model(client: httpx.AsyncClient, auth: AuthConfig) -> str:
    admin = issue_token(auth, "bench-admin", "admin", ttl=timedelta(days=1))
    rows = (await post(client, admin, "{ tracerModels { key active } }", {}))["tracerModels"]
    return next((r["key"] for r in rows if r["active"]), "bkt-default")


async def over_http(
    args: argparse.Namespace, server: Server, auth: AuthConfig, cur: Curriculum, train: Any
) -> dict[str, Any]:
    """The warm-up cohort and the model trained on it (``--tracer gnn``), then the measured
    cohort (the same learners as the client-side policies)."""
    out: dict[str, Any] = {}
    if args.tracer != "bkt":
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            warm = population(args.population, cur, args.seed + 10_000)  # other people
            learners = [warm.new_learner(f"warm-{k:03d}") for k in range(args.warmup_learners)]
            t = time.perf_counter()
            got, _ = await cohort_over_http(
                client, auth, cur, warm, learners, "warm", args.warmup_budget, args.lanes
            )
            out["warmup"] = {
                **summary(got, args.warmup_budget),
                "answers": sum(o.items for o in got),
                "wall_s": time.perf_counter() - t,
            }
        # the training outlasts the server's keep-alive: a pooled connection kept across it
        # can be closed by the server just as the next request is sent (httpx.ReadError)
        out["training"] = await asyncio.to_thread(train)
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        out["served_model"] = await served_model(client, auth)
        log(f"serving model: {out['served_model']}")
        pop = population(args.population, cur, args.seed)
        learners = [pop.new_learner(f"sim-{k:03d}") for k in range(args.learners)]
        t = time.perf_counter()
        got, trace = await cohort_over_http(
            client, auth, cur, pop, learners, "sim", args.budget, args.lanes
        )
        out["adaptive"] = {
            **summary(got, args.budget),
            **trace_figures(trace),
            "wall_s": time.perf_counter() - t,
        }
    return out


def trace_figures(trace: Trace) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    answers = sum(trace.kinds.values())
    both = len(set(trace.correct)) == 2
    ms = np.asarray(trace.latency_s) * 1e3
    return {
        "answers": answers,
        "kinds": {k: v / max(answers, 1) for k, v in trace.kinds.most_common()},
        "immediate_repeats": trace.repeats / max(answers, 1),
        "auc_predicted_success": float(roc_auc_score(trace.correct, trace.predicted))
        if both
        else None,
        "empty_recommendations": trace.empty,
        "requests": int(ms.size),
        "request_median_ms": float(np.median(ms)) if ms.size else None,
        "request_p99_ms": float(np.percentile(ms, 99)) if ms.size else None,
        "request_max_ms": float(ms.max()) if ms.size else None,
    }
