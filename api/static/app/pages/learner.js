// The learner page: goals (their own and their classes'), a mastery bar per skill (levels in js/levels.js), the next item
// with its reasons, answering with immediate feedback (mastery change, a hint when stuck),
// reviews due, and the path to the goals drawn from the prerequisite graph.
//
// Route: #/learner (a learner: themselves) or #/learner/<learner id> (a teacher or admin).
import { errorBox, h, mount, pct } from "../js/dom.js";
import { expect, gql, subscribe } from "../js/graphql.js";
import { LEVELS, levelOf } from "../js/levels.js";
import { drawPath, focusGraph } from "./learner_path.js";

const RECOMMENDATION = `
  kind itemKey skillKey predictedSuccess
  reasons { code message }
  item { key kind title body url prompt choices hints checkable }
  skill { key name }`;

const LEARNER_QUERY = `query LearnerPage($id: ID!) {
  learner(id: $id) {
    key displayName
    goals { key name }
    classGoals { group { key name } skill { key name } dueAt note probability setBy { displayName } }
    mastery { probability skill { key name topic } }
    recommendations(first: 5) { ${RECOMMENDATION} }
    learningPath { goalKeys estimatedItems estimatedSeconds steps { skillKey mastery ready skill { name } } }
    reviewQueue(first: 6) { skillKey retrievability daysSince skill { name } }
  }
}`;

const GRAPH_QUERY = `query GoalGraph($roots: [ID!]) {
  skillGraph(rootIds: $roots, direction: PREREQUISITES) {
    nodes { key name }
    edges { source { key } target { key } strength }
  }
}`;

const RECORD = `mutation Answer($a: [AttemptInput!]!) {
  recordAttempts(input: $a) {
    __typename
    ... on RecordAttemptsPayload {
      mastery { probability skill { key name } }
      checks { correct answers explanation }
    }
    ... on Error { message }
  }
}`;

const VIEWED = `mutation Viewed($v: [ViewInput!]!) {
  recordViews(input: $v) { __typename ... on Error { message } }
}`;

const REVIEW_ITEMS = `query ReviewItems($id: ID!) {
  skill(id: $id) { items { key kind title body url difficulty prompt choices hints checkable } }
}`;

const HINT_QUERY = `query Hint($id: ID!) {
  skill(id: $id) {
    key name description
    prerequisites { key name }
    items { key kind title url }
  }
}`;

const LIVE = `subscription Live($id: ID!) {
  masteryChanged(learnerId: $id) { mastery { probability skill { key name topic } } }
}`;

const PICK_QUERY = `{ viewer { groups { name learners { nodes { key displayName } } } } }`;

function newAttemptId() {
  const random = globalThis.crypto?.randomUUID?.() || `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  return `web-${random}`;
}

/** Skills of the goal graph in prerequisite order (sources first), goals last among equals. */
function topoOrder(nodes, edges) {
  const indeg = new Map(nodes.map((n) => [n.key, 0]));
  const out = new Map(nodes.map((n) => [n.key, []]));
  for (const e of edges) {
    if (!indeg.has(e.source.key) || !indeg.has(e.target.key)) continue;
    indeg.set(e.target.key, indeg.get(e.target.key) + 1);
    out.get(e.source.key).push(e.target.key);
  }
  const order = [];
  let ready = nodes.filter((n) => indeg.get(n.key) === 0).map((n) => n.key).sort();
  while (ready.length) {
    const next = [];
    for (const k of ready) {
      order.push(k);
      for (const t of out.get(k)) {
        indeg.set(t, indeg.get(t) - 1);
        if (indeg.get(t) === 0) next.push(t);
      }
    }
    ready = next.sort();
  }
  return order;
}

function skillRow(key, name, p, { current = false } = {}) {
  const level = levelOf(p);
  return h(
    "li",
    { class: `skill${current ? " current" : ""}`, "data-skill": key, "data-level": level.id, "data-mastery": p ?? "" },
    h("span", { class: "name", title: name }, name),
    h(
      "span",
      { class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": p === null ? 0 : Math.round(p * 100), "aria-label": `${name} mastery` },
      h("span", { class: "fill", style: `width: ${p === null ? 0 : Math.max(2, p * 100)}%` }),
      LEVELS.slice(2).map((l) => h("span", { class: "mark", style: `left: ${l.min * 100}%` })),
    ),
    h("span", { class: "level" }, h("span", { class: "level-dot", "data-level": level.id }), p === null ? level.label : `${level.label} ${pct(p)}`),
  );
}

function legend() {
  return h(
    "div",
    { class: "legend" },
    LEVELS.map((l) => h("span", {}, h("span", { class: "level-dot", "data-level": l.id }), l.min === null ? l.label : `${l.label} ≥ ${pct(l.min)}`)),
  );
}

export async function render(root, ctx) {
  let learnerId = ctx.params[0] || (ctx.session.role === "learner" ? ctx.session.sub : null);
  if (!learnerId) return pickLearner(root, ctx);

  const state = {
    data: null, // the learner query's answer
    graph: null, // the goals' prerequisite graph
    current: 0, // which recommendation is shown
    feedback: null, // what the last answer did
    wrongStreak: 0, // wrong answers in a row on this page: 2 or more is "stuck"
    done: new Set(), // lessons/videos/readings marked done on this page (skipped when shown)
    revealed: 0, // the current item's hints shown (sent as hintsUsed)
    skillHint: null, // the skill-level hint: description, weakest prerequisite, a lesson
    choice: null, // the picked choice of a multiple-choice item
    busy: false,
    answered: 0, // answers sent from this page (the feedback box carries the count)
    live: "connecting", // the masteryChanged subscription: connecting, on, off
    liveEvents: 0,
  };

  /** The first recommendation not marked done on this page (else the first). */
  function firstOpen() {
    const i = state.data.recommendations.findIndex((r) => !state.done.has(r.itemKey));
    return i < 0 ? 0 : i;
  }

  async function load() {
    const data = await gql(LEARNER_QUERY, { id: learnerId }, { signal: ctx.signal });
    if (!data.learner) throw new Error(`no learner ${learnerId} (or you may not see them)`);
    const roots = data.learner.goals.map((g) => g.key);
    const graph = roots.length ? (await gql(GRAPH_QUERY, { roots }, { signal: ctx.signal })).skillGraph : { nodes: [], edges: [] };
    state.data = data.learner;
    const path = data.learner.learningPath;
    const focused = focusGraph(graph, { pathSteps: path.steps.map((s) => s.skillKey), goalKeys: path.goalKeys });
    state.graph = focused.graph;
    state.fullGraph = graph;
    state.hiddenSkills = focused.hidden;
  }

  function masteryMap() {
    return new Map(state.data.mastery.map((m) => [m.skill.key, m.probability]));
  }

  function resetItem() {
    state.revealed = 0;
    state.skillHint = null;
    state.choice = null;
  }

  /** Send one answer: {response} (checked by the server) or {score} (self-assessed). */
  async function answer(given) {
    const rec = state.data.recommendations[state.current];
    if (!rec || state.busy) return;
    state.busy = true;
    draw();
    const before = masteryMap();
    try {
      const result = await gql(RECORD, {
        a: [{ attemptId: newAttemptId(), learnerId, itemId: rec.itemKey, ...given, hintsUsed: state.revealed }],
      });
      const payload = expect(result.recordAttempts, "RecordAttemptsPayload");
      const check = payload.checks[0] || null;
      const correct = check ? check.correct : given.score >= 1;
      state.wrongStreak = correct ? 0 : state.wrongStreak + 1;
      state.answered += 1;
      state.feedback = {
        correct,
        item: rec.item?.title || rec.itemKey,
        prompt: rec.item?.prompt || "",
        response: given.response ?? null,
        answers: check?.answers || [],
        explanation: check?.explanation || "",
        skillKey: rec.skillKey,
        changes: payload.mastery.map((m) => ({ key: m.skill.key, name: m.skill.name, before: before.get(m.skill.key) ?? null, after: m.probability })),
        stuck: state.wrongStreak >= 2,
      };
      resetItem();
      // stuck: two wrong answers in a row -> the skill-level hint comes with the feedback
      state.feedback.hint = state.feedback.stuck ? await hintFor(rec.skillKey, before) : null;
      await load();
      state.current = firstOpen();
      if (state.feedback.stuck) state.revealed = Math.min(1, state.data.recommendations[state.current]?.item?.hints?.length || 0);
    } catch (err) {
      state.answered += 1;
      state.feedback = { error: err };
    } finally {
      state.busy = false;
    }
    draw();
  }

  async function hintFor(skillKey, mastery) {
    const { skill } = await gql(HINT_QUERY, { id: skillKey });
    if (!skill) return null;
    const weakest = skill.prerequisites
      .map((p) => ({ ...p, p: mastery.get(p.key) ?? null }))
      .sort((a, b) => (a.p ?? -1) - (b.p ?? -1))[0];
    const lesson = skill.items.find((i) => i.kind !== "EXERCISE");
    return { skill, weakest, lesson };
  }

  /** Put an exercise of a due review's skill first (one the server checks, easiest first). */
  async function reviewNow(review) {
    if (state.busy) return;
    try {
      const { skill } = await gql(REVIEW_ITEMS, { id: review.skillKey });
      const exercises = (skill?.items || []).filter((i) => i.kind === "EXERCISE").sort((a, b) => a.difficulty - b.difficulty);
      const item = exercises.find((i) => i.checkable) || exercises[0];
      if (!item) throw new Error(`${review.skill?.name || review.skillKey} has no exercise to review with`);
      const recs = state.data.recommendations.filter((r) => r.itemKey !== item.key);
      state.data.recommendations = [
        {
          kind: "REVIEW",
          itemKey: item.key,
          skillKey: review.skillKey,
          predictedSuccess: null,
          reasons: [{ code: "REVIEW_DUE", message: `you chose to review it: recall estimated ${pct(review.retrievability)}, last practised ${Math.round(review.daysSince)} days ago` }],
          item,
          skill: { key: review.skillKey, name: review.skill?.name || review.skillKey },
        },
        ...recs,
      ];
      state.current = 0;
      resetItem();
    } catch (err) {
      state.answered += 1;
      state.feedback = { error: err };
    }
    draw();
  }

  /** A lesson, video or reading marked done: a view (not an answer: mastery does not move). */
  async function viewed(rec) {
    if (state.busy) return;
    state.busy = true;
    draw();
    try {
      const result = await gql(VIEWED, { v: [{ viewId: newAttemptId().replace(/^web-/, "view-"), learnerId, itemId: rec.itemKey, progress: 1 }] });
      expect(result.recordViews, "RecordViewsPayload");
      state.done.add(rec.itemKey);
      // the server now puts an exercise of the studied skill first (reason STUDIED)
      await load();
      state.current = firstOpen();
      resetItem();
    } catch (err) {
      state.answered += 1;
      state.feedback = { error: err };
    } finally {
      state.busy = false;
    }
    draw();
  }

  /** Reveal the item's next hint; past the last (or with none), the skill-level hint. */
  async function showHint() {
    const rec = state.data.recommendations[state.current];
    if (!rec) return;
    const hints = rec.item?.hints || [];
    if (state.revealed < hints.length) state.revealed += 1;
    else if (!state.skillHint) {
      state.skillHint = await hintFor(rec.skillKey, masteryMap());
      state.revealed = Math.max(state.revealed, 1);
    }
    draw();
  }

  function feedbackBox() {
    const f = state.feedback;
    if (!f) return null;
    if (f.error) return h("div", { class: "feedback incorrect", id: "feedback", "data-n": state.answered }, errorBox(f.error));
    return h(
      "div",
      { class: `feedback ${f.correct ? "correct" : "incorrect"}`, id: "feedback", "data-correct": String(f.correct), "data-n": state.answered },
      h("h3", {}, f.correct ? "✓ Correct" : "✗ Not quite", h("span", { class: "muted" }, ` — your answer to “${f.prompt || f.item}”`)),
      f.response !== null && !f.correct ? h("p", { class: "answer-key" }, `You answered ${f.response}; the answer is ${f.answers.join(" or ")}.`) : null,
      f.explanation ? h("p", { class: "explanation" }, f.explanation) : null,
      h(
        "ul",
        { class: "changes" },
        // the answered item's skills always; others only when they moved (a visible point)
        f.changes.filter((c) => c.key === f.skillKey || c.before === null || Math.abs(c.after - c.before) >= 0.005).map((c) => {
          const d = c.before === null ? c.after : c.after - c.before;
          const from = levelOf(c.before);
          const to = levelOf(c.after);
          return h(
            "li",
            { "data-skill": c.key, "data-before": c.before ?? "", "data-after": c.after },
            `${c.name}: ${c.before === null ? "new" : pct(c.before)} → ${pct(c.after)} `,
            h("span", { class: `delta ${d >= 0 ? "up" : "down"}` }, `${d >= 0 ? "+" : "−"}${Math.abs(Math.round(d * 100))}`),
            from.id !== to.id ? h("strong", {}, ` · now ${to.label}`) : null,
          );
        }),
      ),
      f.hint ? skillHintBox(f.hint, "Stuck? ", "stuck-hint") : null,
    );
  }

  function hintsBox(rec) {
    const shown = (rec.item?.hints || []).slice(0, state.revealed);
    if (!shown.length && !state.skillHint) return null;
    return h(
      "div",
      { id: "hints" },
      shown.map((text, i) => h("div", { class: "hint item-hint", role: "note" }, h("strong", {}, `Hint ${i + 1}: `), text)),
      state.skillHint ? skillHintBox(state.skillHint, "", "skill-hint") : null,
    );
  }

  function skillHintBox(hint, lead, id) {
    const { skill, weakest, lesson } = hint;
    return h(
      "div",
      { class: "hint", id, role: "note" },
      h("strong", {}, `${lead}About ${skill.name}: `),
      skill.description || skill.name,
      weakest ? h("p", {}, "It builds on ", h("strong", {}, weakest.name), weakest.p === null ? " (not started yet)" : ` (your mastery ${pct(weakest.p)})`, ": brush up on it if this feels hard.") : null,
      lesson ? h("p", {}, "Try the ", lesson.kind.toLowerCase(), ": ", lesson.url ? h("a", { href: lesson.url, target: "_blank", rel: "noopener" }, lesson.title) : h("em", {}, lesson.title)) : null,
    );
  }

  function nextItemCard() {
    const recs = state.data.recommendations;
    const rec = recs[state.current];
    if (!rec) {
      return h("section", { class: "card next-item", id: "next-item" }, h("h2", {}, "Next up"), h("p", {}, "Nothing to practise: every goal is mastered. 🎉"), feedbackBox());
    }
    const exercise = !rec.item || rec.item.kind === "EXERCISE";
    return h(
      "section",
      { class: "card next-item", id: "next-item", "data-item": rec.itemKey, "data-skill": rec.skillKey },
      feedbackBox(),
      h("h2", {}, "Next up"),
      h("div", { class: "kind" }, `${String(rec.kind).toLowerCase()} · ${rec.skill?.name || rec.skillKey}${rec.predictedSuccess === null ? "" : ` · predicted success ${pct(rec.predictedSuccess)}`}`),
      h("h3", { id: "item-title" }, rec.item?.title || rec.itemKey),
      h("p", { class: "prompt", id: "item-prompt" }, rec.item?.prompt || rec.item?.body || ""),
      h("div", { class: "muted" }, "Why this:"),
      h("ul", { class: "reasons" }, rec.reasons.map((r) => h("li", { "data-code": r.code }, r.message))),
      exercise ? answerControls(rec) : null,
      !exercise
        ? h(
            "div",
            { class: "row" },
            rec.item.url ? h("a", { href: rec.item.url, target: "_blank", rel: "noopener" }, `Open the ${rec.item.kind.toLowerCase()}`) : null,
            // Not an answer: nothing is recorded as correct for reading a lesson.
            h("button", { type: "button", id: "lesson-done", class: "secondary", disabled: state.busy, onClick: () => viewed(rec) }, "Done, next"),
          )
        : null,
      exercise ? hintsBox(rec) : null,
      recs.length > 1
        ? h(
            "div",
            { class: "row muted" },
            "Or instead:",
            recs
              .map((r, i) => [r, i])
              .filter(([r, i]) => i !== state.current && !state.done.has(r.itemKey))
              .slice(0, 3)
              .map(([r, i]) => h("button", { type: "button", class: "link alt", "data-item": r.itemKey, onClick: () => { state.current = i; resetItem(); draw(); } }, `${r.item?.title || r.itemKey} (${String(r.kind).toLowerCase()})`)),
          )
        : null,
    );
  }

  function answerControls(rec) {
    const hintButton = h("button", { type: "button", id: "show-hint", class: "link", disabled: state.busy || state.skillHint !== null, onClick: showHint }, "Get a hint");
    const item = rec.item;
    if (item?.checkable && item.choices.length) {
      return h(
        "form",
        { id: "answer-form", onSubmit: (e) => { e.preventDefault(); if (state.choice !== null) answer({ response: state.choice }); } },
        h(
          "div",
          { class: "choices", role: "radiogroup", "aria-label": "choices" },
          item.choices.map((c) =>
            h("label", { class: "choice", "data-choice": c }, h("input", { type: "radio", name: "choice", value: c, checked: state.choice === c, onChange: () => { state.choice = c; draw(); } }), ` ${c}`),
          ),
        ),
        h("div", { class: "row" }, h("button", { type: "submit", id: "check-answer", disabled: state.busy || state.choice === null }, "Check"), hintButton),
      );
    }
    if (item?.checkable) {
      const input = h("input", { id: "answer-input", autocomplete: "off", "aria-label": "your answer", disabled: state.busy });
      return h(
        "form",
        { id: "answer-form", class: "row", onSubmit: (e) => { e.preventDefault(); if (input.value.trim()) answer({ response: input.value.trim() }); } },
        input,
        h("button", { type: "submit", id: "check-answer", disabled: state.busy }, "Check"),
        hintButton,
      );
    }
    return h(
      "div",
      {},
      h("p", { class: "muted" }, "This exercise has no answer key: work it out, then say how you did."),
      h(
        "div",
        { class: "row" },
        h("button", { type: "button", id: "answer-correct", disabled: state.busy, onClick: () => answer({ score: 1 }) }, "I got it right"),
        h("button", { type: "button", id: "answer-incorrect", class: "secondary", disabled: state.busy, onClick: () => answer({ score: 0 }) }, "I got it wrong"),
        hintButton,
      ),
    );
  }

  function skillsCard(mastery) {
    const nodes = state.graph.nodes;
    const order = topoOrder(nodes, state.graph.edges);
    const name = new Map(nodes.map((n) => [n.key, n.name]));
    const current = state.data.recommendations[state.current]?.skillKey;
    const onGraph = new Set(state.fullGraph.nodes.map((n) => n.key));
    const fullName = new Map(state.fullGraph.nodes.map((n) => [n.key, n.name]));
    const hidden = new Set(state.hiddenSkills);
    const further = topoOrder(state.fullGraph.nodes, state.fullGraph.edges).filter((k) => hidden.has(k));
    const others = state.data.mastery.filter((m) => !onGraph.has(m.skill.key)).sort((a, b) => a.skill.name.localeCompare(b.skill.name));
    return h(
      "section",
      { class: "card", id: "skills" },
      h("h2", {}, "Skills toward your goals"),
      h("ul", { class: "skills", id: "goal-skills" }, order.map((k) => skillRow(k, name.get(k), mastery.get(k) ?? null, { current: k === current }))),
      further.length
        ? h(
            "details",
            {},
            h("summary", {}, `${further.length} more skills toward your goals`),
            h("ul", { class: "skills", id: "further-skills" }, further.map((k) => skillRow(k, fullName.get(k), mastery.get(k) ?? null))),
          )
        : null,
      others.length
        ? h(
            "details",
            {},
            h("summary", {}, `Other skills you have practised (${others.length})`),
            h("ul", { class: "skills", id: "other-skills" }, others.map((m) => skillRow(m.skill.key, m.skill.name, m.probability, { current: m.skill.key === current }))),
          )
        : null,
      legend(),
    );
  }

  /** The goals teachers set for the learner's classes, each with the learner's progress (the
   * live mastery when an event has come in since the page loaded, else the server's). */
  function classGoalsCard(mastery) {
    const goals = state.data.classGoals;
    if (!goals.length) return null;
    return h(
      "section",
      { class: "card", id: "class-goals" },
      h("h2", {}, "Class goals"),
      h(
        "ul",
        { class: "skills class-goals" },
        goals.flatMap((g) => {
          const key = g.skill?.key;
          const p = mastery.get(key) ?? g.probability;
          const row = skillRow(key, g.skill?.name || key, p ?? null);
          row.dataset.group = g.group.key;
          row.classList.add("class-goal");
          const about = [g.group.name, g.setBy ? `set by ${g.setBy.displayName}` : null, g.dueAt ? `due ${new Date(g.dueAt).toLocaleDateString()}` : null].filter(Boolean).join(" · ");
          return [row, h("li", { class: "muted goal-about", "data-group": g.group.key, "data-skill": key }, about, g.note ? h("span", { class: "goal-note" }, ` — ${g.note}`) : null)];
        }),
      ),
    );
  }

  function reviewsCard() {
    const due = state.data.reviewQueue;
    return h(
      "section",
      { class: "card", id: "reviews" },
      h("h2", {}, `Reviews due (${due.length})`),
      due.length
        ? h(
            "ul",
            { class: "reviews" },
            due.map((r) =>
              h(
                "li",
                { "data-skill": r.skillKey },
                h("span", { title: r.skill?.name || r.skillKey }, r.skill?.name || r.skillKey),
                h("span", { class: "muted", title: "estimated recall now · last practised" }, `recall ${pct(r.retrievability)} · ${Math.round(r.daysSince)} d ago`),
                h("button", { type: "button", class: "link review-now", disabled: state.busy, onClick: () => reviewNow(r) }, "Review now"),
              ),
            ),
          )
        : h("p", { class: "muted" }, "Nothing to review right now."),
    );
  }

  function pathCard(mastery) {
    const path = state.data.learningPath;
    const steps = path.steps;
    const next = state.data.recommendations[state.current]?.skillKey;
    return h(
      "section",
      { class: "card", id: "path" },
      h("h2", {}, "Your path to the goal"),
      state.graph.nodes.length
        ? h("div", { class: "path-wrap" }, drawPath(state.graph, { mastery, levelOf, pathKeys: new Set(steps.map((s) => s.skillKey)), goalKeys: new Set(path.goalKeys), nextKey: next }))
        : h("p", { class: "muted" }, "No goals set yet."),
      state.hiddenSkills.length ? h("p", { class: "muted", id: "path-hidden", "data-count": state.hiddenSkills.length }, `Drawn: the next steps, the goals and what they build on; ${state.hiddenSkills.length} more skills of the goals' prerequisites are not drawn.`) : null,
      steps.length
        ? h(
            "p",
            { class: "muted", id: "path-summary" },
            `Still to learn (${steps.length}): ${steps.slice(0, 8).map((s) => s.skill?.name || s.skillKey).join(" → ")}${steps.length > 8 ? ` → … ${steps.length - 8} more` : ""} · about ${path.estimatedItems} items, ${Math.max(1, Math.round(path.estimatedSeconds / 60))} min`,
          )
        : h("p", { class: "muted", id: "path-summary" }, "Every goal is mastered."),
    );
  }

  /** Mastery from the live feed (answers from any device or tab) merged into the page. */
  function merge(rows) {
    const byKey = new Map(state.data.mastery.map((m) => [m.skill.key, m]));
    for (const row of rows) byKey.set(row.skill.key, row);
    state.data.mastery = [...byKey.values()];
  }

  function draw() {
    const d = state.data;
    const mastery = masteryMap();
    const typed = root.querySelector("#answer-input")?.value; // keep a half-typed answer
    mount(
      root,
      h(
        "div",
        { class: "page-head" },
        h("h1", { id: "learner-name" }, d.displayName),
      h("span", { class: `live ${state.live}`, id: "live", title: "mastery updates as answers arrive, from any device" }, state.live === "on" ? "● live" : state.live === "off" ? "○ not live" : ""),
        h("span", { class: "muted" }, "Goals:"),
        h("ul", { class: "chips", id: "goals" }, d.goals.length ? d.goals.map((g) => h("li", { class: "chip", "data-skill": g.key }, g.name)) : h("li", { class: "muted" }, "none yet")),
      ),
      classGoalsCard(mastery),
      h("div", { class: "grid" }, h("div", {}, nextItemCard()), h("div", {}, skillsCard(mastery), reviewsCard())),
      pathCard(mastery),
    );
    root.dataset.busy = String(state.busy);
    const input = root.querySelector("#answer-input");
    if (input && typed) input.value = typed;
  }

  function showLive() {
    const badge = root.querySelector("#live");
    if (!badge) return draw();
    badge.className = `live ${state.live}`;
    badge.textContent = state.live === "on" ? "● live" : state.live === "off" ? "○ not live" : "";
  }

  await load();
  draw();
  const stop = subscribe(LIVE, { id: learnerId }, {
    onReady: () => {
      state.live = "on";
      showLive(); // the badge only: a full redraw here would take focus from a half-typed answer
    },
    onNext: (data) => {
      merge(data.masteryChanged.mastery);
      state.liveEvents += 1;
      root.dataset.liveEvents = String(state.liveEvents);
      if (!state.busy) draw();
    },
    onError: () => {
      state.live = "off"; // the page still works; a reload subscribes again
      if (!ctx.signal.aborted) showLive();
    },
  });
  return stop;
}

async function pickLearner(root, ctx) {
  const input = h("input", { id: "learner-id", placeholder: "learner-0001", "aria-label": "learner id" });
  const groups = await gql(PICK_QUERY, {}, { signal: ctx.signal }).then((d) => d.viewer?.groups || [], () => []);
  mount(
    root,
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Whose page?"),
      groups.map((g) =>
        h("div", {}, h("h3", {}, g.name), h("div", { class: "row" }, g.learners.nodes.map((l) => h("a", { href: `#/learner/${encodeURIComponent(l.key)}` }, l.displayName)))),
      ),
      h("form", { class: "row", onSubmit: (e) => { e.preventDefault(); if (input.value.trim()) ctx.navigate(`learner/${encodeURIComponent(input.value.trim())}`); } }, input, h("button", { type: "submit" }, "Open")),
    ),
  );
}
