"""Learner, attempt and mastery types."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.context import Info
from api.ids import to_global_id
from api.types.item import Item
from api.types.node import Node, PageInfo
from api.types.paging import history_page
from api.types.skill import Skill, skills_by_key
from api.types.strategy import STRATEGY_HELP, RecommendStrategy
from graph import models as m

if TYPE_CHECKING:
    from api.types.group import Group
    from api.types.learner_goals import LearnerClassGoal
    from api.types.recommend import (
        DueReview,
        Gap,
        LearningPath,
        Recommendation,
        ReviewForecast,
    )
    from api.types.teacher import ProgressPoint, SkillHistory
    from api.types.view import ViewConnection

RECOMMEND = "api.types.recommend"
HISTORY_PAGING = (
    "newest first: `first`/`after` page toward older ones, `last`/`before` toward newer ones."
)


@strawberry.type(description="A tracer's estimate that a learner has mastered a skill.")
class Mastery:
    domain: strawberry.Private[m.Mastery]
    learner_id: strawberry.ID
    skill_id: strawberry.ID
    probability: float = strawberry.field(description="P(mastered), in [0, 1].")
    uncertainty: float
    updated_at: datetime
    model_version: str

    @classmethod
    def from_domain(cls, row: m.Mastery) -> Mastery:
        return cls(
            domain=row,
            learner_id=strawberry.ID(to_global_id("Learner", row.learner_id)),
            skill_id=strawberry.ID(to_global_id("Skill", row.skill_id)),
            probability=row.probability,
            uncertainty=row.uncertainty,
            updated_at=row.updated_at,
            model_version=row.model_version,
        )

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        found = await info.context.loaders.skill.load(self.domain.skill_id)
        return Skill.from_domain(found) if found else None


@strawberry.type(description="One answer by a learner to an item.")
class Attempt:
    domain: strawberry.Private[m.Attempt]
    attempt_id: str = strawberry.field(description="The client's id (idempotency key).")
    learner_id: strawberry.ID
    item_id: strawberry.ID
    score: float
    correct: bool
    timestamp: datetime
    response_time_ms: int | None
    hints_used: int

    @classmethod
    def from_domain(cls, a: m.Attempt) -> Attempt:
        return cls(
            domain=a,
            attempt_id=a.attempt_id,
            learner_id=strawberry.ID(to_global_id("Learner", a.learner_id)),
            item_id=strawberry.ID(to_global_id("Item", a.item_id)),
            score=a.score,
            correct=a.correct,
            timestamp=a.timestamp,
            response_time_ms=a.response_time_ms,
            hints_used=a.hints_used,
        )

    @strawberry.field
    async def item(self, info: Info) -> Item | None:
        found = await info.context.loaders.item.load(self.domain.item_id)
        return Item.from_domain(found) if found else None


@strawberry.type
class AttemptEdge:
    node: Attempt
    cursor: str


@strawberry.type(description="A learner's attempts, newest first.")
class AttemptConnection:
    edges: list[AttemptEdge]
    page_info: PageInfo
    learner_key: strawberry.Private[str]

    @strawberry.field(description="How many attempts the learner has, over all pages.")
    async def total_count(self, info: Info) -> int:
        return int(await info.context.store.attempt_count(self.learner_key))

    @strawberry.field
    def nodes(self) -> list[Attempt]:
        return [e.node for e in self.edges]


@strawberry.type(description="A person who learns: their history, mastery and goals.")
class Learner(Node):
    domain: strawberry.Private[m.Learner]
    key: str = strawberry.field(description="The learner's id in the store.")
    display_name: str

    @classmethod
    def from_domain(cls, learner: m.Learner) -> Learner:
        return cls(
            domain=learner,
            id=strawberry.ID(to_global_id("Learner", learner.id)),
            key=learner.id,
            display_name=learner.display_name,
        )

    @strawberry.field(description="Skills the learner aims to master.")
    async def goals(self, info: Info) -> list[Skill]:
        return await skills_by_key(info, list(self.domain.goals))

    @strawberry.field(
        description="Goals teachers set for the learner's classes, class by class in each "
        "class's order, with the learner's progress toward each (a teacher: only the classes "
        "they teach)."
    )
    async def class_goals(
        self, info: Info
    ) -> list[Annotated[LearnerClassGoal, strawberry.lazy("api.types.learner_goals")]]:
        from api.types.learner_goals import learner_class_goals

        return await learner_class_goals(info, self.key)

    @strawberry.field(description=f"Attempts, {HISTORY_PAGING}")
    async def attempts(self, info: Info, first: int | None = None, after: str | None = None,
                       last: int | None = None, before: str | None = None) -> AttemptConnection:
        edges, page_info = await history_page(info.context.store.attempts_window, self.key,
                                              first, last, after, before, info.context.limits)
        return AttemptConnection(
            learner_key=self.key, page_info=page_info,
            edges=[AttemptEdge(node=Attempt.from_domain(a), cursor=c) for a, c in edges])

    @strawberry.field(
        description="Lessons, videos and readings studied (not answers: they move no "
        f"mastery), {HISTORY_PAGING}"
    )
    async def views(self, info: Info, first: int | None = None, after: str | None = None,
                    last: int | None = None, before: str | None = None
                    ) -> Annotated[ViewConnection, strawberry.lazy("api.types.view")]:
        from api.types.view import view_connection

        edges, page_info = await history_page(info.context.store.views_window, self.key,
                                              first, last, after, before, info.context.limits)
        return view_connection(self.key, edges, page_info)

    @strawberry.field(description="Latest mastery of every skill with an estimate.")
    async def mastery(self, info: Info) -> list[Mastery]:
        rows = await info.context.loaders.mastery.load(self.key)
        return [Mastery.from_domain(r) for r in rows]

    @strawberry.field(description="Groups (classes) the learner belongs to.")
    async def groups(
        self, info: Info
    ) -> list[Annotated[Group, strawberry.lazy("api.types.group")]]:
        from api.types.group import Group

        found = await info.context.loaders.groups_of_learner.load(self.key)
        return [Group.from_domain(g) for g in found]

    @strawberry.field(description="The next items to work on toward the goals, with reasons.")
    async def recommendations(
        self,
        info: Info,
        first: int = 5,
        goal_ids: list[strawberry.ID] | None = None,
        strategy: Annotated[
            RecommendStrategy, strawberry.argument(description=STRATEGY_HELP)
        ] = RecommendStrategy.NEXT_ITEM,
        seed_item_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="Catalogue strategies: items a new learner chose "
                "(cold start), added to their attempted items."
            ),
        ] = None,
    ) -> list[Annotated[Recommendation, strawberry.lazy(RECOMMEND)]]:
        from api.types.recommend import recommendations

        if strategy is not RecommendStrategy.NEXT_ITEM:
            from api.types.catalogue import catalogue_recommendations

            return await catalogue_recommendations(info, self.key, first, strategy, seed_item_ids)
        return await recommendations(info, self.key, first, goal_ids, self.domain)

    @strawberry.field(description="Skills still to learn toward the goals (default: own goals).")
    async def learning_path(
        self, info: Info, goal_ids: list[strawberry.ID] | None = None
    ) -> Annotated[LearningPath, strawberry.lazy(RECOMMEND)]:
        from api.types.recommend import learning_path

        return await learning_path(info, self.key, goal_ids)

    @strawberry.field(
        description="P(mastered) of each of `skillIds` after every answer that changed it, "
        "from the learner's answers replayed under the serving model."
    )
    async def mastery_history(
        self, info: Info, skill_ids: list[strawberry.ID]
    ) -> list[Annotated[SkillHistory, strawberry.lazy("api.types.teacher")]]:
        from api.ids import to_keys
        from api.types.teacher import learner_history

        return await learner_history(info, self.key, to_keys(list(skill_ids), "Skill"))

    @strawberry.field(
        description="Progress at the end of each of the last `days` days up to `until` "
        "(default: the learner's latest answer)."
    )
    async def progress(
        self, info: Info, days: int = 30, until: datetime | None = None
    ) -> list[Annotated[ProgressPoint, strawberry.lazy("api.types.teacher")]]:
        from api.types.teacher import group_progress

        return await group_progress(info, [self.key], days, until)

    @strawberry.field(description="Goal skills not mastered, with their root causes.")
    async def gaps(
        self, info: Info, goal_ids: list[strawberry.ID] | None = None
    ) -> list[Annotated[Gap, strawberry.lazy(RECOMMEND)]]:
        from api.types.recommend import learner_gaps

        return await learner_gaps(info, self.key, goal_ids)

    @strawberry.field(
        description="Mastered skills due for review at the learner's target retention, least "
        "recalled first."
    )
    async def review_queue(
        self, info: Info, first: int = 20
    ) -> list[Annotated[DueReview, strawberry.lazy(RECOMMEND)]]:
        from api.types.recommend import review_queue

        return await review_queue(info, self.key, first)

    @strawberry.field(
        description="Recall probability the learner's spaced review aims for: their own "
        "setting (setLearnerTargetRetention), else the default 0.9. Higher means more reviews "
        "and less forgetting; see reviewForecast."
    )
    def target_retention(self) -> float:
        return self.domain.effective_target_retention

    @strawberry.field(
        description="True when the learner has chosen no target retention and the default applies."
    )
    def target_retention_is_default(self) -> bool:
        return self.domain.target_retention is None

    @strawberry.field(
        description="Reviews the learner's current skills will need over the next `days` days "
        "at each target retention (default 0.8, 0.85, 0.9, 0.95 and the learner's own), and the "
        "recall they keep: what the retention setting trades. Reviews fall on their due day and "
        "are assumed recalled, so the count is a lower bound."
    )
    async def review_forecast(
        self, info: Info, days: int = 30, target_retentions: list[float] | None = None
    ) -> list[Annotated[ReviewForecast, strawberry.lazy(RECOMMEND)]]:
        from api.types.recommend import review_forecast

        return await review_forecast(info, self.key, days, target_retentions)
