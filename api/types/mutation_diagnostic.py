"""The diagnostic placement test: start, answer one question at a time, finish.

The test's state goes back and forth with the client as an opaque, signed ``state`` string, so
the server keeps nothing between calls. Learners take their own test; admins any learner's.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from api import access
from api.context import Info
from api.ids import to_key
from api.types.errors import ForbiddenError, NotFoundError, ValidationError
from api.types.item import Item
from api.types.mutation_base import allow, existing, guarded
from api.types.recommend import _call, _skill, _skills, open_state, seal_state
from api.types.skill import Skill
from recommender import service
from recommender.diagnostic import DiagnosticState, Question


@strawberry.type(description="The next question of a diagnostic test.")
class DiagnosticQuestion:
    item_key: str
    skill_key: str
    expected_gain: float = strawberry.field(description="Expected information gain (bits).")

    @strawberry.field
    async def item(self, info: Info) -> Item | None:
        found = await info.context.loaders.item.load(self.item_key)
        return Item.from_domain(found) if found else None

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        return await _skill(info, self.skill_key)


@strawberry.type(description="Where a diagnostic stands; send `state` back with the answer.")
class DiagnosticStep:
    state: str
    question: DiagnosticQuestion | None = strawberry.field(
        description="The next question; null when the test is done (call finishDiagnostic)."
    )
    answered: int
    expected_accuracy: float


@strawberry.type
class SkillProbability:
    skill_key: str
    probability: float

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        return await _skill(info, self.skill_key)


@strawberry.type(description="The placement a diagnostic arrived at.")
class DiagnosticResult:
    mastery: list[SkillProbability]
    mastered_keys: list[str]
    questions: int
    expected_accuracy: float
    saved: bool = strawberry.field(description="Whether it was stored as the learner's mastery.")

    @strawberry.field
    async def mastered(self, info: Info) -> list[Skill]:
        return await _skills(info, self.mastered_keys)


DiagnosticStepResult = Annotated[
    DiagnosticStep | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("DiagnosticStepResult"),
]
DiagnosticFinishResult = Annotated[
    DiagnosticResult | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("DiagnosticFinishResult"),
]


def _step(info: Info, learner: str, state: DiagnosticState, q: Question | None) -> DiagnosticStep:
    return DiagnosticStep(
        state=seal_state(info.context, learner, state),
        question=(
            None
            if q is None
            else DiagnosticQuestion(
                item_key=q.item, skill_key=q.skill, expected_gain=q.expected_gain
            )
        ),
        answered=len(state.answers),
        expected_accuracy=state.expected_accuracy,
    )


async def _learner(info: Info, learner_id: strawberry.ID) -> str:
    """The key of a learner the caller may test (ForbiddenError, NotFoundError otherwise)."""
    key = to_key(learner_id, "Learner")
    allow(await access.learner_denial(info.context, key, write=True))
    await existing(info.context.store.get_learners, "learner", key)
    return key


@strawberry.type
class DiagnosticMutation:
    @strawberry.mutation(description="Start a diagnostic placement test for a learner.")
    async def start_diagnostic(self, info: Info, learner_id: strawberry.ID) -> DiagnosticStepResult:
        async def run() -> DiagnosticStep:
            key = await _learner(info, learner_id)
            state, question = await _call(
                service.start_diagnostic(
                    info.context.store, cache=info.context.services.recommender
                )
            )
            return _step(info, key, state, question)

        result: DiagnosticStepResult = await guarded(run)
        return result

    @strawberry.mutation(description="Answer the current question; returns the next one.")
    async def answer_diagnostic(
        self,
        info: Info,
        learner_id: strawberry.ID,
        state: str,
        item_id: strawberry.ID,
        correct: bool,
    ) -> DiagnosticStepResult:
        async def run() -> DiagnosticStep:
            key = await _learner(info, learner_id)
            current = open_state(info.context, key, state)
            new, question = await _call(
                service.answer_diagnostic(
                    info.context.store,
                    current,
                    to_key(item_id, "Item"),
                    correct,
                    cache=info.context.services.recommender,
                )
            )
            return _step(info, key, new, question)

        result: DiagnosticStepResult = await guarded(run)
        return result

    @strawberry.mutation(description="Finish: the placement, stored as mastery unless save=false.")
    async def finish_diagnostic(
        self, info: Info, learner_id: strawberry.ID, state: str, save: bool = True
    ) -> DiagnosticFinishResult:
        async def run() -> DiagnosticResult:
            key = await _learner(info, learner_id)
            current = open_state(info.context, key, state)
            done = await _call(
                service.finish_diagnostic(info.context.store, key, current, save=save)
            )
            return DiagnosticResult(
                mastery=[
                    SkillProbability(skill_key=s, probability=p)
                    for s, p in sorted(done.mastery.items())
                ],
                mastered_keys=list(done.mastered),
                questions=done.questions,
                expected_accuracy=done.expected_accuracy,
                saved=save,
            )

        result: DiagnosticFinishResult = await guarded(run)
        return result
