"""The designer's curriculum edits over the API: dry-run impact previews that write nothing,
deletions that say what they drop, undo from the change log, atomic bulk edits and imports.

The curriculum is the API suite's (tests/api/conftest.py): count -> add -> mul -> frac,
count -> sub, shape alone; Ada (goal mul) has count 0.95 and add 0.7, Bo count 0.4, Cy 0.1.
"""

from __future__ import annotations

import json
from typing import Any

from tests.api.conftest import Api

EDIT = """edit { dryRun applied batch
  changes { action entity entityKey before after }
  dropped { edges { source target } itemLinks { item skill } itemsLeftWithoutSkill
            masteryRows goals classGoals }
  impact { learners frontierChanged { count sampleIds } pathChanged { count sampleIds }
           masteryDropped { count sampleIds } masteryRowsDropped goalsDropped { count }
           frontierAdded { skillKey learners } frontierRemoved { skillKey learners } } }"""
ERRORS = """ ... on Error { message } ... on ValidationError { field }
  ... on NotFoundError { entity ids } """


async def run(api: Api, call: str, payload: str, role: str = "designer") -> dict[str, Any]:
    errors = ERRORS if payload != "RemovePrerequisitePayload" else ERRORS.split("...")[1]
    errors = errors if errors.startswith(" ...") else " ..." + errors
    body = await api.gql(
        f"mutation {{ r: {call} {{ __typename {errors} ... on {payload} {{ {EDIT} }} }} }}",
        role=role)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["r"]
    return result


async def stored(api: Api) -> tuple[Any, ...]:
    """Everything an edit could write, to compare before and after a dry run."""
    store = api.services.store
    return (await store.prerequisite_graph(), await store.list_items(limit=100),
            await store.mastery_of(["ada", "bo", "cy"]), await store.get_learners(["ada"]),
            await store.last_change_seq())


async def test_dry_run_previews_the_impact_and_writes_nothing(api: Api) -> None:
    before = await stored(api)
    r = await run(api, 'addPrerequisite(input: {sourceId: "shape", targetId: "add"}, '
                  "dryRun: true)", "PrerequisitePayload")
    edit = r["edit"]
    assert (edit["dryRun"], edit["applied"], edit["batch"]) == (True, False, None)
    assert edit["changes"] == [{"action": "UPSERT", "entity": "PREREQUISITE",
                                "entityKey": "shape->add", "before": None,
                                "after": {"source": "shape", "target": "add", "strength": 1.0}}]
    impact = edit["impact"]
    # add left Ada's frontier (shape is not mastered); her path to mul now needs shape
    assert impact["learners"] == 3
    assert impact["frontierChanged"] == {"count": 1, "sampleIds": ["ada"]}
    assert impact["frontierRemoved"] == [{"skillKey": "add", "learners": 1}]
    assert impact["frontierAdded"] == []
    assert impact["pathChanged"] == {"count": 1, "sampleIds": ["ada"]}
    assert impact["masteryRowsDropped"] == 0
    assert await stored(api) == before

    applied = await run(api, 'addPrerequisite(input: {sourceId: "shape", targetId: "add"})',
                        "PrerequisitePayload")
    assert applied["edit"]["applied"] and applied["edit"]["impact"]["pathChanged"]["count"] == 1
    edges = (await api.services.store.prerequisite_graph()).edges
    assert ("shape", "add") in {(e.source, e.target) for e in edges}


async def test_every_curriculum_mutation_has_a_dry_run_that_writes_nothing(api: Api) -> None:
    before = await stored(api)
    calls = [
        ('createSkill(input: {id: "div", name: "Dividing"}, dryRun: true)', "SkillPayload"),
        ('updateSkill(input: {id: "add", name: "Addition"}, dryRun: true)', "SkillPayload"),
        ('deleteSkill(id: "add", dryRun: true)', "DeletePayload"),
        ('removePrerequisite(sourceId: "count", targetId: "add", dryRun: true)',
         "RemovePrerequisitePayload"),
        ('createItem(input: {id: "i-new", kind: EXERCISE, title: "1+1", '
         'skills: [{skillId: "add"}]}, dryRun: true)', "ItemPayload"),
        ('updateItem(input: {id: "i-add-1", title: "2 + 4"}, dryRun: true)', "ItemPayload"),
        ('setItemSkills(itemId: "i-add-1", skills: [{skillId: "sub"}], dryRun: true)',
         "ItemPayload"),
        ('deleteItem(id: "i-add-1", dryRun: true)', "DeletePayload"),
        ('applyCurriculumEdits(edits: [{deleteSkill: "mul"}], dryRun: true)',
         "CurriculumEditsPayload"),
    ]
    for call, payload in calls:
        r = await run(api, call, payload)
        assert r["__typename"] == payload, (call, r)
        assert r["edit"]["dryRun"] and r["edit"]["changes"], call
        assert r["edit"]["impact"]["learners"] == 3, call
    assert await stored(api) == before


async def test_delete_skill_says_what_it_drops_and_undo_restores_it(api: Api) -> None:
    store = api.services.store
    preview = await run(api, 'deleteSkill(id: "add", dryRun: true)', "DeletePayload")
    dropped = preview["edit"]["dropped"]
    assert dropped["edges"] == [{"source": "add", "target": "mul"},
                                {"source": "count", "target": "add"}]
    assert {(x["item"], x["skill"]) for x in dropped["itemLinks"]} == {
        ("i-add-1", "add"), ("i-add-2", "add"), ("i-mul", "add")}
    assert dropped["itemsLeftWithoutSkill"] == ["i-add-1", "i-add-2"]
    assert (dropped["masteryRows"], dropped["goals"]) == (1, 0)
    impact = preview["edit"]["impact"]
    assert impact["masteryDropped"] == {"count": 1, "sampleIds": ["ada"]}
    # mul loses its only prerequisite: it enters everyone's frontier; add leaves Ada's
    assert impact["frontierAdded"] == [{"skillKey": "mul", "learners": 3}]
    assert impact["frontierRemoved"] == [{"skillKey": "add", "learners": 1}]
    assert impact["pathChanged"]["sampleIds"] == ["ada"]

    done = await run(api, 'deleteSkill(id: "add")', "DeletePayload")
    batch = done["edit"]["batch"]
    assert done["edit"]["applied"] and done["edit"]["dropped"]["masteryRows"] == 1
    assert done["edit"]["dropped"]["itemsLeftWithoutSkill"] == ["i-add-1", "i-add-2"]
    assert await store.get_skills(["add"]) == [None]
    [item] = await store.get_items(["i-mul"])
    assert item is not None and item.skill_ids == ("mul",)
    [ada] = await store.mastery_of(["ada"])
    assert [m.skill_id for m in ada] == ["count"]

    log = await api.gql(f"{{ curriculumChanges(afterSeq: {batch - 1}) {{ seq batch action "
                        "entity entityKey before after } }", role="designer")
    changes = log["data"]["curriculumChanges"]
    assert {c["batch"] for c in changes} == {batch}
    gone = next(c for c in changes if c["entity"] == "SKILL")
    assert gone["before"]["name"] == "Adding" and gone["after"] is None

    undo = await run(api, f"undoCurriculumChange(seq: {batch})", "CurriculumEditsPayload")
    assert undo["__typename"] == "CurriculumEditsPayload", undo
    assert [s.name if s else None for s in await store.get_skills(["add"])] == ["Adding"]
    [item] = await store.get_items(["i-mul"])
    assert item is not None and item.skill_ids == ("mul", "add")
    [ada] = await store.mastery_of(["ada"])
    assert {m.skill_id: m.probability for m in ada} == {"add": 0.7, "count": 0.95}
    edges = {(e.source, e.target) for e in (await store.prerequisite_graph()).edges}
    assert {("count", "add"), ("add", "mul")} <= edges


async def test_undo_is_refused_when_the_entity_changed_since(api: Api) -> None:
    made = await run(api, 'createSkill(input: {id: "div", name: "Dividing"})', "SkillPayload")
    await run(api, 'updateSkill(input: {id: "div", name: "Division"})', "SkillPayload")
    refused = await run(api, f'undoCurriculumChange(seq: {made["edit"]["batch"]})',
                        "CurriculumEditsPayload")
    assert refused["__typename"] == "ValidationError" and refused["field"] == "seq"
    assert "changed again" in refused["message"]
    unknown = await run(api, "undoCurriculumChange(seq: 99999)", "CurriculumEditsPayload")
    assert unknown["__typename"] == "ValidationError"


async def test_bulk_edits_are_one_transaction_and_a_cycle_refuses_all(api: Api) -> None:
    store = api.services.store
    before = await stored(api)
    body = await api.gql("""mutation { r: applyCurriculumEdits(edits: [
        {createSkill: {id: "div", name: "Dividing"}},
        {addPrerequisite: {sourceId: "mul", targetId: "div"}},
        {addPrerequisite: {sourceId: "div", targetId: "count"}}
      ]) { __typename ... on CycleError { cycleKeys message } } }""", role="designer")
    r = body["data"]["r"]
    assert r["__typename"] == "CycleError"
    assert r["cycleKeys"] == ["div", "count", "add", "mul", "div"]
    assert await stored(api) == before

    ok = await run(api, """applyCurriculumEdits(edits: [
        {createSkill: {id: "div", name: "Dividing"}},
        {addPrerequisite: {sourceId: "mul", targetId: "div"}},
        {createItem: {id: "i-div", kind: EXERCISE, title: "12 / 4", skills: [{skillId: "div"}]}},
        {removePrerequisite: {sourceId: "count", targetId: "sub"}}
      ])""", "CurriculumEditsPayload")
    batch = ok["edit"]["batch"]
    assert [c["entityKey"] for c in ok["edit"]["changes"]] == [
        "div", "mul->div", "i-div", "count->sub"]
    assert {c.batch for c in await store.change_batch(batch)} == {batch}
    assert len(await store.change_batch(batch)) == 4
    assert (await store.get_items(["i-div"]))[0] is not None

    unknown = await run(api, """applyCurriculumEdits(edits: [
        {createSkill: {id: "x", name: "X"}}, {deleteSkill: "ghost"}])""",
                        "CurriculumEditsPayload")
    assert unknown["__typename"] == "NotFoundError" and unknown["ids"] == ["ghost"]
    assert (await store.get_skills(["x"])) == [None]


async def test_import_is_all_or_nothing_with_the_cli_validation(api: Api) -> None:
    store = api.services.store
    before = await stored(api)
    bad = {"skills": [{"id": "div", "name": "Dividing"}],
           "prerequisites": [{"source": "mul", "target": "div"},
                             {"source": "div", "target": "count"},
                             {"source": "div", "target": "ghost"}]}
    query = """mutation($f: [CurriculumFileInput!]!, $dry: Boolean!) {
      r: importCurriculum(format: JSON, files: $f, dryRun: $dry) { __typename
        ... on CurriculumImportError { problems { where kind message } }
        ... on CurriculumEditsPayload { edit { applied dryRun changes { entityKey } } } } }"""
    files = [{"name": "c.json", "content": json.dumps(bad)}]
    body = await api.gql(query, {"f": files, "dry": False}, role="designer")
    r = body["data"]["r"]
    assert r["__typename"] == "CurriculumImportError"
    assert [(p["where"], p["kind"]) for p in r["problems"]] == [
        ("c.json prerequisites[1]", "cycle"), ("c.json prerequisites[2]", "unknown-skill")]
    assert "div -> count -> add -> mul -> div" in r["problems"][0]["message"]
    assert await stored(api) == before

    good = {"skills": [{"id": "div", "name": "Dividing"}],
            "prerequisites": [{"source": "mul", "target": "div"}],
            "items": [{"id": "i-div", "kind": "exercise", "title": "12 / 4",
                       "skills": [{"skill_id": "div"}]}]}
    files = [{"name": "c.json", "content": json.dumps(good)}]
    dry = (await api.gql(query, {"f": files, "dry": True}, role="designer"))["data"]["r"]
    assert dry["edit"] == {"applied": False, "dryRun": True, "changes": [
        {"entityKey": "div"}, {"entityKey": "mul->div"}, {"entityKey": "i-div"}]}
    assert await stored(api) == before
    done = (await api.gql(query, {"f": files, "dry": False}, role="designer"))["data"]["r"]
    assert done["edit"]["applied"]
    assert (await store.get_items(["i-div"]))[0] is not None

    csv_files = [{"name": "skills.csv", "content": "id,name\nrt,Roots\n"},
                 {"name": "prerequisites.csv", "content": "source,target\nmul,rt\n"}]
    body = await api.gql(query.replace("JSON", "CSV"), {"f": csv_files, "dry": False},
                         role="designer")
    assert body["data"]["r"]["edit"]["applied"], body
    odd = [{"name": "../x.csv", "content": "id,name\n"}]
    body = await api.gql(query.replace("JSON", "CSV") .replace(
        "__typename", "__typename ... on ValidationError { field }"),
        {"f": odd, "dry": False}, role="designer")
    assert body["data"]["r"] == {"__typename": "ValidationError", "field": "files.name"}


async def test_curriculum_edits_need_a_designer(api: Api) -> None:
    for role in ("anonymous", "learner", "teacher"):
        r = await run(api, 'deleteSkill(id: "add", dryRun: true)', "DeletePayload", role=role)
        assert r["__typename"] == "ForbiddenError"
        r = await run(api, "undoCurriculumChange(seq: 1)", "CurriculumEditsPayload", role=role)
        assert r["__typename"] == "ForbiddenError"
