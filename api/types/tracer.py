"""Saved knowledge-tracing models (``tracing.registry``): listing them, switching the served one."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from api import access
from api.context import Info
from api.errors import ForbiddenError as ForbiddenGraphQLError
from api.types.errors import ForbiddenError, NotFoundError, ValidationError
from tracing.base import TracingError
from tracing.switch import DEFAULT_KEY, ModelCoverageError, UnknownModelError


@strawberry.type(description="A trained tracer in the model registry.")
class TracerModel:
    key: str = strawberry.field(description="`name-vN`: the model version stored with mastery.")
    name: str
    version: int
    model: str = strawberry.field(description="bkt, elo, dkt or gnn.")
    created_at: str
    active: bool = strawberry.field(description="Whether recordAttempts serves this model.")
    metrics: JSON

    @classmethod
    def from_record(cls, record: Any, active: bool) -> TracerModel:
        """From a ``tracing.registry.ModelRecord``."""
        return cls(
            key=record.key,
            name=record.name,
            version=record.version,
            model=record.model,
            created_at=record.created_at,
            active=active,
            metrics=cast(JSON, dict(record.metrics)),
        )


async def tracer_models(info: Info) -> list[TracerModel]:
    """The registry's models, oldest first (designers and admins)."""
    denial = access.curriculum_denial(info.context, "listing tracer models")
    if denial is not None:
        raise ForbiddenGraphQLError(denial)
    registry = info.context.services.mastery.registry()

    def read() -> tuple[list[Any], str | None]:
        return list(registry.list()), registry.active_key()

    records, active = await asyncio.to_thread(read)
    return [TracerModel.from_record(r, r.key == active) for r in records]


@strawberry.type(description="What `activateTracerModel` did.")
class ActivateTracerModelPayload:
    model_version: str = strawberry.field(
        description="The model version now served: a registry key, or `bkt-default` (BKT with "
        "population defaults, no registered model active)."
    )
    model: TracerModel | None = strawberry.field(
        description="The model now served; null for `bkt-default`."
    )
    previous_version: str = strawberry.field(description="The model version served before.")
    changed: bool = strawberry.field(
        description="False when it was already active (a retry): nothing was rebuilt."
    )
    rebuilt_learners: int = strawberry.field(
        description="Learners whose state and mastery were rebuilt under the new version."
    )
    replayed_attempts: int = strawberry.field(
        description="Answers replayed into those states."
    )
    rebuild_passes: int = strawberry.field(
        description="Rebuilds run: another follows while answers arrive during one (at most 3)."
    )
    missed_attempts: int = strawberry.field(
        description="Answers recorded during the last rebuild, so missing from the new states "
        "until `learngraph trace rebuild` (0 unless the store kept answering throughout)."
    )


ActivateTracerModelResult = Annotated[
    ActivateTracerModelPayload | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("ActivateTracerModelResult"),
]


@strawberry.type
class TracerMutation:
    @strawberry.mutation(
        description="Serve another registered tracer model, or `bkt-default` (admin). Every "
        "learner's state and mastery is first rebuilt under it, so no learner falls back to "
        "the prior; on failure the old model stays active. Idempotent."
    )
    async def activate_tracer_model(self, info: Info, key: str) -> ActivateTracerModelResult:
        denial = access.admin_denial(info.context, "activateTracerModel")
        if denial is not None:
            return ForbiddenError(message=denial)
        try:
            done = await info.context.services.mastery.activate(key)
        except UnknownModelError as exc:
            return NotFoundError(message=str(exc), entity="tracerModel", ids=[key])
        except ModelCoverageError as exc:
            return ValidationError(field="key", message=str(exc))
        except TracingError as exc:  # e.g. an unreadable model file
            return ValidationError(
                field="key", message=f"{exc}; the served model is unchanged"
            )
        report = done.report
        return ActivateTracerModelPayload(
            model_version=done.key,
            model=None if done.record is None else TracerModel.from_record(done.record, True),
            previous_version=done.previous,
            changed=done.changed,
            rebuilt_learners=0 if report is None else report.learners,
            replayed_attempts=0 if report is None else report.attempts,
            rebuild_passes=done.passes,
            missed_attempts=done.missed,
        )


__all__ = ["DEFAULT_KEY", "TracerModel", "TracerMutation", "tracer_models"]
