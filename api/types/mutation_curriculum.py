"""Curriculum mutations: skills, prerequisites, items (designers and admins).

Every one takes ``dryRun``: the whole edit is planned and validated (``graph.curriculum_edit``)
and its impact on learners computed, and nothing is written. Applied, it is one transaction
whose changes go to the change log with their before and after (``edit.batch`` undoes it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry

from api import validation as v
from api.context import Info
from api.ids import to_global_id, to_key
from api.types.curriculum_edit import CurriculumEdit, run_curriculum_edits
from api.types.errors import (
    CycleError,
    DeletePayload,
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
from api.types.skill import Prerequisite, Skill
from graph import curriculum_edit as ce
from graph import models as m

DRY_RUN = strawberry.argument(
    description="Plan and validate the edit and compute its impact, but write nothing.")


@strawberry.type
class SkillPayload:
    skill: Skill
    edit: CurriculumEdit


@strawberry.type
class ItemPayload:
    item: Item
    edit: CurriculumEdit


@strawberry.type
class PrerequisitePayload:
    edge: Prerequisite
    edit: CurriculumEdit


@strawberry.type
class RemovePrerequisitePayload:
    source_id: strawberry.ID = strawberry.field(description="Global id of the source skill.")
    target_id: strawberry.ID = strawberry.field(description="Global id of the target skill.")
    source_key: str
    target_key: str
    edit: CurriculumEdit


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


# -- inputs -> edits (checked here with the API's limits; the plan adds the stores' rules) ---


def skill_of(input: CreateSkillInput) -> m.Skill:
    return m.Skill(
        id=v.key("id", input.id),
        name=v.text("name", input.name, required=True, limit=500),
        description=v.text("description", input.description),
        topic=v.text("topic", input.topic, limit=200),
        area=v.text("area", input.area, limit=200),
        tags=tuple(v.text("tags", t, required=True, limit=100) for t in input.tags),
    )


def skill_patch(input: UpdateSkillInput) -> ce.PatchSkill:
    fields: dict[str, Any] = {}
    if input.name is not None:
        fields["name"] = v.text("name", input.name, required=True, limit=500)
    if input.description is not None:
        fields["description"] = v.text("description", input.description)
    for name in ("topic", "area"):
        value = getattr(input, name)
        if value is not None:
            fields[name] = v.text(name, value, limit=200)
    if input.tags is not None:
        fields["tags"] = tuple(v.text("tags", t, required=True, limit=100) for t in input.tags)
    return ce.PatchSkill(to_key(input.id, "Skill"), fields)


def weights(skills: list[SkillWeightInput]) -> tuple[m.SkillWeight, ...]:
    keys = v.unique("skills", [to_key(w.skill_id, "Skill") for w in skills])
    return tuple(
        m.SkillWeight(skill_id=k, weight=v.unit("skills.weight", w.weight, open_low=True))
        for k, w in zip(keys, skills, strict=True)
    )


def _item_fields(fields: dict[str, Any]) -> dict[str, Any]:
    checks: dict[str, Callable[[Any], Any]] = {
        "title": lambda x: v.text("title", x, required=True, limit=500),
        "body": lambda x: v.text("body", x),
        "url": lambda x: v.text("url", x, limit=2000),
        "difficulty": lambda x: v.unit("difficulty", x),
        "expected_seconds": lambda x: v.positive("expectedSeconds", x),
        "prompt": lambda x: v.text("prompt", x),
        "explanation": lambda x: v.text("explanation", x),
    }
    for name in ("choices", "answers", "hints"):
        checks[name] = lambda xs, name=name: tuple(
            v.text(name, x, required=True, limit=2000) for x in xs)
    return {k: checks[k](x) if k in checks else x for k, x in fields.items()}


def item_of(input: CreateItemInput) -> m.Item:
    fields = _item_fields({"title": input.title, "body": input.body, "url": input.url,
                           "difficulty": input.difficulty,
                           "expected_seconds": input.expected_seconds,
                           "prompt": input.prompt, "choices": input.choices,
                           "answers": input.answers, "hints": input.hints,
                           "explanation": input.explanation})
    return m.Item(id=v.key("id", input.id), kind=input.kind.to_domain(),
                  skills=weights(input.skills), **fields)


def item_patch(input: UpdateItemInput) -> ce.PatchItem:
    fields: dict[str, Any] = {
        name: value
        for name, value in (
            ("title", input.title),
            ("body", input.body),
            ("url", input.url),
            ("difficulty", input.difficulty),
            ("expected_seconds", input.expected_seconds),
            ("prompt", input.prompt),
            ("explanation", input.explanation),
            ("choices", input.choices),
            ("answers", input.answers),
            ("hints", input.hints),
        )
        if value is not None
    }
    fields = _item_fields(fields)
    if input.kind is not None:
        fields["kind"] = input.kind.to_domain()
    if input.skills is not None:
        fields["skills"] = weights(input.skills)
    return ce.PatchItem(to_key(input.id, "Item"), fields)


def edge_of(input: PrerequisiteInput) -> m.Prerequisite:
    edge = m.Prerequisite(
        source=to_key(input.source_id, "Skill"),
        target=to_key(input.target_id, "Skill"),
        strength=v.unit("strength", input.strength),
    )
    if edge.source == edge.target:
        raise v.ValidationError("targetId", "a skill cannot be its own prerequisite")
    return edge


# -- payloads from the plan -------------------------------------------------------------------


async def final_skill(info: Info, edit: CurriculumEdit, key: str) -> m.Skill:
    """The skill as the edit leaves it (read from the store when the edit left it alone)."""
    for s in edit.plan.diff.skills:
        if s.id == key:
            return s
    (found,) = await info.context.store.get_skills([key])
    assert found is not None  # the plan checked that it exists
    return found


async def final_item(info: Info, edit: CurriculumEdit, key: str) -> m.Item:
    for i in edit.plan.diff.items:
        if i.id == key:
            return i
    (found,) = await info.context.store.get_items([key])
    assert found is not None
    return found


async def _item_result(info: Info, action: str, make: Any, dry_run: bool) -> ItemResult:
    keys: list[str] = []

    async def edits() -> list[ce.Edit]:
        edit = make()
        keys.append(edit.item.id if isinstance(edit, ce.PutItem) else edit.id)
        return [edit]

    done = await run_curriculum_edits(info, action, edits, dry_run=dry_run)
    if not isinstance(done, CurriculumEdit):
        result: ItemResult = done
        return result
    return ItemPayload(item=Item.from_domain(await final_item(info, done, keys[0])), edit=done)


@strawberry.type
class CurriculumMutation:
    @strawberry.mutation(description="Add a skill (designer, admin).")
    async def create_skill(
        self, info: Info, input: CreateSkillInput,
        dry_run: Annotated[bool, DRY_RUN] = False,
    ) -> SkillResult:
        keys: list[str] = []

        async def edits() -> list[ce.Edit]:
            skill = skill_of(input)
            keys.append(skill.id)
            return [ce.PutSkill(skill, create=True)]

        done = await run_curriculum_edits(info, "createSkill", edits, dry_run=dry_run)
        if not isinstance(done, CurriculumEdit):
            result: SkillResult = done
            return result
        return SkillPayload(skill=Skill.from_domain(await final_skill(info, done, keys[0])),
                            edit=done)

    @strawberry.mutation(description="Change a skill's fields (designer, admin).")
    async def update_skill(
        self, info: Info, input: UpdateSkillInput,
        dry_run: Annotated[bool, DRY_RUN] = False,
    ) -> SkillResult:
        keys: list[str] = []

        async def edits() -> list[ce.Edit]:
            patch = skill_patch(input)
            keys.append(patch.id)
            return [patch]

        done = await run_curriculum_edits(info, "updateSkill", edits, dry_run=dry_run)
        if not isinstance(done, CurriculumEdit):
            result: SkillResult = done
            return result
        return SkillPayload(skill=Skill.from_domain(await final_skill(info, done, keys[0])),
                            edit=done)

    @strawberry.mutation(description="Delete a skill: its edges, its entries in items' "
                         "Q-matrix rows and the learners' mastery rows and goals of it go "
                         "with it (`edit.dropped` counts them; undo from the change log puts "
                         "them back).")
    async def delete_skill(
        self, info: Info, id: strawberry.ID, dry_run: Annotated[bool, DRY_RUN] = False
    ) -> DeleteResult:
        async def edits() -> list[ce.Edit]:
            return [ce.DropSkill(to_key(id, "Skill"))]

        done = await run_curriculum_edits(info, "deleteSkill", edits, dry_run=dry_run)
        if not isinstance(done, CurriculumEdit):
            result: DeleteResult = done
            return result
        key = next(c.entity_id for c in done.plan.diff.changes if c.entity == "skill")
        return DeletePayload.of("Skill", key, edit=done)

    @strawberry.mutation(description="Add (or re-weight) a prerequisite edge; cycles refused.")
    async def add_prerequisite(
        self, info: Info, input: PrerequisiteInput,
        dry_run: Annotated[bool, DRY_RUN] = False,
    ) -> PrerequisiteResult:
        made: list[m.Prerequisite] = []

        async def edits() -> list[ce.Edit]:
            made.append(edge_of(input))
            return [ce.PutPrerequisite(made[0])]

        done = await run_curriculum_edits(info, "addPrerequisite", edits, dry_run=dry_run)
        if not isinstance(done, CurriculumEdit):
            result: PrerequisiteResult = done
            return result
        return PrerequisitePayload(edge=Prerequisite.from_domain(made[0]), edit=done)

    @strawberry.mutation(description="Remove a prerequisite edge (absent edges are ignored).")
    async def remove_prerequisite(
        self, info: Info, source_id: strawberry.ID, target_id: strawberry.ID,
        dry_run: Annotated[bool, DRY_RUN] = False,
    ) -> RemovePrerequisiteResult:
        pair: list[str] = []

        async def edits() -> list[ce.Edit]:
            pair.extend((to_key(source_id, "Skill"), to_key(target_id, "Skill")))
            return [ce.DropPrerequisite(*pair)]

        done = await run_curriculum_edits(info, "removePrerequisite", edits, dry_run=dry_run)
        if not isinstance(done, CurriculumEdit):
            result: RemovePrerequisiteResult = done
            return result
        source, target = pair
        return RemovePrerequisitePayload(
            source_id=strawberry.ID(to_global_id("Skill", source)),
            target_id=strawberry.ID(to_global_id("Skill", target)),
            source_key=source, target_key=target, edit=done)

    @strawberry.mutation(description="Add an item with its skill weights (designer, admin).")
    async def create_item(
        self, info: Info, input: CreateItemInput,
        dry_run: Annotated[bool, DRY_RUN] = False,
    ) -> ItemResult:
        return await _item_result(info, "createItem",
                                  lambda: ce.PutItem(item_of(input), create=True), dry_run)

    @strawberry.mutation(description="Change an item's fields or skill weights.")
    async def update_item(
        self, info: Info, input: UpdateItemInput,
        dry_run: Annotated[bool, DRY_RUN] = False,
    ) -> ItemResult:
        return await _item_result(info, "updateItem", lambda: item_patch(input), dry_run)

    @strawberry.mutation(description="Replace an item's row of the Q-matrix.")
    async def set_item_skills(
        self, info: Info, item_id: strawberry.ID, skills: list[SkillWeightInput],
        dry_run: Annotated[bool, DRY_RUN] = False,
    ) -> ItemResult:
        return await _item_result(
            info, "setItemSkills",
            lambda: item_patch(UpdateItemInput(id=item_id, skills=skills)), dry_run)

    @strawberry.mutation(description="Delete an item (designer, admin); its attempts stay.")
    async def delete_item(
        self, info: Info, id: strawberry.ID, dry_run: Annotated[bool, DRY_RUN] = False
    ) -> DeleteResult:
        async def edits() -> list[ce.Edit]:
            return [ce.DropItem(to_key(id, "Item"))]

        done = await run_curriculum_edits(info, "deleteItem", edits, dry_run=dry_run)
        if not isinstance(done, CurriculumEdit):
            result: DeleteResult = done
            return result
        key = next(c.entity_id for c in done.plan.diff.changes if c.entity == "item")
        return DeletePayload.of("Item", key, edit=done)
