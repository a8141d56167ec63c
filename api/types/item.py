"""Item (content) types."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.context import Context, Info
from api.errors import ForbiddenError
from api.ids import to_global_id
from api.types.node import Node
from api.types.skill import Skill
from graph import models as m
from recommender.gains import posterior_mean


@strawberry.enum(description="What an item is.")
class ItemKind(Enum):
    EXERCISE = "exercise"
    LESSON = "lesson"
    VIDEO = "video"
    READING = "reading"

    def to_domain(self) -> m.ItemKind:
        return m.ItemKind(self.value)


@strawberry.type(description="One Q-matrix entry: the item assesses `skill` with `weight`.")
class SkillWeight:
    domain: strawberry.Private[m.SkillWeight]
    skill_id: strawberry.ID
    weight: float

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        found = await info.context.loaders.skill.load(self.domain.skill_id)
        return Skill.from_domain(found) if found else None


@strawberry.type(
    description="How often learners' next answer on an item's main skill was right after "
    "practising the item (all learners; see `recommender.gains`). The recommender explores "
    "near-equal items by Thompson sampling over it, which also compares content variants "
    "(A/B) online."
)
class LearningGain:
    observations: int = strawberry.field(description="successes + failures.")
    successes: int
    failures: int
    mean: float = strawberry.field(
        description="Posterior mean of Beta(1 + successes, 1 + failures): 0.5 with no data."
    )

    @classmethod
    def from_counts(cls, successes: int, failures: int) -> LearningGain:
        return cls(
            observations=successes + failures,
            successes=successes,
            failures=failures,
            mean=posterior_mean(successes, failures),
        )


#: roles that read aggregate learning data (no single learner's answers can be told apart)
GAIN_READERS = frozenset({m.Role.TEACHER, m.Role.DESIGNER, m.Role.ADMIN})


def gain_denial(ctx: Context) -> str | None:
    """Why the caller may not read items' learning gains, or None when they may."""
    p = ctx.principal
    if p is None:
        return "an item's learningGain needs a teacher, designer or admin token; none was sent"
    if p.role in GAIN_READERS:
        return None
    return f"an item's learningGain is for teachers, designers and admins, not {p.role.value!r}"


def answer_key_denial(ctx: Context, field: str) -> str | None:
    """Why the caller may not read an item's answer key (``field``: answers, explanation)
    before answering, or None when they may (teachers, designers, admins)."""
    p = ctx.principal
    if p is not None and p.role in GAIN_READERS:
        return None
    who = "no token was sent" if p is None else f"not for {p.role.value!r}"
    return (
        f"an item's {field} is for teachers, designers and admins ({who}); a learner gets it "
        "with the check of their answer: recordAttempts(input: [{itemId, response}]) -> checks"
    )


@strawberry.type(description="Content: an exercise to answer, or a lesson, video or reading.")
class Item(Node):
    domain: strawberry.Private[m.Item]
    key: str = strawberry.field(description="The item's id in the curriculum (store key).")
    kind: ItemKind
    title: str
    body: str
    url: str
    difficulty: float = strawberry.field(description="0 (easiest) to 1 (hardest).")
    expected_seconds: int
    skill_weights: list[SkillWeight] = strawberry.field(
        description="The item's row of the Q-matrix."
    )
    prompt: str = strawberry.field(description="The question (exercises; '' when none).")
    choices: list[str] = strawberry.field(
        description="Choices to pick from, in the order to show them; empty: a free answer."
    )
    hints: list[str] = strawberry.field(description="Hints, in the order to reveal them.")
    checkable: bool = strawberry.field(
        description="Whether the server checks a response to this item (it has an answer "
        "key): send `response` instead of `score` in `recordAttempts`."
    )

    @classmethod
    def from_domain(cls, item: m.Item) -> Item:
        return cls(
            domain=item,
            id=strawberry.ID(to_global_id("Item", item.id)),
            key=item.id,
            kind=ItemKind(item.kind.value),
            title=item.title,
            body=item.body,
            url=item.url,
            difficulty=item.difficulty,
            expected_seconds=item.expected_seconds,
            skill_weights=[
                SkillWeight(
                    domain=w,
                    skill_id=strawberry.ID(to_global_id("Skill", w.skill_id)),
                    weight=w.weight,
                )
                for w in item.skills
            ],
            prompt=item.prompt,
            choices=list(item.choices),
            hints=list(item.hints),
            checkable=item.checkable,
        )

    @strawberry.field(
        description="The answer key: the accepted answers (teachers, designers, admins; a "
        "learner sees them in the check of their answer)."
    )
    def answers(self, info: Info) -> list[str]:
        denial = answer_key_denial(info.context, "answers")
        if denial is not None:
            raise ForbiddenError(denial)
        return list(self.domain.answers)

    @strawberry.field(
        description="The worked explanation shown after answering (teachers, designers, "
        "admins; a learner sees it in the check of their answer)."
    )
    def explanation(self, info: Info) -> str:
        denial = answer_key_denial(info.context, "explanation")
        if denial is not None:
            raise ForbiddenError(denial)
        return self.domain.explanation

    @strawberry.field(description="The skills this item assesses.")
    async def skills(self, info: Info) -> list[Skill]:
        found = await info.context.loaders.skill.load_many(list(self.domain.skill_ids))
        return [Skill.from_domain(s) for s in found if s is not None]

    @strawberry.field(
        description="Observed learning gain across learners (teachers, designers, admins)."
    )
    async def learning_gain(self, info: Info) -> LearningGain | None:
        denial = gain_denial(info.context)
        if denial is not None:
            raise ForbiddenError(denial)
        successes, failures = await info.context.loaders.item_gains.load(self.key)
        return LearningGain.from_counts(successes, failures)
