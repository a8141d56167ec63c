"""Planning curriculum edits in memory (graph.curriculum_edit): hand-built graphs with known
answers, and a property: undoing any applied list of edits gives back the curriculum."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph import curriculum_edit as ce
from graph.models import CurriculumChange, Item, ItemKind, Prerequisite, Skill, SkillWeight
from graph.store import CycleError, NotFoundError, ValidationError

SKILLS = {k: Skill(k, k.upper()) for k in "abcd"}
EDGES = {("a", "b"): Prerequisite("a", "b"), ("b", "c"): Prerequisite("b", "c", 0.5)}
ITEMS = {"i": Item("i", ItemKind.EXERCISE, "I", (SkillWeight("b"), SkillWeight("c", 0.5))),
         "j": Item("j", ItemKind.EXERCISE, "J", (SkillWeight("b"),))}
SNAP = ce.Snapshot(7, SKILLS, EDGES, ITEMS)


def test_a_cycle_anywhere_refuses_the_list_and_is_spelled_out() -> None:
    edits = [ce.PutPrerequisite(Prerequisite("c", "d")), ce.PutPrerequisite(Prerequisite("d", "a"))]
    with pytest.raises(CycleError) as err:
        ce.plan(edits, SNAP)
    assert err.value.cycle == ("d", "a", "b", "c", "d")


def test_unknown_and_taken_ids_and_bad_values_are_refused() -> None:
    with pytest.raises(NotFoundError) as missing:
        ce.plan([ce.PutPrerequisite(Prerequisite("a", "ghost"))], SNAP)
    assert missing.value.ids == ("ghost",)
    with pytest.raises(ValidationError) as taken:
        ce.plan([ce.PutSkill(Skill("a", "Again"), create=True)], SNAP)
    assert taken.value.field == "id"
    with pytest.raises(ValidationError) as loop:
        ce.plan([ce.PutPrerequisite(Prerequisite("a", "a"))], SNAP)
    assert "self-loop" in loop.value.message
    with pytest.raises(NotFoundError):
        ce.plan([ce.DropItem("nope")], SNAP)


def test_dropping_a_skill_lists_its_edges_and_items_and_logs_each_change() -> None:
    out = ce.plan([ce.DropSkill("b")], SNAP)
    assert out.dropped.edges == (("a", "b"), ("b", "c"))
    assert out.dropped.item_links == (("i", "b"), ("j", "b"))
    assert out.dropped.items_left_without_skill == ("j",)
    diff = out.diff
    assert diff.remove_skills == ("b",) and diff.remove_edges == ()  # edges go with the skill
    assert {i.id: i.skill_ids for i in diff.items} == {"i": ("c",), "j": ()}
    assert [(c.action, c.entity, c.entity_id) for c in diff.changes] == [
        ("remove", "prerequisite", "a->b"), ("remove", "prerequisite", "b->c"),
        ("upsert", "item", "i"), ("upsert", "item", "j"), ("remove", "skill", "b")]
    assert diff.changes[-1].before == {"id": "b", "name": "B", "description": "", "topic": "",
                                       "area": "", "tags": []}


def test_no_op_edits_change_nothing() -> None:
    out = ce.plan([ce.PutPrerequisite(Prerequisite("a", "b")), ce.DropPrerequisite("c", "a"),
                   ce.PatchSkill("a", {"name": "A"})], SNAP)
    assert out.diff.empty and out.diff.changes == ()


def _logged(changes: tuple[ce.Change, ...], first: int) -> list[CurriculumChange]:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    return [CurriculumChange(first + k, "t", at, c.action, c.entity, c.entity_id, c.detail,
                             first, c.before, c.after) for k, c in enumerate(changes)]


def _applied(snap: ce.Snapshot, diff: ce.CurriculumDiff) -> ce.Snapshot:
    skills = {k: s for k, s in snap.skills.items() if k not in diff.remove_skills}
    skills.update({s.id: s for s in diff.skills})
    edges = {k: e for k, e in snap.edges.items() if k not in diff.remove_edges
             and not set(k) & set(diff.remove_skills)}
    edges.update({(e.source, e.target): e for e in diff.edges})
    items = {k: replace(i, skills=tuple(w for w in i.skills
                                        if w.skill_id not in diff.remove_skills))
             for k, i in snap.items.items() if k not in diff.remove_items}
    items.update({i.id: i for i in diff.items})
    return ce.Snapshot(snap.seq + len(diff.changes), skills, edges, items)


EDIT = st.one_of(
    st.builds(lambda k, n: ce.PutSkill(Skill(k, n)), st.sampled_from("abcdef"),
              st.sampled_from(["X", "Y"])),
    st.builds(ce.DropSkill, st.sampled_from("abcd")),
    st.builds(lambda s, t, w: ce.PutPrerequisite(Prerequisite(s, t, w)),
              st.sampled_from("abcdef"), st.sampled_from("abcdef"), st.sampled_from([1.0, 0.5])),
    st.builds(ce.DropPrerequisite, st.sampled_from("abcd"), st.sampled_from("abcd")),
    st.builds(lambda i, s: ce.PatchItem(i, {"skills": (SkillWeight(s),)}),
              st.sampled_from("ij"), st.sampled_from("abcd")),
    st.builds(ce.DropItem, st.sampled_from("ij")),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(EDIT, max_size=6))
def test_undo_of_any_valid_edit_list_gives_back_the_curriculum(edits: list[ce.Edit]) -> None:
    try:
        out = ce.plan(edits, SNAP)
    except (CycleError, NotFoundError, ValidationError):
        return  # refused as a whole: nothing to undo
    after = _applied(SNAP, out.diff)
    if not out.diff.changes:
        return
    undo, restore = ce.undo_edits(_logged(out.diff.changes, SNAP.seq + 1), [])
    # every skill the batch removed is restored (one removed and made again in the same batch
    # kept its learners' rows: the store finds nothing archived for it)
    assert set(out.diff.remove_skills) <= set(restore) <= {
        c.entity_id for c in out.diff.changes if c.entity == "skill" and c.after is None}
    back = _applied(after, ce.plan(undo, after).diff)
    assert (back.skills, back.edges, back.items) == (SNAP.skills, SNAP.edges, SNAP.items)


def test_undo_is_refused_when_an_entity_changed_again_or_has_no_states() -> None:
    out = ce.plan([ce.PutSkill(Skill("e", "E"))], SNAP)
    batch = _logged(out.diff.changes, 8)
    later = _logged(ce.plan([ce.PatchSkill("e", {"name": "F"})], _applied(SNAP, out.diff)
                            ).diff.changes, 9)
    with pytest.raises(ce.UndoRefusedError, match="changed again at seq 9"):
        ce.undo_edits(batch, later)
    bare = [replace(batch[0], before=None, after=None)]
    with pytest.raises(ce.UndoRefusedError, match="without its before and after"):
        ce.undo_edits(bare, [])
