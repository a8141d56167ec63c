"""Curriculum mutations on many things at once: a list of edits in one transaction, a
curriculum file imported over the API, and the undo of an earlier edit from the change log.
Each takes ``dryRun`` like the single edits (``api.types.mutation_curriculum``)."""

from __future__ import annotations

import tempfile
from enum import Enum
from pathlib import Path
from typing import Annotated

import strawberry

from api import access
from api.context import Info
from api.ids import to_key
from api.types.curriculum_edit import CurriculumEdit, run_curriculum_edits
from api.types.errors import CycleError, ForbiddenError, NotFoundError, ValidationError
from api.types.inputs import (
    CreateItemInput,
    CreateSkillInput,
    PrerequisiteInput,
    UpdateItemInput,
    UpdateSkillInput,
)
from api.types.mutation_curriculum import (
    DRY_RUN,
    edge_of,
    item_of,
    item_patch,
    skill_of,
    skill_patch,
)
from graph import curriculum as cur
from graph import curriculum_edit as ce
from graph.curriculum_io import TABLES, read_curriculum
from graph.store import ValidationError as StoreValidationError

MAX_FILES = 3
MAX_FILE_CHARS = 5_000_000


@strawberry.input(one_of=True, description="One edit of a bulk edit: set exactly one field.")
class CurriculumEditInput:
    create_skill: CreateSkillInput | None = strawberry.UNSET
    update_skill: UpdateSkillInput | None = strawberry.UNSET
    delete_skill: strawberry.ID | None = strawberry.UNSET
    add_prerequisite: PrerequisiteInput | None = strawberry.UNSET
    remove_prerequisite: PrerequisiteInput | None = strawberry.UNSET
    create_item: CreateItemInput | None = strawberry.UNSET
    update_item: UpdateItemInput | None = strawberry.UNSET
    delete_item: strawberry.ID | None = strawberry.UNSET


def to_edit(e: CurriculumEditInput) -> ce.Edit:
    if e.create_skill:
        return ce.PutSkill(skill_of(e.create_skill), create=True)
    if e.update_skill:
        return skill_patch(e.update_skill)
    if e.delete_skill:
        return ce.DropSkill(to_key(e.delete_skill, "Skill"))
    if e.add_prerequisite:
        return ce.PutPrerequisite(edge_of(e.add_prerequisite))
    if e.remove_prerequisite:
        return ce.DropPrerequisite(to_key(e.remove_prerequisite.source_id, "Skill"),
                                   to_key(e.remove_prerequisite.target_id, "Skill"))
    if e.create_item:
        return ce.PutItem(item_of(e.create_item), create=True)
    if e.update_item:
        return item_patch(e.update_item)
    assert e.delete_item
    return ce.DropItem(to_key(e.delete_item, "Item"))


@strawberry.type(description="What a bulk edit, an import or an undo did (or would do).")
class CurriculumEditsPayload:
    edit: CurriculumEdit


EditsResult = Annotated[
    CurriculumEditsPayload | CycleError | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("CurriculumEditsResult"),
]


@strawberry.enum(description="How a curriculum file is written (docs/curriculum-format.md).")
class CurriculumFormat(Enum):
    JSON = "json"
    CSV = "csv"


@strawberry.input(description="One file of a curriculum: a JSON file, or a CSV table named "
                  "skills.csv, prerequisites.csv or items.csv (or any .csv, told by its "
                  "columns, when it is the only one).")
class CurriculumFileInput:
    name: str
    content: str


@strawberry.type(description="One reason an import was refused.")
class ImportProblem:
    where: str = strawberry.field(description="e.g. `skills.csv line 12`.")
    kind: str = strawberry.field(
        description="malformed | duplicate | self-loop | unknown-skill | cycle")
    message: str


@strawberry.type(description="The import was refused and nothing was written; every problem "
                 "found is listed (the CLI's validation).")
class CurriculumImportError:
    message: str
    problems: list[ImportProblem]


ImportResult = Annotated[
    CurriculumEditsPayload | CurriculumImportError | CycleError | ValidationError
    | NotFoundError | ForbiddenError,
    strawberry.union("ImportCurriculumResult"),
]


def _read_files(fmt: CurriculumFormat, files: list[CurriculumFileInput]) -> cur.Bundle:
    """Parse the files exactly as ``learngraph curriculum import`` does (from a temporary
    directory holding them)."""
    if not files or len(files) > MAX_FILES:
        raise StoreValidationError("files", f"{len(files)} files; send 1 to {MAX_FILES}")
    suffix = ".json" if fmt is CurriculumFormat.JSON else ".csv"
    names = [f.name for f in files]
    for f in files:
        plain = Path(f.name).name == f.name and f.name.lower().endswith(suffix)
        if not plain or f.name.startswith("."):
            raise StoreValidationError(
                "files.name", f"{f.name!r}: give a plain file name ending in {suffix}")
        if len(f.content) > MAX_FILE_CHARS:
            raise StoreValidationError(
                "files.content", f"{f.name!r} has {len(f.content)} characters; the limit is "
                f"{MAX_FILE_CHARS}")
    if len(set(names)) != len(names):
        raise StoreValidationError("files.name", "a file name is given twice")
    if fmt is CurriculumFormat.JSON and len(files) != 1:
        raise StoreValidationError("files", "a JSON curriculum is one file")
    with tempfile.TemporaryDirectory(prefix="learngraph-import-") as tmp:
        for f in files:
            (Path(tmp) / f.name).write_text(f.content, encoding="utf-8")
        if len(files) == 1:
            return read_curriculum(Path(tmp) / files[0].name)
        odd = [n for n in names if n not in {f"{t}.csv" for t in TABLES}]
        if odd:
            raise StoreValidationError(
                "files.name", f"{odd[0]!r}: several CSV files must be named skills.csv, "
                "prerequisites.csv and items.csv")
        return read_curriculum(Path(tmp))


@strawberry.type
class CurriculumBulkMutation:
    @strawberry.mutation(description="Apply a list of edits in order, in one transaction: any "
                         "edit refused (a cycle anywhere, spelled out; an unknown id; a bad "
                         "value) refuses them all and nothing is written.")
    async def apply_curriculum_edits(
        self, info: Info, edits: list[CurriculumEditInput],
        dry_run: Annotated[bool, DRY_RUN] = False,
    ) -> EditsResult:
        async def planned() -> list[ce.Edit]:
            return [to_edit(e) for e in edits]

        done = await run_curriculum_edits(info, "applyCurriculumEdits", planned,
                                          dry_run=dry_run)
        if not isinstance(done, CurriculumEdit):
            result: EditsResult = done
            return result
        return CurriculumEditsPayload(edit=done)

    @strawberry.mutation(description="Import a curriculum file (skills, prerequisites, items; "
                         "docs/curriculum-format.md), all or nothing, with the validation of "
                         "`learngraph curriculum import`, in one transaction.")
    async def import_curriculum(
        self, info: Info, format: CurriculumFormat, files: list[CurriculumFileInput],
        dry_run: Annotated[bool, DRY_RUN] = False,
    ) -> ImportResult:
        denial = access.curriculum_denial(info.context, "importCurriculum")
        if denial is not None:
            return ForbiddenError(message=denial)
        try:
            bundle = _read_files(format, files)
        except StoreValidationError as exc:
            return ValidationError(field=exc.field, message=exc.message)
        except (ValueError, FileNotFoundError) as exc:
            return ValidationError(field="files", message=str(exc))
        checked = cur.validate(bundle, await cur.existing_graph(info.context.store))
        if checked.problems:
            refused = cur.CurriculumImportError(checked.problems)
            return CurriculumImportError(
                message=str(refused).splitlines()[0],
                problems=[ImportProblem(where=p.where, kind=p.kind, message=p.message)
                          for p in checked.problems])
        todo: list[ce.Edit] = [
            *(ce.PutSkill(s) for s in checked.skills),
            *(ce.PutPrerequisite(e) for e in checked.edges),
            *(ce.PutItem(i) for i in checked.items),
        ]
        done = await run_curriculum_edits(info, "importCurriculum", todo, dry_run=dry_run)
        if not isinstance(done, CurriculumEdit):
            result: ImportResult = done
            return result
        return CurriculumEditsPayload(edit=done)

    @strawberry.mutation(description="Undo the edit (the whole batch) that change `seq` belongs "
                         "to, from the before and after kept in the change log: a deleted "
                         "skill comes back with its edges, its items' Q-matrix entries and the "
                         "learners' mastery rows and goals. Refused when something it touched "
                         "changed again since (undo that first). Itself an edit: undo it to "
                         "redo.")
    async def undo_curriculum_change(
        self, info: Info, seq: int, dry_run: Annotated[bool, DRY_RUN] = False
    ) -> EditsResult:
        restore: dict[str, int] = {}

        async def planned() -> list[ce.Edit]:
            edits, found, _ = await ce.undo_batch(info.context.store, seq)
            restore.update(found)
            return edits

        done = await run_curriculum_edits(info, "undoCurriculumChange", planned,
                                          dry_run=dry_run, restore=restore)
        if not isinstance(done, CurriculumEdit):
            result: EditsResult = done
            return result
        return CurriculumEditsPayload(edit=done)
