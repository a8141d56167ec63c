// groups_of_teacher as an index seek: one (:Teacher {id}) node per teacher id that a group
// lists (the id a group names, not necessarily a :User), linked (:Group)-[:TAUGHT_BY]->(:Teacher).
// The group keeps its ordered teacher_ids property; the relationships are only the index.
CREATE CONSTRAINT teacher_id IF NOT EXISTS FOR (t:Teacher) REQUIRE t.id IS UNIQUE;
// Groups written before this migration get their relationships (MERGE: safe to re-run).
MATCH (g:Group)
CALL (g) {
  UNWIND coalesce(g.teacher_ids, []) AS tid
  MERGE (t:Teacher {id: tid})
  MERGE (g)-[:TAUGHT_BY]->(t)
} IN TRANSACTIONS OF 1000 ROWS;
