"""The app shell in headless Chromium against a real server: signing in (development
buttons, a pasted token), what each role is shown, and signing out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.harness import LiveServer, allow_console_error, open_page, screenshot

pytestmark = pytest.mark.web


def test_sign_in_as_a_demo_user_and_out(
    web_server: LiveServer, web_page: Any, tmp_path: Path
) -> None:
    page = web_page
    page.goto(f"{web_server.url}/")  # the root redirects to the app
    page.wait_for_selector(".dev-sign-in")
    assert page.url == f"{web_server.url}/app/"
    screenshot(page, "sign-in", tmp_path)
    page.click("button[data-sub='learner-0001']")
    page.wait_for_selector("#page[data-ready='learner']")
    assert page.inner_text("#who-sub") == "learner-0001"
    assert page.inner_text("#learner-name") == "Learner 1"
    assert [a.inner_text() for a in page.query_selector_all("#nav a")] == ["Learner"]
    page.click("#sign-out")
    page.wait_for_selector("#token-form")
    assert page.evaluate("localStorage.getItem('learngraph.token')") is None


def test_sign_in_with_a_pasted_token(web_server: LiveServer, web_page: Any) -> None:
    page = web_page
    page.goto(f"{web_server.url}/app/")
    page.fill("#token-input", "Bearer " + web_server.token("learner-0002", "learner"))
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#page[data-ready='learner']")
    assert page.inner_text("#learner-name") == "Learner 2"


def test_a_token_the_server_refuses_is_not_kept(web_server: LiveServer, web_page: Any) -> None:
    import jwt

    forged = jwt.encode(
        {"sub": "admin-01", "role": "admin", "exp": 4102444800},
        "not-the-secret-of-this-server-0123456789",
        algorithm="HS256",
    )
    page = web_page
    page.goto(f"{web_server.url}/app/")
    page.fill("#token-input", forged)
    allow_console_error(page, "401")  # the browser logs the refused request
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#sign-in-status .error")
    assert "refused" in page.inner_text("#sign-in-status")
    assert page.evaluate("localStorage.getItem('learngraph.token')") is None


def test_a_teacher_opens_a_learner_of_their_class(web_server: LiveServer, web_page: Any) -> None:
    page = open_page(web_page, web_server, "learner", sub="teacher-01", role="teacher")
    page.wait_for_selector("a[href='#/learner/learner-0003']")
    page.click("a[href='#/learner/learner-0003']")
    page.wait_for_selector("#page[data-ready='learner'] #learner-name")
    assert page.inner_text("#learner-name") == "Learner 3"


def test_production_offers_no_dev_tokens(start_web_server: Any, web_page: Any) -> None:
    server = start_web_server(
        "--production", env={"LEARNGRAPH_JWT_SECRET": "a-real-secret-0123456789abcdef-0123456789"}
    )
    page = web_page
    page.goto(f"{server.url}/app/")
    page.wait_for_selector("#token-form")
    page.wait_for_load_state("networkidle")
    assert page.query_selector(".dev-sign-in") is None
