"""A learner's class goals: the goals teachers set on the groups the learner is in, each with
its group, who set it and the learner's own progress toward it.

Who sees which (``Learner.classGoals``; the learner itself is already one the caller may read,
``access.learner_denial``): the learner and admins see the goals of every group the learner is
in; a teacher sees only those of the groups they teach (the same goals ``group.goals`` shows
them), never another teacher's class.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from api import access
from api.context import Info
from api.errors import ForbiddenError
from api.types.group import Group, User
from api.types.skill import Skill
from graph import models as m
from recommender.frontier import DEFAULT_THRESHOLD


@strawberry.type(
    description="A goal a teacher set for a class the learner is in, and the learner's "
    "progress toward it."
)
class LearnerClassGoal:
    goal: strawberry.Private[m.GroupGoal]
    group: Group = strawberry.field(description="The class the goal was set for.")
    due_at: datetime | None
    note: str
    probability: float | None = strawberry.field(
        description="The learner's P(mastered) of the goal skill (null: not started)."
    )
    mastered: bool = strawberry.field(
        description=f"P(mastered) at or above {DEFAULT_THRESHOLD} (the recommender's threshold)."
    )

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        found = await info.context.loaders.skill.load(self.goal.skill_id)
        return Skill.from_domain(found) if found else None

    @strawberry.field(description="Who set the goal (null: not recorded, or no such user).")
    async def set_by(self, info: Info) -> User | None:
        return await user_of(info, self.goal.set_by)


async def user_of(info: Info, user_id: str | None) -> User | None:
    if user_id is None:
        return None
    found = await info.context.loaders.user.load(user_id)
    return None if found is None else User.from_domain(found)


async def learner_class_goals(info: Info, learner_id: str) -> list[LearnerClassGoal]:
    ctx = info.context
    denial = await access.learner_denial(ctx, learner_id)
    if denial is not None:
        raise ForbiddenError(denial)
    groups: list[m.Group] = await ctx.loaders.groups_of_learner.load(learner_id)
    p = ctx.principal
    if p is not None and p.role is m.Role.TEACHER:
        groups = [g for g in groups if p.sub in g.teacher_ids]
    if not groups:
        return []
    goals_of = await ctx.store.group_goals([g.id for g in groups])
    mastery = {r.skill_id: r.probability for r in await ctx.loaders.mastery.load(learner_id)}
    out = []
    for group, goals in zip(groups, goals_of, strict=True):
        for goal in goals:
            prob = mastery.get(goal.skill_id)
            out.append(
                LearnerClassGoal(
                    goal=goal,
                    group=Group.from_domain(group),
                    due_at=goal.due_at,
                    note=goal.note,
                    probability=prob,
                    mastered=prob is not None and prob >= DEFAULT_THRESHOLD,
                )
            )
    return out
