"""Curriculum mutations: skills, prerequisites, items (designers and admins)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated, Any

import strawberry

from api import access
from api import validation as v
from api.context import Context, Info
from api.ids import to_global_id, to_key
from api.types.errors import (
    CycleError,
    DeletePayload,
    Error,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from api.types.inputs import (
    CreateItemInput,
    CreateSkillInput,
    PrerequisiteInput,
    SkillWeightInput,
    UpdateItemInput,
    UpdateSkillInput,
)
from api.types.item import Item
from api.types.mutation_base import absent, existing, guarded
from api.types.skill import Prerequisite, Skill
from graph import models as m


@strawberry.type
class SkillPayload:
    skill: Skill


@strawberry.type
class ItemPayload:
    item: Item


@strawberry.type
class PrerequisitePayload:
    edge: Prerequisite


@strawberry.type
class RemovePrerequisitePayload:
    source_id: strawberry.ID = strawberry.field(description="Global id of the source skill.")
    target_id: strawberry.ID = strawberry.field(description="Global id of the target skill.")
    source_key: str
    target_key: str


SkillResult = Annotated[
    SkillPayload | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("SkillResult"),
]
ItemResult = Annotated[
    ItemPayload | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("ItemResult"),
]
PrerequisiteResult = Annotated[
    PrerequisitePayload | CycleError | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("PrerequisiteResult"),
]
RemovePrerequisiteResult = Annotated[
    RemovePrerequisitePayload | ValidationError | ForbiddenError,
    strawberry.union("RemovePrerequisiteResult"),
]
DeleteResult = Annotated[
    DeletePayload | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("DeleteResult"),
]


async def curriculum_write(
    ctx: Context, action: str, write: Callable[[str], Awaitable[Any]]
) -> Any:
    """Check the role, run ``write(actor)`` guarded (expected failures become union members);
    after a successful edit, publish it and let the serving tracer rebuild its view."""
    denial = access.curriculum_denial(ctx, action)
    if denial is not None:
        return ForbiddenError(message=denial)
    principal = ctx.principal
    assert principal is not None
    result = await guarded(lambda: write(principal.sub))
    if not isinstance(result, Error):
        ctx.services.mastery.invalidate()
        ctx.services.recommender.invalidate()
        await ctx.services.changes.publish_new()
    return result


def _skill(
    key: str, name: str, description: str, topic: str, area: str, tags: list[str]
) -> m.Skill:
    return m.Skill(
        id=v.key("id", key),
        name=v.text("name", name, required=True, limit=500),
        description=v.text("description", description),
        topic=v.text("topic", topic, limit=200),
        area=v.text("area", area, limit=200),
        tags=tuple(v.text("tags", t, required=True, limit=100) for t in tags),
    )


def _weights(weights: list[SkillWeightInput]) -> tuple[m.SkillWeight, ...]:
    keys = v.unique("skills", [to_key(w.skill_id, "Skill") for w in weights])
    return tuple(
        m.SkillWeight(skill_id=k, weight=v.unit("skills.weight", w.weight, open_low=True))
        for k, w in zip(keys, weights, strict=True)
    )


def _item(item: m.Item) -> m.Item:
    v.key("id", item.id)
    v.text("title", item.title, required=True, limit=500)
    v.text("body", item.body)
    v.text("url", item.url, limit=2000)
    v.unit("difficulty", item.difficulty)
    v.positive("expectedSeconds", item.expected_seconds)
    v.text("prompt", item.prompt)
    v.text("explanation", item.explanation)
    for name in ("choices", "answers", "hints"):
        for entry in getattr(item, name):
            v.text(name, entry, required=True, limit=2000)
    return item


async def _update_item(info: Info, input: UpdateItemInput) -> ItemResult:
    async def write(actor: str) -> ItemPayload:
        old = await existing(info.context.store.get_items, "item", to_key(input.id, "Item"))
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("title", input.title),
                ("body", input.body),
                ("url", input.url),
                ("difficulty", input.difficulty),
                ("expected_seconds", input.expected_seconds),
                ("prompt", input.prompt),
                ("explanation", input.explanation),
            )
            if value is not None
        }
        for name in ("choices", "answers", "hints"):
            listed = getattr(input, name)
            if listed is not None:
                changes[name] = tuple(listed)
        if input.kind is not None:
            changes["kind"] = input.kind.to_domain()
        if input.skills is not None:
            changes["skills"] = _weights(input.skills)
        item = _item(replace(old, **changes))
        await info.context.store.upsert_items([item], actor=actor)
        return ItemPayload(item=Item.from_domain(item))

    result: ItemResult = await curriculum_write(info.context, "updateItem", write)
    return result


@strawberry.type
class CurriculumMutation:
    @strawberry.mutation(description="Add a skill (designer, admin).")
    async def create_skill(self, info: Info, input: CreateSkillInput) -> SkillResult:
        async def write(actor: str) -> SkillPayload:
            skill = _skill(
                input.id, input.name, input.description, input.topic, input.area, input.tags
            )
            await absent(
                info.context.store.get_skills,
                skill.id,
                f"skill {skill.id!r} exists; use updateSkill to change it",
            )
            await info.context.store.upsert_skills([skill], actor=actor)
            return SkillPayload(skill=Skill.from_domain(skill))

        result: SkillResult = await curriculum_write(info.context, "createSkill", write)
        return result

    @strawberry.mutation(description="Change a skill's fields (designer, admin).")
    async def update_skill(self, info: Info, input: UpdateSkillInput) -> SkillResult:
        async def write(actor: str) -> SkillPayload:
            old = await existing(info.context.store.get_skills, "skill", to_key(input.id, "Skill"))
            skill = _skill(
                old.id,
                old.name if input.name is None else input.name,
                old.description if input.description is None else input.description,
                old.topic if input.topic is None else input.topic,
                old.area if input.area is None else input.area,
                list(old.tags) if input.tags is None else input.tags,
            )
            await info.context.store.upsert_skills([skill], actor=actor)
            return SkillPayload(skill=Skill.from_domain(skill))

        result: SkillResult = await curriculum_write(info.context, "updateSkill", write)
        return result

    @strawberry.mutation(description="Delete a skill, its edges and Q-matrix entries.")
    async def delete_skill(self, info: Info, id: strawberry.ID) -> DeleteResult:
        async def write(actor: str) -> DeletePayload:
            old = await existing(info.context.store.get_skills, "skill", to_key(id, "Skill"))
            await info.context.store.remove_skills([old.id], actor=actor)
            return DeletePayload.of("Skill", old.id)

        result: DeleteResult = await curriculum_write(info.context, "deleteSkill", write)
        return result

    @strawberry.mutation(description="Add (or re-weight) a prerequisite edge; cycles refused.")
    async def add_prerequisite(self, info: Info, input: PrerequisiteInput) -> PrerequisiteResult:
        async def write(actor: str) -> PrerequisitePayload:
            edge = m.Prerequisite(
                source=to_key(input.source_id, "Skill"),
                target=to_key(input.target_id, "Skill"),
                strength=v.unit("strength", input.strength),
            )
            if edge.source == edge.target:
                raise v.ValidationError("targetId", "a skill cannot be its own prerequisite")
            await info.context.store.upsert_prerequisites([edge], actor=actor)
            return PrerequisitePayload(edge=Prerequisite.from_domain(edge))

        result: PrerequisiteResult = await curriculum_write(
            info.context, "addPrerequisite", write
        )
        return result

    @strawberry.mutation(description="Remove a prerequisite edge (absent edges are ignored).")
    async def remove_prerequisite(
        self, info: Info, source_id: strawberry.ID, target_id: strawberry.ID
    ) -> RemovePrerequisiteResult:
        async def write(actor: str) -> RemovePrerequisitePayload:
            source, target = to_key(source_id, "Skill"), to_key(target_id, "Skill")
            await info.context.store.remove_prerequisites([(source, target)], actor=actor)
            return RemovePrerequisitePayload(
                source_id=strawberry.ID(to_global_id("Skill", source)),
                target_id=strawberry.ID(to_global_id("Skill", target)),
                source_key=source,
                target_key=target,
            )

        result: RemovePrerequisiteResult = await curriculum_write(
            info.context, "removePrerequisite", write
        )
        return result

    @strawberry.mutation(description="Add an item with its skill weights (designer, admin).")
    async def create_item(self, info: Info, input: CreateItemInput) -> ItemResult:
        async def write(actor: str) -> ItemPayload:
            item = _item(
                m.Item(
                    id=input.id,
                    kind=input.kind.to_domain(),
                    title=input.title,
                    skills=_weights(input.skills),
                    body=input.body,
                    url=input.url,
                    difficulty=input.difficulty,
                    expected_seconds=input.expected_seconds,
                    prompt=input.prompt,
                    choices=tuple(input.choices),
                    answers=tuple(input.answers),
                    hints=tuple(input.hints),
                    explanation=input.explanation,
                )
            )
            await absent(
                info.context.store.get_items,
                item.id,
                f"item {item.id!r} exists; use updateItem to change it",
            )
            await info.context.store.upsert_items([item], actor=actor)
            return ItemPayload(item=Item.from_domain(item))

        result: ItemResult = await curriculum_write(info.context, "createItem", write)
        return result

    @strawberry.mutation(description="Change an item's fields or skill weights.")
    async def update_item(self, info: Info, input: UpdateItemInput) -> ItemResult:
        return await _update_item(info, input)

    @strawberry.mutation(description="Replace an item's row of the Q-matrix.")
    async def set_item_skills(
        self, info: Info, item_id: strawberry.ID, skills: list[SkillWeightInput]
    ) -> ItemResult:
        return await _update_item(info, UpdateItemInput(id=item_id, skills=skills))

    @strawberry.mutation(description="Delete an item (designer, admin).")
    async def delete_item(self, info: Info, id: strawberry.ID) -> DeleteResult:
        async def write(actor: str) -> DeletePayload:
            old = await existing(info.context.store.get_items, "item", to_key(id, "Item"))
            await info.context.store.remove_items([old.id], actor=actor)
            return DeletePayload.of("Item", old.id)

        result: DeleteResult = await curriculum_write(info.context, "deleteItem", write)
        return result
