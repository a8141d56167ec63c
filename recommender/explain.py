"""Structured reasons attached to every recommendation.

A reason is a stable ``code`` (for programs), a human ``message`` and the ``data`` behind it
(for interfaces that render their own text). Builders below give every code one wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

#: Every reason code a recommendation can carry (the API's ``ReasonCode`` enum has one value
#: each): next-item reasons built below, catalogue ones in ``recommender.catalogue.explain``.
REASON_CODES: Final = frozenset({
    "ready", "unblocks_goal", "predicted_success", "review_due", "remediation", "easier_item",
    "interleave", "explore", "goal_mastered", "completed", "unlocks", "strategy", "studied",
})


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in REASON_CODES:
            raise ValueError(f"reason code {self.code!r} is not one of {sorted(REASON_CODES)}; "
                             "add it to REASON_CODES (and the API's ReasonCode enum)")

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": dict(self.data)}


def _names(ids: Sequence[str], limit: int = 3) -> str:
    shown = list(ids[:limit])
    if not shown:
        return ""
    if len(ids) > limit:
        return ", ".join(shown) + f" and {len(ids) - limit} more"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def ready(skill: str, prerequisites: Sequence[str]) -> Reason:
    if prerequisites:
        msg = f"ready: prerequisites {_names(prerequisites)} mastered"
    else:
        msg = f"ready: {skill} has no prerequisites"
    return Reason("ready", msg, {"skill": skill, "prerequisites": list(prerequisites)})


def unblocks(skill: str, goals: Sequence[str], n_unblocked: int) -> Reason:
    return Reason(
        "unblocks_goal",
        f"unblocks goal {_names(goals)} ({n_unblocked} skill(s) on the path depend on it)",
        {"skill": skill, "goals": list(goals), "unblocked": n_unblocked},
    )


def predicted_success(p: float, band: tuple[float, float]) -> Reason:
    inside = band[0] <= p <= band[1]
    where = "in" if inside else "closest to"
    return Reason(
        "predicted_success",
        f"predicted success {p:.2f} ({where} target band {band[0]:.2f}-{band[1]:.2f})",
        {"p": round(float(p), 4), "band": [band[0], band[1]], "in_band": inside},
    )


def review_due(skill: str, days_since: float, retrievability: float) -> Reason:
    return Reason(
        "review_due",
        f"review due: last practised {days_since:.0f} day(s) ago, recall estimated "
        f"{retrievability:.2f}",
        {
            "skill": skill,
            "days_since": round(float(days_since), 2),
            "retrievability": round(float(retrievability), 4),
        },
    )


def remediation(skill: str, root_cause: str, failures: int, mastery: float) -> Reason:
    return Reason(
        "remediation",
        f"step back: {failures} failures in a row on {skill}; its weakest prerequisite "
        f"{root_cause} has mastery {mastery:.2f}",
        {"skill": skill, "root_cause": root_cause, "failures": failures, "mastery": mastery},
    )


def easier_item(skill: str, failures: int) -> Reason:
    return Reason(
        "easier_item",
        f"{failures} failures in a row on {skill} and its prerequisites are mastered: "
        "an easier item on the same skill",
        {"skill": skill, "failures": failures},
    )


def interleave(skill: str, previous: str) -> Reason:
    return Reason(
        "interleave",
        f"interleaving: switches from {previous} to {skill}",
        {"skill": skill, "previous": previous},
    )


def studied(skill: str, item: str) -> Reason:
    return Reason(
        "studied",
        f"you studied {item} on {skill} since your last answer on it: now practise it with an "
        "exercise",
        {"skill": skill, "item": item},
    )


def explore(item: str, sampled_gain: float, n_observed: int) -> Reason:
    return Reason(
        "explore",
        f"chosen among near-equal items by Thompson sampling (sampled gain {sampled_gain:.2f}, "
        f"{n_observed} observation(s))",
        {"item": item, "sampled_gain": round(float(sampled_gain), 4), "observations": n_observed},
    )


def goal_reached(goals: Sequence[str]) -> Reason:
    return Reason(
        "goal_mastered",
        f"goal {_names(goals)} mastered by the estimate: consolidating its least certain skills",
        {"goals": list(goals)},
    )
