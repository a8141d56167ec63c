"""The demo exercises carry real practice content whose answers are right."""

from __future__ import annotations

import re
from fractions import Fraction

from graph.answers import as_number, check_answer
from graph.checks import check_item
from graph.models import ItemKind
from seed.curriculum import demo_curriculum
from seed.questions import SKILL_GENERATORS

ARITHMETIC = re.compile(r"^What is (-?[\d./]+) ([+\-×÷]) \(?(-?[\d./]+)\)?\?")


def exercises() -> list:  # type: ignore[type-arg]
    return [i for i in demo_curriculum().items if i.kind is ItemKind.EXERCISE]


def test_every_demo_exercise_has_a_checkable_question() -> None:
    items = exercises()
    assert len(items) == 3 * len(demo_curriculum().skills)
    for item in items:
        check_item(item)
        assert item.prompt and item.explanation and len(item.hints) == 2, item.id
        assert check_answer(item, item.answers[0]), item.id
        for choice in item.choices:
            assert check_answer(item, choice) == (choice == item.answers[0]), (item.id, choice)
    multiple = [i for i in items if i.choices]
    assert len(multiple) > len(items) / 2
    assert all(2 <= len(i.choices) <= 4 for i in multiple)
    # challenges with a numeric answer are free answers
    assert all(not i.choices for i in items
               if i.id.endswith("-3") and as_number(i.answers[0]) is not None)


def test_every_demo_skill_has_its_own_generator() -> None:
    assert {s.id for s in demo_curriculum().skills} <= set(SKILL_GENERATORS)


def test_arithmetic_answers_are_computed() -> None:
    checked = 0
    for item in exercises():
        found = ARITHMETIC.match(item.prompt)
        if found is None:
            continue
        a, op, b = Fraction(found[1]), found[2], Fraction(found[3])
        value = {"+": a + b, "-": a - b, "×": a * b, "÷": a / b}[op]
        assert as_number(item.answers[0]) == value, item
        checked += 1
    assert checked > 100


def test_the_content_is_the_same_on_every_run() -> None:
    first = {i.id: (i.prompt, i.choices, i.answers) for i in exercises()}
    assert first == {i.id: (i.prompt, i.choices, i.answers) for i in exercises()}
    assert first["ex-add-within-10-1"][0].startswith("What is ")
