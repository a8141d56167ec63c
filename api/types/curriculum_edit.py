"""What a curriculum mutation did, or would do with ``dryRun: true``: the changes (each with
its before and after), what a deletion drops, and the impact on learners' frontiers, paths
and mastery. :func:`run_curriculum_edits` is the one way every curriculum mutation writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from api import access
from api.context import Context, Info
from api.types.change import ChangeAction, ChangeEntity
from api.types.errors import ForbiddenError
from api.types.mutation_base import guarded
from graph import curriculum_edit as ce
from recommender import impact as im


@strawberry.type(description="Some learners: how many, and the first of them by id.")
class LearnerSample:
    count: int
    sample_ids: list[str] = strawberry.field(description="At most 10 learner keys.")

    @classmethod
    def from_domain(cls, s: im.LearnerSet) -> LearnerSample:
        return cls(count=s.count, sample_ids=list(s.sample))


@strawberry.type(description="A skill and how many learners an edit moves it for.")
class SkillLearners:
    skill_key: str
    learners: int


@strawberry.type(description="How an edit changes the learners' frontiers, paths and mastery "
                 "(from their stored mastery: mastered at p >= 0.8).")
class CurriculumImpact:
    learners: int = strawberry.field(description="Learners considered (all of them).")
    frontier_changed: LearnerSample = strawberry.field(
        description="Learners whose frontier (unmastered skills with every prerequisite "
        "mastered) changes.")
    path_changed: LearnerSample = strawberry.field(
        description="Learners whose path to their goals (the unmastered skills the goals "
        "require) changes.")
    mastery_dropped: LearnerSample = strawberry.field(
        description="Learners who lose mastery rows of a deleted skill (archived; undo puts "
        "them back).")
    mastery_rows_dropped: int
    goals_dropped: LearnerSample = strawberry.field(
        description="Learners who lose a goal (a deleted skill).")
    frontier_added: list[SkillLearners] = strawberry.field(
        description="Skills entering frontiers, with how many learners, most first.")
    frontier_removed: list[SkillLearners] = strawberry.field(
        description="Skills leaving frontiers, with how many learners, most first.")

    @classmethod
    def from_domain(cls, i: im.Impact) -> CurriculumImpact:
        return cls(
            learners=i.learners,
            frontier_changed=LearnerSample.from_domain(i.frontier_changed),
            path_changed=LearnerSample.from_domain(i.path_changed),
            mastery_dropped=LearnerSample.from_domain(i.mastery_dropped),
            mastery_rows_dropped=i.mastery_rows_dropped,
            goals_dropped=LearnerSample.from_domain(i.goals_dropped),
            frontier_added=[SkillLearners(skill_key=c.skill_id, learners=c.learners)
                            for c in i.frontier_added],
            frontier_removed=[SkillLearners(skill_key=c.skill_id, learners=c.learners)
                              for c in i.frontier_removed],
        )


@strawberry.type(description="A prerequisite edge by skill keys.")
class EdgeKeys:
    source: str
    target: str


@strawberry.type(description="A Q-matrix entry by keys.")
class ItemSkillKeys:
    item: str
    skill: str


@strawberry.type(description="What deleting skills or items drops with them.")
class CurriculumDrop:
    edges: list[EdgeKeys]
    item_links: list[ItemSkillKeys] = strawberry.field(
        description="Q-matrix entries of deleted skills removed from their items.")
    items_left_without_skill: list[str] = strawberry.field(
        description="Item keys that assess no skill any more.")
    mastery_rows: int = strawberry.field(
        description="Learners' mastery rows of the deleted skills (archived under the batch).")
    goals: int = strawberry.field(description="Learners' goals naming the deleted skills.")
    class_goals: int | None = strawberry.field(
        description="Class goals naming the deleted skills (counted when applied; null in a "
        "dry run).")


@strawberry.type(description="One change an edit makes, or would make (dry run).")
class PlannedChange:
    action: ChangeAction
    entity: ChangeEntity
    entity_key: str = strawberry.field(
        description="The key of what changes (a prerequisite's: `source->target`).")
    before: JSON | None = strawberry.field(description="The entity before (null: new).")
    after: JSON | None = strawberry.field(description="The entity after (null: removed).")


@strawberry.type(description="What a curriculum mutation did (or, with dryRun, would do).")
class CurriculumEdit:
    plan: strawberry.Private[ce.Plan]
    dry_run: bool
    applied: bool = strawberry.field(description="Something was written (false for a dry run "
                                     "or an edit that changes nothing).")
    batch: int | None = strawberry.field(
        description="The change-log seq of the edit's first change: "
        "`undoCurriculumChange(seq: batch)` undoes the whole edit.")
    changes: list[PlannedChange]
    dropped: CurriculumDrop
    impact: CurriculumImpact | None = strawberry.field(
        description="Always computed for a dry run; for an applied edit when selected.")
    restored_mastery_rows: int = strawberry.field(
        default=0, description="Mastery rows an undo put back.")


def _selects(selections: Sequence[Any], name: str) -> bool:
    return any(getattr(s, "name", None) == name or _selects(getattr(s, "selections", []), name)
               for s in selections)


def wants_impact(info: Info) -> bool:
    """Whether the request selects ``impact`` under this mutation."""
    return _selects(info.selected_fields, "impact")


async def run_curriculum_edits(
    info: Info,
    action: str,
    edits: Sequence[ce.Edit] | Any,
    *,
    dry_run: bool,
    restore: Mapping[str, int] | None = None,
) -> CurriculumEdit | Any:
    """Authorise, plan, assess and (unless ``dry_run``) write ``edits`` in one transaction.
    ``edits`` may be a zero-argument coroutine function computing them (run guarded, so its
    expected errors become union members). Returns a :class:`CurriculumEdit`, or the union
    member of an expected failure (ForbiddenError, ValidationError, NotFoundError, CycleError)."""
    ctx: Context = info.context
    denial = access.curriculum_denial(ctx, action)
    if denial is not None:
        return ForbiddenError(message=denial)
    assert ctx.principal is not None
    actor = ctx.principal.sub
    want = dry_run or wants_impact(info)

    async def assess(plan: ce.Plan) -> im.Impact:
        learners = await im.learner_states(ctx.store)
        return im.compute_impact(learners, plan.before_skills, plan.before_edges,
                                 plan.after_skills, plan.after_edges)

    async def body() -> CurriculumEdit:
        todo = await edits() if callable(edits) else edits
        out = await ce.run_edits(ctx.store, todo, actor=actor, dry_run=dry_run,
                                 restore=restore, assess=assess if want else None)
        return _edit(out, dry_run)

    result = await guarded(body)
    if isinstance(result, CurriculumEdit) and result.applied:
        # both rebuilt in the background for requests: the old views serve until then
        ctx.services.mastery.invalidate_curriculum()
        ctx.services.recommender.invalidate()
        await ctx.services.changes.publish_new()
    return result


def _edit(out: ce.Outcome[im.Impact], dry_run: bool) -> CurriculumEdit:
    plan, impact, applied = out.plan, out.assessment, out.applied
    if applied is not None:
        rows = sum(a[0] for a in applied.archived.values())
        goals = sum(a[1] for a in applied.archived.values())
        classes: int | None = sum(a[2] for a in applied.archived.values())
    elif impact is not None:
        rows, goals, classes = impact.mastery_rows_dropped, impact.goals_dropped.count, None
    else:
        rows = goals = 0
        classes = None
    return CurriculumEdit(
        plan=plan,
        dry_run=dry_run,
        applied=applied is not None and applied.batch is not None,
        batch=None if applied is None else applied.batch,
        changes=[PlannedChange(action=ChangeAction(c.action), entity=ChangeEntity(c.entity),
                               entity_key=c.entity_id,
                               before=cast(JSON, c.before), after=cast(JSON, c.after))
                 for c in plan.diff.changes],
        dropped=CurriculumDrop(
            edges=[EdgeKeys(source=s, target=t) for s, t in plan.dropped.edges],
            item_links=[ItemSkillKeys(item=i, skill=s) for i, s in plan.dropped.item_links],
            items_left_without_skill=list(plan.dropped.items_left_without_skill),
            mastery_rows=rows, goals=goals, class_goals=classes),
        impact=None if impact is None else CurriculumImpact.from_domain(impact),
        restored_mastery_rows=0 if applied is None else sum(
            a[0] for a in applied.restored.values()),
    )
