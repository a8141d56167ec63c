"""Skill and prerequisite types."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from api import access
from api.context import Info
from api.errors import ForbiddenError
from api.ids import to_global_id, to_key
from api.types.node import Node
from graph import models as m

if TYPE_CHECKING:
    from api.types.item import Item
    from api.types.learner import Mastery


@strawberry.type(description="A unit of knowledge; a node of the prerequisite graph.")
class Skill(Node):
    domain: strawberry.Private[m.Skill]
    key: str = strawberry.field(description="The skill's id in the curriculum (store key).")
    name: str
    description: str
    topic: str
    area: str
    tags: list[str]

    @classmethod
    def from_domain(cls, skill: m.Skill) -> Skill:
        return cls(
            domain=skill,
            id=strawberry.ID(to_global_id("Skill", skill.id)),
            key=skill.id,
            name=skill.name,
            description=skill.description,
            topic=skill.topic,
            area=skill.area,
            tags=list(skill.tags),
        )

    @strawberry.field(description="Skills to learn before this one (direct prerequisites).")
    async def prerequisites(self, info: Info) -> list[Skill]:
        edges = await info.context.loaders.prerequisites.load(self.key)
        return await skills_by_key(info, [e.source for e in edges])

    @strawberry.field(description="Skills that directly require this one.")
    async def dependents(self, info: Info) -> list[Skill]:
        edges = await info.context.loaders.dependents.load(self.key)
        return await skills_by_key(info, [e.target for e in edges])

    @strawberry.field(description="Incoming prerequisite edges, with their strength.")
    async def prerequisite_edges(self, info: Info) -> list[Prerequisite]:
        edges = await info.context.loaders.prerequisites.load(self.key)
        return [Prerequisite.from_domain(e) for e in edges]

    @strawberry.field(description="Content that assesses or teaches this skill.")
    async def items(
        self, info: Info
    ) -> list[Annotated[Item, strawberry.lazy("api.types.item")]]:
        from api.types.item import Item

        items = await info.context.loaders.items_of_skill.load(self.key)
        return [Item.from_domain(i) for i in items]

    @strawberry.field(description="A learner's mastery of this skill (null: no estimate yet).")
    async def mastery(
        self, info: Info, learner_id: strawberry.ID
    ) -> Annotated[Mastery, strawberry.lazy("api.types.learner")] | None:
        from api.types.learner import Mastery

        key = to_key(learner_id, "Learner")
        denial = await access.learner_denial(info.context, key)
        if denial is not None:
            raise ForbiddenError(denial)
        for row in await info.context.loaders.mastery.load(key):
            if row.skill_id == self.key:
                return Mastery.from_domain(row)
        return None


@strawberry.type(description="Edge source -> target: learn `source` before `target`.")
class Prerequisite:
    domain: strawberry.Private[m.Prerequisite]
    source_id: strawberry.ID = strawberry.field(description="Global id of the source skill.")
    target_id: strawberry.ID = strawberry.field(description="Global id of the target skill.")
    source_key: str = strawberry.field(description="Key of the source skill.")
    target_key: str = strawberry.field(description="Key of the target skill.")
    strength: float = strawberry.field(description="How strictly target needs source, in [0, 1].")

    @classmethod
    def from_domain(cls, edge: m.Prerequisite) -> Prerequisite:
        return cls(
            domain=edge,
            source_id=strawberry.ID(to_global_id("Skill", edge.source)),
            target_id=strawberry.ID(to_global_id("Skill", edge.target)),
            source_key=edge.source,
            target_key=edge.target,
            strength=edge.strength,
        )

    @strawberry.field
    async def source(self, info: Info) -> Skill | None:
        found = await info.context.loaders.skill.load(self.domain.source)
        return Skill.from_domain(found) if found else None

    @strawberry.field
    async def target(self, info: Info) -> Skill | None:
        found = await info.context.loaders.skill.load(self.domain.target)
        return Skill.from_domain(found) if found else None


@strawberry.type(description="Skills and the prerequisite edges among them, for drawing.")
class SkillGraph:
    nodes: list[Skill]
    edges: list[Prerequisite]


@strawberry.enum(description="Which way `skillGraph` walks from its roots.")
class GraphDirection(Enum):
    PREREQUISITES = "prerequisites"
    DEPENDENTS = "dependents"
    BOTH = "both"


async def skills_by_key(info: Info, keys: list[str]) -> list[Skill]:
    found = await info.context.loaders.skill.load_many(keys)
    return [Skill.from_domain(s) for s in found if s is not None]
