"""Saved knowledge-tracing models (``tracing.registry``): listing them, switching the served one."""

from __future__ import annotations

import asyncio
import enum
from datetime import datetime
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
    """The registry's models, oldest first (designers and admins); ``active`` marks this
    store's serving model."""
    denial = access.curriculum_denial(info.context, "listing tracer models")
    if denial is not None:
        raise ForbiddenGraphQLError(denial)
    registry = info.context.services.mastery.registry()
    records = await asyncio.to_thread(registry.list)
    active = await info.context.store.serving_model()
    return [TracerModel.from_record(r, r.key == active) for r in records]


@strawberry.enum(description="Where a switch of the serving tracer model is.")
class TracerActivationState(enum.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.type(
    description="A switch of this store's serving tracer model, a background job: every "
    "learner's state is rebuilt under the new model, then it serves. Poll it with "
    "`tracerActivation(id)`."
)
class TracerActivation:
    id: strawberry.ID
    model_version: str = strawberry.field(
        description="The model version switched to: a registry key, or `bkt-default`."
    )
    previous_version: str = strawberry.field(
        description="The model version served when the switch started."
    )
    state: TracerActivationState
    progress: float = strawberry.field(description="0 to 1, as the rebuild goes.")
    message: str = strawberry.field(description="What it is doing, or did.")
    error: str | None = strawberry.field(
        description="Why it failed (the served model is then unchanged); null otherwise."
    )
    changed: bool = strawberry.field(
        description="False when the model was served already: nothing was rebuilt."
    )
    started_at: datetime
    updated_at: datetime = strawberry.field(
        description="When the record last moved (a running job whose server stopped stays "
        "running with an old updatedAt; start the switch again)."
    )
    finished_at: datetime | None
    rebuilt_learners: int = strawberry.field(
        description="Learners whose state and mastery were rebuilt under the new version."
    )
    replayed_attempts: int = strawberry.field(description="Answers replayed into those states.")
    rebuild_passes: int = strawberry.field(
        description="Rebuilds run: another follows while answers arrive during one (at most 3)."
    )
    missed_attempts: int = strawberry.field(
        description="Answers recorded during the last rebuild, so missing from the new states "
        "until `learngraph trace rebuild` (0 unless the store kept answering throughout)."
    )

    @classmethod
    def from_domain(cls, job: Any) -> TracerActivation:
        """From a ``graph.models.TracerActivation``."""
        return cls(
            id=strawberry.ID(job.id), model_version=job.key, previous_version=job.previous,
            state=TracerActivationState(job.state.value), progress=job.progress,
            message=job.message, error=job.error, changed=job.changed,
            started_at=job.started_at, updated_at=job.updated_at, finished_at=job.finished_at,
            rebuilt_learners=job.learners, replayed_attempts=job.attempts,
            rebuild_passes=job.passes, missed_attempts=job.missed,
        )


async def tracer_activation(info: Info, id: strawberry.ID) -> TracerActivation | None:
    """A switch job of this store's serving model by id (designers and admins); null when
    there is none."""
    denial = access.curriculum_denial(info.context, "reading tracer activations")
    if denial is not None:
        raise ForbiddenGraphQLError(denial)
    (job,) = await info.context.store.get_tracer_activations([str(id)])
    return None if job is None else TracerActivation.from_domain(job)


ActivateTracerModelResult = Annotated[
    TracerActivation | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("ActivateTracerModelResult"),
]


@strawberry.type
class TracerMutation:
    @strawberry.mutation(
        description="Switch this store's serving tracer model to a registered one, or "
        "`bkt-default` (admin). Answers at once with a running job (an unknown key or a model "
        "that cannot serve the curriculum is refused first): every learner's state and mastery "
        "is rebuilt under the model, then it serves; on failure the old model stays. Other "
        "stores served from the same registry keep their own model. Idempotent: the same key "
        "again returns the running job, or a succeeded one with `changed: false`."
    )
    async def activate_tracer_model(self, info: Info, key: str) -> ActivateTracerModelResult:
        denial = access.admin_denial(info.context, "activateTracerModel")
        if denial is not None:
            return ForbiddenError(message=denial)
        try:
            job = await info.context.services.mastery.activate(key)
        except UnknownModelError as exc:
            return NotFoundError(message=str(exc), entity="tracerModel", ids=[key])
        except ModelCoverageError as exc:
            return ValidationError(field="key", message=str(exc))
        except TracingError as exc:  # a switch running, an unreadable model file
            return ValidationError(
                field="key", message=f"{exc}; the served model is unchanged"
            )
        return TracerActivation.from_domain(job)


__all__ = ["DEFAULT_KEY", "TracerActivation", "TracerModel", "TracerMutation",
           "tracer_activation", "tracer_models"]
