// Mastery levels, Khan Academy style, from P(mastered) (the tracer's estimate):
//   not started  no estimate yet (the learner has not practised the skill)
//   attempted    p < 0.4
//   familiar     0.4 <= p < 0.6
//   proficient   0.6 <= p < 0.8
//   mastered     p >= 0.8  (the recommender's own mastery threshold, recommender.frontier)
// The teacher dashboard's heatmap uses the same levels and colours.

export const LEVELS = [
  { id: "not-started", label: "Not started", min: null },
  { id: "attempted", label: "Attempted", min: 0 },
  { id: "familiar", label: "Familiar", min: 0.4 },
  { id: "proficient", label: "Proficient", min: 0.6 },
  { id: "mastered", label: "Mastered", min: 0.8 },
];

/** The level of a probability (null/undefined: not started). */
export function levelOf(p) {
  if (p === null || p === undefined) return LEVELS[0];
  let level = LEVELS[1];
  for (const l of LEVELS.slice(1)) if (p >= l.min) level = l;
  return level;
}
