"""The teacher dashboard in headless Chromium against a real server on the seeded demo: the
class heatmap, at-risk list with reasons, alerts arriving live while a learner answers and
dismissed by the teacher, class goals, segments and the CSV download."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.web.harness import LiveServer, open_page, screenshot

pytestmark = pytest.mark.web

RECORD = """mutation($a: [AttemptInput!]!) { recordAttempts(input: $a) { __typename
  ... on Error { message } } }"""
CLASS_CLOCK = """{ group(id: "class-01") { atRisk { lastAnswerAt } } }"""
LAST_ITEM = """query($id: ID!) { learner(id: $id) { attempts(first: 1) {
  nodes { item { key } } } } }"""


def drive_wrong_answers(server: LiveServer, learner: str, n: int) -> None:
    """``n`` wrong answers by ``learner`` to the item they answered last, just after the
    class's latest answer (the class clock the dashboard assesses risk at)."""
    admin = server.token("admin-01", "admin")
    times = [r["lastAnswerAt"] for r in server.graphql(CLASS_CLOCK, token=admin)["group"]["atRisk"]]
    clock = max(datetime.fromisoformat(t) for t in times if t)
    nodes = server.graphql(LAST_ITEM, {"id": learner}, token=admin)["learner"]["attempts"]["nodes"]
    item = nodes[0]["item"]["key"]
    rows = [
        {
            "attemptId": f"web-teacher-{learner}-{k}",
            "learnerId": learner,
            "itemId": item,
            "score": 0,
            "timestamp": (clock + timedelta(minutes=k + 1)).isoformat(),
        }
        for k in range(n)
    ]
    got = server.graphql(RECORD, {"a": rows}, token=admin)["recordAttempts"]
    assert got["__typename"] == "RecordAttemptsPayload", got


def test_a_teacher_sees_an_at_risk_learner_and_an_alert_appear(
    start_web_server: Any, web_page: Any, tmp_path: Path
) -> None:
    server = start_web_server()  # its own store: this test adds answers and class goals
    page = open_page(web_page, server, "teacher", sub="teacher-01", role="teacher")
    assert page.inner_text("#class-name").startswith("Class 1")
    rows = page.query_selector_all("#heatmap tbody tr")
    assert len(rows) == 8 and page.query_selector_all("#heatmap td.cell[data-level=mastered]")
    assert page.query_selector("#progress-chart path.series.mastered") is not None
    assert page.query_selector_all("#segments .segment .next-skill")

    # a class goal, set from the page, lists the root-cause skills toward it
    page.select_option("#goal-skill", "shapes-3d")
    page.click("#goal-form button[type=submit]")
    page.wait_for_selector("#class-goals li[data-skill='shapes-3d']")
    page.wait_for_selector("#gap-list li")

    # a learner answers wrong again and again: a STUCK alert arrives live, the at-risk list
    # shows them with the reason
    page.wait_for_selector("#alerts-live[data-state=ready]")
    drive_wrong_answers(server, "learner-0004", 6)
    alert = page.locator(".alert.fresh[data-key^='STUCK:learner-0004']").first
    assert "wrong answers in a row" in alert.inner_text()
    risky = page.locator("#risk-list li[data-learner='learner-0004']").first
    assert "wrong answers in a row" in risky.inner_text()
    reason = "#risk-list li[data-learner='learner-0004'] [data-code=FAILURE_STREAK]"
    assert page.query_selector(reason) is not None
    screenshot(page, "teacher-dashboard", tmp_path)

    # the teacher dismisses the alert: it stays listed, acknowledged, across a reload
    alert.locator("button.dismiss").click()
    done = page.locator(".alert[data-key^='STUCK:learner-0004'][data-acknowledged=true]").first
    assert "dismissed by teacher-01" in done.inner_text()
    assert done.locator("button.dismiss").count() == 0
    page.reload()
    page.wait_for_selector("#page[data-ready='teacher']")
    kept = page.locator(".alert[data-key^='STUCK:learner-0004']").first
    assert kept.get_attribute("data-acknowledged") == "true"
    assert "dismissed by teacher-01" in kept.inner_text()

    with page.expect_download() as download:
        page.click("#csv-download")
    text = Path(download.value.path()).read_text()
    header, *lines = text.splitlines()
    assert header.startswith("learner_id,display_name,")
    assert sorted(line.split(",")[0] for line in lines) == [f"learner-{k:04d}" for k in range(1, 9)]


def test_a_teacher_of_no_class_is_told_so(web_server: LiveServer, web_page: Any) -> None:
    page = open_page(web_page, web_server, "teacher", sub="teacher-99", role="teacher")
    assert "You teach no class yet" in page.inner_text("#page")
