"""Error members of mutation result unions: expected failures are part of the schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from api.context import Info
from api.ids import to_global_id
from api.types.skill import Skill, skills_by_key
from graph import store as gs

if TYPE_CHECKING:
    from api.types.curriculum_edit import CurriculumEdit


@strawberry.interface(description="An expected failure of a mutation.")
class Error:
    message: str


@strawberry.type(description="Ids named by the mutation do not exist.")
class NotFoundError(Error):
    entity: str
    ids: list[str]

    @classmethod
    def from_store(cls, exc: gs.NotFoundError) -> NotFoundError:
        return cls(message=str(exc), entity=exc.entity, ids=list(exc.ids))

    @classmethod
    def of(cls, entity: str, ids: list[str]) -> NotFoundError:
        return cls.from_store(gs.NotFoundError(entity, ids))


@strawberry.type(description="The edit would create a prerequisite cycle, spelled out here.")
class CycleError(Error):
    cycle_keys: list[str] = strawberry.field(
        description="Skill keys of the cycle, the first repeated last."
    )

    @classmethod
    def from_store(cls, exc: gs.CycleError) -> CycleError:
        return cls(message=str(exc), cycle_keys=list(exc.cycle))

    @strawberry.field(description="The skills of the cycle, in order, the first repeated last.")
    async def cycle(self, info: Info) -> list[Skill]:
        found = {s.key: s for s in await skills_by_key(info, sorted(set(self.cycle_keys)))}
        return [found[k] for k in self.cycle_keys if k in found]


@strawberry.type(description="An input value is out of range or malformed.")
class ValidationError(Error):
    field: str

    @classmethod
    def from_store(cls, exc: gs.ValidationError) -> ValidationError:
        return cls(message=exc.message, field=exc.field)


@strawberry.type(description="The caller may not do this.")
class ForbiddenError(Error):
    pass


@strawberry.type(description="Attempt ids already stored with different content.")
class AttemptConflictError(Error):
    attempt_ids: list[str]

    @classmethod
    def from_store(cls, exc: gs.AttemptConflictError) -> AttemptConflictError:
        return cls(message=str(exc), attempt_ids=list(exc.attempt_ids))


@strawberry.type(description="What a delete removed.")
class DeletePayload:
    deleted_id: strawberry.ID
    key: str
    edit: Annotated[CurriculumEdit, strawberry.lazy("api.types.curriculum_edit")] | None = (
        strawberry.field(
            default=None, description="For a skill or item: what the deletion dropped with "
            "it and its change-log batch (undo); null for other deletes."))

    @classmethod
    def of(cls, type_name: str, key: str, edit: CurriculumEdit | None = None) -> DeletePayload:
        return cls(deleted_id=strawberry.ID(to_global_id(type_name, key)), key=key, edit=edit)


def store_error(exc: gs.GraphStoreError) -> Error:
    """The union member for an expected store error; others are re-raised by the caller."""
    if isinstance(exc, gs.CycleError):
        return CycleError.from_store(exc)
    if isinstance(exc, gs.NotFoundError):
        return NotFoundError.from_store(exc)
    if isinstance(exc, gs.ValidationError):
        return ValidationError.from_store(exc)
    if isinstance(exc, gs.AttemptConflictError):
        return AttemptConflictError.from_store(exc)
    raise exc
