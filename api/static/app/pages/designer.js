// The curriculum designer (#/designer): the prerequisite graph of a topic drawn in layers and
// edited in place. Every edit is previewed first (the mutation with dryRun: true: which
// learners' frontiers and paths change, what a deletion drops), then applied; an applied edit
// can be undone from the change log. Also: create a skill or an item (with skill suggestions
// for the item's text), and import a curriculum file (JSON, all or nothing).
import { expect, gql } from "../js/graphql.js";
import { errorBox, h, mount, s } from "../js/dom.js";

const SKILLS_Q = `query($after: String) { skills(first: 100, after: $after) {
  nodes { key name topic prerequisites { key } } pageInfo { hasNextPage endCursor } } }`;
const EDIT = `edit { dryRun applied batch changes { action entity entityKey }
  dropped { edges { source target } itemsLeftWithoutSkill masteryRows goals classGoals }
  impact { learners frontierChanged { count sampleIds } pathChanged { count sampleIds }
    masteryDropped { count } masteryRowsDropped goalsDropped { count }
    frontierAdded { skillKey learners } frontierRemoved { skillKey learners } } }`;
const RESULT = `__typename ... on Error { message } ... on CycleError { cycleKeys }
  ... on CurriculumEditsPayload { ${EDIT} }`;
const IMPORT_RESULT = `${RESULT}
  ... on CurriculumImportError { message problems { where kind message } }`;
const EDITS_M = `mutation($edits: [CurriculumEditInput!]!, $dry: Boolean!) {
  r: applyCurriculumEdits(edits: $edits, dryRun: $dry) { ${RESULT} } }`;
const IMPORT_M = `mutation($files: [CurriculumFileInput!]!, $dry: Boolean!) {
  r: importCurriculum(format: JSON, files: $files, dryRun: $dry) { ${IMPORT_RESULT} } }`;
const UNDO_M = `mutation($seq: Int!, $dry: Boolean!) {
  r: undoCurriculumChange(seq: $seq, dryRun: $dry) { ${RESULT} } }`;
const SUGGEST_Q = `query($text: String!) { suggestSkills(text: $text, first: 3) { skill { key name } score } }`;

const W = 150;
const H = 30;
const GAP_X = 48;
const GAP_Y = 10;

async function allSkills(signal) {
  const out = [];
  let after = null;
  for (;;) {
    const data = await gql(SKILLS_Q, { after }, { signal });
    out.push(...data.skills.nodes);
    if (!data.skills.pageInfo.hasNextPage) return out;
    after = data.skills.pageInfo.endCursor;
  }
}

/** Layered layout: a skill's column is the longest chain of prerequisites below it (in view). */
export function layout(nodes, edges) {
  const preds = new Map(nodes.map((n) => [n.key, []]));
  for (const e of edges) if (preds.has(e.target) && preds.has(e.source)) preds.get(e.target).push(e.source);
  const layer = new Map();
  const visiting = new Set();
  const depth = (k) => {
    if (layer.has(k)) return layer.get(k);
    if (visiting.has(k)) return 0;
    visiting.add(k);
    const d = preds.get(k).reduce((m, p) => Math.max(m, depth(p) + 1), 0);
    layer.set(k, d);
    return d;
  };
  nodes.forEach((n) => depth(n.key));
  const columns = [];
  for (const n of [...nodes].sort((a, b) => a.name.localeCompare(b.name))) (columns[layer.get(n.key)] ||= []).push(n);
  const pos = new Map();
  const tallest = Math.max(1, ...columns.map((c) => (c || []).length));
  columns.forEach((col, x) => (col || []).forEach((n, y) => pos.set(n.key, { x: 10 + x * (W + GAP_X), y: 10 + y * (H + GAP_Y) })));
  return { pos, width: columns.length * (W + GAP_X) + 20, height: tallest * (H + GAP_Y) + 20 };
}

function drawGraph(view, selected, onNode, onEdge) {
  const { pos, width, height } = layout(view.nodes, view.edges);
  const edges = view.edges.map((e) => {
    const a = pos.get(e.source);
    const b = pos.get(e.target);
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x - 4, y2 = b.y + H / 2, mid = (x1 + x2) / 2;
    const picked = selected.edge && selected.edge.source === e.source && selected.edge.target === e.target;
    return s("path", { class: `edge${picked ? " selected" : ""}`, d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
      "marker-end": "url(#d-arrow)", "data-source": e.source, "data-target": e.target, onClick: () => onEdge(e) });
  });
  const nodes = view.nodes.map((n) => {
    const { x, y } = pos.get(n.key);
    const cls = ["node", n.outside ? "outside" : "", selected.skills.includes(n.key) ? "selected" : ""].filter(Boolean).join(" ");
    return s("g", { class: cls, "data-skill": n.key, transform: `translate(${x},${y})`, onClick: () => onNode(n) },
      s("title", {}, `${n.name} (${n.key})${n.outside ? ` · ${n.topic}` : ""}`),
      s("rect", { width: W, height: H, rx: 5 }),
      s("text", { x: 7, y: 19 }, n.name.length > 21 ? `${n.name.slice(0, 20)}…` : n.name));
  });
  return s("svg", { id: "designer-graph", class: "designer-svg", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": "prerequisite graph" },
    s("defs", {}, s("marker", { id: "d-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", fill: "#98a2b3" }))),
    edges, nodes);
}

/** The topic's skills, their direct prerequisites from other topics (dimmed) and the edges. */
function topicView(skills, topic) {
  const inTopic = skills.filter((sk) => sk.topic === topic);
  const keys = new Set(inTopic.map((sk) => sk.key));
  const byKey = new Map(skills.map((sk) => [sk.key, sk]));
  const edges = [];
  const outside = new Map();
  for (const sk of inTopic) for (const p of sk.prerequisites) {
    edges.push({ source: p.key, target: sk.key });
    if (!keys.has(p.key) && byKey.has(p.key)) outside.set(p.key, { ...byKey.get(p.key), outside: true });
  }
  return { nodes: [...inTopic, ...outside.values()], edges };
}

function sample(set) {
  return `${set.count}${set.sampleIds.length ? ` (${set.sampleIds.join(", ")}${set.count > set.sampleIds.length ? ", …" : ""})` : ""}`;
}

function impactBox(edit) {
  const i = edit.impact;
  const d = edit.dropped;
  const skillList = (xs) => (xs.length ? xs.map((x) => `${x.skillKey} (${x.learners})`).join(", ") : "none");
  const rows = [];
  if (i) {
    rows.push(
      h("li", { "data-field": "frontier-changed", "data-count": i.frontierChanged.count }, `Learners whose frontier changes: ${sample(i.frontierChanged)} of ${i.learners}`),
      h("li", { "data-field": "path-changed", "data-count": i.pathChanged.count }, `Learners whose path to their goals changes: ${sample(i.pathChanged)}`),
      h("li", { "data-field": "frontier-added" }, `Skills entering frontiers: ${skillList(i.frontierAdded)}`),
      h("li", { "data-field": "frontier-removed" }, `Skills leaving frontiers: ${skillList(i.frontierRemoved)}`),
    );
    if (i.masteryRowsDropped || i.goalsDropped.count) rows.push(h("li", { "data-field": "mastery-dropped", "data-count": i.masteryRowsDropped }, `Mastery rows dropped: ${i.masteryRowsDropped} (${i.masteryDropped.count} learners), goals dropped: ${i.goalsDropped.count}`));
  }
  if (d.edges.length || d.itemsLeftWithoutSkill.length) {
    rows.push(h("li", { "data-field": "dropped" }, `Drops ${d.edges.length} edge(s); items left with no skill: ${d.itemsLeftWithoutSkill.join(", ") || "none"}`));
  }
  return h("div", { id: "impact", class: "impact", "data-dry-run": String(edit.dryRun) },
    h("h3", {}, edit.dryRun ? "Preview (nothing written yet)" : edit.applied ? `Applied (change ${edit.batch})` : "Nothing to change"),
    h("p", { class: "changes" }, `${edit.changes.length} change(s): ${edit.changes.map((c) => `${c.action.toLowerCase()} ${c.entity.toLowerCase()} ${c.entityKey}`).join("; ")}`),
    h("ul", {}, rows));
}

function refusal(r) {
  if (r.__typename === "CycleError") return `Refused: it would close the cycle ${r.cycleKeys.join(" → ")}`;
  if (r.__typename === "CurriculumImportError") return `Import refused: ${r.problems.map((p) => `${p.where}: ${p.message}`).join("; ")}`;
  return `${r.__typename}: ${r.message}`;
}

export async function render(root, ctx) {
  const state = { skills: await allSkills(ctx.signal), topic: null, selected: { skills: [], edge: null }, pending: null, lastBatch: null };
  const topics = [...new Set(state.skills.map((sk) => sk.topic))].sort();
  state.topic = topics[0];
  const graphBox = h("div", { class: "graph-box" });
  const panel = h("div", { id: "edit-panel", class: "card" });
  const status = h("div", { id: "designer-status" });
  const topicSelect = h("select", { id: "topic", onChange: (e) => { state.topic = e.target.value; clearSelection(); redraw(); } },
    topics.map((t) => h("option", { value: t }, t)));

  function clearSelection() { state.selected = { skills: [], edge: null }; }
  function redraw() {
    const view = topicView(state.skills, state.topic);
    mount(graphBox, drawGraph(view, state.selected, (n) => {
      const sel = state.selected.skills.filter((k) => k !== n.key);
      state.selected = { skills: [...sel, n.key].slice(-2), edge: null };
      redraw(); showPanel();
    }, (e) => { state.selected = { skills: [], edge: e }; redraw(); showPanel(); }));
  }

  async function send(mutation, variables, dry) {
    const data = await gql(mutation, { ...variables, dry });
    return data.r;
  }

  async function preview(mutation, variables) {
    mount(status, "Previewing…");
    try {
      const r = await send(mutation, variables, true);
      if (r.__typename !== "CurriculumEditsPayload") { state.pending = null; mount(status, h("div", { class: "error", id: "refusal" }, refusal(r))); return; }
      state.pending = { mutation, variables };
      mount(status, impactBox(r.edit), h("div", { class: "actions" },
        h("button", { id: "apply", onClick: apply }, "Apply"),
        h("button", { class: "secondary", onClick: () => { state.pending = null; mount(status); } }, "Cancel")));
    } catch (err) { mount(status, errorBox(err)); }
  }

  async function apply() {
    const { mutation, variables } = state.pending;
    try {
      const r = expect(await send(mutation, variables, false), "CurriculumEditsPayload");
      state.pending = null;
      state.lastBatch = r.edit.batch;
      state.skills = await allSkills(ctx.signal);
      clearSelection(); redraw(); showPanel();
      mount(status, impactBox(r.edit), h("div", { class: "actions" },
        r.edit.batch ? h("button", { id: "undo", class: "secondary", onClick: () => preview(UNDO_M, { seq: r.edit.batch }) }, `Undo change ${r.edit.batch}`) : null));
      status.dataset.applied = String(r.edit.batch);
    } catch (err) { mount(status, errorBox(err)); }
  }

  const field = (id, label, attrs = {}) => h("label", {}, label, " ", h("input", { id, ...attrs }));
  const val = (id) => root.querySelector(`#${id}`).value.trim();

  function showPanel() {
    const [a, b] = state.selected.skills;
    const parts = [h("h3", {}, "Edit")];
    if (state.selected.edge) {
      const e = state.selected.edge;
      parts.push(h("p", {}, `Edge ${e.source} → ${e.target}`),
        h("button", { id: "preview-remove-edge", onClick: () => preview(EDITS_M, { edits: [{ removePrerequisite: { sourceId: e.source, targetId: e.target } }] }) }, "Preview removing it"));
    } else if (a && b) {
      parts.push(h("p", {}, `${a} → ${b} (${a} to learn first)`),
        h("button", { id: "preview-add-edge", onClick: () => preview(EDITS_M, { edits: [{ addPrerequisite: { sourceId: a, targetId: b } }] }) }, "Preview adding this prerequisite"));
    } else if (a) {
      parts.push(h("p", {}, `Skill ${a}: click another skill to make ${a} its prerequisite.`),
        h("button", { id: "preview-delete-skill", class: "secondary", onClick: () => preview(EDITS_M, { edits: [{ deleteSkill: a }] }) }, "Preview deleting it"));
    } else {
      parts.push(h("p", { class: "muted" }, "Click a skill, then another, to add a prerequisite; click an edge to remove it."));
    }
    parts.push(
      h("details", {}, h("summary", {}, "New skill"),
        field("new-skill-id", "Key"), field("new-skill-name", "Name"),
        h("button", { id: "preview-new-skill", onClick: () => preview(EDITS_M, { edits: [{ createSkill: { id: val("new-skill-id"), name: val("new-skill-name"), topic: state.topic } }] }) }, "Preview")),
      h("details", {}, h("summary", {}, "New item"),
        field("new-item-id", "Key"), field("new-item-title", "Title"),
        h("label", {}, "Text ", h("textarea", { id: "new-item-body", rows: 2 })),
        h("button", { id: "suggest", class: "secondary", onClick: suggest }, "Suggest skills"),
        h("div", { id: "suggestions" }),
        field("new-item-skills", "Skill keys (comma-separated)"),
        h("button", { id: "preview-new-item", onClick: () => preview(EDITS_M, { edits: [{ createItem: { id: val("new-item-id"), kind: "EXERCISE", title: val("new-item-title"), body: val("new-item-body"),
          skills: val("new-item-skills").split(",").map((k) => k.trim()).filter(Boolean).map((k) => ({ skillId: k })) } }] }) }, "Preview")),
      h("details", {}, h("summary", {}, "Import a curriculum file (JSON)"),
        h("textarea", { id: "import-json", rows: 5, placeholder: '{"skills": [...], "prerequisites": [...], "items": [...]}' }),
        h("button", { id: "preview-import", onClick: () => preview(IMPORT_M, { files: [{ name: "curriculum.json", content: root.querySelector("#import-json").value }] }) }, "Preview import")),
    );
    mount(panel, parts);
  }

  async function suggest() {
    const box = root.querySelector("#suggestions");
    try {
      const text = `${val("new-item-title")} ${val("new-item-body")}`.trim();
      const data = await gql(SUGGEST_Q, { text });
      mount(box, h("ul", {}, data.suggestSkills.map((sg) => h("li", { "data-skill": sg.skill.key },
        h("button", { class: "link", onClick: () => { const f = root.querySelector("#new-item-skills"); f.value = [f.value, sg.skill.key].filter(Boolean).join(", "); } }, `+ ${sg.skill.name}`),
        ` (${sg.score.toFixed(2)})`))));
    } catch (err) { mount(box, errorBox(err)); }
  }

  mount(root, h("section", { class: "designer" },
    h("h2", {}, "Curriculum designer"),
    h("p", {}, "Topic ", topicSelect, h("span", { class: "muted" }, " · skills of other topics that are prerequisites are dimmed")),
    h("div", { class: "designer-grid" }, h("div", { class: "card graph-card" }, graphBox), h("div", {}, panel, status))));
  redraw();
  showPanel();
}
