"""Saved knowledge-tracing models (``tracing.registry``)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from api import access
from api.context import Info
from api.errors import ForbiddenError


@strawberry.type(description="A trained tracer in the model registry.")
class TracerModel:
    key: str = strawberry.field(description="`name-vN`: the model version stored with mastery.")
    name: str
    version: int
    model: str = strawberry.field(description="bkt, elo, dkt or gnn.")
    created_at: str
    active: bool = strawberry.field(description="Whether recordAttempts serves this model.")
    metrics: JSON


def _records() -> tuple[list[Any], str | None]:
    from tracing.registry import Registry

    registry = Registry.from_env()
    active = registry.active()
    return list(registry.list()), (active.key if active else None)


async def tracer_models(info: Info) -> list[TracerModel]:
    """The registry's models, oldest first (designers and admins)."""
    denial = access.curriculum_denial(info.context, "listing tracer models")
    if denial is not None:
        raise ForbiddenError(denial)
    records, active = await asyncio.to_thread(_records)
    return [
        TracerModel(
            key=r.key,
            name=r.name,
            version=r.version,
            model=r.model,
            created_at=r.created_at,
            active=r.key == active,
            metrics=cast(JSON, dict(r.metrics)),
        )
        for r in records
    ]
