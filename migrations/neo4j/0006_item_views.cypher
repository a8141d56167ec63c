// Views of lessons, videos and readings (issue 12, item 4):
// (:Learner)-[:VIEWED]->(:View {id, learner_id, item_id, timestamp, seconds, progress})
// -[:OF_ITEM]->(:Item); idempotent on the client's view id. Not answers: never traced.
CREATE CONSTRAINT view_id IF NOT EXISTS FOR (w:View) REQUIRE w.id IS UNIQUE;
CREATE INDEX view_learner_time IF NOT EXISTS FOR (w:View) ON (w.learner_id, w.timestamp);
