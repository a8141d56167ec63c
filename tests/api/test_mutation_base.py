"""The shared mutation plumbing: which failures become which union members, and what passes
through untouched. (Every mutation's use of it is covered per role in test_roles.py.)"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from api.errors import BadInputError
from api.types.errors import CycleError, ForbiddenError, NotFoundError, ValidationError
from api.types.mutation_base import absent, allow, existing, guarded
from graph import store as gs

STORED = {"a": "the a"}


async def get(ids: Sequence[str]) -> list[str | None]:
    return [STORED.get(i) for i in ids]


async def test_a_body_that_succeeds_answers_its_payload() -> None:
    async def body() -> str:
        allow(None)
        await absent(get, "b", "unused")
        return await existing(get, "thing", "a")

    assert await guarded(body) == "the a"


async def test_each_refusal_is_its_union_member_with_the_message_given() -> None:
    async def denied() -> None:
        allow("teachers only")

    async def missing() -> str:
        return await existing(get, "thing", "zz")

    async def taken() -> None:
        await absent(get, "a", "thing 'a' exists")

    assert await guarded(denied) == ForbiddenError(message="teachers only")
    not_found = await guarded(missing)
    assert isinstance(not_found, NotFoundError)
    assert (not_found.entity, not_found.ids) == ("thing", ["zz"])
    assert not_found == NotFoundError.from_store(gs.NotFoundError("thing", ["zz"]))
    assert await guarded(taken) == ValidationError(field="id", message="thing 'a' exists")


async def test_store_errors_and_bad_arguments_are_mapped() -> None:
    async def cycle() -> None:
        raise gs.CycleError(["x", "y", "x"])

    async def bad_store_value() -> None:
        raise gs.ValidationError("strength", "2.0 is outside [0, 1]")

    async def bad_argument() -> None:
        raise BadInputError("'??' is not a Skill id", argument="skillId")

    async def bad_argument_unnamed() -> None:
        raise BadInputError("no id")

    found = await guarded(cycle)
    assert isinstance(found, CycleError) and found.cycle_keys == ["x", "y", "x"]
    assert await guarded(bad_store_value) == ValidationError(
        field="strength", message="2.0 is outside [0, 1]"
    )
    assert await guarded(bad_argument) == ValidationError(
        field="skillId", message="'??' is not a Skill id"
    )
    assert await guarded(bad_argument_unnamed) == ValidationError(field="id", message="no id")


async def test_unexpected_failures_pass_through() -> None:
    async def unavailable() -> None:
        raise gs.StoreUnavailableError("the store is closed")

    async def bug() -> None:
        raise KeyError("oops")

    with pytest.raises(gs.StoreUnavailableError):
        await guarded(unavailable)
    with pytest.raises(KeyError):
        await guarded(bug)
