"""Checking a response against an item's answer key, and the checks on the practice fields."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.answers import as_number, check_answer, same_answer
from graph.checks import check_item
from graph.models import Item, ItemKind, SkillWeight
from graph.store import ValidationError

FREE = Item("half", ItemKind.EXERCISE, "Half", (SkillWeight("frac"),), prompt="1/4 + 1/4?",
            answers=("1/2",), hints=("Add the quarters.",), explanation="2/4 = 1/2.")
CHOICE = Item("shape", ItemKind.EXERCISE, "Shape", prompt="Sides of a square?",
              choices=("3", "Four", "5"), answers=("Four",))


@pytest.mark.parametrize("response", ["1/2", " 1/2 ", "0.5", ".50", "2/4", "0.500"])
def test_equal_numbers_are_one_answer(response: str) -> None:
    assert check_answer(FREE, response)


@pytest.mark.parametrize("response", ["1/3", "0.55", "half-ish", "5/10x", "1/0"])
def test_other_responses_are_wrong(response: str) -> None:
    assert not check_answer(FREE, response)


def test_a_choice_is_compared_without_case_or_extra_spaces() -> None:
    assert check_answer(CHOICE, "  four ")
    assert not check_answer(CHOICE, "3")


def test_a_response_that_is_no_choice_is_refused_naming_it_and_the_choices() -> None:
    with pytest.raises(ValidationError) as caught:
        check_answer(CHOICE, "4", field="input[0].response")
    assert caught.value.field == "input[0].response"
    assert "'4'" in caught.value.message and "'Four'" in caught.value.message


def test_nothing_to_check_is_refused() -> None:
    lesson = Item("l", ItemKind.LESSON, "Lesson")
    with pytest.raises(ValidationError, match="'l' is a lesson"):
        check_answer(lesson, "x")
    keyless = Item("e", ItemKind.EXERCISE, "No key", prompt="?")
    with pytest.raises(ValidationError, match="'e' has no answer key; send a score"):
        check_answer(keyless, "x")


def test_numbers_are_read_exactly() -> None:
    assert as_number("1,000") == 1000
    assert as_number("-3/4") == Fraction(-3, 4)
    assert as_number("\u22122.5") == Fraction(-5, 2)
    assert as_number("1,00") is None
    assert as_number("12a") is None
    assert as_number("") is None


@given(st.fractions(min_value=-1000, max_value=1000), st.integers(min_value=1, max_value=50))
def test_a_fraction_matches_any_scaling_of_it(value: Fraction, k: int) -> None:
    written = f"{value.numerator * k}/{value.denominator * k}"
    assert same_answer(written, f"{value.numerator}/{value.denominator}")
    assert not same_answer(written, f"{value.numerator + 1}/{value.denominator}")


@pytest.mark.parametrize(
    ("changes", "field", "named"),
    [
        ({"choices": ("a", "b")}, "item.answers", "has choices but no answer"),
        ({"choices": ("a", "b"), "answers": ("c",)}, "item.answers", "'c'"),
        ({"choices": ("a", " A ")}, "item.choices", "repeats"),
        ({"hints": ("",)}, "item.hints", "''"),
        ({"answers": "abc"}, "item.answers", "'abc'"),
        ({"kind": ItemKind.VIDEO, "answers": ("x",)}, "item.answers", "only exercises"),
        ({"prompt": 3}, "item.prompt", "3"),
    ],
)
def test_bad_practice_fields_are_named(changes: dict[str, object], field: str, named: str) -> None:
    fields = {"id": "i", "kind": ItemKind.EXERCISE, "title": "T", **changes}
    with pytest.raises(ValidationError) as caught:
        check_item(Item(**fields))  # type: ignore[arg-type]
    assert caught.value.field == field
    assert named in caught.value.message and "'i'" in caught.value.message
