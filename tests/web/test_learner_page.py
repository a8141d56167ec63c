"""The learner page in headless Chromium against a real server on the seeded demo: a learner
answers items (the server checks each response) and sees the mastery bars rise; wrong answers
get the answer and explanation, and a hint once they are stuck."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.harness import LiveServer, open_page, screenshot

pytestmark = pytest.mark.web

KEY_QUERY = "query($id: ID!) { item(id: $id) { key kind checkable choices answers } }"


def show_an_exercise(page: Any) -> dict[str, str]:
    """Skip lessons and videos (marked done) until the next item is an exercise."""
    for _ in range(10):
        if page.query_selector("#lesson-done") is None:
            break
        page.click("#lesson-done")
        page.wait_for_selector("#page[data-busy='false']")
    # locators, not element handles: the page redraws when its live feed connects or an
    # answer's mastery event arrives, which detaches any handle taken before
    card = page.locator("#next-item[data-item]")
    return {"item": card.get_attribute("data-item"), "skill": card.get_attribute("data-skill")}


def bar_value(page: Any, skill: str) -> float | None:
    """P(mastered) the skill's bar shows (None: no bar, or not started)."""
    value = page.evaluate(
        "s => document.querySelector(`li.skill[data-skill='${s}']`)?.dataset.mastery ?? ''", skill
    )
    return float(value) if value else None


def answer(page: Any, server: LiveServer, *, right: bool, n: int) -> dict[str, Any]:
    """Answer the exercise on screen, rightly or not (the key read with a designer's token, as
    the learner cannot see it), and wait for the n-th answer's feedback."""
    shown = show_an_exercise(page)
    designer = server.token("designer-01", "designer")
    item = server.graphql(KEY_QUERY, {"id": shown["item"]}, token=designer)["item"]
    assert item["kind"] == "EXERCISE" and item["checkable"], item
    if item["choices"]:
        pick = (
            item["answers"][0]
            if right
            else next(c for c in item["choices"] if c not in item["answers"])
        )
        page.check(f"label[data-choice='{pick}'] input")
    else:
        page.fill("#answer-input", item["answers"][0] if right else wrong_answer(item["answers"]))
    page.click("#check-answer")
    box = page.locator(f"#feedback[data-n='{n}']")
    page.wait_for_selector("#page[data-busy='false']")
    return {**shown, "correct": box.get_attribute("data-correct") == "true", "item_key": item}


def wrong_answer(answers: list[str]) -> str:
    """A plausible wrong free answer: one more than a numeric key, else a word."""
    try:
        return str(int(answers[0]) + 1)
    except ValueError:
        return "seven"


def change_of(page: Any, skill: str) -> tuple[float | None, float]:
    li = page.locator(f"#feedback .changes li[data-skill='{skill}']")
    before = li.get_attribute("data-before")
    return (float(before) if before else None), float(li.get_attribute("data-after"))


def test_a_learner_answers_and_sees_mastery_rise(
    web_server: LiveServer, web_page: Any, tmp_path: Path
) -> None:
    page = open_page(web_page, web_server, "learner", sub="learner-0004", role="learner")
    assert page.inner_text("#learner-name") == "Learner 4"
    goals = [li.get_attribute("data-skill") for li in page.query_selector_all("#goals li")]
    assert goals == ["tens-and-ones"]
    assert page.query_selector("#path-graph g.node.goal[data-skill='tens-and-ones']")

    rises = 0
    for n in (1, 2, 3):
        shown = show_an_exercise(page)
        shown_before = bar_value(page, shown["skill"])
        got = answer(page, web_server, right=True, n=n)
        assert got["correct"], got
        assert page.inner_text("#feedback h3").startswith("✓ Correct")
        before, after = change_of(page, got["skill"])
        assert before == shown_before  # the feedback starts from what the bar showed
        after_bar = bar_value(page, got["skill"])
        assert after_bar == pytest.approx(after)  # the bar shows the new estimate
        assert after >= (before or 0.0)
        if before is None or before < 0.95:
            assert after > (before or 0.0), (got, before, after)
            rises += 1
    assert rises >= 1, "no answered skill had room to rise"
    screenshot(page, "learner-page", tmp_path)


def test_wrong_answers_show_the_key_and_a_hint_when_stuck(
    web_server: LiveServer, web_page: Any, tmp_path: Path
) -> None:
    page = open_page(web_page, web_server, "learner", sub="learner-0005", role="learner")
    first = answer(page, web_server, right=False, n=1)
    assert not first["correct"]
    assert "Not quite" in page.inner_text("#feedback h3")
    assert "the answer is" in page.inner_text("#feedback .answer-key")
    assert page.query_selector("#stuck-hint") is None  # one slip is not stuck
    before, after = change_of(page, first["skill"])
    assert before is None or after < before

    second = answer(page, web_server, right=False, n=2)
    assert not second["correct"]
    assert "Stuck?" in page.locator("#stuck-hint").inner_text()
    screenshot(page, "learner-stuck", tmp_path)


def test_hints_are_revealed_one_at_a_time(web_server: LiveServer, web_page: Any) -> None:
    page = open_page(web_page, web_server, "learner", sub="learner-0006", role="learner")
    show_an_exercise(page)
    assert page.query_selector_all("#hints .item-hint") == []
    page.click("#show-hint")
    page.wait_for_selector("#hints .item-hint")
    assert len(page.query_selector_all("#hints .item-hint")) == 1
    page.click("#show-hint")
    page.wait_for_function("document.querySelectorAll('#hints .item-hint').length === 2")


VIEWS_QUERY = "query($id: ID!) { learner(id: $id) { views(first: 10) { nodes { item { key } } } } }"
READS = ", ".join(f"#next-item[data-item^='{kind}-']" for kind in ("lesson", "video", "reading"))


def test_a_lesson_marked_done_is_a_view_not_an_answer(
    web_server: LiveServer, web_page: Any
) -> None:
    for learner in ("learner-0001", "learner-0002", "learner-0007", "learner-0008"):
        page = open_page(web_page, web_server, "learner", sub=learner, role="learner")
        if page.query_selector(READS) is None:  # not first: pick it among the alternatives
            alt = page.locator(".alt[data-item^='lesson-'], .alt[data-item^='video-']").first
            if alt.count() == 0:
                continue
            alt.click()
        shown = page.locator(READS).first
        break
    else:
        pytest.fail("no demo learner was offered a lesson or video")
    item, skill = shown.get_attribute("data-item"), shown.get_attribute("data-skill")
    before = bar_value(page, skill)
    token = web_server.token(learner, "learner")
    page.click("#lesson-done")
    page.wait_for_selector("#page[data-busy='false']")
    assert page.query_selector("#feedback .error") is None, page.inner_text("#feedback")
    assert page.get_attribute("#next-item", "data-item") != item, page.inner_text("#next-item")
    views = web_server.graphql(VIEWS_QUERY, {"id": learner}, token=token)["learner"]["views"]
    assert item in [v["item"]["key"] for v in views["nodes"]]
    assert bar_value(page, skill) == before  # a view is not an answer: no mastery change


SET_GOALS = """mutation($id: ID!, $goals: [ID!]!) {
  setLearnerGoals(learnerId: $id, skillIds: $goals) { __typename ... on Error { message } }
}"""


def test_a_deep_goal_draws_what_is_left_to_learn(
    web_server: LiveServer, web_page: Any, tmp_path: Path
) -> None:
    admin = web_server.token("admin-01", "admin")
    got = web_server.graphql(
        SET_GOALS, {"id": "learner-0003", "goals": ["simultaneous-equations"]}, token=admin
    )
    assert got["setLearnerGoals"]["__typename"] == "LearnerPayload", got
    page = open_page(web_page, web_server, "learner", sub="learner-0003", role="learner")
    drawn = {g.get_attribute("data-skill") for g in page.query_selector_all("#path-graph g.node")}
    assert "simultaneous-equations" in drawn
    # 79 prerequisites in all: the drawing keeps the skills to learn and their direct ones
    assert page.query_selector("#path-hidden") is not None
    hidden = int(page.get_attribute("#path-hidden", "data-count"))
    assert len(drawn) + hidden == 80
    assert len(drawn) <= 30
    # every skill of the goal's closure still has its bar: drawn ones, then the rest folded
    assert len(page.query_selector_all("#goal-skills li.skill")) == len(drawn)
    assert len(page.query_selector_all("#further-skills li.skill")) == hidden
    screenshot(page, "learner-deep-goal", tmp_path)


def test_a_due_review_is_practised_from_the_list(web_server: LiveServer, web_page: Any) -> None:
    page = open_page(web_page, web_server, "learner", sub="learner-0007", role="learner")
    skill = page.locator("#reviews li[data-skill]").first.get_attribute("data-skill")
    page.locator(f"#reviews li[data-skill='{skill}'] .review-now").click()
    page.wait_for_selector(f"#next-item[data-skill='{skill}']")
    assert "you chose to review it" in page.inner_text("#next-item .reasons")
    got = answer(page, web_server, right=True, n=1)
    assert got["correct"] and got["skill"] == skill
    before, after = change_of(page, skill)
    assert before is not None and after >= before


RECORD = """mutation($a: [AttemptInput!]!) {
  recordAttempts(input: $a) { __typename ... on Error { message } }
}"""
ITEMS_OF = "query($id: ID!) { skill(id: $id) { items { key kind checkable answers } } }"


def test_a_teacher_watching_sees_answers_from_another_device(
    web_server: LiveServer, web_page: Any
) -> None:
    page = open_page(web_page, web_server, "learner/learner-0008", sub="teacher-01", role="teacher")
    page.wait_for_selector("#live.on")
    row = page.locator("#goal-skills li.skill[data-mastery]:not([data-mastery=''])").first
    skill = row.get_attribute("data-skill")
    before = bar_value(page, skill)
    designer = web_server.token("designer-01", "designer")
    items = web_server.graphql(ITEMS_OF, {"id": skill}, token=designer)["skill"]["items"]
    item = next(i for i in items if i["kind"] == "EXERCISE" and i["checkable"])
    learner = web_server.token("learner-0008", "learner")
    wrong = wrong_answer(item["answers"])
    attempt = {"attemptId": "other-device-1", "learnerId": "learner-0008", "itemId": item["key"]}
    got = web_server.graphql(RECORD, {"a": [{**attempt, "response": wrong}]}, token=learner)
    assert got["recordAttempts"]["__typename"] == "RecordAttemptsPayload", got
    page.wait_for_function(
        "([s, b]) => Number(document.querySelector(`li.skill[data-skill='${s}']`).dataset.mastery)"
        " !== b",
        arg=[skill, before],
    )
    assert bar_value(page, skill) < before  # a wrong answer, seen without a reload


SET_CLASS_GOALS = """mutation($g: ID!, $goals: [ClassGoalInput!]!) { setClassGoals(groupId: $g,
  goals: $goals) { __typename ... on Error { message } } }"""


def test_a_learner_sees_their_class_goals_and_progress_toward_them(
    start_web_server: Any, web_page: Any, tmp_path: Path
) -> None:
    server = start_web_server()  # its own store: this test sets class goals
    page = open_page(web_page, server, "learner", sub="learner-0003", role="learner")
    assert page.locator("#class-goals").count() == 0  # no class goals yet: no card
    shown = show_an_exercise(page)

    # the class's teacher sets two goals: the skill on screen, then one far ahead
    teacher = server.token("teacher-01", "teacher")
    goals = [
        {"skillId": shown["skill"], "note": "practise daily"},
        {"skillId": "shapes-3d", "dueAt": "2030-06-01T12:00:00+00:00"},
    ]
    set_goals = server.graphql(SET_CLASS_GOALS, {"g": "class-01", "goals": goals}, token=teacher)
    assert set_goals["setClassGoals"]["__typename"] == "ClassGoalsPayload", set_goals

    # answering reloads the page's data: the class goals appear, in the teacher's order, with
    # the class, who set each and the learner's mastery after the answer
    got = answer(page, server, right=True, n=1)
    _, after = change_of(page, got["skill"])
    rows = page.locator("#class-goals li.class-goal")
    assert rows.count() == 2
    assert [rows.nth(i).get_attribute("data-skill") for i in range(2)] == [
        shown["skill"],
        "shapes-3d",
    ]
    first = page.locator(f"#class-goals li.class-goal[data-skill='{shown['skill']}']")
    assert float(first.get_attribute("data-mastery") or "nan") == pytest.approx(after)
    about = page.locator(f"#class-goals li.goal-about[data-skill='{shown['skill']}']").inner_text()
    assert "Class 1" in about and "set by Teacher 1" in about and "practise daily" in about
    far = page.locator("#class-goals li.goal-about[data-skill='shapes-3d']").inner_text()
    assert "due " in far
    screenshot(page, "learner-class-goals", tmp_path)


SKILL_CONTENT = "query($id: ID!) { skill(id: $id) { items { key kind } } }"
VIEWED = """mutation($v: [ViewInput!]!) { recordViews(input: $v) { __typename
  ... on Error { message } } }"""


def test_a_studied_skill_is_practised_next(web_server: LiveServer, web_page: Any) -> None:
    """The learner studies the lesson of the skill on screen (on another device: through the
    API); the page, reloaded, offers an exercise of that skill first and says why."""
    page = open_page(web_page, web_server, "learner", sub="learner-0006", role="learner")
    skill = page.locator("#next-item[data-item]").get_attribute("data-skill")
    items = web_server.graphql(SKILL_CONTENT, {"id": skill})["skill"]["items"]
    lesson = next(i["key"] for i in items if i["kind"] != "EXERCISE")
    token = web_server.token("learner-0006", "learner")
    view = {"viewId": "web-studied-1", "learnerId": "learner-0006", "itemId": lesson}
    got = web_server.graphql(VIEWED, {"v": [view]}, token=token)["recordViews"]
    assert got["__typename"] == "RecordViewsPayload", got

    page = open_page(web_page, web_server, "learner", sub="learner-0006", role="learner")
    card = page.locator("#next-item[data-item]")
    assert card.get_attribute("data-skill") == skill
    assert card.get_attribute("data-item") != lesson
    studied = page.locator("#next-item li[data-code=STUDIED]")
    assert lesson in studied.inner_text()
    assert page.locator("#answer-form, #answer-correct").count() >= 1  # an exercise to answer
