"""Curriculum change-log entries."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import cast

import strawberry
from strawberry.scalars import JSON

from api import access
from api.context import Info
from graph import models as m


@strawberry.enum(description="What a curriculum edit did.")
class ChangeAction(Enum):
    UPSERT = strawberry.enum_value("upsert", description="Created or replaced.")
    REMOVE = strawberry.enum_value("remove", description="Deleted.")


@strawberry.enum(description="What a curriculum edit changed.")
class ChangeEntity(Enum):
    SKILL = "skill"
    ITEM = "item"
    PREREQUISITE = "prerequisite"


@strawberry.type(description="One curriculum edit: who did what, when.")
class CurriculumChange:
    domain: strawberry.Private[m.CurriculumChange]
    seq: int
    actor_id: strawberry.Private[str]
    at: datetime
    action: ChangeAction
    entity: ChangeEntity
    entity_key: str = strawberry.field(
        description="The key of what changed (a prerequisite's: `source->target`)."
    )
    entity_id: str = strawberry.field(
        deprecation_reason="a key, not a global id: use entityKey (ids are global ids, keys "
        "are keys; see the README)"
    )
    detail: JSON
    batch: int = strawberry.field(
        description="Seq of the first change of the same edit; `undoCurriculumChange(seq)` "
        "undoes the whole batch.")
    before: JSON | None = strawberry.field(
        description="The entity before the change (null: it did not exist, or the change was "
        "logged before the log kept states).")
    after: JSON | None = strawberry.field(description="The entity after (null: removed).")

    @classmethod
    def from_domain(cls, change: m.CurriculumChange) -> CurriculumChange:
        return cls(
            domain=change,
            seq=change.seq,
            actor_id=change.actor,
            at=change.at,
            action=ChangeAction(change.action),
            entity=ChangeEntity(change.entity),
            entity_key=change.entity_id,
            entity_id=change.entity_id,
            detail=cast(JSON, dict(change.detail)),
            batch=change.batch or change.seq,
            before=cast(JSON, change.before),
            after=cast(JSON, change.after),
        )

    @strawberry.field(description="Who made the edit: shown to designers and admins only.")
    def actor(self, info: Info) -> str | None:
        return None if access.curriculum_denial(info.context, "") else self.actor_id
