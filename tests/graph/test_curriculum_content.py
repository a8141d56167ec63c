"""Curriculum files carry items' practice fields: JSON lists, CSV JSON arrays or ``a | b``."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.curriculum import validate
from graph.curriculum_io import read_curriculum, write_curriculum
from graph.models import Item, ItemKind, PrerequisiteGraph, Skill, SkillWeight

SKILL = Skill("frac", "Fractions")
ITEMS = [
    Item("q1", ItemKind.EXERCISE, "Q1", (SkillWeight("frac"),), prompt="1/4 + 1/4?",
         choices=("1/2", "1/8", "2/8 | two eighths"), answers=("1/2",),
         hints=("Add the numerators, 'quoted' \"too\".",), explanation="2/4 = 1/2."),
    Item("q2", ItemKind.EXERCISE, "Q2", (SkillWeight("frac"),), prompt="Half of 10?",
         answers=("5", "five")),
    Item("r1", ItemKind.READING, "R1", (SkillWeight("frac"),)),
]


@pytest.mark.parametrize("target", ["c.json", "csvdir"])
def test_practice_fields_round_trip(tmp_path: Path, target: str) -> None:
    out = tmp_path / target
    write_curriculum(out, PrerequisiteGraph((SKILL,), ()), ITEMS)
    again = validate(read_curriculum(out))
    assert again.ok, again.problems
    assert sorted(again.items, key=lambda i: i.id) == ITEMS


def test_a_csv_cell_may_list_with_bars_and_bad_keys_are_named(tmp_path: Path) -> None:
    (tmp_path / "skills.csv").write_text("id,name\nfrac,Fractions\n")
    (tmp_path / "items.csv").write_text(
        "id,kind,skills,prompt,choices,answers,hints\n"
        "q1,exercise,frac,Which?,a | b | c,b,first | second\n"
        "q2,exercise,frac,Which?,a | b,c,\n"
        'q3,exercise,frac,Which?,"[""a"", 1]",a,\n'
    )
    checked = validate(read_curriculum(tmp_path))
    (q1,) = checked.items
    assert (q1.choices, q1.answers, q1.hints) == (("a", "b", "c"), ("b",), ("first", "second"))
    problems = {p.where: p.message for p in checked.problems}
    assert "'c' of 'q2' is not one of its choices" in problems["items.csv line 3"]
    assert "must be a list of strings" in problems["items.csv line 4"]
