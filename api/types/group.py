"""Group (class), user and viewer types."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from api import access
from api.context import Info
from api.errors import ForbiddenError
from api.ids import to_global_id, to_keys
from api.types.learner import Learner
from api.types.node import Node, PageInfo, encode_cursor
from api.types.paging import page_size, window
from api.types.skill import Skill, skills_by_key
from graph import models as m

if TYPE_CHECKING:
    from api.types.alert import Alert, AlertStatus
    from api.types.recommend import GroupGap
    from api.types.teacher import (
        ClassGoal,
        ClassSegment,
        ProgressPoint,
        RiskAssessment,
        RiskModelInfo,
    )

_teacher = strawberry.lazy("api.types.teacher")
_alert = strawberry.lazy("api.types.alert")


@strawberry.enum(description="What a signed-in user may do (see the README's access rules).")
class Role(Enum):
    LEARNER = "learner"
    TEACHER = "teacher"
    DESIGNER = "designer"
    ADMIN = "admin"


@strawberry.type(description="A person who signs in.")
class User(Node):
    domain: strawberry.Private[m.User]
    key: str
    display_name: str
    role: Role

    @classmethod
    def from_domain(cls, user: m.User) -> User:
        return cls(
            domain=user,
            id=strawberry.ID(to_global_id("User", user.id)),
            key=user.id,
            display_name=user.display_name,
            role=Role(user.role.value),
        )


@strawberry.type(description="One learner's row of a mastery matrix, aligned with `skills`.")
class MasteryRow:
    learner: Learner
    probabilities: list[float | None] = strawberry.field(
        description="P(mastered) per skill of the matrix; null where there is no estimate."
    )


@strawberry.type(description="Learners x skills mastery of a group: a page of rows (learners by "
                 "key) over every column asked for.")
class MasteryMatrix:
    skills: list[Skill]
    rows: list[MasteryRow]
    page_info: PageInfo = strawberry.field(description="Where the page of rows stands.")
    total_count: int = strawberry.field(description="The group's learners (all rows).")


@strawberry.type
class LearnerEdge:
    node: Learner
    cursor: str


@strawberry.type(description="A page of learners, ordered by key.")
class LearnerConnection:
    edges: list[LearnerEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Learner]:
        return [e.node for e in self.edges]


@strawberry.type(description="A class: its learners and the teachers who may see their data.")
class Group(Node):
    domain: strawberry.Private[m.Group]
    key: str
    name: str

    @classmethod
    def from_domain(cls, group: m.Group) -> Group:
        return cls(
            domain=group,
            id=strawberry.ID(to_global_id("Group", group.id)),
            key=group.id,
            name=group.name,
        )

    def _check(self, info: Info) -> None:
        denial = access.group_read_denial(info.context, self.domain)
        if denial is not None:
            raise ForbiddenError(denial)

    @strawberry.field
    async def teachers(self, info: Info) -> list[User]:
        self._check(info)
        found = await info.context.loaders.user.load_many(list(self.domain.teacher_ids))
        return [User.from_domain(u) for u in found if u is not None]

    async def _learner_page(
        self, info: Info, first: int | None, after: str | None, last: int | None,
        before: str | None,
    ) -> tuple[list[m.Learner], PageInfo, int]:
        # a class fits one page unless it is larger than the cap: default to the cap
        limits = info.context.limits
        request = page_size(first, last, after, before, limits, default=limits.max_first)
        found = {x.id: x for x in await info.context.loaders.group_learners.load(self.key)}
        keys, page = window(sorted(found), request)
        return [found[k] for k in keys], page, len(found)

    @strawberry.field(
        description="The group's learners by key, paged (Relay arguments; without `first` or "
        "`last`, the first `max_first`, 100 by default)."
    )
    async def learners(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> LearnerConnection:
        self._check(info)
        learners, page, total = await self._learner_page(info, first, after, last, before)
        edges = [
            LearnerEdge(node=Learner.from_domain(x), cursor=encode_cursor(x.id)) for x in learners
        ]
        return LearnerConnection(edges=edges, page_info=page, total_count=total)

    @strawberry.field(
        description="Mastery of the group's learners: a page of rows, learners by key (Relay "
        "arguments; without `first` or `last`, the first `max_first`, 100 by default; "
        "`totalCount` counts all); `skillIds` picks the columns (default: every skill any "
        "learner of the group has an estimate for)."
    )
    async def mastery_matrix(
        self,
        info: Info,
        skill_ids: list[strawberry.ID] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> MasteryMatrix:
        self._check(info)
        learners, page, total = await self._learner_page(info, first, after, last, before)
        by_learner = await info.context.loaders.group_mastery.load(self.key)
        if skill_ids is None:
            keys = sorted({r.skill_id for rows in by_learner.values() for r in rows})
        else:
            keys = to_keys(list(skill_ids), "Skill")
        skills = await skills_by_key(info, keys)
        keys = [s.key for s in skills]
        rows = []
        for learner in learners:
            got = {r.skill_id: r.probability for r in by_learner.get(learner.id, [])}
            rows.append(
                MasteryRow(
                    learner=Learner.from_domain(learner),
                    probabilities=[got.get(k) for k in keys],
                )
            )
        return MasteryMatrix(skills=skills, rows=rows, page_info=page, total_count=total)


    @strawberry.field(description="Root-cause skills toward `goalIds` and who is stuck on each.")
    async def gaps(
        self, info: Info, goal_ids: list[strawberry.ID]
    ) -> list[Annotated[GroupGap, strawberry.lazy("api.types.recommend")]]:
        from api.types.recommend import group_gaps

        self._check(info)
        return await group_gaps(info, self.key, goal_ids)

    # -- the teacher dashboard (api.types.teacher) -------------------------------------------
    @strawberry.field(description="The class goals (assignments) a teacher set, in order.")
    async def goals(self, info: Info) -> list[Annotated[ClassGoal, _teacher]]:
        from api.types.teacher import class_goals

        self._check(info)
        return await class_goals(info, self.domain)

    @strawberry.field(
        description="Each learner's risk of not progressing over the next week, riskiest "
        "first, with reasons; assessed as of `asOf` (default: the class's latest answer)."
    )
    async def at_risk(
        self, info: Info, as_of: datetime | None = None, only_at_risk: bool = False,
        first: int = 50,
    ) -> list[Annotated[RiskAssessment, _teacher]]:
        from api.limits import check_first
        from api.types.teacher import group_risks

        self._check(info)
        n = check_first(first, info.context.limits)
        return await group_risks(info, list(self.domain.learner_ids), as_of, only_at_risk, n)

    @strawberry.field(description="The at-risk model serving this store.")
    async def risk_model(self, info: Info) -> Annotated[RiskModelInfo, _teacher]:
        from api.types.teacher import risk_model_info

        self._check(info)
        return await risk_model_info(info)

    @strawberry.field(
        description="Alerts of the class's learners (at risk, stuck on a skill), kept until "
        "acknowledged, newest first (default: the open ones); `alertRaised` pushes new ones. "
        "With `asOf`, those that held then."
    )
    async def alerts(
        self, info: Info, as_of: datetime | None = None,
        status: Annotated[AlertStatus, _alert] | None = None,
    ) -> list[Annotated[Alert, _alert]]:
        from api.types.alert import AlertStatus, group_alerts

        self._check(info)
        return await group_alerts(info, self.key, list(self.domain.learner_ids), as_of,
                                  status or AlertStatus.OPEN)

    @strawberry.field(
        description="Mean progress per learner at the end of each of the last `days` days "
        "up to `until` (default: the class's latest answer), from the answers replayed "
        "under the serving model."
    )
    async def progress(
        self, info: Info, days: int = 30, until: datetime | None = None
    ) -> list[Annotated[ProgressPoint, _teacher]]:
        from api.types.teacher import group_progress

        self._check(info)
        return await group_progress(info, list(self.domain.learner_ids), days, until)

    @strawberry.field(
        description="The class split into `k` segments of learners with similar mastery "
        "(k-means), each with the skill to teach it next."
    )
    async def segments(self, info: Info, k: int = 3) -> list[Annotated[ClassSegment, _teacher]]:
        from api.types.teacher import class_segments

        self._check(info)
        return await class_segments(info, self.domain, k)

    @strawberry.field(
        description="The mastery heatmap as CSV (learner_id, display_name, one column per "
        "skill; `skillIds` picks the columns, default every skill with an estimate)."
    )
    async def mastery_csv(self, info: Info, skill_ids: list[strawberry.ID] | None = None) -> str:
        from api.types.teacher import mastery_csv

        self._check(info)
        keys = None if skill_ids is None else to_keys(list(skill_ids), "Skill")
        return await mastery_csv(info, self.domain, keys)


@strawberry.type(description="The signed-in caller.")
class Viewer:
    subject: str = strawberry.field(description="The token's `sub`: the user or learner id.")
    role: Role

    @strawberry.field(description="The caller's user record, when the store has one.")
    async def user(self, info: Info) -> User | None:
        found = await info.context.loaders.user.load(self.subject)
        return User.from_domain(found) if found else None

    @strawberry.field(description="The caller's learner record (learners only).")
    async def learner(self, info: Info) -> Learner | None:
        if self.role is not Role.LEARNER:
            return None
        found = await info.context.loaders.learner.load(self.subject)
        return Learner.from_domain(found) if found else None

    @strawberry.field(description="Groups the caller teaches (teachers), or belongs to.")
    async def groups(self, info: Info) -> list[Group]:
        if self.role is Role.LEARNER:
            found = await info.context.loaders.groups_of_learner.load(self.subject)
        else:
            found = await info.context.loaders.groups_of_teacher.load(self.subject)
        return [Group.from_domain(g) for g in found]
