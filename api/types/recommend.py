"""Recommender types and resolvers (``recommender.service``): next items, learning paths,
gaps, the review queue and the diagnostic test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types.nodes import SelectedField

from api.context import Context, Info
from api.errors import BadInputError
from api.ids import to_keys
from api.limits import check_first
from api.types.item import Item
from api.types.learner import Learner
from api.types.skill import Skill
from graph.models import Item as ItemModel
from graph.models import Learner as LearnerModel
from recommender import service
from recommender.diagnostic import DiagnosticState
from recommender.errors import RecommenderError
from recommender.explain import Reason as DomainReason

T = TypeVar("T")


async def _call(call: Awaitable[T]) -> T:
    """Recommender errors (unknown goal ids, bad parameters) are the client's to fix."""
    try:
        return await call
    except RecommenderError as exc:
        raise BadInputError(str(exc)) from None


async def _skill(info: Info, key: str) -> Skill | None:
    found = await info.context.loaders.skill.load(key)
    return Skill.from_domain(found) if found else None


async def _skills(info: Info, keys: list[str]) -> list[Skill]:
    found = await info.context.loaders.skill.load_many(keys)
    return [Skill.from_domain(s) for s in found if s is not None]


@strawberry.enum(description="What a reason says (`Reason.data` holds the details).")
class ReasonCode(Enum):
    READY = "ready"
    UNBLOCKS_GOAL = "unblocks_goal"
    PREDICTED_SUCCESS = "predicted_success"
    REVIEW_DUE = "review_due"
    REMEDIATION = "remediation"
    EASIER_ITEM = "easier_item"
    INTERLEAVE = "interleave"
    EXPLORE = "explore"
    GOAL_MASTERED = "goal_mastered"
    COMPLETED = "completed"
    UNLOCKS = "unlocks"
    STRATEGY = "strategy"
    STUDIED = "studied"


@strawberry.enum(description="What a recommendation is for.")
class RecommendationKind(Enum):
    LEARN = "learn"
    REVIEW = "review"
    REMEDIATE = "remediate"
    EASIER = "easier"
    CONSOLIDATE = "consolidate"
    CATALOGUE = strawberry.enum_value(
        "catalogue", description="Ranked by a catalogue strategy (`strategy` other than "
        "NEXT_ITEM)."
    )


@strawberry.type(description="Why an item was recommended.")
class Reason:
    code: ReasonCode
    message: str
    data: JSON

    @classmethod
    def from_domain(cls, r: DomainReason) -> Reason:
        return cls(code=ReasonCode(r.code), message=r.message, data=cast(JSON, dict(r.data)))


@strawberry.type(description="A recommended next item, with the skill it serves and why.")
class Recommendation:
    item_key: str
    skill_key: str
    kind: RecommendationKind
    predicted_success: float = strawberry.field(
        description="P(correct answer) to the item for this learner: the serving tracer's "
        "prediction, which also ranks the items; for a learner with no tracer state yet, the "
        "stored mastery's (BKT answer model: guess 0.2, slip 0.1, weakest skill)."
    )
    reasons: list[Reason]
    #: the item as read for the whole list by :func:`read_items` (None: not in the store)
    found_item: strawberry.Private[ItemModel | None] = None
    #: whether :func:`read_items` read it (it does whenever the query selects ``item``)
    item_read: strawberry.Private[bool] = False

    @strawberry.field
    def item(self) -> Item | None:
        # a plain field over what read_items fetched: an async resolver per recommendation
        # made graphql-core gather the list through a task per item
        if not self.item_read:
            raise RuntimeError("Recommendation.item was selected but read_items did not run")
        return Item.from_domain(self.found_item) if self.found_item else None

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        return await _skill(info, self.skill_key)


def _selects_item(selections: Sequence[Any]) -> bool:
    """Whether ``item`` is among the fields selected on a Recommendation (through fragments
    and inline fragments; a field under ``@skip``/``@include`` counts as selected)."""
    for s in selections:
        if isinstance(s, SelectedField):
            if s.name == "item":
                return True
        elif _selects_item(s.selections):
            return True
    return False


async def read_items(info: Info, found: list[Recommendation]) -> list[Recommendation]:
    """Read the recommended items in one store call when the query selects ``item``, and
    prime the request's item loader with them (other fields of the request reuse them)."""
    if not found or not any(_selects_item(f.selections) for f in info.selected_fields):
        return found
    ctx = info.context
    items = await ctx.store.get_items([r.item_key for r in found])
    ctx.loaders.prime_items([i for i in items if i is not None])
    for r, item in zip(found, items, strict=True):
        r.found_item, r.item_read = item, True
    return found


@strawberry.type(description="One skill on the way to the goals.")
class PathStep:
    skill_key: str
    mastery: float
    estimated_items: int
    estimated_seconds: float
    unblocks: int
    ready: bool

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        return await _skill(info, self.skill_key)


@strawberry.type(description="The remaining skills to learn, in order, to reach the goals.")
class LearningPath:
    goal_keys: list[str]
    steps: list[PathStep]
    estimated_items: int
    estimated_seconds: float

    @strawberry.field
    async def goals(self, info: Info) -> list[Skill]:
        return await _skills(info, self.goal_keys)


@strawberry.type(description="A goal-relevant skill not yet mastered, with its root causes.")
class Gap:
    skill_key: str
    mastery: float
    ready: bool
    root_cause_keys: list[str]

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        return await _skill(info, self.skill_key)

    @strawberry.field
    async def root_causes(self, info: Info) -> list[Skill]:
        return await _skills(info, self.root_cause_keys)


@strawberry.type(description="A root-cause skill of a group and the learners stuck on it.")
class GroupGap:
    skill_key: str
    learner_keys: list[str]
    mean_mastery: float

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        return await _skill(info, self.skill_key)

    @strawberry.field
    async def learners(self, info: Info) -> list[Learner]:
        found = await info.context.loaders.learner.load_many(self.learner_keys)
        return [Learner.from_domain(x) for x in found if x is not None]


@strawberry.type(description="A mastered skill due for review (spaced repetition).")
class DueReview:
    skill_key: str
    retrievability: float = strawberry.field(description="Estimated recall now, in [0, 1].")
    days_since: float
    due_at: datetime

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        return await _skill(info, self.skill_key)


#: Most target retentions one reviewForecast compares.
MAX_FORECAST_ROWS = 20


@strawberry.type(description="Expected review workload at one target retention.")
class ReviewForecast:
    target_retention: float
    expected_reviews: int = strawberry.field(
        description="Reviews over the forecast's days (each on its due day, assumed recalled)."
    )
    mean_recall: float | None = strawberry.field(
        description="Recall of the learner's skills averaged over those days on that schedule "
        "(null when no skill is in review yet)."
    )
    current: bool = strawberry.field(description="This is the learner's own (effective) setting.")


def _goals(goal_ids: list[strawberry.ID] | None) -> list[str] | None:
    return None if goal_ids is None else to_keys(list(goal_ids), "Skill")


async def recommendations(
    info: Info,
    learner: str,
    first: int,
    goal_ids: list[strawberry.ID] | None,
    domain: LearnerModel | None = None,
) -> list[Recommendation]:
    """``domain``: the learner as this request read it (the ``learner`` field's object), so
    the service does not read it again."""
    ctx = info.context
    found = await _call(
        service.recommendations(
            ctx.store,
            learner,
            _goals(goal_ids),
            check_first(first, ctx.limits),
            cache=ctx.services.recommender,
            tracer=ctx.services.mastery.predictor,
            gain_cache=ctx.services.gains,
            rng=ctx.services.rng(),
            learner=domain,
        )
    )
    recommended = [
        Recommendation(
            item_key=r.item,
            skill_key=r.skill,
            kind=RecommendationKind(r.kind),
            predicted_success=r.predicted_success,
            reasons=[Reason.from_domain(x) for x in r.reasons],
        )
        for r in found
    ]
    return await read_items(info, recommended)


async def learning_path(
    info: Info, learner: str, goal_ids: list[strawberry.ID] | None
) -> LearningPath:
    ctx = info.context
    path = await _call(
        service.learner_path(ctx.store, learner, _goals(goal_ids), cache=ctx.services.recommender)
    )
    return LearningPath(
        goal_keys=list(path.goals),
        steps=[
            PathStep(
                skill_key=s.skill,
                mastery=s.mastery,
                estimated_items=s.estimated_items,
                estimated_seconds=s.estimated_seconds,
                unblocks=s.unblocks,
                ready=s.ready,
            )
            for s in path.steps
        ],
        estimated_items=path.estimated_items,
        estimated_seconds=path.estimated_seconds,
    )


async def learner_gaps(info: Info, learner: str, goal_ids: list[strawberry.ID] | None) -> list[Gap]:
    ctx = info.context
    gaps = await _call(
        service.learner_gaps(ctx.store, learner, _goals(goal_ids), cache=ctx.services.recommender)
    )
    return [
        Gap(
            skill_key=g.skill, mastery=g.mastery, ready=g.ready, root_cause_keys=list(g.root_causes)
        )
        for g in gaps
    ]


async def group_gaps(info: Info, group: str, goal_ids: list[strawberry.ID]) -> list[GroupGap]:
    ctx = info.context
    goals = to_keys(list(goal_ids), "Skill")
    gaps = await _call(service.group_gaps(ctx.store, group, goals, cache=ctx.services.recommender))
    return [
        GroupGap(skill_key=g.skill, learner_keys=list(g.learners), mean_mastery=g.mean_mastery)
        for g in gaps
    ]


async def review_queue(info: Info, learner: str, first: int) -> list[DueReview]:
    ctx = info.context
    due = await _call(
        service.review_queue(
            ctx.store, learner, cache=ctx.services.recommender, limit=check_first(first, ctx.limits)
        )
    )
    return [
        DueReview(
            skill_key=d.skill,
            retrievability=d.retrievability,
            days_since=d.days_since,
            due_at=datetime.fromtimestamp(d.due_at, UTC),
        )
        for d in due
    ]


async def review_forecast(
    info: Info, learner: str, days: int, retentions: list[float] | None
) -> list[ReviewForecast]:
    ctx = info.context
    if retentions is not None and len(retentions) > MAX_FORECAST_ROWS:
        raise BadInputError(
            f"targetRetentions has {len(retentions)} values; ask for at most {MAX_FORECAST_ROWS}",
            argument="targetRetentions",
        )
    rows = await _call(
        service.review_forecast(
            ctx.store,
            learner,
            cache=ctx.services.recommender,
            days=days,
            retentions=retentions,
        )
    )
    return [
        ReviewForecast(
            target_retention=r.target_retention,
            expected_reviews=r.expected_reviews,
            mean_recall=r.mean_recall,
            current=r.current,
        )
        for r in rows
    ]


# -- the diagnostic test: its state travels with the client, signed so it cannot be edited ----
def seal_state(ctx: Context, learner: str, state: DiagnosticState) -> str:
    body = json.dumps({"learner": learner, "state": state.to_dict()}, separators=(",", ":"))
    raw = body.encode()
    mac = hmac.new(ctx.services.diagnostic_key, raw, hashlib.sha256).digest()
    return (base64.urlsafe_b64encode(raw) + b"." + base64.urlsafe_b64encode(mac)).decode()


def open_state(ctx: Context, learner: str, token: str) -> DiagnosticState:
    refused = BadInputError(
        "the diagnostic state was not issued by this server for this learner (or the server "
        "restarted); start a new diagnostic with startDiagnostic",
        argument="state",
    )
    try:
        raw_b64, mac_b64 = token.encode().split(b".", 1)
        raw = base64.urlsafe_b64decode(raw_b64)
        mac = base64.urlsafe_b64decode(mac_b64)
    except ValueError:
        raise refused from None
    expected = hmac.new(ctx.services.diagnostic_key, raw, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise refused
    doc: dict[str, Any] = json.loads(raw)
    if doc.get("learner") != learner:
        raise refused
    try:
        return DiagnosticState.from_dict(doc["state"])
    except RecommenderError as exc:
        raise BadInputError(str(exc), argument="state") from None
