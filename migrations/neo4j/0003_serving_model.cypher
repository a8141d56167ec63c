// The serving tracer model belongs to the store (issue 11, item 9): one
// (:ServingModel {name: 'tracer', key, updated_at}) node; none, or a null key, means BKT with
// population defaults. Switches run as background jobs, one (:TracerActivation {id, ...}) each.
CREATE CONSTRAINT serving_model_name IF NOT EXISTS FOR (m:ServingModel) REQUIRE m.name IS UNIQUE;
CREATE CONSTRAINT tracer_activation_id IF NOT EXISTS FOR (j:TracerActivation) REQUIRE j.id IS UNIQUE;
