"""Mutations on learners, their attempts and goals, and groups."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import strawberry

from api import access
from api import validation as v
from api.context import Context, Info
from api.ids import to_key, to_keys
from api.pubsub import mastery_topic
from api.types.errors import (
    AttemptConflictError,
    DeletePayload,
    Error,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from api.types.group import Group
from api.types.inputs import AttemptInput, CreateLearnerInput, GroupInput, UpdateGroupInput
from api.types.item import Item
from api.types.learner import Attempt, Learner, Mastery
from api.types.mutation_base import Refusal, absent, allow, guarded
from graph import models as m
from graph.answers import check_answer

if TYPE_CHECKING:
    from api.types.recommend import Recommendation

log = logging.getLogger("learngraph.api")


@strawberry.type(
    description="The server's check of one response (`AttemptInput.response`): whether it was "
    "right, and now that the learner has answered, the answer key and the explanation."
)
class AnswerCheck:
    attempt_id: str
    correct: bool
    score: float = strawberry.field(description="The score stored for the attempt: 1 or 0.")
    response: str
    answers: list[str] = strawberry.field(description="The accepted answers.")
    explanation: str
    domain: strawberry.Private[m.Item]

    @strawberry.field(description="The item answered.")
    def item(self) -> Item:
        return Item.from_domain(self.domain)


@strawberry.type(description="What `recordAttempts` stored and the mastery it changed.")
class RecordAttemptsPayload:
    attempts: list[Attempt] = strawberry.field(description="Every attempt sent, as stored.")
    stored_ids: list[str] = strawberry.field(description="Attempt ids stored by this call.")
    duplicate_ids: list[str] = strawberry.field(
        description="Attempt ids already stored with the same content (a retry): stored once, "
        "and traced now only if the try that stored them failed before tracing them."
    )
    mastery: list[Mastery] = strawberry.field(
        description="Updated mastery of the skills the answers traced by this call touched."
    )
    checks: list[AnswerCheck] = strawberry.field(
        description="The server's check of each attempt sent with a `response`, in input order."
    )
    learner_keys: strawberry.Private[tuple[str, ...]] = ()

    @strawberry.field(
        description="What the batch's learner should do next (batches of one learner only; "
        "empty otherwise). Computed only when asked for."
    )
    async def recommendations(
        self, info: Info, first: int = 3
    ) -> list[Annotated[Recommendation, strawberry.lazy("api.types.recommend")]]:
        from api.types.recommend import recommendations

        if len(self.learner_keys) != 1:
            return []
        return await recommendations(info, self.learner_keys[0], first, None)


@strawberry.type(
    description="The attempts were stored, but updating mastery from them failed. Nothing is "
    "lost: send the same batch again (same attemptIds); it is not stored twice, and the "
    "retry traces exactly the answers not yet traced."
)
class TracingPendingError(Error):
    attempt_ids: list[str] = strawberry.field(
        description="Every attempt of the batch, all stored now: the batch to send again."
    )
    stored_ids: list[str] = strawberry.field(description="Attempt ids stored by this call.")

    @classmethod
    def of(
        cls, attempts: list[m.Attempt], stored: tuple[str, ...] | list[str], request_id: str
    ) -> TracingPendingError:
        ids = [a.attempt_id for a in attempts]
        return cls(
            message=f"{len(ids)} attempt(s) are stored, but updating mastery from them failed "
            f"(request id {request_id}); send the same batch again to finish: the retry "
            "stores nothing twice and traces each answer once",
            attempt_ids=ids,
            stored_ids=list(stored),
        )


@strawberry.type(description="A learner's mastery after new attempts (subscription event).")
class MasteryUpdate:
    learner_id: strawberry.ID
    mastery: list[Mastery]


@strawberry.type
class LearnerPayload:
    learner: Learner


@strawberry.type
class GroupPayload:
    group: Group


def notify_alerts(ctx: Context, attempts: Sequence[m.Attempt], stored: Sequence[str]) -> None:
    """Check, after the response, whether the stored answers raised alerts for teachers
    watching the learners' groups (``api.alert_feed``)."""
    from api.alert_feed import anyone_watching, publish_raised

    if not anyone_watching(ctx.services):
        return
    new = set(stored)
    fresh: dict[str, list[str]] = {}
    for a in attempts:
        if a.attempt_id in new:
            fresh.setdefault(a.learner_id, []).append(a.attempt_id)
    if fresh:
        ctx.services.analytics.spawn(publish_raised(ctx.services, fresh))


RecordAttemptsResult = Annotated[
    RecordAttemptsPayload
    | ValidationError
    | NotFoundError
    | ForbiddenError
    | AttemptConflictError
    | TracingPendingError,
    strawberry.union("RecordAttemptsResult"),
]
LearnerResult = Annotated[
    LearnerPayload | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("LearnerResult"),
]
GroupResult = Annotated[
    GroupPayload | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("GroupResult"),
]
GroupDeleteResult = Annotated[
    DeletePayload | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("GroupDeleteResult"),
]


async def check_responses(inputs: list[AttemptInput], ctx: Context) -> dict[int, AnswerCheck]:
    """The server's check of each input sent with a ``response`` (by position), reading the
    items answered in one store call. A response to an unknown item is a NotFoundError; to an
    item without an answer key, or not among its choices, a ValidationError naming it."""
    answered = [(i, a) for i, a in enumerate(inputs) if a.response is not None]
    if not answered:
        return {}
    keys = [to_key(a.item_id, "Item") for _, a in answered]
    unique = list(dict.fromkeys(keys))
    found = dict(zip(unique, await ctx.store.get_items(unique), strict=True))
    missing = [k for k in unique if found[k] is None]
    if missing:
        raise Refusal(NotFoundError.of("item", missing))
    checks: dict[int, AnswerCheck] = {}
    for (i, a), key in zip(answered, keys, strict=True):
        item = found[key]
        assert item is not None and a.response is not None
        field = f"input[{i}].response"
        response = v.text(field, a.response, required=True, limit=2000)
        correct = check_answer(item, response, field=field)
        checks[i] = AnswerCheck(
            attempt_id=a.attempt_id,
            correct=correct,
            score=1.0 if correct else 0.0,
            response=response,
            answers=list(item.answers),
            explanation=item.explanation,
            domain=item,
        )
    return checks


def _score(where: str, a: AttemptInput, check: AnswerCheck | None) -> float:
    if a.score is not None and a.response is not None:
        raise v.ValidationError(
            f"{where}.response", "is sent with a score; give the score or the learner's "
            "response (which the server scores), not both"
        )
    if check is not None:
        return check.score
    if a.score is None:
        raise v.ValidationError(
            f"{where}.score", "is missing; give a score in [0, 1] or the learner's response"
        )
    return v.unit(f"{where}.score", a.score)


def to_attempts(
    inputs: list[AttemptInput], ctx: Context, checks: dict[int, AnswerCheck] | None = None
) -> tuple[list[m.Attempt], frozenset[str]]:
    """Validate and convert a batch; a repeated attempt id must repeat the same content.
    ``checks``: the server's checks of the responses (:func:`check_responses`), by position.

    Returns the attempts and the ids of those sent without a timestamp, which get the
    server's now: the store compares a retry of those on the client's fields only, so the
    same untimed answer sent again is a duplicate rather than a conflict."""
    if not inputs:
        raise v.ValidationError("input", "is empty; send at least one attempt")
    if len(inputs) > ctx.limits.max_batch:
        raise v.ValidationError(
            "input", f"has {len(inputs)} attempts; send at most {ctx.limits.max_batch} per call"
        )
    now = m.utcnow()
    out: dict[str, m.Attempt] = {}
    untimed: set[str] = set()
    for i, a in enumerate(inputs):
        where = f"input[{i}]"
        attempt = m.Attempt(
            attempt_id=v.key(f"{where}.attemptId", a.attempt_id),
            learner_id=to_key(a.learner_id, "Learner"),
            item_id=to_key(a.item_id, "Item"),
            score=_score(where, a, (checks or {}).get(i)),
            timestamp=v.timestamp(f"{where}.timestamp", a.timestamp, now),
            response_time_ms=(
                None
                if a.response_time_ms is None
                else v.non_negative(f"{where}.responseTimeMs", a.response_time_ms)
            ),
            hints_used=v.non_negative(f"{where}.hintsUsed", a.hints_used),
        )
        aid = attempt.attempt_id
        seen = out.get(aid)
        if seen is None:
            out[aid] = attempt
            if a.timestamp is None:
                untimed.add(aid)
        elif seen != attempt:
            either_untimed = aid in untimed or a.timestamp is None
            if not (
                either_untimed and replace(seen, timestamp=now) == replace(attempt, timestamp=now)
            ):
                raise v.ValidationError(
                    f"{where}.attemptId",
                    f"{aid!r} appears twice with different content; give each answer its own id",
                )
            if a.timestamp is not None:  # the client's own time wins over the filled-in one
                out[aid] = attempt
                untimed.discard(aid)
    return list(out.values()), frozenset(untimed)


def _teacher_ids(ids: list[strawberry.ID]) -> tuple[str, ...]:
    keys = [v.key("teacherIds", k) for k in to_keys(list(ids), "User")]
    return tuple(v.unique("teacherIds", keys))


def _learner_ids(ids: list[strawberry.ID]) -> tuple[str, ...]:
    return tuple(v.unique("learnerIds", to_keys(list(ids), "Learner")))


async def _group(ctx: Context, key: str) -> m.Group:
    """The stored group ``key`` to change; an unknown one is NotFoundError, or ForbiddenError
    for a caller without a token (as a known one is then)."""
    (old,) = await ctx.store.get_groups([key])
    if old is None:
        if ctx.principal is None:
            raise Refusal(ForbiddenError(message="managing groups needs a token"))
        raise Refusal(NotFoundError.of("group", [key]))
    return old


@strawberry.type
class PeopleMutation:
    @strawberry.mutation(
        description="Record answers (batch; idempotent on attemptId) and update mastery."
    )
    async def record_attempts(self, info: Info, input: list[AttemptInput]) -> RecordAttemptsResult:
        ctx = info.context
        if ctx.principal is None:
            return ForbiddenError(message="recording attempts needs a token; none was sent")

        async def write() -> Error | RecordAttemptsPayload:
            checks = await check_responses(input, ctx)
            attempts, untimed = to_attempts(input, ctx, checks)
            for learner_id in sorted({a.learner_id for a in attempts}):
                allow(await access.learner_denial(ctx, learner_id, write=True))
            result = await ctx.store.record_attempts(attempts, untimed=untimed)
            if result.timestamps:  # retried untimed answers: as the first try stored them
                attempts = [
                    replace(a, timestamp=result.timestamps.get(a.attempt_id, a.timestamp))
                    for a in attempts
                ]
            try:
                # duplicates go in too: a retry completes tracing an earlier try left undone
                changed = await ctx.services.mastery.apply(attempts, frozenset(result.stored))
            except Exception:  # the attempts are stored: say so rather than "internal error"
                log.exception("request %s: tracing stored attempts failed", ctx.request_id)
                return TracingPendingError.of(attempts, result.stored, ctx.request_id)
            mastery: list[Mastery] = []
            for learner_id, rows in changed.items():
                update = [Mastery.from_domain(r) for r in rows]
                mastery.extend(update)
                await ctx.services.pubsub.publish(mastery_topic(learner_id), rows)
            notify_alerts(ctx, attempts, result.stored)
            return RecordAttemptsPayload(
                attempts=[Attempt.from_domain(a) for a in attempts],
                stored_ids=list(result.stored),
                duplicate_ids=list(result.duplicates),
                mastery=mastery,
                checks=list({c.attempt_id: c for c in checks.values()}.values()),
                learner_keys=tuple(sorted({a.learner_id for a in attempts})),
            )

        payload: RecordAttemptsResult = await guarded(write)
        return payload

    @strawberry.mutation(description="Set a learner's goal skills (the learner or an admin).")
    async def set_learner_goals(
        self, info: Info, learner_id: strawberry.ID, skill_ids: list[strawberry.ID]
    ) -> LearnerResult:
        ctx = info.context

        async def write() -> LearnerPayload:
            key = to_key(learner_id, "Learner")
            allow(await access.learner_denial(ctx, key, write=True))
            goals = tuple(v.unique("skillIds", to_keys(list(skill_ids), "Skill")))
            # one partial update: a concurrent change of another field (e.g. the target
            # retention) is kept, which reading the learner and upserting it whole would lose
            learner = await ctx.store.update_learner(key, goals=goals)
            return LearnerPayload(learner=Learner.from_domain(learner))

        result: LearnerResult = await guarded(write)
        return result

    @strawberry.mutation(
        description="Set the recall probability a learner's spaced review aims for, in "
        "[0.7, 0.97] (null: back to the default 0.9). Lower means fewer reviews and more "
        "forgetting; compare with `reviewForecast`. The learner or an admin."
    )
    async def set_learner_target_retention(
        self, info: Info, learner_id: strawberry.ID, target_retention: float | None
    ) -> LearnerResult:
        ctx = info.context

        async def write() -> Error | LearnerPayload:
            key = to_key(learner_id, "Learner")
            allow(await access.learner_denial(ctx, key, write=True))
            why = None if target_retention is None else m.retention_problem(target_retention)
            if why is not None:
                return ValidationError(
                    field="targetRetention",
                    message=f"{target_retention!r} {why}, or null for the default",
                )
            learner = await ctx.store.update_learner(key, target_retention=target_retention)
            return LearnerPayload(learner=Learner.from_domain(learner))

        result: LearnerResult = await guarded(write)
        return result

    @strawberry.mutation(description="Add a learner (admin).")
    async def create_learner(self, info: Info, input: CreateLearnerInput) -> LearnerResult:
        ctx = info.context

        async def write() -> LearnerPayload:
            allow(access.admin_denial(ctx, "createLearner"))
            learner = m.Learner(
                id=v.key("id", input.id),
                display_name=v.text("displayName", input.display_name, required=True, limit=200),
                goals=tuple(v.unique("goals", to_keys(list(input.goals), "Skill"))),
            )
            await absent(ctx.store.get_learners, learner.id, f"learner {learner.id!r} exists")
            await ctx.store.upsert_learners([learner])
            return LearnerPayload(learner=Learner.from_domain(learner))

        result: LearnerResult = await guarded(write)
        return result

    @strawberry.mutation(
        description="Create a group with its roster (admin: admins enrol learners and teachers)."
    )
    async def create_group(self, info: Info, input: GroupInput) -> GroupResult:
        ctx = info.context

        async def write() -> GroupPayload:
            group = m.Group(
                id=v.key("id", input.id),
                name=v.text("name", input.name, required=True, limit=200),
                teacher_ids=_teacher_ids(input.teacher_ids),
                learner_ids=_learner_ids(input.learner_ids),
            )
            allow(access.group_write_denial(ctx, None, group))
            await absent(ctx.store.get_groups, group.id, f"group {group.id!r} exists")
            await ctx.store.upsert_groups([group])
            return GroupPayload(group=Group.from_domain(group))

        result: GroupResult = await guarded(write)
        return result

    @strawberry.mutation(
        description="Rename a group (admin, or one of its teachers) or change its learners "
        "or teachers (admin)."
    )
    async def update_group(self, info: Info, input: UpdateGroupInput) -> GroupResult:
        ctx = info.context

        async def write() -> GroupPayload:
            key = to_key(input.id, "Group")
            old = await _group(ctx, key)
            teachers = (
                old.teacher_ids if input.teacher_ids is None else _teacher_ids(input.teacher_ids)
            )
            group = m.Group(
                id=key,
                name=old.name if input.name is None else v.text("name", input.name, required=True),
                teacher_ids=teachers,
                learner_ids=(
                    old.learner_ids
                    if input.learner_ids is None
                    else _learner_ids(input.learner_ids)
                ),
            )
            allow(access.group_write_denial(ctx, old, group))
            if set(group.learner_ids) == set(old.learner_ids) and set(group.teacher_ids) == set(
                old.teacher_ids
            ):
                # a rename only: a roster change made since ``old`` was read stays
                renamed = await ctx.store.rename_group(key, group.name)
                return GroupPayload(group=Group.from_domain(renamed))
            await ctx.store.upsert_groups([group])
            return GroupPayload(group=Group.from_domain(group))

        result: GroupResult = await guarded(write)
        return result

    @strawberry.mutation(description="Delete a group (admin).")
    async def delete_group(self, info: Info, id: strawberry.ID) -> GroupDeleteResult:
        ctx = info.context

        async def write() -> DeletePayload:
            key = to_key(id, "Group")
            old = await _group(ctx, key)
            allow(access.group_write_denial(ctx, old, None))
            await ctx.store.remove_groups([key])
            return DeletePayload.of("Group", key)

        result: GroupDeleteResult = await guarded(write)
        return result
