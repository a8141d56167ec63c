"""Curriculum import: validation before any write, on hand-made files and on the Junyi graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.curriculum import (
    Bundle,
    CurriculumImportError,
    Sourced,
    import_bundle,
    validate,
)
from graph.curriculum_io import read_curriculum, write_curriculum
from graph.models import Prerequisite, Skill

JUNYI_COLUMNS = {"id": "name", "name": "pretty_display_name"}


def write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    write(tmp_path / "skills.csv", """
id,name,topic,area,tags
count,Counting,number,arithmetic,early;core
add,Addition,number,arithmetic,
sub,Subtraction,number,arithmetic,
""")
    write(tmp_path / "prerequisites.csv", """
source,target,strength
count,add,1
add,sub,0.5
""")
    write(tmp_path / "items.csv", """
id,kind,title,difficulty,expected_seconds,skills
i1,exercise,3+4,0.2,30,add
i2,video,Take away,0.1,120,sub:0.7;add:0.3
""")
    return tmp_path


def kinds(problems: Any) -> list[str]:
    return sorted(p.kind for p in problems)


def test_reads_a_csv_directory(tiny: Path) -> None:
    bundle = read_curriculum(tiny)
    assert [s.value.id for s in bundle.skills] == ["count", "add", "sub"]
    assert bundle.skills[0].value.tags == ("early", "core")
    assert [(e.value.source, e.value.target, e.value.strength) for e in bundle.edges] == [
        ("count", "add", 1.0), ("add", "sub", 0.5)]
    video = bundle.items[1].value
    assert video.kind == "video" and video.expected_seconds == 120
    assert [(w.skill_id, w.weight) for w in video.skills] == [("sub", 0.7), ("add", 0.3)]
    assert validate(bundle).ok


def test_cycle_is_spelled_out_in_file_order(tiny: Path) -> None:
    with (tiny / "prerequisites.csv").open("a") as fh:
        fh.write("sub,count,1\n")
    checked = validate(read_curriculum(tiny))
    assert kinds(checked.problems) == ["cycle"]
    problem = checked.problems[0]
    assert problem.where == "prerequisites.csv line 4"
    assert "sub -> count -> add -> sub" in problem.message
    assert len(checked.edges) == 2  # the closing edge is the one left out


def test_every_kind_of_bad_row_is_named_with_its_line(tmp_path: Path) -> None:
    write(tmp_path / "skills.csv", """
id,name
a,A
a,A again
,no id
b,B
""")
    write(tmp_path / "prerequisites.csv", """
source,target,strength
a,a,1
a,ghost,1
a,b,1.5
a,b,0.3,extra
""")
    write(tmp_path / "items.csv", """
id,kind,difficulty,skills
x,quiz,0.5,a
y,exercise,hard,a
z,exercise,0.5,a:2
w,exercise,0.5,nope
""")
    problems = {(p.where, p.kind) for p in validate(read_curriculum(tmp_path)).problems}
    assert problems == {
        ("skills.csv line 3", "duplicate"),
        ("skills.csv line 4", "malformed"),
        ("prerequisites.csv line 2", "self-loop"),
        ("prerequisites.csv line 3", "unknown-skill"),
        ("prerequisites.csv line 4", "malformed"),
        ("prerequisites.csv line 5", "malformed"),
        ("items.csv line 2", "malformed"),
        ("items.csv line 3", "malformed"),
        ("items.csv line 4", "malformed"),
        ("items.csv line 5", "unknown-skill"),
    }


def test_messages_name_the_bad_value(tmp_path: Path) -> None:
    write(tmp_path / "items.csv", "id,kind,difficulty,skills\ny,exercise,hard,a\n")
    (problem,) = read_curriculum(tmp_path).problems
    assert "'hard'" in problem.message and "difficulty" in problem.message


def test_edges_close_cycles_through_the_stored_graph() -> None:
    stored: nx.DiGraph = nx.DiGraph([("a", "b")])
    bundle = Bundle(edges=[Sourced(Prerequisite("b", "a"), "edges.csv line 2")])
    (problem,) = validate(bundle, stored).problems
    assert problem.kind == "cycle" and "b -> a -> b" in problem.message


@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=30))
def test_accepted_edges_form_a_dag_and_refused_ones_close_a_cycle(
    pairs: list[tuple[int, int]]
) -> None:
    skills = [Sourced(Skill(str(i), str(i)), f"s{i}") for i in range(7)]
    edges = [Sourced(Prerequisite(str(a), str(b)), f"e{n}") for n, (a, b) in enumerate(pairs)]
    checked = validate(Bundle(skills=skills, edges=edges))
    accepted: nx.DiGraph = nx.DiGraph((e.source, e.target) for e in checked.edges)
    assert nx.is_directed_acyclic_graph(accepted)
    for problem in checked.problems:
        assert problem.kind in {"cycle", "self-loop"}
        if problem.kind == "cycle":
            a, b = pairs[int(problem.where[1:])]
            assert accepted.has_node(str(b)) and nx.has_path(accepted, str(b), str(a))


def test_junyi_cycle_is_found_and_named(datasets: Path) -> None:
    table = datasets / "junyi-prerequisites" / "junyi_Exercise_table.csv"
    checked = validate(read_curriculum(table, JUNYI_COLUMNS))
    cycles = [p for p in checked.problems if p.kind == "cycle"]
    assert len(cycles) == 1
    names = cycles[0].message.split("cycle ", 1)[1].split(" -> ")
    assert len(names) == 4 and names[0] == names[-1]  # a 3-node cycle, first repeated
    assert {"radical_multiplication_and_division", "simplifying_radicals"} <= set(names)
    assert kinds(checked.problems) == ["cycle", "duplicate", "duplicate", "self-loop",
                                       "self-loop"]
    assert len(checked.skills) == 835
    assert len(checked.edges) == 979 - 1


async def test_junyi_import_writes_nothing_then_skips_invalid(store: Any, datasets: Path) -> None:
    table = datasets / "junyi-prerequisites" / "junyi_Exercise_table.csv"
    bundle = read_curriculum(table, JUNYI_COLUMNS)
    with pytest.raises(CurriculumImportError) as refused:
        await import_bundle(store, bundle, actor="designer-1")
    assert "radical_multiplication_and_division" in str(refused.value)
    assert "--skip-invalid" in str(refused.value)
    empty = await store.prerequisite_graph()
    assert empty.skills == () and empty.edges == ()

    report = await import_bundle(store, bundle, actor="designer-1", skip_invalid=True)
    assert (report.skills, report.edges, len(report.skipped)) == (835, 978, 5)
    graph = await store.prerequisite_graph()
    assert len(graph.skills) == 835 and len(graph.edges) == 978
    assert nx.is_directed_acyclic_graph(nx.DiGraph((e.source, e.target) for e in graph.edges))


@pytest.mark.parametrize("target", ["curriculum.json", "csvdir"])
async def test_export_then_import_round_trips(
    store: Any, tiny: Path, tmp_path: Path, target: str
) -> None:
    await import_bundle(store, read_curriculum(tiny), actor="designer-1")
    graph = await store.prerequisite_graph()
    items = await store.list_items(limit=100)
    out = tmp_path / "out" / target
    out.parent.mkdir()
    write_curriculum(out, graph, items)
    again = validate(read_curriculum(out))
    assert again.ok
    assert sorted(again.skills, key=lambda s: s.id) == sorted(graph.skills, key=lambda s: s.id)
    assert {(e.source, e.target, e.strength) for e in again.edges} == {
        (e.source, e.target, e.strength) for e in graph.edges}
    assert sorted(again.items, key=lambda i: i.id) == sorted(items, key=lambda i: i.id)


def test_cli_refuses_junyi_then_imports_with_skip_invalid(
    tmp_path: Path, datasets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    table = str(datasets / "junyi-prerequisites" / "junyi_Exercise_table.csv")
    junyi = [table, "--db", db, "--column", "id=name", "--column", "name=pretty_display_name"]
    assert main(["migrate", "--db", db]) == 0
    assert main(["curriculum", "import", *junyi]) == 2
    err = capsys.readouterr().err
    assert "nothing written" in err and "simplifying_radicals" in err

    assert main(["curriculum", "import", *junyi, "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    assert "imported 835 skills, 978 prerequisite edges" in out
    assert out.count("skipped: ") == 5

    exported = tmp_path / "export.json"
    assert main(["curriculum", "export", str(exported), "--db", db]) == 0
    assert "exported 835 skills, 978 prerequisite edges, 0 items" in capsys.readouterr().out


def test_cli_names_a_bad_column_mapping(tmp_path: Path, tiny: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from api.cli import main

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["migrate", "--db", db]) == 0
    assert main(["curriculum", "import", str(tiny), "--db", db, "--column", "idname"]) == 2
    assert "'idname' is not OURS=THEIRS" in capsys.readouterr().err
