"""Views of lessons, videos and readings: what a learner studied, apart from their answers
(a view has no score, is never traced and moves no mastery)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated

import strawberry

from api import access
from api import validation as v
from api.context import Context, Info
from api.ids import to_global_id, to_key
from api.types.errors import Error, ForbiddenError, NotFoundError, ValidationError
from api.types.item import Item
from api.types.mutation_base import allow, guarded
from api.types.node import PageInfo
from graph import models as m
from graph import store as gs


@strawberry.type(description="A learner studied a lesson, video or reading (not an answer).")
class View:
    domain: strawberry.Private[m.View]
    view_id: str = strawberry.field(description="The client's id (idempotency key).")
    learner_id: strawberry.ID
    item_id: strawberry.ID
    timestamp: datetime
    seconds: int | None = strawberry.field(description="Time spent (null: not measured).")
    progress: float = strawberry.field(description="Share watched or read, in [0, 1].")

    @classmethod
    def from_domain(cls, w: m.View) -> View:
        return cls(
            domain=w,
            view_id=w.view_id,
            learner_id=strawberry.ID(to_global_id("Learner", w.learner_id)),
            item_id=strawberry.ID(to_global_id("Item", w.item_id)),
            timestamp=w.timestamp,
            seconds=w.seconds,
            progress=w.progress,
        )

    @strawberry.field
    async def item(self, info: Info) -> Item | None:
        found = await info.context.loaders.item.load(self.domain.item_id)
        return Item.from_domain(found) if found else None


@strawberry.type
class ViewEdge:
    node: View
    cursor: str


@strawberry.type(description="A learner's views, newest first.")
class ViewConnection:
    edges: list[ViewEdge]
    page_info: PageInfo
    learner_key: strawberry.Private[str]

    @strawberry.field(description="How many views the learner has, over all pages.")
    async def total_count(self, info: Info) -> int:
        return int(await info.context.store.view_count(self.learner_key))

    @strawberry.field
    def nodes(self) -> list[View]:
        return [e.node for e in self.edges]


def view_connection(learner_id: str, edges: list[tuple[m.View, str]],
                    page_info: PageInfo) -> ViewConnection:
    """The connection of a page that :func:`api.types.paging.history_page` read."""
    return ViewConnection(learner_key=learner_id, page_info=page_info,
                          edges=[ViewEdge(node=View.from_domain(w), cursor=c) for w, c in edges])


@strawberry.input(description="One view; `viewId` makes a retried request safe.")
class ViewInput:
    view_id: str
    learner_id: strawberry.ID
    item_id: strawberry.ID = strawberry.field(description="A lesson, video or reading.")
    timestamp: datetime | None = strawberry.field(
        default=None,
        description="Default: the server's time when the view is first stored (a retry "
        "without one is a duplicate, compared on the other fields).",
    )
    seconds: int | None = strawberry.field(default=None, description="Time spent.")
    progress: float = strawberry.field(
        default=1.0, description="Share watched or read, in [0, 1] (1: all of it)."
    )


@strawberry.type(description="What `recordViews` stored.")
class RecordViewsPayload:
    views: list[View] = strawberry.field(description="Every view sent, as stored.")
    stored_ids: list[str] = strawberry.field(description="View ids stored by this call.")
    duplicate_ids: list[str] = strawberry.field(
        description="View ids already stored with the same content (a retry): stored once."
    )


@strawberry.type(description="View ids already stored with different content.")
class ViewConflictError(Error):
    view_ids: list[str]


RecordViewsResult = Annotated[
    RecordViewsPayload | ValidationError | NotFoundError | ForbiddenError | ViewConflictError,
    strawberry.union("RecordViewsResult"),
]


def to_views(inputs: list[ViewInput], ctx: Context) -> tuple[list[m.View], frozenset[str]]:
    """Validate and convert a batch (as :func:`api.types.mutation_people.to_attempts` does);
    returns the views and the ids sent without a timestamp."""
    if not inputs:
        raise v.ValidationError("input", "is empty; send at least one view")
    if len(inputs) > ctx.limits.max_batch:
        raise v.ValidationError(
            "input", f"has {len(inputs)} views; send at most {ctx.limits.max_batch} per call"
        )
    now = m.utcnow()
    out: dict[str, m.View] = {}
    untimed: set[str] = set()
    for i, w in enumerate(inputs):
        where = f"input[{i}]"
        view = m.View(
            view_id=v.key(f"{where}.viewId", w.view_id),
            learner_id=to_key(w.learner_id, "Learner"),
            item_id=to_key(w.item_id, "Item"),
            timestamp=v.timestamp(f"{where}.timestamp", w.timestamp, now),
            seconds=None if w.seconds is None else v.non_negative(f"{where}.seconds", w.seconds),
            progress=v.unit(f"{where}.progress", w.progress),
        )
        vid = view.view_id
        seen = out.get(vid)
        if seen is None:
            out[vid] = view
            if w.timestamp is None:
                untimed.add(vid)
        elif seen != view:
            either_untimed = vid in untimed or w.timestamp is None
            if not (
                either_untimed and replace(seen, timestamp=now) == replace(view, timestamp=now)
            ):
                raise v.ValidationError(
                    f"{where}.viewId",
                    f"{vid!r} appears twice with different content; give each view its own id",
                )
            if w.timestamp is not None:  # the client's own time wins over the filled-in one
                out[vid] = view
                untimed.discard(vid)
    return list(out.values()), frozenset(untimed)


@strawberry.type
class ViewMutation:
    @strawberry.mutation(
        description="Record that learners studied lessons, videos or readings (batch; "
        "idempotent on viewId). Views are not answers: nothing is traced and mastery does not "
        "move; answers to exercises go to `recordAttempts`."
    )
    async def record_views(self, info: Info, input: list[ViewInput]) -> RecordViewsResult:
        ctx = info.context
        if ctx.principal is None:
            return ForbiddenError(message="recording views needs a token; none was sent")

        async def write() -> RecordViewsPayload | Error:
            views, untimed = to_views(input, ctx)
            for learner_id in sorted({w.learner_id for w in views}):
                allow(await access.learner_denial(ctx, learner_id, write=True))
            try:
                result = await ctx.store.record_views(views, untimed=untimed)
            except gs.ViewConflictError as exc:
                return ViewConflictError(message=str(exc), view_ids=list(exc.view_ids))
            stored = [  # retried untimed views: as the first try stored them
                replace(w, timestamp=result.timestamps.get(w.view_id, w.timestamp))
                for w in views
            ]
            return RecordViewsPayload(
                views=[View.from_domain(w) for w in stored],
                stored_ids=list(result.stored),
                duplicate_ids=list(result.duplicates),
            )

        payload: RecordViewsResult = await guarded(write)
        return payload
