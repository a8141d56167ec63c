"""The curriculum compiled into arrays: built once per curriculum version, shared by every call.

Skills and items get dense integer positions. Prerequisite edges are stored twice in CSR form
(parents of each skill, children of each skill), with the topological order, each skill's
level (longest chain of prerequisites below it) and the Q-matrix both ways (skills of each item,
items of each skill). Ancestor / descendant closures are computed by a level-synchronous BFS
over the CSR arrays (numpy, one vectorised step per level) and memoised per start set, so the
closure of a popular goal is computed once per curriculum version.

Everything is read-only after construction except the closure memo, which is bounded.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, TypeVar

import networkx as nx
import numpy as np

from graph.models import Item, ItemKind, PrerequisiteGraph
from recommender.errors import CurriculumCycleError, InvalidParameterError, UnknownIdError

T = TypeVar("T")
IntArray = np.ndarray
FloatArray = np.ndarray


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """What the recommender needs to know about an item (built from ``graph.models.Item``)."""

    id: str
    skills: tuple[str, ...]
    expected_seconds: float = 60.0
    difficulty: float = 0.5
    #: an exercise (answered); False: a lesson, video or reading (studied: a view)
    exercise: bool = True


def gather(ptr: IntArray, idx: IntArray, rows: IntArray) -> IntArray:
    """Concatenate the CSR rows ``rows`` (``idx[ptr[r]:ptr[r+1]]`` for each r), vectorised."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return np.empty(0, dtype=idx.dtype)
    starts = ptr[rows]
    lens = ptr[rows + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.empty(0, dtype=idx.dtype)
    offsets = np.repeat(starts - np.cumsum(lens) + lens, lens)
    return idx[offsets + np.arange(total)]


def _csr(n: int, keys: IntArray, values: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """CSR arrays grouping ``values`` by ``keys`` (stable); also returns the permutation."""
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr, values[order].astype(np.int64), order


class CurriculumIndex:
    """A prerequisite DAG and its items as arrays.

    Args:
        skill_ids: every skill id; position ``i`` is skill ``i`` everywhere below.
        edges: ``(source, target, strength)``: ``source`` is a prerequisite of ``target``.
        items: the items with their skills (Q-matrix row), expected seconds and difficulty.
        version: the curriculum version this index was built from (e.g. the change log's
            last seq), used by callers to know when to rebuild.
        closure_cache_size: how many ancestor/descendant closures to memoise.

    Raises:
        CurriculumCycleError: the edges contain a cycle (named in the error).
        UnknownIdError: an edge or item names a skill not in ``skill_ids``.
    """

    def __init__(
        self,
        skill_ids: Sequence[str],
        edges: Iterable[tuple[str, str, float]],
        items: Iterable[ItemSpec] = (),
        *,
        version: str = "",
        closure_cache_size: int = 4096,
    ) -> None:
        self.version = version
        self.skill_ids: tuple[str, ...] = tuple(skill_ids)
        self.skill_pos: dict[str, int] = {s: i for i, s in enumerate(self.skill_ids)}
        if len(self.skill_pos) != len(self.skill_ids):
            dupes = sorted({s for s in self.skill_ids if self.skill_ids.count(s) > 1})
            raise InvalidParameterError("skill_ids", dupes[:5], "unique skill ids")
        n = len(self.skill_ids)
        self.n_skills = n

        src_l: list[int] = []
        dst_l: list[int] = []
        str_l: list[float] = []
        missing: set[str] = set()
        for s, t, w in edges:
            ps, pt = self.skill_pos.get(s), self.skill_pos.get(t)
            if ps is None or pt is None:
                missing.update(x for x, p in ((s, ps), (t, pt)) if p is None)
                continue
            if ps == pt:
                raise CurriculumCycleError([s, s])
            src_l.append(ps)
            dst_l.append(pt)
            str_l.append(float(w))
        if missing:
            raise UnknownIdError("skill", sorted(missing), "every edge must join two known skills")
        self.edge_src = np.asarray(src_l, dtype=np.int64)
        self.edge_dst = np.asarray(dst_l, dtype=np.int64)
        self.edge_strength = np.asarray(str_l, dtype=np.float64)

        self.par_ptr, self.par_idx, perm = _csr(n, self.edge_dst, self.edge_src)
        self.par_strength = self.edge_strength[perm]
        self.chi_ptr, self.chi_idx, perm = _csr(n, self.edge_src, self.edge_dst)
        self.chi_strength = self.edge_strength[perm]
        self.n_parents = np.diff(self.par_ptr)
        self.n_children = np.diff(self.chi_ptr)

        self.topo, self.level = self._toposort()
        self.topo_rank = np.empty(n, dtype=np.int64)
        self.topo_rank[self.topo] = np.arange(n)

        self._init_items(list(items))
        self._closure_cache: OrderedDict[tuple[str, tuple[int, ...]], tuple[IntArray, IntArray]]
        self._closure_cache = OrderedDict()
        self._cache_size = closure_cache_size
        self._memo: dict[Hashable, Any] = {}

    # -- construction helpers -------------------------------------------------------------------
    def _toposort(self) -> tuple[IntArray, IntArray]:
        n = self.n_skills
        indeg = self.n_parents.copy()
        level = np.zeros(n, dtype=np.int64)
        frontier = np.flatnonzero(indeg == 0)
        order: list[IntArray] = []
        depth = 0
        while frontier.size:
            order.append(frontier)
            level[frontier] = depth
            kids = gather(self.chi_ptr, self.chi_idx, frontier)
            np.subtract.at(indeg, kids, 1)
            kids = np.unique(kids)
            frontier = kids[indeg[kids] == 0]
            depth += 1
        topo = np.concatenate(order) if order else np.empty(0, dtype=np.int64)
        if topo.size < n:
            done = np.zeros(n, dtype=bool)
            done[topo] = True
            rest = np.flatnonzero(~done)
            g = nx.DiGraph()
            keep = ~done[self.edge_src] & ~done[self.edge_dst]
            g.add_edges_from(
                zip(self.edge_src[keep].tolist(), self.edge_dst[keep].tolist(), strict=True)
            )
            cycle = nx.find_cycle(g, source=int(rest[0]))
            names = [self.skill_ids[u] for u, _ in cycle]
            raise CurriculumCycleError([*names, names[0]])
        return topo, level

    def _init_items(self, items: list[ItemSpec]) -> None:
        #: the items as given (what an incremental update starts from)
        self.item_specs: tuple[ItemSpec, ...] = tuple(items)
        self.item_ids: tuple[str, ...] = tuple(it.id for it in items)
        self.item_pos: dict[str, int] = {k: i for i, k in enumerate(self.item_ids)}
        m = len(items)
        self.n_items = m
        self.item_seconds = np.asarray([it.expected_seconds for it in items], dtype=np.float64)
        self.item_difficulty = np.asarray([it.difficulty for it in items], dtype=np.float64)
        self.item_exercise = np.asarray([it.exercise for it in items], dtype=np.bool_)
        keys: list[int] = []
        vals: list[int] = []
        missing: set[str] = set()
        for i, it in enumerate(items):
            for s in it.skills:
                p = self.skill_pos.get(s)
                if p is None:
                    missing.add(s)
                    continue
                keys.append(i)
                vals.append(p)
        if missing:
            raise UnknownIdError("skill", sorted(missing), "every item must assess known skills")
        k = np.asarray(keys, dtype=np.int64)
        v = np.asarray(vals, dtype=np.int64)
        self.item_skill_ptr, self.item_skill_idx, _ = _csr(m, k, v)
        self.skill_item_ptr, self.skill_item_idx, _ = _csr(self.n_skills, v, k)
        #: the first skill of each item (its main skill), -1 for an item with none
        self.item_main_skill = np.full(m, -1, dtype=np.int64)
        has = np.diff(self.item_skill_ptr) > 0
        self.item_main_skill[has] = self.item_skill_idx[self.item_skill_ptr[:-1][has]]
        counts = np.diff(self.skill_item_ptr)
        sums = np.bincount(v, weights=self.item_seconds[k], minlength=self.n_skills)
        #: mean expected seconds of each skill's items (60 s for a skill without items)
        self.skill_seconds = np.where(counts > 0, sums / np.maximum(counts, 1), 60.0)

    def with_version(self, version: str) -> CurriculumIndex:
        """This index under another version: for an edit that changed nothing the index holds
        (a skill renamed). Shares every array and the memoised closures (all derived from the
        same curriculum), so it costs nothing to make."""
        twin = copy.copy(self)
        twin.version = version
        return twin

    # -- lookups ---------------------------------------------------------------------------------
    def skill_positions(self, ids: Iterable[str]) -> IntArray:
        """Positions of skill ids; UnknownIdError names the ones that do not exist."""
        ids = list(ids)
        pos = [self.skill_pos.get(s) for s in ids]
        bad = [s for s, p in zip(ids, pos, strict=True) if p is None]
        if bad:
            raise UnknownIdError("skill", bad)
        return np.asarray(pos, dtype=np.int64)

    def item_positions(self, ids: Iterable[str]) -> IntArray:
        ids = list(ids)
        pos = [self.item_pos.get(s) for s in ids]
        bad = [s for s, p in zip(ids, pos, strict=True) if p is None]
        if bad:
            raise UnknownIdError("item", bad)
        return np.asarray(pos, dtype=np.int64)

    def parents(self, skill: int) -> IntArray:
        return self.par_idx[self.par_ptr[skill] : self.par_ptr[skill + 1]]

    def children(self, skill: int) -> IntArray:
        return self.chi_idx[self.chi_ptr[skill] : self.chi_ptr[skill + 1]]

    def items_of(self, skill: int) -> IntArray:
        return self.skill_item_idx[self.skill_item_ptr[skill] : self.skill_item_ptr[skill + 1]]

    def skills_of_item(self, item: int) -> IntArray:
        return self.item_skill_idx[self.item_skill_ptr[item] : self.item_skill_ptr[item + 1]]

    def mastery_array(self, mastery: dict[str, float], default: float = 0.0) -> FloatArray:
        """A dense ``(n_skills,)`` mastery vector from a skill id -> probability mapping
        (ids not in the curriculum are ignored: they may be skills removed since)."""
        out = np.full(self.n_skills, default, dtype=np.float64)
        if not mastery:
            return out
        # C-level passes for the positions and the values, one fancy assignment (every
        # recommendation builds this vector: a Python loop per skill cost more than the read)
        n = len(mastery)
        pos = np.fromiter(map(self.skill_pos.get, mastery, repeat(-1)), dtype=np.int64, count=n)
        values = np.fromiter(mastery.values(), dtype=np.float64, count=n)
        known = pos >= 0
        if not known.all():
            pos, values = pos[known], values[known]
        out[pos] = values
        return out

    # -- closures --------------------------------------------------------------------------------
    def _bfs(self, direction: str, starts: IntArray) -> tuple[IntArray, IntArray]:
        ptr, idx = (
            (self.par_ptr, self.par_idx) if direction == "up" else (self.chi_ptr, self.chi_idx)
        )
        dist = np.full(self.n_skills, -1, dtype=np.int64)
        frontier = np.unique(starts)
        dist[frontier] = 0
        d = 0
        while frontier.size:
            d += 1
            nxt = gather(ptr, idx, frontier)
            nxt = nxt[dist[nxt] < 0]
            if nxt.size == 0:
                break
            nxt = np.unique(nxt)
            dist[nxt] = d
            frontier = nxt
        nodes = np.flatnonzero(dist >= 0)
        return nodes, dist[nodes]

    def _closure(self, direction: str, starts: Iterable[int]) -> tuple[IntArray, IntArray]:
        key = (direction, tuple(sorted({int(s) for s in starts})))
        hit = self._closure_cache.get(key)
        if hit is not None:
            self._closure_cache.move_to_end(key)
            return hit
        res = self._bfs(direction, np.asarray(key[1], dtype=np.int64))
        res[0].setflags(write=False)
        res[1].setflags(write=False)
        self._closure_cache[key] = res
        if len(self._closure_cache) > self._cache_size:
            self._closure_cache.popitem(last=False)
        return res

    def ancestors(self, skills: Iterable[int], *, include_self: bool = True) -> IntArray:
        """Sorted positions of ``skills`` and everything they transitively require."""
        nodes, dist = self._closure("up", skills)
        return nodes if include_self else nodes[dist > 0]

    def descendants(self, skills: Iterable[int], *, include_self: bool = True) -> IntArray:
        """Sorted positions of ``skills`` and everything that transitively requires them."""
        nodes, dist = self._closure("down", skills)
        return nodes if include_self else nodes[dist > 0]

    def ancestor_distances(self, skill: int) -> tuple[IntArray, IntArray]:
        """``(nodes, hops)``: every ancestor of ``skill`` (itself at 0) and its BFS distance."""
        return self._closure("up", (skill,))

    def descendant_distances(self, skill: int) -> tuple[IntArray, IntArray]:
        return self._closure("down", (skill,))

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """A value derived from this curriculum, built on first use and kept with the index
        (so it is rebuilt exactly when the curriculum version changes)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]  # type: ignore[no-any-return]

    def to_networkx(self) -> nx.DiGraph:
        """The prerequisite graph as a networkx DiGraph of skill ids (edge attr ``strength``)."""
        g = nx.DiGraph()
        g.add_nodes_from(self.skill_ids)
        for s, t, w in zip(
            self.edge_src.tolist(), self.edge_dst.tolist(), self.edge_strength.tolist(), strict=True
        ):
            g.add_edge(self.skill_ids[s], self.skill_ids[t], strength=w)
        return g


def index_from_domain(
    graph: PrerequisiteGraph, items: Iterable[Item], *, version: str = ""
) -> CurriculumIndex:
    """Build the index from the store's ``PrerequisiteGraph`` and ``Item`` domain objects."""
    specs = [
        ItemSpec(
            id=it.id,
            skills=it.skill_ids,
            expected_seconds=float(it.expected_seconds),
            difficulty=float(it.difficulty),
            exercise=it.kind is ItemKind.EXERCISE,
        )
        for it in items
    ]
    return CurriculumIndex(
        [s.id for s in graph.skills],
        [(e.source, e.target, e.strength) for e in graph.edges],
        specs,
        version=version,
    )
