"""Subscriptions (graphql-transport-ws): mastery updates and curriculum edits.

Each is authorised like its query (``masteryChanged`` like the learner's data,
``curriculumChanged`` like ``curriculumChanges``: designers and admins) when it starts and
again before every event, and ends when the caller's token expires
(:mod:`api.subscription_guard`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api import access
from api.context import Info
from api.ids import to_global_id, to_key
from api.pubsub import CURRICULUM_TOPIC, alert_topic, mastery_topic, unique_changes
from api.subscription_guard import guarded
from api.types.alert import Alert
from api.types.change import CurriculumChange
from api.types.learner import Mastery
from api.types.mutation_people import MasteryUpdate


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Fires after recorded attempts change this learner's mastery; needs the "
        "right to read the learner's data, checked again before every event."
    )
    async def mastery_changed(
        self, info: Info, learner_id: strawberry.ID
    ) -> AsyncGenerator[MasteryUpdate, None]:
        ctx = info.context
        key = to_key(learner_id, "Learner")

        async def denial() -> str | None:
            return await access.learner_denial(ctx, key)

        async with ctx.services.pubsub.subscribe(mastery_topic(key)) as messages:
            async for rows in guarded(ctx, messages, denial):
                yield MasteryUpdate(
                    learner_id=strawberry.ID(to_global_id("Learner", key)),
                    mastery=[Mastery.from_domain(r) for r in rows],
                )

    @strawberry.subscription(
        description="Fires on every curriculum edit; needs the designer or admin role, like "
        "`curriculumChanges`."
    )
    async def curriculum_changed(self, info: Info) -> AsyncGenerator[CurriculumChange, None]:
        ctx = info.context

        async def denial() -> str | None:
            return access.curriculum_denial(ctx, "subscribing to curriculum changes")

        async with ctx.services.pubsub.subscribe(CURRICULUM_TOPIC) as messages:
            async for change in guarded(ctx, unique_changes(messages), denial):
                yield CurriculumChange.from_domain(change)

    @strawberry.subscription(
        description="Fires when new answers raise an alert (at risk, stuck on a skill) for a "
        "learner of the group; needs the right to read the group (an admin or one of its "
        "teachers), checked again before every event."
    )
    async def alert_raised(
        self, info: Info, group_id: strawberry.ID
    ) -> AsyncGenerator[Alert, None]:
        ctx = info.context
        key = to_key(group_id, "Group")

        async def denial() -> str | None:
            if ctx.principal is None:
                return "alerts need a teacher or admin token; none was sent"
            (group,) = await ctx.store.get_groups([key])
            if group is None:
                return f"unknown group {key!r}"
            return access.group_read_denial(ctx, group)

        async with ctx.services.pubsub.subscribe(alert_topic(key)) as messages:
            async for gid, alert in guarded(ctx, messages, denial):
                yield Alert.from_domain(alert, gid)
