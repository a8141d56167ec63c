// learngraph Neo4j store: uniqueness constraints (each backed by a range index) and the
// indexes the store's queries seek on. Statements end with ";" at the end of a line.
CREATE CONSTRAINT skill_id IF NOT EXISTS FOR (s:Skill) REQUIRE s.id IS UNIQUE;
CREATE CONSTRAINT item_id IF NOT EXISTS FOR (i:Item) REQUIRE i.id IS UNIQUE;
CREATE CONSTRAINT learner_id IF NOT EXISTS FOR (l:Learner) REQUIRE l.id IS UNIQUE;
CREATE CONSTRAINT user_id IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE;
CREATE CONSTRAINT group_id IF NOT EXISTS FOR (g:Group) REQUIRE g.id IS UNIQUE;
CREATE CONSTRAINT attempt_id IF NOT EXISTS FOR (a:Attempt) REQUIRE a.id IS UNIQUE;
CREATE CONSTRAINT tracer_state_key IF NOT EXISTS
  FOR (t:TracerState) REQUIRE (t.learner_id, t.model_version) IS UNIQUE;
CREATE CONSTRAINT change_seq IF NOT EXISTS FOR (c:Change) REQUIRE c.seq IS UNIQUE;
CREATE CONSTRAINT change_counter_name IF NOT EXISTS FOR (c:ChangeCounter) REQUIRE c.name IS UNIQUE;
CREATE CONSTRAINT migration_version IF NOT EXISTS FOR (m:Migration) REQUIRE m.version IS UNIQUE;
// A learner's history, newest first, is one range scan of this index.
CREATE INDEX attempt_learner_time IF NOT EXISTS FOR (a:Attempt) ON (a.learner_id, a.timestamp);
CREATE INDEX skill_topic IF NOT EXISTS FOR (s:Skill) ON (s.topic);
CREATE INDEX skill_area IF NOT EXISTS FOR (s:Skill) ON (s.area);
CREATE INDEX item_kind IF NOT EXISTS FOR (i:Item) ON (i.kind);
