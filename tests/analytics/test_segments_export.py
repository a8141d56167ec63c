"""Segments of a class (k-means on mastery) and the heatmap CSV."""

from __future__ import annotations

import csv
import io

import pytest

from analytics.errors import AnalyticsError
from analytics.export import heatmap_csv
from analytics.segments import segment
from tests.analytics.helpers import index


def test_two_obvious_groups_get_their_own_next_skill() -> None:
    mastery = {
        "l1": {"a": 0.95, "b": 0.2},
        "l2": {"a": 0.9, "b": 0.1},
        "l3": {"a": 0.1, "b": 0.05},
        "l4": {"a": 0.2},
        "l5": {"a": 0.15, "b": 0.1},
    }
    segs = segment(index(), mastery, k=2, seed=0)
    assert [s.learners for s in segs] == [("l3", "l4", "l5"), ("l1", "l2")]
    assert [s.next_skill for s in segs] == ["a", "b"]
    # with a class goal, the next skill is on its path
    segs = segment(index(), mastery, k=2, goals=["b"])
    assert segs[1].next_skill == "b"


def test_k_is_capped_by_distinct_learners_and_must_be_positive() -> None:
    same = {"l1": {"a": 0.5}, "l2": {"a": 0.5}}
    assert len(segment(index(), same, k=3)) == 1
    assert segment(index(), {}, k=3) == []
    with pytest.raises(AnalyticsError, match="k=0"):
        segment(index(), same, k=0)


def test_csv_rows_blanks_and_formula_quoting() -> None:
    text = heatmap_csv(
        [("l1", "Ada"), ("l2", "=HYPERLINK(1)")],
        ["a", "b"],
        {"l1": {"a": 0.91234}, "l2": {"b": 0.5}},
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["learner_id", "display_name", "a", "b"],
        ["l1", "Ada", "0.912", ""],
        ["l2", "'=HYPERLINK(1)", "", "0.500"],
    ]
