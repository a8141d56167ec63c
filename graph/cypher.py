"""Every Cypher statement the Neo4j store runs, as constants and a few small builders.

Values always travel as ``$parameters``; batch writes ``UNWIND $rows``. Reads that can return
many rows return ONE record, ``rows``, a list of maps: the driver spends far more per record
than per list element (a 1,000-skill subgraph reads several times faster this way; see
``benchmarks/bench_neo4j_reads.py``). The builders only
choose among fixed clauses (or splice a validated ``int`` depth / a label from
:data:`LABELS`), never text that came from a caller.

The graph model::

    (:Skill {id, name, name_lower, description, topic, area, tags})
    (:Skill)-[:PREREQUISITE_OF {strength}]->(:Skill)         source must be learned before target
    (:Item {id, kind, title, body, url, difficulty, expected_seconds})
    (:Item)-[:ASSESSES {weight, pos}]->(:Skill)               one Q-matrix row, ``pos`` keeps order
    (:Learner {id, display_name, target_retention})-[:HAS_GOAL {pos}]->(:Skill)
    (:Learner)-[:MEMBER_OF {pos}]->(:Group {id, name, teacher_ids})
    (:Group)-[:TAUGHT_BY]->(:Teacher {id})      one per teacher id a group lists: the index of
                                                groups_of_teacher (teacher_ids keeps the order)
    (:User {id, display_name, role})
    (:Learner)-[:ATTEMPTED]->(:Attempt {id, learner_id, item_id, score, timestamp,
                                        response_time_ms, hints_used})-[:ON_ITEM]->(:Item)
    (:Learner)-[:MASTERY {probability, uncertainty, updated_at, model_version}]->(:Skill)
    (:TracerState {learner_id, model_version, state})
    (:Change {seq, batch, actor, at, action, entity, entity_id, detail, before, after})
      + (:ChangeCounter {name, seq})
    (:ArchivedSkill {batch, skill_id, mastery, goals})   learners' data of a deleted skill
    (:Migration {version, name, checksum, applied_at})

``learner_id`` / ``item_id`` are copied onto each attempt so that a learner's history is one
index range scan on ``(learner_id, timestamp)``, and so that the history survives removing the
item (as in the SQLite store, where ``attempts.item_id`` is not a foreign key).
"""

from __future__ import annotations

from typing import Final

#: Labels that :func:`missing_ids` may name (the only text ever spliced into a query).
LABELS: Final = frozenset({"Skill", "Item", "Learner", "User", "Group"})

# -- migrations and test support ------------------------------------------------------------

APPLIED_MIGRATIONS: Final = """
MATCH (m:Migration)
RETURN m.version AS version, m.checksum AS checksum
"""

RECORD_MIGRATION: Final = """
MERGE (m:Migration {version: $version})
SET m.name = $name, m.checksum = $checksum, m.applied_at = $applied_at
"""

#: Test-only: delete everything except migration records, in batches (auto-commit only).
WIPE_ALL_DATA_FOR_TESTS: Final = """
MATCH (n) WHERE NOT n:Migration
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
"""

# -- generic --------------------------------------------------------------------------------


def epoch_us(expr: str) -> str:
    """Cypher for the ``DateTime`` ``expr`` as integer microseconds since the Unix epoch.

    Hot reads return timestamps this way, not as ``DateTime`` values: the driver's per-value
    ``DateTime`` hydration cost ~10x the rest of reading a learner's 1,000 mastery rows (see
    ``benchmarks/bench_recommend_api.py``); :func:`graph.neo4j_values.to_datetime` turns the
    number back into the same aware UTC ``datetime``, exactly. It is built on ``epochMillis``,
    which floors; ``epochSeconds`` truncates toward zero before 1970 (1969-12-31T23:59:59.5 has
    ``epochSeconds`` 0, like 1970-01-01T00:00:00.5), so ``[epochSeconds, nanosecond]`` is not
    exact there. ``expr`` is a fixed variable/property name of a query here, never input."""
    return f"{expr}.epochMillis * 1000 + {expr}.microsecond % 1000"


def missing_ids(label: str) -> str:
    """Query returning ``missing``: those of ``$ids`` with no ``label`` node."""
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r}; expected one of {sorted(LABELS)}")
    return f"""
UNWIND $ids AS id
WITH id WHERE NOT EXISTS {{ MATCH (:{label} {{id: id}}) }}
RETURN collect(DISTINCT id) AS missing
"""


# -- curriculum reads -----------------------------------------------------------------------

_ITEM_PROJECTION: Final = """i {.*, skills: [(i)-[a:ASSESSES]->(s:Skill)
                   | {skill_id: s.id, weight: a.weight, pos: a.pos}]}"""

GET_SKILLS: Final = """
MATCH (s:Skill) WHERE s.id IN $ids
RETURN collect({skill: s {.*}}) AS rows
"""

GET_ITEMS: Final = f"""
MATCH (i:Item) WHERE i.id IN $ids
RETURN collect({{item: {_ITEM_PROJECTION}}}) AS rows
"""


def list_skills(
    *, topic: bool, area: bool, search: bool, has_prerequisite: bool | None,
    before: bool = False, backward: bool = False, count: bool = False,
) -> str:
    """Keyset page of skills; the flags say which filters are present (``$after``, ``$limit``,
    and ``$topic`` / ``$area`` / ``$search`` / ``$before`` when flagged). ``backward``: the
    page nearest ``$before``, highest id first; ``count``: how many match the filters."""
    where = ["s.id > $after"] if not count else ["s.id IS NOT NULL"]
    if before and not count:
        where.append("s.id < $before")
    if topic:
        where.append("s.topic = $topic")
    if area:
        where.append("s.area = $area")
    if search:
        where.append("s.name_lower CONTAINS $search")
    if has_prerequisite is True:
        where.append("EXISTS { (s)<-[:PREREQUISITE_OF]-(:Skill) }")
    elif has_prerequisite is False:
        where.append("NOT EXISTS { (s)<-[:PREREQUISITE_OF]-(:Skill) }")
    if count:
        return f'MATCH (s:Skill) WHERE {" AND ".join(where)} RETURN count(s) AS n'
    return f"""
MATCH (s:Skill) WHERE {" AND ".join(where)}
WITH s ORDER BY s.id{" DESC" if backward else ""} LIMIT $limit
RETURN collect({{skill: s {{.*}}}}) AS rows
"""


def list_items(
    *, skill: bool, kind: bool, before: bool = False, backward: bool = False, count: bool = False
) -> str:
    """Keyset page of items (``$after``, ``$limit``, ``$skill_id`` / ``$kind`` / ``$before``
    when flagged; ``backward`` and ``count`` as in :func:`list_skills`)."""
    where = ["i.id > $after"] if not count else ["i.id IS NOT NULL"]
    if before and not count:
        where.append("i.id < $before")
    if skill:
        where.append("EXISTS { (i)-[:ASSESSES]->(:Skill {id: $skill_id}) }")
    if kind:
        where.append("i.kind = $kind")
    if count:
        return f'MATCH (i:Item) WHERE {" AND ".join(where)} RETURN count(i) AS n'
    return f"""
MATCH (i:Item) WHERE {" AND ".join(where)}
WITH i ORDER BY i.id{" DESC" if backward else ""} LIMIT $limit
RETURN collect({{item: {_ITEM_PROJECTION}}}) AS rows
"""


ITEMS_FOR_SKILLS: Final = f"""
UNWIND $ids AS sid
MATCH (:Skill {{id: sid}})<-[:ASSESSES]-(i:Item)
RETURN collect({{sid: sid, item: {_ITEM_PROJECTION}}}) AS rows
"""

#: Every skill with its incoming edges ``[source, strength]``: the whole graph in one statement.
PREREQUISITE_GRAPH: Final = """
MATCH (s:Skill)
RETURN collect({skill: s {.*},
                incoming: [(p:Skill)-[e:PREREQUISITE_OF]->(s) | [p.id, e.strength]]}) AS rows
"""

PREREQUISITES_OF: Final = """
UNWIND $ids AS sid
MATCH (p:Skill)-[e:PREREQUISITE_OF]->(:Skill {id: sid})
RETURN collect({sid: sid, other: p.id, strength: e.strength}) AS rows
"""

DEPENDENTS_OF: Final = """
UNWIND $ids AS sid
MATCH (:Skill {id: sid})-[e:PREREQUISITE_OF]->(d:Skill)
RETURN collect({sid: sid, other: d.id, strength: e.strength}) AS rows
"""


def closure(direction: str, depth: int | None) -> str:
    """The given skills ``$ids`` plus every skill reachable against (``ancestors``) or along
    (``descendants``) prerequisite edges within ``depth`` steps, each with its incoming edges.

    The result is ``DISTINCT`` on the end node, which lets Neo4j use its pruning breadth-first
    expand instead of enumerating every path."""
    if direction == "ancestors":
        pattern = "(start)<-[:PREREQUISITE_OF*0..{bound}]-(s:Skill)"
    elif direction == "descendants":
        pattern = "(start)-[:PREREQUISITE_OF*0..{bound}]->(s:Skill)"
    else:
        raise ValueError(f"direction must be 'ancestors' or 'descendants', not {direction!r}")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
        raise ValueError(f"depth must be a non-negative int or None, not {depth!r}")
    bound = "" if depth is None else str(depth)
    return f"""
MATCH (start:Skill) WHERE start.id IN $ids
MATCH {pattern.format(bound=bound)}
WITH DISTINCT s
RETURN collect({{skill: s {{.*}},
                incoming: [(p:Skill)-[e:PREREQUISITE_OF]->(s) | [p.id, e.strength]]}}) AS rows
"""


# -- curriculum writes ----------------------------------------------------------------------

UPSERT_SKILLS: Final = """
UNWIND $rows AS r
MERGE (s:Skill {id: r.id})
SET s = r
"""

UPSERT_ITEMS: Final = """
UNWIND $rows AS r
MERGE (i:Item {id: r.id})
SET i = r.props
WITH i, r
CALL (i) { MATCH (i)-[old:ASSESSES]->() DELETE old }
CALL (i, r) {
  UNWIND r.skills AS w
  MATCH (s:Skill {id: w.skill_id})
  CREATE (i)-[:ASSESSES {weight: w.weight, pos: w.pos}]->(s)
}
"""

UPSERT_PREREQUISITES: Final = """
UNWIND $rows AS r
MATCH (a:Skill {id: r.source}), (b:Skill {id: r.target})
MERGE (a)-[e:PREREQUISITE_OF]->(b)
SET e.strength = r.strength
"""

#: After writing the new edges (same transaction): a path ``target ->* source`` closes a cycle.
#: The first new edge (in the order given) that closes one reports it, as the embedded store does.
FIND_CYCLE: Final = """
UNWIND range(0, size($rows) - 1) AS k
WITH k, $rows[k] AS r
MATCH (a:Skill {id: r.source}), (b:Skill {id: r.target})
MATCH p = shortestPath((b)-[:PREREQUISITE_OF*]->(a))
RETURN k, [n IN nodes(p) | n.id] AS path
ORDER BY k LIMIT 1
"""

#: Deletes the skills and returns, for each one that existed, the edges that went with it.
REMOVE_SKILLS: Final = """
MATCH (s:Skill) WHERE s.id IN $ids
WITH s, s.id AS id,
     [(s)-[e:PREREQUISITE_OF]-(:Skill) | [startNode(e).id, endNode(e).id]] AS edges
DETACH DELETE s
RETURN id, edges
"""

REMOVE_ITEMS: Final = """
MATCH (i:Item) WHERE i.id IN $ids
WITH i, i.id AS id
DETACH DELETE i
RETURN id
"""

REMOVE_PREREQUISITES: Final = """
UNWIND $rows AS r
MATCH (:Skill {id: r.source})-[e:PREREQUISITE_OF]->(:Skill {id: r.target})
DELETE e
RETURN DISTINCT r.source AS source, r.target AS target
"""

#: First statement of every curriculum write: take the write lock on the change counter, so
#: curriculum writes are serialised (two concurrent prerequisite edits cannot each pass the cycle
#: check and together close a cycle) and always lock in the same order (no deadlocks).
LOCK_CURRICULUM: Final = """
MERGE (c:ChangeCounter {name: 'curriculum'})
ON CREATE SET c.seq = 0
SET c.seq = c.seq + 0
"""

#: Append ``$changes`` under one lock on the counter node. ``SET c.seq = c.seq + n`` takes the
#: write lock before it reads, so concurrent writers never hand out the same seq.
APPEND_CHANGES: Final = """
MERGE (c:ChangeCounter {name: 'curriculum'})
ON CREATE SET c.seq = 0
SET c.seq = c.seq + size($changes)
WITH c.seq - size($changes) AS base
UNWIND range(0, size($changes) - 1) AS k
WITH base, base + k + 1 AS seq, $changes[k] AS ch
CREATE (:Change {seq: seq, batch: base + 1, actor: $actor, at: $at, action: ch.action,
                 entity: ch.entity, entity_id: ch.entity_id, detail: ch.detail,
                 before: ch.before, after: ch.after})
RETURN DISTINCT base + 1 AS batch
"""

CHANGE_LOG: Final = f"""
MATCH (c:Change) WHERE c.seq > $after_seq
WITH c ORDER BY c.seq LIMIT $limit
RETURN collect({{change: c {{.*, at: {epoch_us("c.at")}}}}}) AS rows
"""

# -- planned curriculum edits (graph.neo4j_edits) --------------------------------------------

LAST_CHANGE_SEQ: Final = """
OPTIONAL MATCH (c:ChangeCounter {name: 'curriculum'})
RETURN coalesce(c.seq, 0) AS seq
"""

#: What a plan reads, in one read transaction: the log's last seq, every skill and edge, and
#: the items named (``$item_ids``) or assessing a skill to drop (``$skill_ids``).
CURRICULUM_SNAPSHOT: Final = f"""
OPTIONAL MATCH (c:ChangeCounter {{name: 'curriculum'}})
WITH coalesce(c.seq, 0) AS seq
CALL () {{ MATCH (s:Skill) RETURN collect(s {{.*}}) AS skills }}
CALL () {{
  MATCH (a:Skill)-[e:PREREQUISITE_OF]->(b:Skill)
  RETURN collect([a.id, b.id, e.strength]) AS edges
}}
CALL () {{
  MATCH (i:Item)
  WHERE i.id IN $item_ids OR EXISTS {{ (i)-[:ASSESSES]->(s:Skill) WHERE s.id IN $skill_ids }}
  RETURN collect({_ITEM_PROJECTION}) AS items
}}
RETURN seq, skills, edges, items
"""

#: The learners' data that goes with each skill of ``$ids`` (read before deleting them).
ARCHIVE_READ: Final = f"""
UNWIND $ids AS sid
MATCH (s:Skill {{id: sid}})
RETURN sid AS skill_id,
       [(l:Learner)-[m:MASTERY]->(s) | m {{.*, learner_id: l.id, skill_id: s.id,
                                          updated_at: {epoch_us("m.updated_at")}}}] AS mastery,
       [(l:Learner)-[g:HAS_GOAL]->(s) | [l.id, g.pos]] AS goals,
       [(c:Group)-[g:CLASS_GOAL]->(s) | {{group_id: c.id, pos: g.pos, note: g.note,
         set_by: g.set_by,
         due_at: CASE WHEN g.due_at IS NULL THEN null ELSE {epoch_us("g.due_at")} END}}]
         AS class_goals
"""

ARCHIVE_WRITE: Final = """
UNWIND $rows AS r
CREATE (:ArchivedSkill {batch: $batch, skill_id: r.skill_id, mastery: r.mastery,
                        goals: r.goals, class_goals: r.class_goals})
"""

ARCHIVE_GET: Final = """
MATCH (a:ArchivedSkill {batch: $batch, skill_id: $skill_id})
RETURN a.mastery AS mastery, a.goals AS goals, a.class_goals AS class_goals
"""

RESTORE_CLASS_GOALS: Final = """
UNWIND $rows AS r
MATCH (g:Group {id: r.group_id}), (s:Skill {id: $skill_id})
WHERE NOT EXISTS { (g)-[:CLASS_GOAL]->(s) }
CREATE (g)-[:CLASS_GOAL {pos: r.pos, due_at: r.due_at, note: r.note, set_by: r.set_by}]->(s)
RETURN count(*) AS n
"""

#: Archived mastery rows back, for learners that still exist and have none of the skill again.
RESTORE_MASTERY: Final = """
UNWIND $rows AS r
MATCH (l:Learner {id: r.learner_id}), (s:Skill {id: r.skill_id})
WHERE NOT EXISTS { (l)-[:MASTERY]->(s) }
CREATE (l)-[:MASTERY {probability: r.probability, uncertainty: r.uncertainty,
                      updated_at: r.updated_at, model_version: r.model_version}]->(s)
RETURN count(*) AS n
"""

RESTORE_GOALS: Final = """
UNWIND $rows AS r
MATCH (l:Learner {id: r.learner_id}), (s:Skill {id: $skill_id})
WHERE NOT EXISTS { (l)-[:HAS_GOAL]->(s) }
CREATE (l)-[:HAS_GOAL {pos: r.pos}]->(s)
RETURN count(*) AS n
"""

#: Every change of the batch that change ``$seq`` belongs to (entries from before batches
#: existed are a batch of their own).
CHANGE_BATCH: Final = f"""
OPTIONAL MATCH (c:Change {{seq: $seq}})
WITH coalesce(c.batch, c.seq, -1) AS b
CALL (b) {{
  MATCH (d:Change) WHERE d.batch = b OR (d.seq = b AND d.batch IS NULL)
  WITH d ORDER BY d.seq
  RETURN collect({{change: d {{.*, at: {epoch_us("d.at")}}}}}) AS rows
}}
RETURN rows
"""

CHANGES_FROM: Final = f"""
MATCH (c:Change) WHERE c.seq >= $batch
WITH c ORDER BY c.seq
RETURN collect({{change: c {{.*, at: {epoch_us("c.at")}}}}}) AS rows
"""

# -- people ---------------------------------------------------------------------------------

_LEARNER_PROJECTION: Final = "l {.*, goals: [(l)-[g:HAS_GOAL]->(s:Skill) | [g.pos, s.id]]}"
_GROUP_PROJECTION: Final = "g {.*, learners: [(m:Learner)-[r:MEMBER_OF]->(g) | [r.pos, m.id]]}"

GET_LEARNERS: Final = f"""
MATCH (l:Learner) WHERE l.id IN $ids
RETURN collect({{learner: {_LEARNER_PROJECTION}}}) AS rows
"""

#: Keyset page of learners ordered by id (``$after``: "" for the first page, ``$limit``).
LIST_LEARNERS: Final = f"""
MATCH (l:Learner) WHERE l.id > $after
WITH l ORDER BY l.id LIMIT $limit
RETURN collect({{learner: {_LEARNER_PROJECTION}}}) AS rows
"""

GET_USERS: Final = """
MATCH (u:User) WHERE u.id IN $ids
RETURN collect({user: u {.*}}) AS rows
"""

GET_GROUPS: Final = f"""
MATCH (g:Group) WHERE g.id IN $ids
RETURN collect({{grp: {_GROUP_PROJECTION}}}) AS rows
"""

UPSERT_LEARNERS: Final = """
UNWIND $rows AS r
MERGE (l:Learner {id: r.id})
SET l.display_name = r.display_name, l.target_retention = r.target_retention
WITH l, r
CALL (l) { MATCH (l)-[old:HAS_GOAL]->() DELETE old }
CALL (l, r) {
  UNWIND range(0, size(r.goals) - 1) AS k
  MATCH (s:Skill {id: r.goals[k]})
  MERGE (l)-[g:HAS_GOAL]->(s)
  ON CREATE SET g.pos = k
}
"""

#: Partial update of one learner in one statement: ``$props`` holds only the properties to
#: change (a null ``target_retention`` removes it: the default), ``$goals`` the new goal list
#: or null to keep the goals. ``SET l.id = l.id`` takes the learner's write lock first, before
#: the old goals are read, whichever fields are given (a goals-only update would otherwise
#: first lock at the DELETE): concurrent updates of one learner run one after the other. No
#: row: no such learner. A goal naming no skill is left out: the caller checks them and rolls
#: back.
UPDATE_LEARNER: Final = f"""
MATCH (l:Learner {{id: $id}})
SET l.id = l.id
SET l += $props
WITH l
CALL (l) {{
  MATCH (l)-[old:HAS_GOAL]->() WHERE $goals IS NOT NULL
  DELETE old
}}
CALL (l) {{
  UNWIND range(0, size(coalesce($goals, [])) - 1) AS k
  MATCH (s:Skill {{id: $goals[k]}})
  CREATE (l)-[:HAS_GOAL {{pos: k}}]->(s)
}}
RETURN {_LEARNER_PROJECTION} AS learner
"""

UPSERT_USERS: Final = """
UNWIND $rows AS r
MERGE (u:User {id: r.id})
SET u = r
"""

UPSERT_GROUPS: Final = """
UNWIND $rows AS r
MERGE (g:Group {id: r.id})
SET g.name = r.name, g.teacher_ids = r.teacher_ids
WITH g, r
CALL (g) { MATCH (g)-[old:TAUGHT_BY]->(:Teacher) DELETE old }
CALL (g, r) {
  UNWIND r.teacher_ids AS tid
  MERGE (t:Teacher {id: tid})
  MERGE (g)-[:TAUGHT_BY]->(t)
}
CALL (g) { MATCH (:Learner)-[old:MEMBER_OF]->(g) DELETE old }
CALL (g, r) {
  UNWIND range(0, size(r.learner_ids) - 1) AS k
  MATCH (l:Learner {id: r.learner_ids[k]})
  MERGE (l)-[m:MEMBER_OF]->(g)
  ON CREATE SET m.pos = k
}
"""

#: Rename one group, nothing else. No row: no such group.
RENAME_GROUP: Final = f"""
MATCH (g:Group {{id: $id}})
SET g.name = $name
RETURN {_GROUP_PROJECTION} AS grp
"""

REMOVE_GROUPS: Final = """
MATCH (g:Group) WHERE g.id IN $ids
DETACH DELETE g
"""

#: A seek on the ``Teacher.id`` uniqueness constraint's index, then the teacher's groups
#: (migration 0002); ``$teacher_id IN g.teacher_ids`` would scan every group.
GROUPS_OF_TEACHER: Final = f"""
MATCH (:Teacher {{id: $teacher_id}})<-[:TAUGHT_BY]-(g:Group)
WITH g ORDER BY g.id
RETURN collect({{grp: {_GROUP_PROJECTION}}}) AS rows
"""

GROUPS_OF_LEARNERS: Final = f"""
UNWIND $ids AS lid
MATCH (:Learner {{id: lid}})-[:MEMBER_OF]->(g:Group)
WITH lid, g ORDER BY g.id
RETURN collect({{lid: lid, grp: {_GROUP_PROJECTION}}}) AS rows
"""

LEARNERS_OF_GROUPS: Final = f"""
UNWIND $ids AS gid
MATCH (:Group {{id: gid}})<-[:MEMBER_OF]-(l:Learner)
WITH gid, l ORDER BY l.id
RETURN collect({{gid: gid, learner: {_LEARNER_PROJECTION}}}) AS rows
"""

# -- attempts -------------------------------------------------------------------------------

#: One statement per batch (ids already unique): store the attempts whose id is new, report
#: the stored ones for comparison, and count what was created. A row whose learner or item is
#: unknown creates nothing, so ``created`` falls short and the caller diagnoses and rolls back.
INSERT_ATTEMPTS: Final = f"""
UNWIND $rows AS r
OPTIONAL MATCH (old:Attempt {{id: r.id}})
CALL (r, old) {{
  WITH r, old WHERE old IS NULL
  MATCH (l:Learner {{id: r.learner_id}})
  MATCH (i:Item {{id: r.item_id}})
  CREATE (l)-[:ATTEMPTED]->(a:Attempt)-[:ON_ITEM]->(i)
  SET a = r
  RETURN count(*) AS created
}}
RETURN sum(created) AS created,
       collect(old {{.*, timestamp: {epoch_us("old.timestamp")}}}) AS existing
"""

#: Only on a failed write: which learners and items are unknown.
MISSING_LEARNERS_AND_ITEMS: Final = """
RETURN
  [id IN $learner_ids WHERE NOT EXISTS { MATCH (:Learner {id: id}) }] AS missing_learners,
  [id IN $item_ids WHERE NOT EXISTS { MATCH (:Item {id: id}) }] AS missing_items
"""


def history_window(
    label: str, *, since: bool = False, after: bool = False, before: bool = False,
    backward: bool = False, probes: bool = False,
) -> str:
    """A window of a learner's history (``label``: ``Attempt`` or ``View``, a constant of
    the store, never input) newest first, ties by id descending: ``rows``, ``$limit`` of them
    (the store asks one more than it returns, to see past the window's far side); only those
    since ``$since``, strictly older than ``$after_ts`` / ``$after_id`` and newer than
    ``$before_ts`` / ``$before_id`` when flagged. ``backward`` reads the oldest first (the
    store reverses them). With ``probes``, ``newer`` / ``older`` say whether a row lies at or
    beyond the ``after`` / ``before`` position (the window's near side; false when unbounded).

    The timestamp's ``IS NOT NULL`` (always true) lets the planner seek the composite
    ``(learner_id, timestamp)`` index, which needs a predicate on both properties; without it
    the first page scanned every row of the label in the store."""
    where = ["h.learner_id = $learner_id", "h.timestamp IS NOT NULL"]
    if since:
        where.append("h.timestamp >= $since")
    if after:
        where.append("h.timestamp <= $after_ts AND (h.timestamp < $after_ts OR h.id < $after_id)")
    if before:
        where.append(
            "h.timestamp >= $before_ts AND (h.timestamp > $before_ts OR h.id > $before_id)"
        )
    order = "ASC" if backward else "DESC"

    def probe(flag: bool, cond: str) -> str:
        if not (flag and probes):
            return "false"
        return (f"EXISTS {{ MATCH (p:{label}) WHERE p.learner_id = $learner_id"
                f" AND p.timestamp IS NOT NULL AND {cond} }}")

    newer = probe(after, "p.timestamp >= $after_ts AND (p.timestamp > $after_ts"
                         " OR p.id >= $after_id)")
    older = probe(before, "p.timestamp <= $before_ts AND (p.timestamp < $before_ts"
                          " OR p.id <= $before_id)")
    return f"""
MATCH (h:{label}) WHERE {" AND ".join(where)}
WITH h ORDER BY h.timestamp {order}, h.id {order} LIMIT $limit
WITH collect(h {{.*, timestamp: {epoch_us("h.timestamp")}}}) AS rows
RETURN rows, {newer} AS newer, {older} AS older
"""


def attempts_of(*, since: bool, cursor: bool) -> str:
    """A learner's attempts newest first from the keyset position ``$after_ts`` /
    ``$after_id`` when flagged (``GraphStore.attempts_of``): a forward history window."""
    return history_window("Attempt", since=since, after=cursor)


# -- views ----------------------------------------------------------------------------------

#: Before writing views: which learners are unknown, and the kind of each viewed item.
VIEW_TARGETS: Final = """
RETURN
  [id IN $learner_ids WHERE NOT EXISTS { MATCH (:Learner {id: id}) }] AS missing_learners,
  COLLECT { MATCH (i:Item) WHERE i.id IN $item_ids RETURN {id: i.id, kind: i.kind} } AS items
"""

#: Store the views whose id is new and report the stored ones (ids already unique).
INSERT_VIEWS: Final = f"""
UNWIND $rows AS r
OPTIONAL MATCH (old:View {{id: r.id}})
CALL (r, old) {{
  WITH r, old WHERE old IS NULL
  MATCH (l:Learner {{id: r.learner_id}})
  MATCH (i:Item {{id: r.item_id}})
  CREATE (l)-[:VIEWED]->(w:View)-[:OF_ITEM]->(i)
  SET w = r
  RETURN count(*) AS created
}}
RETURN sum(created) AS created,
       collect(old {{.*, timestamp: {epoch_us("old.timestamp")}}}) AS existing
"""


def views_of(*, cursor: bool) -> str:
    """A learner's views newest first, as :func:`attempts_of` lists attempts."""
    return history_window("View", after=cursor)


VIEW_COUNT_ALL: Final = "MATCH (w:View) RETURN count(w) AS n"

VIEW_COUNT_OF: Final = "MATCH (w:View) WHERE w.learner_id = $learner_id RETURN count(w) AS n"


ATTEMPT_COUNT_ALL: Final = "MATCH (a:Attempt) RETURN count(a) AS n"

#: Each of ``$ids``' newest ``$limit`` attempts, newest first (ties by id descending), in one
#: read; the ``IS NOT NULL`` lets the planner seek the (learner_id, timestamp) index.
LATEST_ATTEMPTS: Final = f"""
UNWIND $ids AS lid
CALL (lid) {{
  MATCH (h:Attempt) WHERE h.learner_id = lid AND h.timestamp IS NOT NULL
  WITH h ORDER BY h.timestamp DESC, h.id DESC LIMIT $limit
  RETURN collect(h {{.*, timestamp: {epoch_us("h.timestamp")}}}) AS rows
}}
RETURN lid, rows
"""

ATTEMPT_COUNT_OF: Final = """
OPTIONAL MATCH (l:Learner {id: $learner_id})
RETURN CASE WHEN l IS NULL THEN 0 ELSE COUNT { (l)-[:ATTEMPTED]->(:Attempt) } END AS n
"""


def item_gain_counts(*, only: bool) -> str:
    """``GraphStore.item_gain_counts`` (the definition is documented there): rows of
    ``{item, s, f}``. An item's main skill is the ``ASSESSES`` edge with the lowest ``pos``;
    attempts find their item by the ``item_id`` they carry (as the SQLite store joins). With
    ``only``, just the sequences of the main skills of ``$ids`` are ordered, and only ``$ids``
    are returned."""
    main = "ALL(x IN [(i)-[q:ASSESSES]->() | q.pos] WHERE x >= r.pos)"
    head = ""
    keep = ""
    if only:
        head = f"""
UNWIND $ids AS wid
MATCH (i:Item {{id: wid}})-[r:ASSESSES]->(s:Skill) WHERE {main}
WITH collect(DISTINCT s.id) AS wanted"""
        main += " AND s.id IN wanted"
        keep = "\nWHERE item IN $ids"
    return f"""{head}
MATCH (a:Attempt)
MATCH (i:Item {{id: a.item_id}})-[r:ASSESSES]->(s:Skill) WHERE {main}
WITH a.learner_id AS lid, s.id AS skill, a ORDER BY a.timestamp, a.id
WITH lid, skill, collect([a.item_id, a.score >= 0.5]) AS seq
UNWIND range(0, size(seq) - 2) AS k
WITH seq[k][0] AS item, seq[k + 1][1] AS ok{keep}
WITH item, sum(CASE WHEN ok THEN 1 ELSE 0 END) AS s, count(*) AS n
RETURN collect({{item: item, s: s, f: n - s}}) AS rows
"""


# -- mastery and tracer state ---------------------------------------------------------------

#: ``written`` short of the row count means an unknown learner or skill (caller rolls back).
SAVE_MASTERY: Final = """
UNWIND $rows AS r
MATCH (l:Learner {id: r.learner_id}), (s:Skill {id: r.skill_id})
MERGE (l)-[m:MASTERY]->(s)
SET m.probability = r.probability, m.uncertainty = r.uncertainty,
    m.updated_at = r.updated_at, m.model_version = r.model_version
RETURN count(*) AS written
"""

_MASTERY_PROJECTION: Final = f"m {{.*, skill_id: s.id, updated_at: {epoch_us('m.updated_at')}}}"

MASTERY_OF: Final = f"""
UNWIND $ids AS lid
MATCH (:Learner {{id: lid}})-[m:MASTERY]->(s:Skill)
WITH lid, m, s ORDER BY s.id
RETURN collect({{lid: lid, mastery: {_MASTERY_PROJECTION}}}) AS rows
"""

#: one learner's ``{skill_id: probability}`` as two parallel lists (no maps, no timestamps);
#: ``$skill_ids`` null reads every skill
MASTERY_PROBABILITIES: Final = """
MATCH (:Learner {id: $id})-[m:MASTERY]->(s:Skill)
WHERE $skill_ids IS NULL OR s.id IN $skill_ids
RETURN collect(s.id) AS skills, collect(m.probability) AS probabilities
"""

MASTERY_OF_GROUP: Final = f"""
MATCH (:Group {{id: $group_id}})<-[:MEMBER_OF]-(l:Learner)
WITH l ORDER BY l.id
RETURN collect({{lid: l.id,
                masteries: [(l)-[m:MASTERY]->(s:Skill) | {_MASTERY_PROJECTION}]}}) AS rows
"""

LOAD_TRACER_STATES: Final = """
MATCH (t:TracerState) WHERE t.learner_id IN $ids AND t.model_version = $model_version
RETURN collect({lid: t.learner_id, state: t.state}) AS rows
"""

#: ``version``: bumped by every write of the state; states written before it existed read 0.
LOAD_TRACER_RECORDS: Final = """
MATCH (t:TracerState) WHERE t.learner_id IN $ids AND t.model_version = $model_version
RETURN collect({lid: t.learner_id, state: t.state, version: coalesce(t.version, 0)}) AS rows
"""

#: ``written`` short of the row count means an unknown learner (caller rolls back). The
#: learner is write-locked first (``SET l.id = l.id``), as in :data:`SAVE_TRACED`, so that an
#: unconditional write and a compare-and-set of the same learner never interleave.
SAVE_TRACER_STATES: Final = """
UNWIND $rows AS r
MATCH (l:Learner {id: r.learner_id})
SET l.id = l.id
MERGE (t:TracerState {learner_id: r.learner_id, model_version: r.model_version})
SET t.state = r.state, t.version = coalesce(t.version, 0) + 1
RETURN count(*) AS written
"""

#: Compare-and-set of tracer states: a row is written only if the stored version is still
#: ``r.expected`` (0: no state, or one written before versions). The learner's write lock is
#: taken before the version is read, so the read sees the last committed write and no other
#: transaction writes the state until this one ends (a plain read then SET could interleave
#: with another and lose its update). ``written``: the learner ids written; the others either
#: moved on (a conflict) or do not exist (the caller tells which, and rolls back for those).
SAVE_TRACED: Final = """
UNWIND $rows AS r
MATCH (l:Learner {id: r.learner_id})
SET l.id = l.id
WITH r
OPTIONAL MATCH (t:TracerState {learner_id: r.learner_id, model_version: r.model_version})
WITH r, t WHERE coalesce(t.version, 0) = r.expected
MERGE (n:TracerState {learner_id: r.learner_id, model_version: r.model_version})
SET n.state = r.state, n.version = r.expected + 1
RETURN collect(r.learner_id) AS written
"""

# -- the serving tracer model and its activation jobs ---------------------------------------

# the node's property map, not ``m.key``: on a store where no model was ever activated the
# property key does not exist yet, and Neo4j answers ``m.key`` with a warning notification
# that the driver logs at WARNING level on every request
SERVING_MODEL: Final = """
OPTIONAL MATCH (m:ServingModel {name: 'tracer'})
RETURN properties(m) AS props
"""

#: ``GraphStore.serving_probe``: the serving model's property map (see :data:`SERVING_MODEL`)
#: and the change log's last seq (see :data:`LAST_CHANGE_SEQ`), one statement.
SERVING_PROBE: Final = """
OPTIONAL MATCH (m:ServingModel {name: 'tracer'})
OPTIONAL MATCH (c:ChangeCounter {name: 'curriculum'})
RETURN properties(m) AS props, coalesce(c.seq, 0) AS seq
"""

#: ``GraphStore.learner_snapshot`` in one statement: the learner (null when unknown), their
#: mastery as ``[skill_id, probability]`` pairs, their newest ``$attempts`` attempts and
#: ``$views`` views (the timestamp's ``IS NOT NULL`` seeks the ``(learner_id, timestamp)``
#: index, as in :func:`history_window`; the store orders them again), the tracer state for
#: ``$tracer_model`` (null: none read), and the serving probe's two values.
LEARNER_SNAPSHOT: Final = f"""
OPTIONAL MATCH (l:Learner {{id: $id}})
OPTIONAL MATCH (m:ServingModel {{name: 'tracer'}})
OPTIONAL MATCH (c:ChangeCounter {{name: 'curriculum'}})
RETURN
  CASE WHEN l IS NULL THEN null ELSE {_LEARNER_PROJECTION} END AS learner,
  properties(m) AS props, coalesce(c.seq, 0) AS seq,
  COLLECT {{ MATCH (:Learner {{id: $id}})-[r:MASTERY]->(s:Skill)
            RETURN [s.id, r.probability] }} AS mastery,
  COLLECT {{ MATCH (h:Attempt) WHERE h.learner_id = $id AND h.timestamp IS NOT NULL
            WITH h ORDER BY h.timestamp DESC, h.id DESC LIMIT $attempts
            RETURN h {{.*, timestamp: {epoch_us("h.timestamp")}}} }} AS attempts,
  COLLECT {{ MATCH (h:View) WHERE h.learner_id = $id AND h.timestamp IS NOT NULL
            WITH h ORDER BY h.timestamp DESC, h.id DESC LIMIT $views
            RETURN h {{.*, timestamp: {epoch_us("h.timestamp")}}} }} AS views,
  COLLECT {{ MATCH (t:TracerState) WHERE t.learner_id = $id
              AND t.model_version = $tracer_model
            RETURN t.state }} AS states
"""

SET_SERVING_MODEL: Final = """
MERGE (m:ServingModel {name: 'tracer'})
SET m.key = $key, m.updated_us = $now_us
"""

#: times as integer microseconds since the epoch (``*_us``), like the SQLite columns
SAVE_TRACER_ACTIVATION: Final = """
MERGE (j:TracerActivation {id: $row.id})
SET j = $row
"""

GET_TRACER_ACTIVATIONS: Final = """
MATCH (j:TracerActivation) WHERE j.id IN $ids
RETURN collect(j {.*}) AS rows
"""


# -- class goals (migration 0004) ---------------------------------------------------------------

#: Replace one group's class goals; the caller checked that the group and skills exist.
SET_GROUP_GOALS: Final = """
MATCH (g:Group {id: $group_id})
CALL (g) { MATCH (g)-[old:CLASS_GOAL]->(:Skill) DELETE old }
WITH g
UNWIND $rows AS r
MATCH (s:Skill {id: r.skill_id})
CREATE (g)-[:CLASS_GOAL {pos: r.pos, due_at: r.due_at, note: r.note, set_by: r.set_by}]->(s)
"""

GROUP_GOALS: Final = f"""
UNWIND $ids AS gid
MATCH (g:Group {{id: gid}})-[r:CLASS_GOAL]->(s:Skill)
WITH gid, r, s ORDER BY gid, r.pos
RETURN collect({{gid: gid, skill_id: s.id, note: r.note, set_by: r.set_by,
                due_at: CASE WHEN r.due_at IS NULL THEN null ELSE {epoch_us("r.due_at")} END}})
       AS rows
"""


# -- alerts ---------------------------------------------------------------------------------

#: An alert's properties with its times as epoch microseconds (see :func:`epoch_us`).
_ALERT_MAP = (
    f"a {{.*, since: {epoch_us('a.since')}, raised_at: {epoch_us('a.raised_at')},"
    f" acknowledged_at: CASE WHEN a.acknowledged_at IS NULL THEN null"
    f" ELSE {epoch_us('a.acknowledged_at')} END}}"
)

#: ``GraphStore.raise_alerts``: a new key is stored; an open alert takes the new content and
#: keeps ``raised_at``; an acknowledged one opens again only for a condition that began after
#: the acknowledgement. Rows of learners that do not exist are skipped (``written`` says how
#: many were matched; the store refuses the call then).
RAISE_ALERTS: Final = """
UNWIND $rows AS r
MATCH (l:Learner {id: r.learner_id})
MERGE (a:Alert {key: r.key})
  ON CREATE SET a.raised_at = r.raised_at
MERGE (l)-[:ALERTED]->(a)
WITH a, r
CALL (a, r) {
  WITH a, r WHERE a.acknowledged_at IS NULL OR r.since > a.acknowledged_at
  SET a.kind = r.kind, a.learner_id = r.learner_id, a.skill_id = r.skill_id,
      a.root_cause_id = r.root_cause_id, a.since = r.since, a.message = r.message,
      a.risk = r.risk, a.reasons = r.reasons,
      a.raised_at = CASE WHEN a.acknowledged_at IS NULL THEN a.raised_at ELSE r.raised_at END,
      a.acknowledged_at = null, a.acknowledged_by = null
}
RETURN count(*) AS written
"""

ALERTS_BY_KEY: Final = f"""
MATCH (a:Alert) WHERE a.key IN $keys
RETURN collect({_ALERT_MAP}) AS rows
"""


def alerts_of(acknowledged: bool | None) -> str:
    """``GraphStore.alerts_of``: the alerts of ``$ids``, newest ``since`` first."""
    state = {None: "", True: " AND a.acknowledged_at IS NOT NULL",
             False: " AND a.acknowledged_at IS NULL"}[acknowledged]
    return f"""
MATCH (a:Alert) WHERE a.learner_id IN $ids{state}
WITH a ORDER BY a.since DESC, a.key
RETURN collect({_ALERT_MAP}) AS rows
"""


ACKNOWLEDGE_ALERT: Final = f"""
MATCH (a:Alert {{key: $key}})
SET a.acknowledged_by = coalesce(a.acknowledged_by, $by),
    a.acknowledged_at = coalesce(a.acknowledged_at, $at)
RETURN collect({_ALERT_MAP}) AS rows
"""
