"""Teachers' alerts in the API: the ``Alert`` type and the lists (``group.alerts``,
``alerts``), open or acknowledged (``acknowledgeAlert`` is in :mod:`api.types.mutation_teacher`).

The lists derive what holds now (``analytics``), read the learners' stored alerts, and keep in
the store (``GraphStore.raise_alerts``, idempotent by key) only the derived ones that change
it, so an alert survives a restart and keeps when it was raised and whether a teacher
dismissed it, and a read of a class that has not moved writes nothing. A list ``asOf`` a past
moment derives as of then and keeps nothing (what held then need not now).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import Enum

import strawberry

from analytics import alerts as al
from api.context import Info
from api.errors import BadInputError
from api.types.learner import Learner
from api.types.skill import Skill
from api.types.teacher import RiskReason, _learner, _skill
from graph import models as m


@strawberry.enum(description="Why a teacher is alerted about a learner.")
class AlertKind(Enum):
    AT_RISK = "AT_RISK"
    STUCK = "STUCK"


@strawberry.enum(description="Which alerts a list shows.")
class AlertStatus(Enum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    ALL = "ALL"

    @property
    def acknowledged(self) -> bool | None:
        return {"OPEN": False, "ACKNOWLEDGED": True, "ALL": None}[self.value]


@strawberry.type(description="A condition a teacher should act on, derived from the answers "
                 "and kept in the store until acknowledged.")
class Alert:
    domain: strawberry.Private[al.Alert]
    group_key: strawberry.Private[str]
    stored: strawberry.Private[m.StoredAlert | None]
    key: str = strawberry.field(description="Stable per condition: kind, learner and skill.")
    kind: AlertKind
    since: datetime = strawberry.field(description="When the condition began.")
    message: str
    risk: float | None
    reasons: list[RiskReason]

    @classmethod
    def from_domain(
        cls, a: al.Alert, group_id: str, stored: m.StoredAlert | None = None
    ) -> Alert:
        return cls(
            domain=a,
            group_key=group_id,
            stored=stored,
            key=al.alert_key(a),
            kind=AlertKind(a.kind.value),
            since=a.since,
            message=a.message,
            risk=a.risk,
            reasons=[RiskReason.from_domain(r) for r in a.reasons],
        )

    @classmethod
    def from_stored(cls, s: m.StoredAlert, group_id: str) -> Alert:
        return cls.from_domain(al.from_stored(s), group_id, s)

    async def _kept(self, info: Info) -> m.StoredAlert | None:
        if self.stored is None:  # a pushed alert: read what the store kept of it
            (self.stored,) = await info.context.store.get_alerts([self.key])
        return self.stored

    @strawberry.field(description="When the store first kept this alert (null: not kept).")
    async def raised_at(self, info: Info) -> datetime | None:
        kept = await self._kept(info)
        return None if kept is None else kept.raised_at

    @strawberry.field(description="A teacher acknowledged (dismissed) it: `acknowledgeAlert`.")
    async def acknowledged(self, info: Info) -> bool:
        kept = await self._kept(info)
        return kept is not None and kept.acknowledged

    @strawberry.field(description="When it was acknowledged (null: open).")
    async def acknowledged_at(self, info: Info) -> datetime | None:
        kept = await self._kept(info)
        return None if kept is None else kept.acknowledged_at

    @strawberry.field(description="Who acknowledged it (a user id; null: open).")
    async def acknowledged_by(self, info: Info) -> str | None:
        kept = await self._kept(info)
        return None if kept is None else kept.acknowledged_by

    @strawberry.field
    async def learner(self, info: Info) -> Learner | None:
        return await _learner(info, self.domain.learner_id)

    @strawberry.field(description="The skill the learner is stuck on (STUCK).")
    async def skill(self, info: Info) -> Skill | None:
        return await _skill(info, self.domain.skill_id)

    @strawberry.field(description="The unmastered prerequisite to work on first (STUCK).")
    async def root_cause(self, info: Info) -> Skill | None:
        return await _skill(info, self.domain.root_cause_id)

    @strawberry.field(description="The group (class) the alert was raised in.")
    def group_id(self) -> strawberry.ID:
        from api.ids import to_global_id

        return strawberry.ID(to_global_id("Group", self.group_key))



async def group_alerts(
    info: Info,
    group_id: str,
    learner_ids: list[str],
    as_of: datetime | None,
    status: AlertStatus = AlertStatus.OPEN,
) -> list[Alert]:
    """The alerts of a group's learners in ``status``, newest ``since`` first."""
    if as_of is not None and as_of.tzinfo is None:
        raise BadInputError(f"asOf={as_of.isoformat()} has no timezone", argument="asOf")
    ctx = info.context
    found = await ctx.services.analytics.alerts(learner_ids, as_of)
    wanted = status.acknowledged
    if as_of is not None:  # then, not now: derive, and show what the store knows of each
        kept = await ctx.store.get_alerts([al.alert_key(a) for a in found])
        pairs = [(a, k) for a, k in zip(found, kept, strict=True)
                 if wanted is None or (k is not None and k.acknowledged) == wanted]
        return [Alert.from_domain(a, group_id, k) for a, k in pairs]
    stored = {r.key: r for r in await ctx.store.alerts_of(learner_ids)}
    now = ctx.services.clock()
    changed = [s for s in (al.to_stored(a, now) for a in found) if _moves(stored.get(s.key), s)]
    if changed:  # a read writes only what it changes: nothing, once the class is steady
        stored.update((r.key, r) for r in await ctx.store.raise_alerts(changed))
    rows = sorted(sorted(stored.values(), key=lambda r: r.key), key=lambda r: r.since,
                  reverse=True)  # the store's order: newest since first, ties by key
    return [Alert.from_stored(r, group_id) for r in rows
            if wanted is None or r.acknowledged == wanted]


def _moves(old: m.StoredAlert | None, new: m.StoredAlert) -> bool:
    """Whether keeping ``new`` changes the stored ``old`` (``GraphStore.raise_alerts``)."""
    if old is None:
        return True
    if old.acknowledged_at is not None:
        return new.since > old.acknowledged_at
    return replace(new, raised_at=old.raised_at) != old
