"""The root ``Query`` type."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import strawberry

from api import access
from api.context import Info
from api.errors import BadInputError, ForbiddenError
from api.ids import from_global_id, to_key, to_keys
from api.limits import check_first
from api.types.change import CurriculumChange
from api.types.group import Group, Role, User, Viewer
from api.types.item import Item, ItemKind
from api.types.learner import Learner
from api.types.node import Node, PageInfo, encode_cursor
from api.types.paging import PageRequest, page_info_of, page_size
from api.types.skill import GraphDirection, Prerequisite, Skill, SkillGraph
from api.types.tracer import TracerActivation, TracerModel, tracer_activation, tracer_models
from graph import models as m
from graph.models import Role as DomainRole
from graph.store import GraphStore

if TYPE_CHECKING:
    from api.types.alert import Alert, AlertStatus
    from api.types.catalogue import SkillSuggestion

MAX_GRAPH_DEPTH = 50
T = TypeVar("T")


@strawberry.type
class SkillEdge:
    node: Skill
    cursor: str


@strawberry.type(description="A page of skills, ordered by key.")
class SkillConnection:
    edges: list[SkillEdge]
    page_info: PageInfo
    filters: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="How many skills match the filters, over all pages.")
    async def total_count(self, info: Info) -> int:
        return int(await info.context.store.count_skills(**self.filters))

    @strawberry.field
    def nodes(self) -> list[Skill]:
        return [e.node for e in self.edges]


@strawberry.type
class ItemEdge:
    node: Item
    cursor: str


@strawberry.type(description="A page of items, ordered by key.")
class ItemConnection:
    edges: list[ItemEdge]
    page_info: PageInfo
    filters: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="How many items match the filters, over all pages.")
    async def total_count(self, info: Info) -> int:
        return int(await info.context.store.count_items(**self.filters))

    @strawberry.field
    def nodes(self) -> list[Item]:
        return [e.node for e in self.edges]


def _keyset_page(found: list[T], request: PageRequest) -> tuple[list[T], PageInfo]:
    """The page of a store read of ``request.size + 1`` rows (the extra one tells whether
    more lie beyond the page in its direction); the other side is known from the cursor."""
    more = len(found) > request.size
    if request.backward:
        page = found[1:] if more else found
        has_previous, has_next = more, request.before is not None
    else:
        page = found[: request.size]
        has_previous, has_next = request.after is not None, more
    keys = [x.id for x in page]  # type: ignore[attr-defined]
    return page, page_info_of(keys, has_previous=has_previous, has_next=has_next)


async def load_skill(info: Info, key: str) -> Skill | None:
    found = await info.context.loaders.skill.load(key)
    return Skill.from_domain(found) if found else None


async def load_item(info: Info, key: str) -> Item | None:
    found = await info.context.loaders.item.load(key)
    return Item.from_domain(found) if found else None


async def load_learner(info: Info, key: str) -> Learner | None:
    await access.require_learner(info.context, key)
    found = await info.context.loaders.learner.load(key)
    return Learner.from_domain(found) if found else None


async def load_group(info: Info, key: str) -> Group | None:
    if info.context.principal is None:
        raise ForbiddenError(f"reading group {key!r} needs a teacher or admin token")
    found = await info.context.loaders.group.load(key)
    if found is None:
        return None
    denial = access.group_read_denial(info.context, found)
    if denial is not None:
        raise ForbiddenError(denial)
    return Group.from_domain(found)


async def load_user(info: Info, key: str) -> User | None:
    p = access.require_signed_in(info.context, "reading a user")
    if p.role is not DomainRole.ADMIN and p.sub != key:
        raise ForbiddenError(f"only admins read other users ({p.sub!r} asked for {key!r})")
    found = await info.context.loaders.user.load(key)
    return User.from_domain(found) if found else None


NODE_LOADERS = {
    "Skill": load_skill,
    "Item": load_item,
    "Learner": load_learner,
    "Group": load_group,
    "User": load_user,
}


async def resolve_node(info: Info, global_id: str) -> Node | None:
    type_name, key = from_global_id(global_id)
    node: Node | None = await NODE_LOADERS[type_name](info, key)
    return node


@strawberry.type
class Query:
    @strawberry.field(description="Fetch any object by its global id (Relay).")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description="Fetch objects by global id, in order (null when missing).")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > info.context.limits.max_first:
            raise BadInputError(
                f"nodes() takes at most {info.context.limits.max_first} ids, got {len(ids)}"
            )
        # gathered, so that the lookups of one kind share one DataLoader batch; every lookup
        # finishes before an error is raised, so none is left running after the request
        found = await asyncio.gather(*(resolve_node(info, i) for i in ids), return_exceptions=True)
        for result in found:
            if isinstance(result, BaseException):
                raise result
        return cast(list[Node | None], found)

    @strawberry.field(description="One skill by global id or key.")
    async def skill(self, info: Info, id: strawberry.ID) -> Skill | None:
        return await load_skill(info, to_key(id, "Skill"))

    @strawberry.field(
        description="Skills ordered by key, filtered, paged by cursor (first/after forward, "
        "last/before backward)."
    )
    async def skills(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        topic: str | None = None,
        area: str | None = None,
        search: Annotated[
            str | None, strawberry.argument(description="Case-insensitive substring of name.")
        ] = None,
        has_prerequisite: bool | None = None,
    ) -> SkillConnection:
        request = page_size(first, last, after, before, info.context.limits)
        filters: dict[str, Any] = {
            "topic": topic, "area": area, "search": search, "has_prerequisite": has_prerequisite
        }
        found = await info.context.store.list_skills(
            **filters, after=request.after, before=request.before, limit=request.size + 1,
            backward=request.backward,
        )
        page, info_ = _keyset_page(found, request)
        info.context.loaders.prime_skills(page)
        edges = [SkillEdge(node=Skill.from_domain(s), cursor=_cursor(s.id)) for s in page]
        return SkillConnection(edges=edges, page_info=info_, filters=filters)

    @strawberry.field(description="One item by global id or key.")
    async def item(self, info: Info, id: strawberry.ID) -> Item | None:
        return await load_item(info, to_key(id, "Item"))

    @strawberry.field(
        description="Items ordered by key, filtered, paged by cursor (first/after forward, "
        "last/before backward)."
    )
    async def items(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        skill_id: strawberry.ID | None = None,
        kind: ItemKind | None = None,
    ) -> ItemConnection:
        request = page_size(first, last, after, before, info.context.limits)
        filters: dict[str, Any] = {
            "skill_id": to_key(skill_id, "Skill") if skill_id is not None else None,
            "kind": kind.to_domain() if kind is not None else None,
        }
        found = await info.context.store.list_items(
            **filters, after=request.after, before=request.before, limit=request.size + 1,
            backward=request.backward,
        )
        page, info_ = _keyset_page(found, request)
        info.context.loaders.prime_items(page)
        edges = [ItemEdge(node=Item.from_domain(i), cursor=_cursor(i.id)) for i in page]
        return ItemConnection(edges=edges, page_info=info_, filters=filters)

    @strawberry.field(
        description="Skills reachable from `rootIds` (all skills when omitted) within `depth` "
        "edges, with the edges among them, in one round trip."
    )
    async def skill_graph(
        self,
        info: Info,
        root_ids: list[strawberry.ID] | None = None,
        depth: int | None = None,
        direction: GraphDirection = GraphDirection.PREREQUISITES,
    ) -> SkillGraph:
        if depth is not None and not 0 <= depth <= MAX_GRAPH_DEPTH:
            raise BadInputError(
                f"depth={depth} is out of range; use 0 to {MAX_GRAPH_DEPTH}, or omit it"
            )
        store = info.context.store
        if not root_ids:
            graph = await store.prerequisite_graph()
        else:
            roots = to_keys(list(root_ids), "Skill")
            graph = await _walk(store, roots, depth, direction)
        info.context.loaders.prime_skills(graph.skills)
        return SkillGraph(
            nodes=[Skill.from_domain(s) for s in graph.skills],
            edges=[Prerequisite.from_domain(e) for e in graph.edges],
        )

    @strawberry.field(description="A learner: themselves, their teachers, or an admin.")
    async def learner(self, info: Info, id: strawberry.ID) -> Learner | None:
        return await load_learner(info, to_key(id, "Learner"))

    @strawberry.field(description="A group: its teachers or an admin.")
    async def group(self, info: Info, id: strawberry.ID) -> Group | None:
        return await load_group(info, to_key(id, "Group"))

    @strawberry.field(
        description="Alerts of the learners of `groupId`, or of every group the caller "
        "teaches (teachers; admins name a group), kept until acknowledged, newest first "
        "(default: the open ones)."
    )
    async def alerts(
        self, info: Info, group_id: strawberry.ID | None = None,
        status: Annotated[AlertStatus, strawberry.lazy("api.types.alert")] | None = None,
    ) -> list[Annotated[Alert, strawberry.lazy("api.types.alert")]]:
        from api.types.alert import AlertStatus, group_alerts

        ctx = info.context
        p = access.require_signed_in(ctx, "reading alerts")
        if group_id is not None:
            group = await load_group(info, to_key(group_id, "Group"))
            groups = [] if group is None else [group.domain]
        elif p.role is DomainRole.TEACHER:
            groups = await ctx.loaders.groups_of_teacher.load(p.sub)
        else:
            raise ForbiddenError("alerts without groupId are a teacher's own groups' alerts; "
                                 "name a group with groupId")
        out = []
        for g in groups:
            out.extend(await group_alerts(info, g.id, list(g.learner_ids), None,
                                          status or AlertStatus.OPEN))
        out.sort(key=lambda a: a.since, reverse=True)
        return out

    @strawberry.field(description="The signed-in caller; null without a token.")
    def viewer(self, info: Info) -> Viewer | None:
        p = info.context.principal
        return None if p is None else Viewer(subject=p.sub, role=Role(p.role.value))

    @strawberry.field(
        description="Skills a new or untagged item likely assesses, best first, from its "
        "title and body (or `text`): nearest tagged items, skill descriptions and the "
        "prerequisite graph (designers and admins)."
    )
    async def suggest_skills(
        self,
        info: Info,
        item_id: strawberry.ID | None = None,
        text: str | None = None,
        first: int = 3,
    ) -> list[Annotated[SkillSuggestion, strawberry.lazy("api.types.catalogue")]]:
        from api.types.catalogue import suggest_skills

        return await suggest_skills(info, item_id, text, first)

    tracer_models: list[TracerModel] = strawberry.field(
        resolver=tracer_models, description="Saved tracer models (designers and admins)."
    )
    tracer_activation: TracerActivation | None = strawberry.field(
        resolver=tracer_activation,
        description="A switch of the serving tracer model (`activateTracerModel`) by id: its "
        "state and progress (designers and admins).",
    )

    @strawberry.field(description="Curriculum edits after `afterSeq`, oldest first.")
    async def curriculum_changes(
        self, info: Info, after_seq: int = 0, first: int | None = None
    ) -> list[CurriculumChange]:
        denial = access.curriculum_denial(info.context, "reading the change log")
        if denial is not None:
            raise ForbiddenError(denial)
        limit = check_first(first, info.context.limits)
        if limit == 0:
            return []
        rows = await info.context.store.change_log(after_seq=max(after_seq, 0), limit=limit)
        return [CurriculumChange.from_domain(c) for c in rows]


def _cursor(key: str) -> str:
    return encode_cursor(key)


async def _walk(
    store: GraphStore, roots: list[str], depth: int | None, direction: GraphDirection
) -> m.PrerequisiteGraph:
    if direction is GraphDirection.PREREQUISITES:
        return await store.ancestors(roots, depth)
    if direction is GraphDirection.DEPENDENTS:
        return await store.descendants(roots, depth)
    up = await store.ancestors(roots, depth)
    down = await store.descendants(roots, depth)
    skills = {s.id: s for s in (*up.skills, *down.skills)}
    edges = {(e.source, e.target): e for e in (*up.edges, *down.edges)}
    return m.PrerequisiteGraph(
        skills=tuple(skills[k] for k in sorted(skills)),
        edges=tuple(edges[k] for k in sorted(edges)),
    )
