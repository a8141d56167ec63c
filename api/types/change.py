"""Curriculum change-log entries."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from api import access
from api.context import Info
from graph import models as m


@strawberry.type(description="One curriculum edit: who did what, when.")
class CurriculumChange:
    domain: strawberry.Private[m.CurriculumChange]
    seq: int
    actor_id: strawberry.Private[str]
    at: datetime
    action: str
    entity: str
    entity_id: str
    detail: JSON

    @classmethod
    def from_domain(cls, change: m.CurriculumChange) -> CurriculumChange:
        return cls(
            domain=change,
            seq=change.seq,
            actor_id=change.actor,
            at=change.at,
            action=change.action,
            entity=change.entity,
            entity_id=change.entity_id,
            detail=cast(JSON, dict(change.detail)),
        )

    @strawberry.field(description="Who made the edit: shown to designers and admins only.")
    def actor(self, info: Info) -> str | None:
        return None if access.curriculum_denial(info.context, "") else self.actor_id
