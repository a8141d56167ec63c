"""The teacher dashboard's API on both stores: class goals, at-risk list with reasons, alerts
(list and subscription), progress and history, segments and the heatmap CSV, each read only
through a group the caller teaches (learners outside the roster never show)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta
from typing import Any

from api.auth import issue_token
from graph.models import Role
from tests.api.conftest import AUTH, T0, Api
from tests.api.test_subscriptions import (
    errors_of,
    open_session,
    receive,
    serving,
    subscribe_message,
    wait_for_subscriber,
)

RECORD = """mutation($a: [AttemptInput!]!) { recordAttempts(input: $a) { __typename
  ... on Error { message } } }"""


def wrong_answers(
    learner: str, n: int, *, item: str = "i-add-1", start: int = 0, score: float = 0.0
) -> list[dict[str, Any]]:
    return [
        {
            "attemptId": f"{learner}-{start + k}",
            "learnerId": learner,
            "itemId": item,
            "score": score,
            "timestamp": (T0 + timedelta(minutes=start + k)).isoformat(),
        }
        for k in range(n)
    ]


async def record(api: Api, rows: list[dict[str, Any]]) -> None:
    got = await api.gql(RECORD, {"a": rows}, role="admin")
    assert got["data"]["recordAttempts"]["__typename"] == "RecordAttemptsPayload", got


GROUP_VIEW = """{ group(id: "g1") {
  atRisk { learner { key } probability atRisk reasons { code message } }
  alerts { key kind learner { key } skill { key } rootCause { key } message groupId }
  riskModel { trained threshold }
} }"""


async def test_a_stuck_learner_is_alerted_with_the_root_cause_and_at_risk(api: Api) -> None:
    await record(api, wrong_answers("ada", 6) + wrong_answers("cy", 6))
    got = await api.gql(GROUP_VIEW, role="teacher")
    g = got["data"]["group"]
    assert g["riskModel"] == {"trained": False, "threshold": 0.5}  # a tiny store: the prior
    risky = {r["learner"]["key"]: r for r in g["atRisk"]}
    assert set(risky) == {"ada"}  # bo has no answers; cy is not in the class
    assert risky["ada"]["atRisk"] is True
    assert "FAILURE_STREAK" in {r["code"] for r in risky["ada"]["reasons"]}
    alerts = {a["kind"]: a for a in g["alerts"]}
    assert set(alerts) == {"AT_RISK", "STUCK"}
    stuck = alerts["STUCK"]
    assert stuck["learner"]["key"] == "ada" and stuck["skill"]["key"] == "add"
    assert stuck["rootCause"]["key"] == "count"  # add's prerequisite, never practised
    assert stuck["key"] == "STUCK:ada:add"
    top = await api.gql("{ alerts { key } }", role="teacher")
    assert sorted(a["key"] for a in top["data"]["alerts"]) == ["AT_RISK:ada", "STUCK:ada:add"]


async def test_only_the_groups_teachers_and_admins_read_the_dashboard(api: Api) -> None:
    other = issue_token(AUTH, "tom", Role.TEACHER)
    r = await api.client.post(
        "/graphql", json={"query": GROUP_VIEW}, headers={"authorization": f"Bearer {other}"}
    )
    body = r.json()
    assert body["data"]["group"] is None
    assert "'tom' does not teach group 'g1'" in body["errors"][0]["message"]
    for role in ("learner", "designer"):
        got = await api.gql(GROUP_VIEW, role=role)
        assert got["data"]["group"] is None and got["errors"], role
    admin = await api.gql(GROUP_VIEW, role="admin")
    assert "errors" not in admin
    refused = await api.gql("{ alerts { key } }", role="admin")
    assert "name a group with groupId" in refused["errors"][0]["message"]


SET_GOALS = """mutation($g: ID!, $goals: [ClassGoalInput!]!) { setClassGoals(groupId: $g,
  goals: $goals) { __typename ... on ClassGoalsPayload { goals { skill { key } dueAt note
  masteredBy learners } } ... on Error { message } } }"""


async def test_class_goals_are_set_by_the_groups_teacher(api: Api) -> None:
    due = (T0 + timedelta(days=7)).isoformat()
    goals = [{"skillId": "mul", "dueAt": due, "note": "times tables"}, {"skillId": "count"}]
    got = await api.gql(SET_GOALS, {"g": "g1", "goals": goals}, role="teacher")
    payload = got["data"]["setClassGoals"]
    assert payload["__typename"] == "ClassGoalsPayload"
    assert [g["skill"]["key"] for g in payload["goals"]] == ["mul", "count"]
    assert payload["goals"][0]["note"] == "times tables"
    assert payload["goals"][1] == {
        "skill": {"key": "count"},
        "dueAt": None,
        "note": "",
        "masteredBy": 1,
        "learners": 2,
    }  # ada has count at 0.95
    read = await api.gql('{ group(id: "g1") { goals { skill { key } } } }', role="teacher")
    assert [g["skill"]["key"] for g in read["data"]["group"]["goals"]] == ["mul", "count"]


async def test_class_goal_refusals_name_the_problem(api: Api) -> None:
    cases = [
        ("learner", "g1", [{"skillId": "mul"}], "ForbiddenError", "learner 'ada'"),
        ("teacher", "nope", [{"skillId": "mul"}], "NotFoundError", "nope"),
        ("teacher", "g1", [{"skillId": "zz"}], "NotFoundError", "zz"),
        ("teacher", "g1", [{"skillId": "mul"}, {"skillId": "mul"}], "ValidationError", "twice"),
        ("teacher", "g1", [{"skillId": "mul", "note": "x" * 501}], "ValidationError", "501"),
    ]
    for role, group, goals, typename, named in cases:
        got = await api.gql(SET_GOALS, {"g": group, "goals": goals}, role=role)
        result = got["data"]["setClassGoals"]
        assert result["__typename"] == typename, (role, group, result)
        assert named in result["message"], result


async def test_progress_history_segments_and_csv(api: Api) -> None:
    await record(api, wrong_answers("ada", 3, score=1.0) + wrong_answers("bo", 2, start=10))
    got = await api.gql(
        """{ group(id: "g1") {
      progress(days: 2) { at mastered expectedMastered answers }
      segments(k: 2) { size learners { key } nextSkill { key } }
      masteryCsv(skillIds: ["count", "add"])
      learners { nodes { key masteryHistory(skillIds: ["add"]) { skill { key }
                 points { probability } } progress(days: 1) { answers } } }
    } }""",
        role="teacher",
    )
    g = got["data"]["group"]
    assert [p["answers"] for p in g["progress"]] == [0, 5]
    history = {x["key"]: x for x in g["learners"]["nodes"]}
    ada = [p["probability"] for p in history["ada"]["masteryHistory"][0]["points"]]
    bo = [p["probability"] for p in history["bo"]["masteryHistory"][0]["points"]]
    assert len(ada) == 3 and ada == sorted(ada) and len(bo) == 2 and bo == sorted(bo, reverse=True)
    assert history["ada"]["progress"] == [{"answers": 3}]
    assert sorted(s["size"] for s in g["segments"]) == [1, 1]
    assert all(s["nextSkill"] is not None for s in g["segments"])
    rows = list(csv.reader(io.StringIO(g["masteryCsv"])))
    assert rows[0] == ["learner_id", "display_name", "count", "add"]
    assert [r[0] for r in rows[1:]] == ["ada", "bo"]  # cy is not in the class
    bad = await api.gql('{ group(id: "g1") { segments(k: 0) { size } } }', role="teacher")
    assert "k=0" in bad["errors"][0]["message"]
    bad = await api.gql('{ group(id: "g1") { progress(days: 0) { at } } }', role="teacher")
    assert "days=0" in bad["errors"][0]["message"]


ALERTS = 'subscription { alertRaised(groupId: "g1") { kind learner { key } skill { key } } }'


async def test_alert_raised_reaches_the_teacher_when_answers_raise_one(api: Api) -> None:
    async with serving(api.services) as base:
        ws = await open_session(base, "teacher")
        try:
            await ws.send(subscribe_message(ALERTS, "a"))
            await wait_for_subscriber(api, "alerts:g1")
            await record(api, wrong_answers("cy", 6))  # not in g1: nothing for this teacher
            await record(api, wrong_answers("ada", 6))
            kinds = set()
            for _ in range(2):
                message = await receive(ws)
                assert message["type"] == "next", message
                alert = message["payload"]["data"]["alertRaised"]
                assert alert["learner"]["key"] == "ada"
                kinds.add(alert["kind"])
            assert kinds == {"STUCK", "AT_RISK"}
            await api.services.analytics.drain()
            # one more wrong answer raises nothing new
            await record(api, wrong_answers("ada", 1, start=6))
            await api.services.analytics.drain()
            try:
                extra = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            except TimeoutError:
                extra = None
            assert extra is None or extra["type"] in ("ping", "pong"), extra
        finally:
            await ws.close()


async def test_alert_raised_is_refused_to_whoever_may_not_read_the_group(api: Api) -> None:
    other = issue_token(AUTH, "tom", Role.TEACHER)
    async with serving(api.services) as base:
        for role, token in (("learner", None), ("designer", None), ("teacher", other)):
            ws = await open_session(base, role, token=token)
            try:
                await ws.send(subscribe_message(ALERTS, "a"))
                (error,) = errors_of(await receive(ws))
                assert error["extensions"]["code"] == "FORBIDDEN", (role, error)
            finally:
                await ws.close()
    refused = await api.client.post(
        "/graphql",
        json={"query": '{ alerts(groupId: "g1") { key } }'},
        headers={"authorization": f"Bearer {other}"},
    )
    assert "'tom' does not teach group 'g1'" in refused.json()["errors"][0]["message"]


async def test_answers_cost_no_alert_work_while_nobody_subscribes(
    api: Api, monkeypatch: Any
) -> None:
    calls: list[str] = []

    async def raised(learner_id: str, ids: Any) -> list[Any]:
        calls.append(learner_id)
        return []

    monkeypatch.setattr(api.services.analytics, "raised", raised)
    await record(api, wrong_answers("ada", 5))
    await api.services.analytics.drain()
    assert calls == []


async def test_analytics_replay_with_bkt_beside_a_neural_serving_model(api: Api) -> None:
    from types import SimpleNamespace
    from unittest.mock import MagicMock

    from api.services import MasteryUpdater
    from tracing.gnn_recurrent import RecurrentTracer

    store = api.services.store
    cheap = await api.services.mastery.service()  # BKT defaults: this store has no model
    assert await api.services.mastery.history_service() is cheap
    neural = SimpleNamespace(tracer=MagicMock(spec=RecurrentTracer), model_version="gnn-v9")
    updater = MasteryUpdater(store, service=neural)
    history = await updater.history_service()
    assert history is not neural and history.model_version == "bkt-default"
    assert await updater.history_service() is history  # built once per serving model


ALERT_LIST = """query($status: AlertStatus) { group(id: "g1") { alerts(status: $status) {
  key acknowledged acknowledgedAt acknowledgedBy raisedAt since groupId } } }"""
ACK = """mutation($key: String!) { acknowledgeAlert(key: $key) { __typename
  ... on AcknowledgeAlertPayload { alert { key acknowledged acknowledgedAt acknowledgedBy
  raisedAt groupId } }
  ... on NotFoundError { entity ids } ... on Error { message } } }"""


async def alert_list(api: Api, status: str | None = None) -> list[dict[str, Any]]:
    got = await api.gql(ALERT_LIST, {"status": status}, role="teacher")
    assert "errors" not in got, got
    rows: list[dict[str, Any]] = got["data"]["group"]["alerts"]
    return rows


async def test_alerts_are_kept_acknowledged_once_and_survive_a_restart(
    api: Api, make_api: Any
) -> None:
    await record(api, wrong_answers("ada", 6))
    listed = await alert_list(api)
    assert sorted(a["key"] for a in listed) == ["AT_RISK:ada", "STUCK:ada:add"]
    assert all(a["raisedAt"] and not a["acknowledged"] and a["acknowledgedAt"] is None
               for a in listed)
    raised = {a["key"]: a["raisedAt"] for a in listed}
    writes: list[Any] = []
    keep = api.services.store.raise_alerts

    async def counted(alerts: Any) -> Any:
        writes.append(alerts)
        return await keep(alerts)

    api.services.store.raise_alerts = counted
    assert await alert_list(api) == listed  # listing again raises nothing new
    assert writes == []  # and writes nothing: the class has not moved
    del api.services.store.raise_alerts

    done = await api.gql(ACK, {"key": "STUCK:ada:add"}, role="teacher")
    alert = done["data"]["acknowledgeAlert"]["alert"]
    assert alert["acknowledged"] is True and alert["acknowledgedBy"] == "tess"
    assert alert["raisedAt"] == raised["STUCK:ada:add"] and alert["groupId"] == listed[0]["groupId"]
    again = await api.gql(ACK, {"key": "STUCK:ada:add"}, role="teacher")
    assert again["data"]["acknowledgeAlert"]["alert"] == alert  # the first acknowledgement

    assert [a["key"] for a in await alert_list(api)] == ["AT_RISK:ada"]
    # a restarted server (fresh services over the same store) lists what was kept
    restarted = await make_api()
    (kept,) = await alert_list(restarted, "ACKNOWLEDGED")
    assert kept["key"] == "STUCK:ada:add" and kept["acknowledgedAt"] == alert["acknowledgedAt"]
    assert {a["key"]: a["raisedAt"] for a in await alert_list(restarted, "ALL")} == raised
    top = await restarted.gql('{ alerts(status: ALL) { key acknowledged } }', role="teacher")
    assert sorted((a["key"], a["acknowledged"]) for a in top["data"]["alerts"]) == [
        ("AT_RISK:ada", False), ("STUCK:ada:add", True)]


async def test_only_a_teacher_who_reads_the_learner_acknowledges(api: Api) -> None:
    await record(api, wrong_answers("ada", 6) + wrong_answers("cy", 6))
    await alert_list(api)
    unknown = await api.gql(ACK, {"key": "STUCK:ada:nope"}, role="teacher")
    assert unknown["data"]["acknowledgeAlert"] == {
        "__typename": "NotFoundError", "entity": "alert", "ids": ["STUCK:ada:nope"],
        "message": "unknown alert id(s): 'STUCK:ada:nope'"}
    for role in ("learner", "designer", "anonymous"):
        refused = await api.gql(ACK, {"key": "STUCK:ada:add"}, role=role)
        assert refused["data"]["acknowledgeAlert"]["__typename"] == "ForbiddenError", role
    other = issue_token(AUTH, "tom", Role.TEACHER)
    r = await api.client.post("/graphql", json={"query": ACK, "variables": {
        "key": "STUCK:ada:add"}}, headers={"authorization": f"Bearer {other}"})
    result = r.json()["data"]["acknowledgeAlert"]
    assert result["__typename"] == "ForbiddenError" and "'tom'" in result["message"]
    assert (await alert_list(api))[0]["acknowledged"] is False  # nothing was written
    admin = await api.gql(ACK, {"key": "AT_RISK:ada"}, role="admin")
    assert admin["data"]["acknowledgeAlert"]["alert"]["acknowledgedBy"] == "root"
