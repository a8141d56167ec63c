// Curriculum edits that say what they change and can be undone (issue 12, item 3): each
// (:Change) gets batch (seq of its transaction's first change) and before / after (JSON
// strings); deleting a skill archives its learners' mastery and goals and its class goals in
// one (:ArchivedSkill {batch, skill_id, mastery, goals, class_goals}) node (JSON strings),
// which an undo reads back.
CREATE INDEX change_batch IF NOT EXISTS FOR (c:Change) ON (c.batch);
CREATE CONSTRAINT archived_skill_key IF NOT EXISTS
  FOR (a:ArchivedSkill) REQUIRE (a.batch, a.skill_id) IS UNIQUE;
