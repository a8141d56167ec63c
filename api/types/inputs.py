"""Mutation input types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.types.item import ItemKind


@strawberry.input
class CreateSkillInput:
    id: str = strawberry.field(description="The new skill's key, e.g. `fractions.add`.")
    name: str
    description: str = ""
    topic: str = ""
    area: str = ""
    tags: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="Fields left null keep their value.")
class UpdateSkillInput:
    id: strawberry.ID = strawberry.field(description="Global id or key of the skill.")
    name: str | None = None
    description: str | None = None
    topic: str | None = None
    area: str | None = None
    tags: list[str] | None = None


@strawberry.input
class PrerequisiteInput:
    source_id: strawberry.ID = strawberry.field(description="The skill to learn first.")
    target_id: strawberry.ID = strawberry.field(description="The skill that needs it.")
    strength: float = 1.0


@strawberry.input
class SkillWeightInput:
    skill_id: strawberry.ID
    weight: float = 1.0


@strawberry.input
class CreateItemInput:
    id: str
    kind: ItemKind
    title: str
    skills: list[SkillWeightInput] = strawberry.field(default_factory=list)
    body: str = ""
    url: str = ""
    difficulty: float = 0.5
    expected_seconds: int = 60
    prompt: str = strawberry.field(default="", description="The question a learner answers.")
    choices: list[str] = strawberry.field(
        default_factory=list, description="Choices to pick from; empty: a free answer."
    )
    answers: list[str] = strawberry.field(
        default_factory=list,
        description="The answer key: accepted answers (with choices, each one of them); "
        "exercises only. Shown to teachers, designers and admins, and to a learner once they "
        "have answered (`recordAttempts(input: [{response}])`).",
    )
    hints: list[str] = strawberry.field(
        default_factory=list, description="Hints, in the order to reveal them."
    )
    explanation: str = strawberry.field(default="", description="Shown after answering.")


@strawberry.input(description="Fields left null keep their value.")
class UpdateItemInput:
    id: strawberry.ID
    kind: ItemKind | None = None
    title: str | None = None
    skills: list[SkillWeightInput] | None = None
    body: str | None = None
    url: str | None = None
    difficulty: float | None = None
    expected_seconds: int | None = None
    prompt: str | None = None
    choices: list[str] | None = None
    answers: list[str] | None = None
    hints: list[str] | None = None
    explanation: str | None = None


@strawberry.input(description="One answer; `attemptId` makes a retried request safe.")
class AttemptInput:
    attempt_id: str
    learner_id: strawberry.ID
    item_id: strawberry.ID
    score: float | None = strawberry.field(
        default=None,
        description="In [0, 1]; right/wrong is 1 or 0. Give this or `response`.",
    )
    response: str | None = strawberry.field(
        default=None,
        description="The learner's answer (one of the item's `choices`, or free text): the "
        "server checks it against the item's answer key and scores it 1 or 0 (see "
        "`RecordAttemptsPayload.checks`). Give this or `score`.",
    )
    timestamp: datetime | None = strawberry.field(
        default=None,
        description="Default: the server's time when the attempt is first stored (a retry "
        "without one is a duplicate, compared on the other fields).",
    )
    response_time_ms: int | None = None
    hints_used: int = 0


@strawberry.input
class CreateLearnerInput:
    id: str
    display_name: str
    goals: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class GroupInput:
    id: str
    name: str
    teacher_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    learner_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input(description="Fields left null keep their value.")
class UpdateGroupInput:
    id: strawberry.ID
    name: str | None = None
    teacher_ids: list[strawberry.ID] | None = None
    learner_ids: list[strawberry.ID] | None = None
