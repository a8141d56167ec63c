"""The curriculum designer in headless Chromium against a real server on the seeded demo: a
designer previews adding a prerequisite (the preview shows the numbers the API's dry run
gives, and nothing is written), applies it (the graph gains the edge), and undoes it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from tests.web.harness import LiveServer, open_page, screenshot

pytestmark = pytest.mark.web

TOPIC = "Counting & number sense"
SKILLS_Q = """query($after: String) { skills(first: 100, after: $after) {
  nodes { key topic prerequisites { key } } pageInfo { hasNextPage endCursor } } }"""
DRY_Q = """mutation($s: ID!, $t: ID!) { addPrerequisite(input: {sourceId: $s, targetId: $t},
  dryRun: true) { __typename ... on PrerequisitePayload { edit { impact {
  frontierChanged { count } pathChanged { count } } } } } }"""
PREREQS_Q = "query($k: ID!) { skill(id: $k) { prerequisites { key } } }"


def skills(server: LiveServer) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = None
    while True:
        page = server.graphql(SKILLS_Q, {"after": after})["skills"]
        out += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


def an_edge_that_moves_frontiers(server: LiveServer, token: str) -> tuple[str, str, int, int]:
    """A new edge a -> b inside the topic (no cycle) whose dry run changes some frontier."""
    found = skills(server)
    graph = nx.DiGraph([(p["key"], s["key"]) for s in found for p in s["prerequisites"]])
    graph.add_nodes_from(s["key"] for s in found)
    topic = sorted(s["key"] for s in found if s["topic"] == TOPIC)
    for b in topic:
        for a in topic:
            if a == b or graph.has_edge(a, b) or nx.has_path(graph, b, a):
                continue
            r = server.graphql(DRY_Q, {"s": a, "t": b}, token=token)["addPrerequisite"]
            impact = r["edit"]["impact"]
            if impact["frontierChanged"]["count"] > 0:
                return a, b, impact["frontierChanged"]["count"], impact["pathChanged"]["count"]
    raise AssertionError(f"no edge in {TOPIC!r} changes a frontier on the demo")


def prerequisites(server: LiveServer, key: str) -> set[str]:
    return {p["key"] for p in server.graphql(PREREQS_Q, {"k": key})["skill"]["prerequisites"]}


def test_a_designer_previews_applies_and_undoes_an_edit(
    start_web_server: Callable[..., LiveServer], web_page: Any, tmp_path: Path
) -> None:
    server = start_web_server()
    token = server.token("designer-01", "designer")
    a, b, frontier, path = an_edge_that_moves_frontiers(server, token)

    page = open_page(web_page, server, "designer", sub="designer-01", role="designer")
    page.select_option("#topic", TOPIC)
    page.click(f"#designer-graph g.node[data-skill='{a}']")
    page.click(f"#designer-graph g.node[data-skill='{b}']")
    page.click("#preview-add-edge")
    page.wait_for_selector("#impact, #designer-status .error")
    assert page.query_selector("#designer-status .error") is None, page.inner_text(
        "#designer-status"
    )
    box = page.locator("#impact[data-dry-run='true']").first
    shown = page.get_attribute("#impact li[data-field='frontier-changed']", "data-count")
    assert shown == str(frontier)
    assert page.get_attribute("#impact li[data-field='path-changed']", "data-count") == str(path)
    assert f"{a}->{b}" in box.inner_text()
    assert a not in prerequisites(server, b)  # the preview wrote nothing
    assert page.query_selector(f"path.edge[data-source='{a}'][data-target='{b}']") is None
    page.evaluate("document.querySelector('.graph-card').scrollLeft = 0")
    screenshot(page, "designer-preview", tmp_path)

    page.click("#apply")
    page.wait_for_selector("#designer-status[data-applied]")
    page.wait_for_selector(
        f"#designer-graph path.edge[data-source='{a}'][data-target='{b}']", state="attached"
    )
    assert a in prerequisites(server, b)
    assert page.get_attribute("#impact", "data-dry-run") == "false"

    page.click("#undo")
    page.wait_for_selector("#impact[data-dry-run='true']")
    page.click("#apply")
    edge = f"#designer-graph path.edge[data-source='{a}'][data-target='{b}']"
    page.wait_for_selector(edge, state="detached")
    assert a not in prerequisites(server, b)


ITEM_Q = "query($k: ID!) { item(id: $k) { key title skills { key } } }"


def test_a_designer_creates_an_item_from_suggested_skills_and_a_bad_import_is_refused(
    start_web_server: Callable[..., LiveServer], web_page: Any
) -> None:
    server = start_web_server()
    designer = server.token("designer-01", "designer")
    page = open_page(web_page, server, "designer", sub="designer-01", role="designer")
    page.click("summary:has-text('New item')")
    page.fill("#new-item-id", "ex-clock-web")
    page.fill("#new-item-title", "What time is it?")
    page.fill("#new-item-body", "The short hand points at 3 and the long hand at 12.")
    page.click("#suggest")
    first = page.locator("#suggestions li[data-skill]").first
    suggested = first.get_attribute("data-skill")
    page.locator(f"#suggestions li[data-skill='{suggested}'] button").click()
    assert page.input_value("#new-item-skills") == suggested
    page.click("#preview-new-item")
    page.wait_for_selector("#impact[data-dry-run='true']")
    assert server.graphql(ITEM_Q, {"k": "ex-clock-web"}, token=designer)["item"] is None
    page.click("#apply")
    page.wait_for_selector("#designer-status[data-applied]")
    made = server.graphql(ITEM_Q, {"k": "ex-clock-web"}, token=designer)["item"]
    assert [s["key"] for s in made["skills"]] == [suggested]

    page.click("summary:has-text('Import')")
    cyclic = ('{"prerequisites": [{"source": "count-to-100", "target": "count-to-10"}]}')
    page.fill("#import-json", cyclic)
    page.click("#preview-import")
    refusal = page.locator("#refusal").first
    assert "Import refused" in refusal.inner_text() and "cycle" in refusal.inner_text()
