// Teachers' alerts, stored (issue 12): (:Learner)-[:ALERTED]->(:Alert {key, kind, learner_id,
// skill_id, root_cause_id, since, message, risk, reasons (JSON), raised_at, acknowledged_at,
// acknowledged_by}); each condition once by its key KIND:learner[:skill].
CREATE CONSTRAINT alert_key IF NOT EXISTS FOR (a:Alert) REQUIRE a.key IS UNIQUE;
CREATE INDEX alert_learner IF NOT EXISTS FOR (a:Alert) ON (a.learner_id);
