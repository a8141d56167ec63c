"""The teacher dashboard's types: class goals, mastery history and progress, at-risk
assessments with reasons, alerts, segments and the heatmap CSV (``analytics`` underneath).

Everything here is read through a :class:`~api.types.group.Group` the caller may read
(``access.group_read_denial``: an admin, or a teacher of the group), so a teacher only ever
sees the learners an admin enrolled in their groups; the learner-level history is on
``Learner``, which a caller only gets when they may read that learner.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from analytics import risk as rk
from analytics.export import heatmap_csv
from analytics.service import LearnerRisk
from analytics.timeline import Timeline, skill_series
from api.context import Info
from api.errors import BadInputError
from api.types.learner import Learner
from api.types.skill import Skill
from graph import models as m

if TYPE_CHECKING:
    from api.types.group import User

MAX_DAYS = 366
MAX_HISTORY_SKILLS = 50
MAX_SEGMENTS = 10


@strawberry.enum(description="What pushes a learner's risk up (one per model feature).")
class RiskReasonCode(Enum):
    INACTIVE = "INACTIVE"
    RECENT_ACTIVITY = "RECENT_ACTIVITY"
    FAILURE_STREAK = "FAILURE_STREAK"
    LOW_ACCURACY = "LOW_ACCURACY"
    MASTERY_SLOPE = "MASTERY_SLOPE"
    RECENT_GAIN = "RECENT_GAIN"
    STUCK_ON_SKILL = "STUCK_ON_SKILL"
    HINT_USE = "HINT_USE"
    ANSWER_COUNT = "ANSWER_COUNT"


@strawberry.type(description="One reason for a risk: a feature and how much it adds.")
class RiskReason:
    code: RiskReasonCode
    feature: str
    value: float = strawberry.field(description="The feature's value, in its own units.")
    weight: float = strawberry.field(description="Log-odds it adds against the average.")
    message: str

    @classmethod
    def from_domain(cls, r: rk.Reason) -> RiskReason:
        return cls(
            code=RiskReasonCode(r.code.value),
            feature=r.feature,
            value=r.value,
            weight=r.weight,
            message=r.message,
        )


async def _learner(info: Info, key: str) -> Learner | None:
    found = await info.context.loaders.learner.load(key)
    return Learner.from_domain(found) if found else None


async def _skill(info: Info, key: str | None) -> Skill | None:
    if key is None:
        return None
    found = await info.context.loaders.skill.load(key)
    return Skill.from_domain(found) if found else None


@strawberry.type(description="A learner's predicted risk of not progressing over the next week.")
class RiskAssessment:
    learner_key: strawberry.Private[str]
    probability: float = strawberry.field(description="P(at risk), in [0, 1].")
    at_risk: bool = strawberry.field(description="probability >= the model's threshold.")
    reasons: list[RiskReason]
    last_answer_at: datetime | None

    @classmethod
    def from_domain(cls, r: LearnerRisk) -> RiskAssessment:
        return cls(
            learner_key=r.learner_id,
            probability=r.risk.probability,
            at_risk=r.risk.at_risk,
            reasons=[RiskReason.from_domain(x) for x in r.risk.reasons],
            last_answer_at=r.last_answer,
        )

    @strawberry.field
    async def learner(self, info: Info) -> Learner | None:
        return await _learner(info, self.learner_key)


@strawberry.type(description="The at-risk model serving this store.")
class RiskModelInfo:
    trained: bool = strawberry.field(
        description="False: too little history yet; hand-set weights (analytics.risk)."
    )
    rows: int
    positives: int
    validation_auc: float | None = strawberry.field(
        description="AUC on learners held out of the fit (split by learner)."
    )
    threshold: float


@strawberry.type(description="A goal (assignment) the teacher set for the whole class.")
class ClassGoal:
    skill_key: strawberry.Private[str]
    due_at: datetime | None
    note: str
    mastered_by: int = strawberry.field(description="Learners of the class at or above 0.8.")
    learners: int
    set_by_key: strawberry.Private[str | None] = None

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        return await _skill(info, self.skill_key)

    @strawberry.field(description="Who set the goal (null: not recorded, or no such user).")
    async def set_by(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("api.types.group")] | None:
        from api.types.learner_goals import user_of

        return await user_of(info, self.set_by_key)


@strawberry.input(description="One class goal: a skill, optionally due by a time, with a note.")
class ClassGoalInput:
    skill_id: strawberry.ID
    due_at: datetime | None = None
    note: str = ""


@strawberry.type(description="Progress at the end of one day.")
class ProgressPoint:
    at: datetime
    mastered: float = strawberry.field(
        description="Skills at or above 0.8 (a group: the mean per learner)."
    )
    expected_mastered: float = strawberry.field(
        description="Sum of P(mastered) over the skills (a group: the mean per learner)."
    )
    answers: int = strawberry.field(description="Answers so far (a group: all learners').")


@strawberry.type
class MasteryPoint:
    at: datetime
    probability: float


@strawberry.type(description="P(mastered) of one skill after each answer that changed it.")
class SkillHistory:
    skill_key: strawberry.Private[str]
    points: list[MasteryPoint]

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        return await _skill(info, self.skill_key)


@strawberry.type(description="Learners of the class with similar mastery (k-means).")
class ClassSegment:
    learner_keys: strawberry.Private[tuple[str, ...]]
    next_key: strawberry.Private[str | None]
    weakest_keys: strawberry.Private[tuple[str, ...]]
    size: int
    mean_mastery: float = strawberry.field(description="Mean P(mastered) at the centroid.")

    @strawberry.field
    async def learners(self, info: Info) -> list[Learner]:
        found = await info.context.loaders.learner.load_many(list(self.learner_keys))
        return [Learner.from_domain(x) for x in found if x is not None]

    @strawberry.field(description="What to teach this segment next (see analytics.segments).")
    async def next_skill(self, info: Info) -> Skill | None:
        return await _skill(info, self.next_key)

    @strawberry.field(description="The practised skills lowest at the centroid.")
    async def weakest_skills(self, info: Info) -> list[Skill]:
        found = await info.context.loaders.skill.load_many(list(self.weakest_keys))
        return [Skill.from_domain(x) for x in found if x is not None]


# -- resolvers used by Group and Learner -------------------------------------------------------
def day_ends(until: datetime, days: int) -> list[datetime]:
    """The ends (UTC midnight after) of the ``days`` days up to and including ``until``'s."""
    if not 1 <= days <= MAX_DAYS:
        raise BadInputError(f"days={days}: ask for 1 to {MAX_DAYS}", argument="days")
    last = datetime.combine(until.astimezone(UTC).date(), time(), UTC) + timedelta(days=1)
    return [last - timedelta(days=days - 1 - k) for k in range(days)]


def _until(until: datetime | None, timelines: dict[str, Timeline]) -> datetime | None:
    if until is not None:
        if until.tzinfo is None:
            raise BadInputError(f"until={until.isoformat()} has no timezone", argument="until")
        return until
    ends = [t.answers[-1].at for t in timelines.values() if t.answers]
    return max(ends) if ends else None


async def group_progress(
    info: Info, learner_ids: list[str], days: int, until: datetime | None
) -> list[ProgressPoint]:
    an = info.context.services.analytics
    tls = await an.timelines(learner_ids)
    moment = _until(until, tls)
    if moment is None or not tls:
        return []
    ends = day_ends(moment, days)
    from analytics.timeline import progress

    per = [progress(tl, ends) for tl in tls.values()]
    n = len(per)
    return [
        ProgressPoint(
            at=ends[k],
            mastered=sum(p[k].mastered for p in per) / n,
            expected_mastered=sum(p[k].expected_mastered for p in per) / n,
            answers=sum(p[k].answers for p in per),
        )
        for k in range(len(ends))
    ]


async def learner_history(info: Info, learner_id: str, skill_ids: list[str]) -> list[SkillHistory]:
    if len(skill_ids) > MAX_HISTORY_SKILLS:
        raise BadInputError(
            f"{len(skill_ids)} skillIds; ask for at most {MAX_HISTORY_SKILLS}", argument="skillIds"
        )
    tl = (await info.context.services.analytics.timelines([learner_id]))[learner_id]
    pos = {s: k for k, s in enumerate(tl.skill_ids)}
    out = []
    for sid in dict.fromkeys(skill_ids):
        if sid not in pos:
            raise BadInputError(
                f"skill {sid!r} is not in the serving model's curriculum", argument="skillIds"
            )
        points = [MasteryPoint(at=t, probability=p) for t, p in skill_series(tl, pos[sid])]
        out.append(SkillHistory(skill_key=sid, points=points))
    return out


async def group_risks(
    info: Info, learner_ids: list[str], as_of: datetime | None, only_at_risk: bool, first: int
) -> list[RiskAssessment]:
    if as_of is not None and as_of.tzinfo is None:
        raise BadInputError(f"asOf={as_of.isoformat()} has no timezone", argument="asOf")
    found = await info.context.services.analytics.risks(learner_ids, as_of)
    rows = [r for r in found if r.risk.at_risk or not only_at_risk]
    return [RiskAssessment.from_domain(r) for r in rows[:first]]


async def class_goals(info: Info, group: m.Group) -> list[ClassGoal]:
    (goals,) = await info.context.store.group_goals([group.id])
    if not goals:
        return []
    by_learner = await info.context.loaders.group_mastery.load(group.id)
    out = []
    for g in goals:
        done = sum(
            1
            for rows in by_learner.values()
            if any(r.skill_id == g.skill_id and r.probability >= 0.8 for r in rows)
        )
        out.append(
            ClassGoal(
                skill_key=g.skill_id,
                due_at=g.due_at,
                note=g.note,
                mastered_by=done,
                learners=len(group.learner_ids),
                set_by_key=g.set_by,
            )
        )
    return out


async def class_segments(info: Info, group: m.Group, k: int) -> list[ClassSegment]:
    if not 1 <= k <= MAX_SEGMENTS:
        raise BadInputError(f"k={k}: ask for 1 to {MAX_SEGMENTS} segments", argument="k")
    by_learner = await info.context.loaders.group_mastery.load(group.id)
    mastery = {
        lid: {r.skill_id: r.probability for r in by_learner.get(lid, [])}
        for lid in group.learner_ids
    }
    goals = await info.context.loaders.group_goals.load(group.id)
    segs = await info.context.services.analytics.segments(
        mastery, k=k, goals=[g.skill_id for g in goals]
    )
    return [
        ClassSegment(
            learner_keys=s.learners,
            next_key=s.next_skill,
            weakest_keys=s.weakest,
            size=len(s.learners),
            mean_mastery=(sum(s.centroid.values()) / len(s.centroid) if s.centroid else 0.0),
        )
        for s in segs
    ]


async def mastery_csv(info: Info, group: m.Group, skill_ids: list[str] | None) -> str:
    store = info.context.store
    learners = await info.context.loaders.group_learners.load(group.id)
    by_learner = await store.mastery_of_group(group.id)
    mastery = {lid: {r.skill_id: r.probability for r in rows} for lid, rows in by_learner.items()}
    if skill_ids is None:
        skills = sorted({s for rows in mastery.values() for s in rows})
    else:
        known = await info.context.loaders.skill.load_many(skill_ids)
        unknown = [s for s, k in zip(skill_ids, known, strict=True) if k is None]
        if unknown:
            raise BadInputError(f"unknown skill id(s) {unknown[:10]}", argument="skillIds")
        skills = list(dict.fromkeys(skill_ids))
    return heatmap_csv([(x.id, x.display_name) for x in learners], skills, mastery)


async def risk_model_info(info: Info) -> RiskModelInfo:
    model = await info.context.services.analytics.model()
    return RiskModelInfo(
        trained=model.trained,
        rows=model.rows,
        positives=model.positives,
        validation_auc=model.validation_auc,
        threshold=model.threshold,
    )
