"""Checking a learner's response against an item's answer key (``Item.answers``).

A response matches an accepted answer when both read the same after :func:`normalise`
(surrounding and repeated spaces dropped, case folded), or when both are numbers of equal value
(``0.5``, ``1/2`` and ``.50`` are one answer; ``1,000`` is read as 1000). An item with choices
accepts only one of its choices, so a typo is refused with the choices listed rather than marked
wrong.
"""

from __future__ import annotations

import re
from fractions import Fraction

from graph.models import Item, ItemKind
from graph.store import ValidationError

_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"^[+-]?(\d[\d,]*(\.\d*)?|\.\d+)(/[+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def normalise(text: str) -> str:
    """``text`` as compared: trimmed, inner runs of spaces as one, case folded."""
    return _SPACES.sub(" ", text.strip()).casefold()


def as_number(text: str) -> Fraction | None:
    """The exact value of a number written as an integer, a decimal or a fraction (``-3``,
    ``2.50``, ``3/4``, ``1,000``), or None for anything else."""
    compact = text.replace(" ", "").replace("\u2212", "-")
    if not _NUMBER.match(compact):
        return None
    if "," in compact:
        if not _THOUSANDS.match(compact.split("/")[0]):
            return None
        compact = compact.replace(",", "")
    try:
        return Fraction(compact)
    except (ValueError, ZeroDivisionError):
        return None


def same_answer(response: str, answer: str) -> bool:
    """Whether ``response`` says what ``answer`` says (see the module docstring)."""
    if normalise(response) == normalise(answer):
        return True
    got, want = as_number(normalise(response)), as_number(normalise(answer))
    return got is not None and want is not None and got == want


def check_answer(item: Item, response: str, *, field: str = "response") -> bool:
    """Whether ``response`` answers ``item`` correctly.

    Raises:
        ValidationError: (on ``field``) the item is not an exercise or has no answer key, or
            it has choices and ``response`` is none of them.
    """
    if item.kind is not ItemKind.EXERCISE:
        raise ValidationError(
            field,
            f"item {item.id!r} is a {item.kind.value}, not an "
            "exercise: nothing to answer (record it with recordViews)",
        )
    if not item.answers:
        raise ValidationError(
            field, f"item {item.id!r} has no answer key; send a score instead of a response"
        )
    if item.choices:
        chosen = [c for c in item.choices if normalise(c) == normalise(response)]
        if not chosen:
            listed = ", ".join(repr(c) for c in item.choices)
            raise ValidationError(
                field, f"{response!r} is not one of the choices of item {item.id!r}: {listed}"
            )
        return any(normalise(chosen[0]) == normalise(a) for a in item.answers)
    return any(same_answer(response, a) for a in item.answers)
