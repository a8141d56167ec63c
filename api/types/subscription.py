"""Subscriptions (graphql-transport-ws): mastery updates and curriculum edits."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api import access
from api.context import Info
from api.errors import ForbiddenError
from api.ids import to_global_id, to_key
from api.pubsub import CURRICULUM_TOPIC, mastery_topic
from api.types.change import CurriculumChange
from api.types.learner import Mastery
from api.types.mutation_people import MasteryUpdate


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Fires after recorded attempts change this learner's mastery."
    )
    async def mastery_changed(
        self, info: Info, learner_id: strawberry.ID
    ) -> AsyncGenerator[MasteryUpdate, None]:
        key = to_key(learner_id, "Learner")
        denial = await access.learner_denial(info.context, key)
        if denial is not None:
            raise ForbiddenError(denial)
        async with info.context.services.pubsub.subscribe(mastery_topic(key)) as messages:
            async for rows in messages:
                info.context.fresh_loaders()
                yield MasteryUpdate(
                    learner_id=strawberry.ID(to_global_id("Learner", key)),
                    mastery=[Mastery.from_domain(r) for r in rows],
                )

    @strawberry.subscription(description="Fires on every curriculum edit.")
    async def curriculum_changed(self, info: Info) -> AsyncGenerator[CurriculumChange, None]:
        async with info.context.services.pubsub.subscribe(CURRICULUM_TOPIC) as messages:
            async for change in messages:
                info.context.fresh_loaders()
                yield CurriculumChange.from_domain(change)
