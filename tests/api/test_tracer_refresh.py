"""After a curriculum edit through the API, the serving tracer's view of the curriculum is
rebuilt off the recommendation path: predictions keep the old view until the new one is built,
answers wait for the new one, and recommendations through GraphQL are answered meanwhile (both
stores). The rebuild is held at a gate the test opens, so nothing here depends on timing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from graph.models import Attempt, Skill
from tests.api.conftest import T0, Api
from tracing.serving import MasteryService

CREATE = (
    'mutation { createSkill(input: {id: "div", name: "Dividing"}) { __typename '
    "... on Error { message } } }"
)
RECOMMEND = '{ learner(id: "ada") { recommendations(first: 1) { item { key } } } }'


async def settle_loop() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Holds every build of the tracer's curriculum view (a worker thread) until set."""
    opened = threading.Event()
    real = MasteryService.for_curriculum.__func__  # type: ignore[attr-defined]

    def held(cls: Any, *args: Any, **kwargs: Any) -> Any:
        if not opened.wait(timeout=300):  # a caller that waited for it fails, not hangs
            raise RuntimeError("the tracer's rebuild was held for good")
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(MasteryService, "for_curriculum", classmethod(held))
    yield opened
    opened.set()  # a failed test leaves no build held


async def test_predictions_keep_the_old_view_while_the_new_one_builds(
    api: Api, store: Any, gate: threading.Event
) -> None:
    updater = api.services.mastery
    gate.set()
    old = await updater._current()
    assert "div" not in old.vocab.skill_ids
    gate.clear()
    body = await api.gql(CREATE, role="designer")
    assert body["data"]["createSkill"]["__typename"] == "SkillPayload", body

    # with the rebuild held, these return: had they waited for it, the held build would
    # have failed (the gate's safety timeout) and so would they
    await updater.predictor("ada")
    assert await updater._for_predictions() is old
    # a recommendation through GraphQL is answered during the rebuild
    body = await api.gql(RECOMMEND, role="learner")
    assert body["data"]["learner"]["recommendations"], body

    # an answer waits for the new view (it may be on what only the new curriculum has)
    answering = asyncio.create_task(
        updater.apply([Attempt("t-1", "ada", "i-add-1", 1.0, T0)])
    )
    await settle_loop()
    assert not answering.done()
    gate.set()
    await answering
    new = await updater._for_predictions()
    assert new is not old and "div" in new.vocab.skill_ids


async def test_an_edit_by_another_process_is_rebuilt_in_the_background(
    api: Api, store: Any, gate: threading.Event
) -> None:
    """Found in the change log (no invalidate here): predictions keep the view in hand."""
    updater = api.services.mastery
    gate.set()
    old = await updater._current()
    gate.clear()
    await store.upsert_skills([Skill("div", "Dividing")], actor="another-process")
    await updater.predictor("ada")  # returns with the rebuild held
    assert await updater._for_predictions() is old
    body = await api.gql(RECOMMEND, role="learner")
    assert body["data"]["learner"]["recommendations"], body
    gate.set()
    new = await updater.service()  # waits for the new view
    assert new is not old and "div" in new.vocab.skill_ids
    assert await updater._for_predictions() is new
