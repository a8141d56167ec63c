"""Teacher mutations: the class goals of a group, and acknowledging (dismissing) an alert."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api import access
from api import validation as v
from api.context import Info
from api.ids import to_key
from api.types.alert import Alert
from api.types.errors import ForbiddenError, NotFoundError, ValidationError
from api.types.group import Group
from api.types.mutation_base import Refusal, allow, guarded
from api.types.teacher import ClassGoal, ClassGoalInput, class_goals
from graph import models as m


@strawberry.type
class ClassGoalsPayload:
    group: Group
    goals: list[ClassGoal]


SetClassGoalsResult = Annotated[
    ClassGoalsPayload | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("SetClassGoalsResult"),
]


@strawberry.type(description="What `acknowledgeAlert` acknowledged.")
class AcknowledgeAlertPayload:
    alert: Alert


AcknowledgeAlertResult = Annotated[
    AcknowledgeAlertPayload | NotFoundError | ForbiddenError,
    strawberry.union("AcknowledgeAlertResult"),
]


async def alert_group(info: Info, learner_id: str) -> str:
    """The group to show an alert in: the caller's own class of the learner, else the first."""
    ctx = info.context
    found = await ctx.loaders.groups_of_learner.load(learner_id)
    p = ctx.principal
    mine = [g for g in found if p is not None and p.sub in g.teacher_ids]
    return (mine or found)[0].id if (mine or found) else ""


def goals_denial(info: Info, group: m.Group) -> str | None:
    """Admins and the group's own teachers set its goals; a goal widens nobody's access."""
    p = info.context.principal
    if p is None:
        return "setting class goals needs a teacher or admin token; none was sent"
    if p.role is m.Role.ADMIN or (p.role is m.Role.TEACHER and p.sub in group.teacher_ids):
        return None
    return access.group_read_denial(info.context, group) or (
        f"{p.role.value} {p.sub!r} may not set the goals of group {group.id!r}"
    )


def kept_setter(goal: m.GroupGoal, current: tuple[m.GroupGoal, ...]) -> m.GroupGoal:
    """``goal``, set by whoever set it before when it is sent back unchanged (same skill, due
    time and note): replacing the list to add one goal does not claim the others."""
    for old in current:
        if (old.skill_id, old.due_at, old.note) == (goal.skill_id, goal.due_at, goal.note):
            return old
    return goal


@strawberry.type
class TeacherMutation:
    @strawberry.mutation(
        description="Replace a group's class goals (the skills assigned to the whole class, "
        "in order, each with an optional due time and note): an admin or one of its teachers."
    )
    async def set_class_goals(
        self, info: Info, group_id: strawberry.ID, goals: list[ClassGoalInput]
    ) -> SetClassGoalsResult:
        ctx = info.context

        async def write() -> ClassGoalsPayload:
            key = to_key(group_id, "Group")
            (group,) = await ctx.store.get_groups([key])
            if group is None:
                if ctx.principal is None:
                    raise Refusal(ForbiddenError(message="setting class goals needs a token"))
                raise Refusal(NotFoundError.of("group", [key]))
            allow(goals_denial(info, group))
            assert ctx.principal is not None  # goals_denial refuses anonymous callers
            (current,) = await ctx.store.group_goals([key])
            wanted = [
                kept_setter(
                    m.GroupGoal(
                        skill_id=to_key(g.skill_id, "Skill"),
                        due_at=g.due_at,
                        note=v.text("note", g.note, limit=500),
                        set_by=ctx.principal.sub,
                    ),
                    current,
                )
                for g in goals
            ]
            await ctx.store.set_group_goals(key, wanted)
            return ClassGoalsPayload(
                group=Group.from_domain(group), goals=await class_goals(info, group)
            )

        result: SetClassGoalsResult = await guarded(write)
        return result

    @strawberry.mutation(
        description="Acknowledge (dismiss) an alert by its key: a teacher of the learner's "
        "class, or an admin. Idempotent: the first acknowledgement is kept. The alert opens "
        "again only if its condition begins anew afterwards."
    )
    async def acknowledge_alert(self, info: Info, key: str) -> AcknowledgeAlertResult:
        ctx = info.context

        async def write() -> AcknowledgeAlertPayload:
            p = ctx.principal
            if p is None or p.role not in (m.Role.TEACHER, m.Role.ADMIN):
                who = "none was sent" if p is None else f"{p.role.value} {p.sub!r} may not"
                raise Refusal(ForbiddenError(
                    message=f"acknowledging alerts needs a teacher or admin token; {who}"))
            (found,) = await ctx.store.get_alerts([key])
            if found is None:
                raise Refusal(NotFoundError.of("alert", [key]))
            allow(await access.learner_denial(ctx, found.learner_id))
            done = await ctx.store.acknowledge_alert(key, by=p.sub, at=ctx.services.clock())
            if done is None:  # gone between the read and the write
                raise Refusal(NotFoundError.of("alert", [key]))
            return AcknowledgeAlertPayload(
                alert=Alert.from_stored(done, await alert_group(info, done.learner_id)))

        result: AcknowledgeAlertResult = await guarded(write)
        return result
