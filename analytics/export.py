"""The class heatmap as CSV: one row per learner, one column per skill."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

#: Spreadsheet programs run a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def heatmap_csv(
    learners: Sequence[tuple[str, str]],
    skills: Sequence[str],
    mastery: Mapping[str, Mapping[str, float]],
) -> str:
    """``learners``: (id, display name) in row order; cells are P(mastered) with 3 decimals,
    empty without an estimate. Text that a spreadsheet would run as a formula is quoted with a
    leading apostrophe (CSV injection)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["learner_id", "display_name", *(_cell(s) for s in skills)])
    for lid, name in learners:
        got = mastery.get(lid, {})
        w.writerow(
            [_cell(lid), _cell(name), *("" if s not in got else f"{got[s]:.3f}" for s in skills)]
        )
    return out.getvalue()
