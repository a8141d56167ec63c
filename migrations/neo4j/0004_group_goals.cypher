// Class goals (issue 12, teacher dashboard): (:Group)-[:CLASS_GOAL {pos, due_at, note}]->(:Skill),
// ordered by pos. DETACH DELETE of a group or a skill removes them; nothing to backfill.
CREATE INDEX group_goal_pos IF NOT EXISTS FOR ()-[r:CLASS_GOAL]-() ON (r.pos);
